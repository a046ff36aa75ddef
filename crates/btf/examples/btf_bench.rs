//! Measures parse and first-lookup time on the running kernel's vmlinux BTF.
//!
//! `cargo run --release -p scry-btf --example btf_bench [path]`

use std::time::Instant;

use scry_btf::{Btf, Kind};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/sys/kernel/btf/vmlinux".to_string());
    let t0 = Instant::now();
    let bytes = std::fs::read(&path)?;
    let t1 = Instant::now();
    let btf = Btf::parse(bytes)?;
    let t2 = Instant::now();
    let task = btf
        .find("task_struct", Kind::Struct)
        .ok_or("no task_struct")?;
    let t3 = Instant::now();
    let pid = btf.member(task, "pid")?.ok_or("no pid")?;
    let args = btf
        .raw_tracepoint_args("sched_switch")?
        .ok_or("no sched_switch")?;
    let t35 = Instant::now();
    let hash = btf
        .enum_value("BPF_MAP_TYPE_HASH")
        .ok_or("no BPF_MAP_TYPE_HASH")?;
    let t4 = Instant::now();
    println!("types: {}", btf.type_count());
    println!("read:          {:>8.3} ms", (t1 - t0).as_secs_f64() * 1e3);
    println!("parse:         {:>8.3} ms", (t2 - t1).as_secs_f64() * 1e3);
    println!(
        "first find:    {:>8.3} ms (builds the name index)",
        (t3 - t2).as_secs_f64() * 1e3
    );
    println!("member+raw tp: {:>8.3} ms", (t35 - t3).as_secs_f64() * 1e3);
    println!(
        "enum_value:    {:>8.3} ms (builds the enumerator index)",
        (t4 - t35).as_secs_f64() * 1e3
    );
    println!(
        "task_struct.pid at bit {}, {} args for sched_switch, BPF_MAP_TYPE_HASH = {}",
        pid.bit_offset,
        args.len(),
        hash.as_i64()
    );
    Ok(())
}
