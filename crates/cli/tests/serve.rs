//! `scry serve`: its maps scraped by a real Prometheus server, and its exposition checked
//! against the script's own histogram. Everything listens on loopback only; every wait is
//! bounded.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{TempDir, Tracer};

/// A free loopback port (bound then released; the window for a clash is tiny).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// `GET path` on loopback; `None` when the server does not answer (yet).
fn http_get(port: u16, path: &str) -> Option<String> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    // Go's server answers an HTTP/1.0 request with "HTTP/1.0 200 OK".
    (head.split_whitespace().nth(1) == Some("200")).then(|| body.to_string())
}

/// The Prometheus binary; in CI its absence fails the test (scripts/test.sh installs it).
fn prometheus(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("prometheus"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            !common::in_ci(),
            "{test}: prometheus is not installed (Debian package `prometheus`), and CI=true forbids skipping"
        );
        eprintln!("skipping {test}: prometheus (Debian package `prometheus`) is not installed");
    }
    found
}

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Asks Prometheus for `query`; returns the result vector (empty until a scrape lands).
fn query(port: u16, query: &str) -> Vec<serde_json::Value> {
    let encoded: String = query
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let Some(body) = http_get(port, &format!("/api/v1/query?query={encoded}")) else {
        return Vec::new();
    };
    let json: serde_json::Value = serde_json::from_str(&body).expect("Prometheus answers JSON");
    assert_eq!(json["status"], "success", "{body}");
    json["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The value of the one series `query` returns, with its labels, once it exists.
fn series_value(port: u16, q: &str, deadline: Instant) -> (serde_json::Value, f64) {
    loop {
        let result = query(port, q);
        if let Some(first) = result.first() {
            let value: f64 = first["value"][1]
                .as_str()
                .and_then(|v| v.parse().ok())
                .expect("a numeric sample");
            return (first["metric"].clone(), value);
        }
        assert!(Instant::now() < deadline, "no series for {q} in time");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn prometheus_scrapes_syscall_counts_by_comm() {
    if !common::can_trace("prometheus_scrapes_syscall_counts_by_comm") {
        return;
    }
    let Some(prom) = prometheus("prometheus_scrapes_syscall_counts_by_comm") else {
        return;
    };
    let scry_port = free_port();
    let listen = format!("127.0.0.1:{scry_port}");
    // A busy machine (a build running) can fill the default 4096 keys before Prometheus
    // starts: its comm would never get a slot.
    let tracer = Tracer::start(
        common::scry(),
        &[
            "serve",
            "--listen",
            &listen,
            "--refresh-ms",
            "200",
            "-e",
            "tracepoint:raw_syscalls:sys_enter { @syscalls[comm] = count(); }",
        ],
        &[("BPFTRACE_MAP_KEYS_MAX", "262144")],
    );
    let dir = TempDir::new();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: scry\n    static_configs:\n      - targets: ['{listen}']\n"
        ),
    )
    .expect("write config");
    let prom_port = free_port();
    let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log");
    let _prom = Killed(
        Command::new(prom)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus"),
    );
    // Prometheus itself makes syscalls all the time (it scrapes every second).
    let q = r#"scry_syscalls_total{job="scry",comm="prometheus"}"#;
    let deadline = Instant::now() + Duration::from_secs(90);
    let (labels, first) = series_value(prom_port, q, deadline);
    assert_eq!(labels["comm"], "prometheus", "{labels}");
    assert_eq!(labels["instance"], listen.as_str(), "{labels}");
    assert!(first > 0.0, "{first}");
    let grown = loop {
        let (_, v) = series_value(prom_port, q, deadline);
        if v > first {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "the counter never grew past {first}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(grown > first);
    // The exporter's own series count is scraped too.
    let (_, series) = series_value(prom_port, r#"scry_exporter_series{job="scry"}"#, deadline);
    assert!(series >= 1.0, "{series}");
    let run = tracer.interrupt();
    assert_eq!(run.code(), 0, "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("Serving metrics on http://{listen}/metrics")),
        "{run:?}"
    );
}

#[test]
fn hist_buckets_match_the_script() {
    if !common::can_trace("hist_buckets_match_the_script") {
        return;
    }
    let dir = TempDir::new();
    let name = common::unique("dd");
    let dd = dir.named_program(&name, "/bin/dd");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let script = format!(
        "tracepoint:syscalls:sys_enter_read /comm == \"{name}\" && args->fd == 0/ \
         {{ @h[comm] = hist(args->count); @l = lhist(args->count, 0, 1000, 100); }}"
    );
    let tracer = Tracer::scry(&[
        "serve",
        "--listen",
        &listen,
        "--refresh-ms",
        "100",
        "-e",
        &script,
    ]);
    // Five reads of 100 bytes and three of 3000 bytes on fd 0.
    let status = common::trigger(&dd, &["if=/dev/zero", "of=/dev/null", "bs=100", "count=5"]);
    assert!(status.success());
    let status = common::trigger(&dd, &["if=/dev/zero", "of=/dev/null", "bs=3000", "count=3"]);
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        if let Some(text) = http_get(port, "/metrics")
            && text.contains(&format!("scry_h_count{{comm=\"{name}\"}} 8"))
        {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "the histogram never reached 8 samples"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("scry_h")).collect();
    // hist(): 100 is in [64, 128) (le="127.0"), 3000 in [2K, 4K) (le="4095.0"). The
    // exposition is OpenMetrics (prometheus-client): `_sum` (unknown: BPF keeps none) and
    // `_count` come first, `le` before the map's labels.
    let bucket = |le: &str| format!("scry_h_bucket{{le=\"{le}\",comm=\"{name}\"}}");
    let expected = [
        ("127.0", 5),
        ("255.0", 5),
        ("511.0", 5),
        ("1023.0", 5),
        ("2047.0", 5),
        ("4095.0", 8),
        ("+Inf", 8),
    ];
    let want: Vec<String> = [
        format!("scry_h_sum{{comm=\"{name}\"}} NaN"),
        format!("scry_h_count{{comm=\"{name}\"}} 8"),
    ]
    .into_iter()
    .chain(expected.iter().map(|(le, n)| format!("{} {n}", bucket(le))))
    .collect();
    assert_eq!(lines, want, "{text}");
    assert!(text.contains("# TYPE scry_h histogram\n"), "{text}");
    assert!(text.ends_with("# EOF\n"), "{text}");
    // lhist(0, 1000, 100): 100 in [100, 200) (le="199.0"), 3000 only in +Inf.
    assert!(text.contains("scry_l_bucket{le=\"199.0\"} 5\n"), "{text}");
    assert!(text.contains("scry_l_bucket{le=\"+Inf\"} 8\n"), "{text}");
    // The same counts as the script's own hist() printed at exit.
    let run = tracer.interrupt();
    assert_eq!(run.code(), 0, "{run:?}");
    let printed: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with('[')).collect();
    assert!(
        printed
            .iter()
            .any(|l| l.starts_with("[64, 128)") && l.contains("       5 |")),
        "{}",
        run.stdout
    );
    assert!(
        printed
            .iter()
            .any(|l| l.starts_with("[2K, 4K)") && l.contains("       3 |")),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_scripts_fail_before_listening() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let run = common::run_scry(&[
        "serve",
        "--listen",
        &listen,
        "-e",
        "BEGIN { @x = nosuch(1); }",
    ]);
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(run.stderr.contains("ERROR"), "{run:?}");
    assert!(!run.stderr.contains("Serving metrics"), "{run:?}");
    let usage = common::run_scry(&["serve", "--listen", &listen]);
    assert_eq!(usage.code(), 2, "{usage:?}");
}

#[test]
fn a_busy_address_fails_before_tracing() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let listen = taken.local_addr().expect("addr").to_string();
    let run = common::run_scry(&[
        "serve",
        "--listen",
        &listen,
        "-e",
        "BEGIN { @x = count(); }",
    ]);
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(
        run.stderr.contains(&format!("cannot listen on {listen}")),
        "{run:?}"
    );
    assert!(!run.stderr.contains("Attached"), "{run:?}");
}
