//! Measures parse time: `cargo run -p scry-syntax --example parse_time -- FILE [ITERATIONS]`.

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: parse_time FILE [ITERATIONS]");
        std::process::exit(2);
    };
    let iterations: u32 = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1000);
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let start = Instant::now();
    let mut probes = 0;
    for _ in 0..iterations {
        probes += scry_syntax::parse(&text).program.probes.len();
    }
    let per = start.elapsed() / iterations.max(1);
    println!(
        "{path}: {} bytes, {} probes, {per:?} per parse ({iterations} iterations)",
        text.len(),
        probes / iterations.max(1) as usize
    );
}
