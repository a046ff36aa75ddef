//! Scrape latency and memory with 10,000 series: `cargo bench -p scry-exporter`.
//!
//! Builds 10,000 map entries like `@syscalls[comm, pid] = count()` (plus 100 `hist()`
//! entries), takes a snapshot of them as the refresh loop does, encodes it (as each scrape
//! does), serves it on loopback and times 500 `GET /metrics` scrapes. Prints update and
//! encode times, exposition size, scrape latency (median, p99, max) and the process's
//! resident memory before and after.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use scry_exporter::{Exporter, LabelNames, Server, Shared, Snapshot};
use scry_output::{AggValue, MapDump, MapEntry, MapKind, Value};

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn dumps(series: usize) -> Vec<MapDump> {
    let counts = MapDump {
        name: "@syscalls".into(),
        kind: MapKind::Count,
        entries: (0..series)
            .map(|i| MapEntry {
                key: vec![
                    Value::Str(format!("comm-{:05}", i % 5000)),
                    Value::UInt(i as u64),
                ],
                value: AggValue::UInt((i * 37) as u64),
            })
            .collect(),
    };
    let hist = MapDump {
        name: "@lat".into(),
        kind: MapKind::Hist,
        entries: (0..100)
            .map(|i| MapEntry {
                key: vec![Value::Str(format!("comm-{i}"))],
                value: AggValue::Hist((0..30).map(|b| (b * i) as u64).collect()),
            })
            .collect(),
    };
    vec![counts, hist]
}

fn scrape(addr: std::net::SocketAddr) -> usize {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut buf = Vec::with_capacity(1 << 20);
    s.read_to_end(&mut buf).expect("read");
    buf.len()
}

fn main() {
    let rss0 = rss_kib("VmRSS:");
    let maps = dumps(10_000);
    let rss_maps = rss_kib("VmRSS:");
    let mut labels = LabelNames::new();
    labels.insert("@syscalls".into(), vec!["comm".into(), "pid".into()]);
    labels.insert("@lat".into(), vec!["comm".into()]);
    let mut exporter = Exporter::new(labels, 50_000);
    let rounds = 20;
    let start = Instant::now();
    let mut snapshot: Snapshot = exporter.update(&maps).snapshot;
    for _ in 1..rounds {
        snapshot = exporter.update(&maps).snapshot;
    }
    let update = start.elapsed() / rounds;
    let snapshot = Arc::new(snapshot);
    let start = Instant::now();
    let mut size = 0;
    for _ in 0..rounds {
        size = snapshot.encode().len();
    }
    let encode = start.elapsed() / rounds;
    let series = snapshot.series();
    let shared = Shared::default();
    shared.set(Snapshot::clone(&snapshot));
    let server = Server::start("127.0.0.1:0", shared).expect("server");
    let addr = server.local_addr();
    let mut times = Vec::new();
    for _ in 0..500 {
        let t = Instant::now();
        let n = scrape(addr);
        times.push(t.elapsed());
        assert!(n > size);
    }
    times.sort();
    let rss1 = rss_kib("VmRSS:");
    println!("series: {series} (+ 100 histograms x 31 buckets)");
    println!(
        "update: {update:?} per refresh; encode: {encode:?} per scrape; exposition {size} bytes"
    );
    println!(
        "scrape over loopback (500 GETs): median {:?}, p99 {:?}, max {:?}",
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        times[times.len() - 1]
    );
    println!(
        "RSS: {rss0} KiB at start, {rss_maps} KiB with the decoded maps, {rss1} KiB serving \
         (peak {} KiB)",
        rss_kib("VmHWM:")
    );
}
