//! Live capture on loopback inside a network namespace created by the test:
//! the kernel runs scry's program, and only the matching packets arrive.
//! Needs root and `ip`; skipped otherwise, except in CI (CI=true).

use scry_cbpf::capture::{LiveCapture, enter_netns};
use scry_cbpf::{Options, compile, summary};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}

struct Netns(String);

impl Netns {
    fn create(name: &str) -> Option<Netns> {
        let ok = Command::new("ip")
            .args(["netns", "add", name])
            .status()
            .ok()?
            .success();
        if !ok {
            return None;
        }
        let ns = Netns(name.to_string());
        let up = Command::new("ip")
            .args(["-n", name, "link", "set", "lo", "up"])
            .status()
            .ok()?;
        up.success().then_some(ns)
    }
    fn path(&self) -> PathBuf {
        PathBuf::from(format!("/var/run/netns/{}", self.0))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn loopback_capture_in_netns_sees_only_matching_packets() {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if !is_root() {
        assert!(!ci, "the live-capture test must run as root in CI");
        eprintln!("not root: skipping");
        return;
    }
    let name = format!("scry-cbpf-live-{}", std::process::id());
    let Some(ns) = Netns::create(&name) else {
        assert!(!ci, "cannot create a network namespace with `ip netns add`");
        eprintln!("cannot create a network namespace: skipping");
        return;
    };
    // Forward-only, as the kernel requires (the protochain walk is unrolled).
    let opts = Options {
        forward_only: true,
        ..Options::default()
    };
    let prog = compile(
        "ip protochain 17 and udp dst port 9999 and host 127.0.0.1",
        &opts,
    )
    .expect("compiles");
    let (ready_tx, ready_rx) = mpsc::channel();
    let path = ns.path();
    let capturer = std::thread::spawn(move || -> Result<Vec<String>, String> {
        enter_netns(&path).map_err(|e| e.to_string())?;
        let mut cap = LiveCapture::open("lo", &prog).map_err(|e| e.to_string())?;
        cap.set_timeout(Some(Duration::from_millis(200)))
            .map_err(|e| e.to_string())?;
        let _ = ready_tx.send(());
        let mut seen = Vec::new();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) && seen.len() < 10 {
            match cap.next_packet() {
                Ok(p) => seen.push(summary::summarize(cap.linktype(), &p)),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(seen)
    });
    ready_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("capture started");
    let path = ns.path();
    let sender = std::thread::spawn(move || -> std::io::Result<()> {
        enter_netns(&path)?;
        let sock = UdpSocket::bind("127.0.0.1:0")?;
        for i in 0..5u8 {
            sock.send_to(&[i; 8], "127.0.0.1:9999")?;
            sock.send_to(&[i; 8], "127.0.0.1:8888")?;
        }
        Ok(())
    });
    sender
        .join()
        .expect("sender thread")
        .expect("send in namespace");
    let seen = capturer
        .join()
        .expect("capture thread")
        .expect("capture in namespace");
    assert_eq!(seen.len(), 5, "captured: {seen:#?}");
    for s in &seen {
        assert!(
            s.contains("IP 127.0.0.1.") && s.contains(" > 127.0.0.1.9999: UDP"),
            "{s}"
        );
    }
}
