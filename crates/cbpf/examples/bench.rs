//! Benchmark: filtering a large generated capture with scry's interpreter vs
//! `tcpdump -r`, and compile time per expression.
//! Usage: `cargo run --release -p scry-cbpf --example bench [PACKETS]`.

use scry_cbpf::pcapio::{self, Packet};
use scry_cbpf::{Options, compile, interp};
use std::process::Command;
use std::time::{Duration, Instant};

fn frame(i: u32) -> Vec<u8> {
    let mut f = vec![0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00];
    let proto = if i.is_multiple_of(3) { 17 } else { 6 };
    f.extend_from_slice(&[0x45, 0, 0, 60, 0, 0, 0x40, 0, 64, proto, 0, 0]);
    f.extend_from_slice(&[10, 0, (i >> 8) as u8, i as u8, 10, 0, 0, 1]);
    let dport: u16 = [80, 443, 22, 53, 8080][(i % 5) as usize];
    f.extend_from_slice(&((1024 + (i % 5000)) as u16).to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&[
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        0,
        0x50,
        if i.is_multiple_of(7) { 2 } else { 0x10 },
        0xff,
        0xff,
    ]);
    f.extend_from_slice(&[0; 20]);
    f
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let exprs = [
        "tcp port 80",
        "host 10.0.0.1 and (tcp[tcpflags] & tcp-syn != 0)",
        "udp or (tcp and not port 22)",
        "net 10.0.3.0/24 and portrange 1000-2000",
    ];
    let path = std::env::temp_dir().join(format!("scry-cbpf-bench-{}.pcap", std::process::id()));
    let pkts: Vec<Packet> = (0..n)
        .map(|i| {
            let data = frame(i);
            Packet {
                ts: Duration::from_micros(u64::from(i)),
                wirelen: data.len() as u32,
                data,
            }
        })
        .collect();
    pcapio::write_file(&path, 1, &pkts).expect("write capture");
    println!(
        "capture: {n} packets, {} bytes",
        std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
    );
    for e in exprs {
        // Compile time.
        let reps = 2000;
        let t = Instant::now();
        let mut len = 0;
        for _ in 0..reps {
            len = compile(e, &Options::default()).expect("compiles").len();
        }
        let compile_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(reps);
        // scry: read the file and filter every packet.
        let prog = compile(
            e,
            &Options {
                savefile: true,
                ..Options::default()
            },
        )
        .expect("compiles");
        let t = Instant::now();
        let mut hits = 0usize;
        pcapio::scan_file(&path, |_, p| {
            hits += usize::from(interp::run(&prog, p.data, p.wirelen) != 0);
            Ok(true)
        })
        .expect("scan capture");
        let scry_s = t.elapsed().as_secs_f64();
        let t2 = Instant::now();
        let filtered = pkts
            .iter()
            .filter(|p| interp::run(&prog, &p.data, p.wirelen) != 0)
            .count();
        let filter_s = t2.elapsed().as_secs_f64();
        assert_eq!(filtered, hits);
        // tcpdump -r ... -w /dev/null
        let t = Instant::now();
        let ok = Command::new("tcpdump")
            .arg("-r")
            .arg(&path)
            .args(["-w", "/dev/null", "--", e])
            .output()
            .is_ok_and(|o| o.status.success());
        let tcpdump_s = t.elapsed().as_secs_f64();
        println!(
            "{e:?}: {len} insns, compile {compile_us:.1} us; scry {:.2} Mpkt/s (interpreter alone {:.1}; {hits} hits); tcpdump {}",
            f64::from(n) / scry_s / 1e6,
            f64::from(n) / filter_s / 1e6,
            if ok {
                format!("{:.2} Mpkt/s", f64::from(n) / tcpdump_s / 1e6)
            } else {
                "n/a".into()
            }
        );
    }
    let _ = std::fs::remove_file(&path);
}
