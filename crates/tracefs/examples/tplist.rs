//! Prints a `bpftrace -lv` style listing for `tracepoint:<cat>:<name>` patterns,
//! reading the live tracefs.
//!
//! `cargo run -p scry-tracefs --example tplist -- 'syscalls:sys_enter_open*'`

use scry_tracefs::{format_listing, match_events, parse_format};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = "/sys/kernel/tracing";
    let available = std::fs::read_to_string(format!("{root}/available_events"))?;
    for arg in std::env::args().skip(1) {
        let spec = arg.strip_prefix("tracepoint:").unwrap_or(&arg);
        let (cat, name) = spec.split_once(':').unwrap_or(("*", spec));
        let mut events = match_events(&available, cat, name);
        events.sort_by_key(|e| e.to_string());
        for e in events {
            let path = format!("{root}/events/{}/{}/format", e.category, e.name);
            let format = parse_format(&std::fs::read_to_string(path)?)?;
            print!("{}", format_listing(&e.category, &format));
        }
    }
    Ok(())
}
