//! tcpconnect, tcpaccept, tcplife and tcpretrans, with connections the tests make: loopback
//! listeners, and for retransmits a veth pair into a network namespace whose address
//! vanishes under an open connection.

use std::io::{Read, Write};
use std::net::{Ipv6Addr, TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{can_trace, in_ci};
use crate::{json_lines, tool};

/// This thread's `comm` (the kernel's name of the task that makes the connections).
fn comm() -> String {
    std::fs::read_to_string("/proc/thread-self/comm")
        .expect("read /proc/thread-self/comm")
        .trim_end()
        .to_string()
}

/// The whitespace-separated columns of the first line of `stdout` for which `pick` holds.
fn row(stdout: &str, pick: impl Fn(&[&str]) -> bool) -> Vec<&str> {
    stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|cols| pick(cols))
        .unwrap_or_else(|| panic!("no matching line in\n{stdout}"))
}

/// The header line (the first line that starts with `first`).
fn header<'a>(stdout: &'a str, first: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .find(|l| l.starts_with(first))
        .unwrap_or_else(|| panic!("no header in\n{stdout}"))
        .split_whitespace()
        .collect()
}

fn pause() {
    std::thread::sleep(Duration::from_millis(250));
}

#[test]
fn tcpconnect_shows_a_loopback_connection_with_pid_and_ports() {
    if !can_trace("tcpconnect_shows_a_loopback_connection_with_pid_and_ports") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let tracer = tool("tcpconnect", &["-t", "-U", "-L", "-P", &port]);
    let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let lport = stream.local_addr().unwrap().port().to_string();
    let _accepted = listener.accept().unwrap();
    pause();
    let run = tracer.interrupt();
    run.assert_success();
    assert_eq!(
        run.stdout.lines().next(),
        Some("Tracing connect ... Hit Ctrl-C to end"),
        "{}",
        run.stdout
    );
    assert_eq!(
        header(&run.stdout, "TIME(s)"),
        [
            "TIME(s)", "UID", "PID", "COMM", "IP", "SADDR", "LPORT", "DADDR", "DPORT"
        ]
    );
    let cols = row(&run.stdout, |c| c.len() == 9 && c[8] == port);
    assert!(cols[0].parse::<f64>().is_ok(), "{cols:?}");
    assert_eq!(cols[1], "0", "{cols:?}");
    assert_eq!(cols[2], std::process::id().to_string(), "{cols:?}");
    assert_eq!(
        cols[3],
        comm().chars().take(12).collect::<String>(),
        "{cols:?}"
    );
    assert_eq!(
        &cols[4..8],
        ["4", "127.0.0.1", &lport, "127.0.0.1"],
        "{cols:?}"
    );
}

#[test]
fn tcpconnect_json_and_count() {
    if !can_trace("tcpconnect_json_and_count") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let tracer = tool("tcpconnect", &["--json", "-4", "-P", &port.to_string()]);
    let _stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    pause();
    let run = tracer.interrupt();
    run.assert_success();
    let events = json_lines(&run.stdout);
    let event = events
        .iter()
        .find(|e| e["dport"] == port)
        .unwrap_or_else(|| panic!("no connection to {port} in\n{}", run.stdout));
    assert_eq!(event["pid"], std::process::id());
    assert_eq!(event["ip"], 4);
    assert_eq!(event["saddr"], "127.0.0.1");
    assert_eq!(event["daddr"], "127.0.0.1");

    // -c: two connections to the port, counted.
    let tracer = tool("tcpconnect", &["-c", "-P", &port.to_string()]);
    let _a = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let _b = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    pause();
    let run = tracer.interrupt();
    run.assert_success();
    assert_eq!(
        header(&run.stdout, "LADDR"),
        ["LADDR", "RADDR", "RPORT", "CONNECTS"]
    );
    let cols = row(&run.stdout, |c| c.len() == 4 && c[2] == port.to_string());
    assert_eq!(cols, ["127.0.0.1", "127.0.0.1", &port.to_string(), "2"]);
}

#[test]
fn tcpaccept_shows_the_accepting_pid_and_ports() {
    if !can_trace("tcpaccept_shows_the_accepting_pid_and_ports") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let tracer = tool("tcpaccept", &["-t", "-T", "-P", &port]);
    // Another process connects; this one accepts.
    let mut client = Command::new("/bin/bash")
        .arg("-c")
        .arg(format!("exec 3<>/dev/tcp/127.0.0.1/{port}; sleep 1"))
        .spawn()
        .unwrap();
    let (_stream, peer) = listener.accept().unwrap();
    pause();
    let run = tracer.interrupt();
    let _ = client.kill();
    let _ = client.wait();
    run.assert_success();
    assert_eq!(
        header(&run.stdout, "TIME(s)"),
        [
            "TIME(s)", "TIME", "PID", "COMM", "IP", "RADDR", "RPORT", "LADDR", "LPORT"
        ]
    );
    let cols = row(&run.stdout, |c| c.len() == 9 && c[8] == port);
    assert!(cols[0].parse::<f64>().is_ok(), "{cols:?}");
    assert_eq!(cols[1].len(), 8, "HH:MM:SS: {cols:?}");
    assert_eq!(cols[2], std::process::id().to_string(), "{cols:?}");
    assert_ne!(cols[2], client.id().to_string(), "{cols:?}");
    assert_eq!(
        cols[3],
        comm().chars().take(12).collect::<String>(),
        "{cols:?}"
    );
    assert_eq!(
        &cols[4..7],
        ["4", "127.0.0.1", &peer.port().to_string()],
        "{cols:?}"
    );
    assert_eq!(cols[7], "127.0.0.1", "{cols:?}");
}

#[test]
fn tcpaccept_json_over_ipv6() {
    if !can_trace("tcpaccept_json_over_ipv6") {
        return;
    }
    let listener = match TcpListener::bind((Ipv6Addr::LOCALHOST, 0)) {
        Ok(l) => l,
        Err(e) => {
            assert!(!in_ci(), "no IPv6 loopback: {e}");
            eprintln!("skipping tcpaccept_json_over_ipv6: no IPv6 loopback ({e})");
            return;
        }
    };
    let port = listener.local_addr().unwrap().port();
    let tracer = tool("tcpaccept", &["--json", "-6", "-P", &port.to_string()]);
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let _accepted = listener.accept().unwrap();
    pause();
    let run = tracer.interrupt();
    run.assert_success();
    let events = json_lines(&run.stdout);
    let event = events
        .iter()
        .find(|e| e["lport"] == port)
        .unwrap_or_else(|| panic!("no accept on {port} in\n{}", run.stdout));
    assert_eq!(event["pid"], std::process::id());
    assert_eq!(event["ip"], 6);
    assert_eq!(event["laddr"], "::1");
    assert_eq!(event["raddr"], "::1");
    assert_eq!(event["rport"], client.local_addr().unwrap().port());
}

/// A loopback session: the client sends 10 KiB and receives 5000 bytes, then closes first.
/// Returns the client's local port.
fn session(listener: &TcpListener) -> u16 {
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    client.write_all(&[b'x'; 10 * 1024]).unwrap();
    let mut got = vec![0; 10 * 1024];
    server.read_exact(&mut got).unwrap();
    server.write_all(&[b'y'; 5000]).unwrap();
    let mut back = vec![0; 5000];
    client.read_exact(&mut back).unwrap();
    let lport = client.local_addr().unwrap().port();
    drop(client);
    // The server reads the client's FIN, then closes (LAST_ACK, in this task).
    let mut rest = Vec::new();
    server.read_to_end(&mut rest).unwrap();
    drop(server);
    lport
}

#[test]
fn tcplife_shows_the_session_with_ports_and_bytes() {
    if !can_trace("tcplife_shows_the_session_with_ports_and_bytes") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    // -D: only sessions to the listener's port, i.e. the client's side.
    let tracer = tool("tcplife", &["-D", &port]);
    let lport = session(&listener).to_string();
    pause();
    let run = tracer.interrupt();
    run.assert_success();
    assert_eq!(
        header(&run.stdout, "PID"),
        [
            "PID", "COMM", "LADDR", "LPORT", "RADDR", "RPORT", "TX_KB", "RX_KB", "MS"
        ]
    );
    let cols = row(&run.stdout, |c| c.len() == 9 && c[3] == lport);
    assert_eq!(cols[0], std::process::id().to_string(), "{cols:?}");
    assert_eq!(
        cols[1],
        comm().chars().take(10).collect::<String>(),
        "{cols:?}"
    );
    assert_eq!(
        &cols[2..6],
        ["127.0.0.1", &lport, "127.0.0.1", &port],
        "{cols:?}"
    );
    // 10 KiB (+ FIN) acked, 5000 bytes (+ FIN) received, in whole KiB.
    assert_eq!(&cols[6..8], ["10", "4"], "{cols:?}");
    assert!(cols[8].parse::<f64>().is_ok_and(|ms| ms > 0.0), "{cols:?}");
    // -D: no session to another remote port.
    for l in run.stdout.lines().skip(1) {
        let c: Vec<&str> = l.split_whitespace().collect();
        assert_eq!(c.get(5), Some(&port.as_str()), "-D let {l:?} through");
    }
}

#[test]
fn tcplife_json_for_the_server_side() {
    if !can_trace("tcplife_json_for_the_server_side") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let tracer = tool("tcplife", &["--json", "-4", "-L", &port.to_string()]);
    let client_port = session(&listener);
    pause();
    let run = tracer.interrupt();
    run.assert_success();
    let events = json_lines(&run.stdout);
    assert!(events.iter().all(|e| e["lport"] == port), "{}", run.stdout);
    let event = events
        .iter()
        .find(|e| e["rport"] == client_port)
        .unwrap_or_else(|| panic!("no session from {client_port} in\n{}", run.stdout));
    // The server closed last (LAST_ACK), in this process.
    assert_eq!(event["pid"], std::process::id());
    assert_eq!(event["laddr"], "127.0.0.1");
    assert_eq!(event["tx_kb"], 4);
    assert_eq!(event["rx_kb"], 10);
    assert!(event["ms"].as_f64().is_some_and(|ms| ms > 0.0), "{event}");
}

/// A veth pair from this namespace into a new network namespace, removed when dropped
/// (even when the test fails).
struct Veth {
    netns: String,
    local: String,
    peer: String,
    subnet: String,
}

impl Veth {
    /// Creates it: `{subnet}.1` here, `{subnet}.2` in the namespace. `None` (with the
    /// reason) when `ip` cannot.
    fn create() -> Result<Veth, String> {
        let id = std::process::id();
        let veth = Veth {
            netns: format!("scry-rtx-{id}"),
            local: format!("srx{id}a"),
            peer: format!("srx{id}b"),
            subnet: format!("10.213.{}", id % 250),
        };
        let ns = veth.netns.clone();
        let steps: Vec<Vec<String>> = vec![
            vec!["netns".into(), "add".into(), ns.clone()],
            vec![
                "link".into(),
                "add".into(),
                veth.local.clone(),
                "type".into(),
                "veth".into(),
                "peer".into(),
                "name".into(),
                veth.peer.clone(),
            ],
            vec![
                "link".into(),
                "set".into(),
                veth.peer.clone(),
                "netns".into(),
                ns.clone(),
            ],
            vec![
                "addr".into(),
                "add".into(),
                format!("{}.1/24", veth.subnet),
                "dev".into(),
                veth.local.clone(),
            ],
            vec!["link".into(), "set".into(), veth.local.clone(), "up".into()],
            veth.in_netns(&[
                "addr",
                "add",
                &format!("{}.2/24", veth.subnet),
                "dev",
                &veth.peer,
            ]),
            veth.in_netns(&["link", "set", &veth.peer, "up"]),
            veth.in_netns(&["link", "set", "lo", "up"]),
        ];
        for step in steps {
            let out = Command::new("ip")
                .args(&step)
                .output()
                .map_err(|e| format!("ip: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "ip {}: {}",
                    step.join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
        Ok(veth)
    }

    /// `ip` arguments that run `args` inside the namespace.
    fn in_netns(&self, args: &[&str]) -> Vec<String> {
        let mut all: Vec<String> = vec!["netns".into(), "exec".into(), self.netns.clone()];
        all.push("ip".into());
        all.extend(args.iter().map(|a| a.to_string()));
        all
    }

    /// Runs `ip args` in the namespace.
    fn ip_in_netns(&self, args: &[&str]) {
        let status = Command::new("ip")
            .args(self.in_netns(args))
            .status()
            .unwrap();
        assert!(status.success(), "ip netns exec {} ip {args:?}", self.netns);
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.local])
            .output();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.netns])
            .output();
    }
}

/// Listens on `addr` inside network namespace `netns` (a thread that enters it) and keeps
/// the accepted connection open, without reading, until the returned sender is dropped.
#[allow(unsafe_code)] // setns(2) has no safe wrapper in std.
fn listen_in_netns(netns: &str, addr: std::net::SocketAddr) -> std::sync::mpsc::Sender<()> {
    use std::os::fd::AsRawFd;
    let path = format!("/var/run/netns/{netns}");
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).expect("open the netns");
        // SAFETY: setns on a valid namespace fd; it changes only this thread's namespace.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        let listener = TcpListener::bind(addr).expect("bind in the netns");
        ready_tx.send(()).expect("ready");
        let accepted = listener.accept();
        let _ = stop_rx.recv();
        drop(accepted);
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("listener in the netns");
    stop_tx
}

/// The retransmits of `stream` so far (`TCP_INFO`).
#[allow(unsafe_code)] // getsockopt(2) has no safe wrapper in std.
fn total_retransmits(stream: &TcpStream) -> u32 {
    use std::os::fd::AsRawFd;
    // SAFETY: tcp_info is plain old data, valid when zeroed.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: a valid socket fd, and a buffer of `len` bytes that getsockopt may fill.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "TCP_INFO: {}", std::io::Error::last_os_error());
    info.tcpi_total_retrans
}

#[test]
fn tcpretrans_shows_a_retransmit_with_its_ports() {
    if !can_trace("tcpretrans_shows_a_retransmit_with_its_ports") {
        return;
    }
    let veth = match Veth::create() {
        Ok(v) => v,
        Err(e) => {
            assert!(!in_ci(), "cannot build the veth/netns trigger: {e}");
            eprintln!("skipping tcpretrans_shows_a_retransmit_with_its_ports: {e}");
            return;
        }
    };
    let server: std::net::SocketAddr = format!("{}.2:9999", veth.subnet).parse().unwrap();
    let stop = listen_in_netns(&veth.netns, server);
    let tracer = tool("tcpretrans", &[]);
    let mut stream = TcpStream::connect_timeout(&server, Duration::from_secs(5)).unwrap();
    let lport = stream.local_addr().unwrap().port();
    // The peer loses its address: what we send next is never acknowledged.
    veth.ip_in_netns(&[
        "addr",
        "del",
        &format!("{}.2/24", veth.subnet),
        "dev",
        &veth.peer,
    ]);
    stream.write_all(&[b'x'; 1000]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while total_retransmits(&stream) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        total_retransmits(&stream) > 0,
        "the kernel never retransmitted"
    );
    pause();
    let run = tracer.interrupt();
    drop(stop);
    run.assert_success();
    assert_eq!(
        run.stdout.lines().next(),
        Some("Tracing retransmits ... Hit Ctrl-C to end"),
        "{}",
        run.stdout
    );
    assert_eq!(
        header(&run.stdout, "TIME"),
        [
            "TIME",
            "PID",
            "IP",
            "LADDR:LPORT",
            "T>",
            "RADDR:RPORT",
            "STATE"
        ]
    );
    let local = format!("{}.1:{lport}", veth.subnet);
    let cols = row(&run.stdout, |c| c.len() == 7 && c[3] == local);
    assert_eq!(cols[0].len(), 8, "HH:MM:SS: {cols:?}");
    assert!(cols[1].parse::<u32>().is_ok(), "{cols:?}");
    assert_eq!(cols[2], "4", "{cols:?}");
    assert_eq!(cols[4], "R>", "{cols:?}");
    assert_eq!(cols[5], server.to_string(), "{cols:?}");
    assert_eq!(cols[6], "ESTABLISHED", "{cols:?}");
}
