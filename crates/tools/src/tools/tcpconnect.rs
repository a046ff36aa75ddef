//! tcpconnect: active TCP connections, seen when a socket goes from CLOSE to SYN_SENT.
//!
//! BCC hooks `tcp_v4_connect`/`tcp_v6_connect` with kprobes. The tracepoint
//! `sock:inet_sock_set_state` fires inside those functions, in the connecting task, with the
//! addresses and the destination port already set; the local port is bound just after it, so
//! `-L` prints the connection when `connect()` returns (the port is then bound) or when the
//! socket leaves SYN_SENT (whose event carries the port), whichever comes first.

use std::ffi::OsString;

use clap::Parser;
use scry_output::MapDump;
use scry_sema::KernelInfo;

use super::tcp;
use crate::script::{self, Common, Predicate};
use crate::{EventSpec, Plan, ToolError};

/// Trace TCP active connections (connect()).
#[derive(Debug, Parser)]
#[command(
    name = "tcpconnect",
    after_help = "Examples:
  tcpconnect           # trace all TCP connect()s
  tcpconnect -t        # include timestamps
  tcpconnect -p 181    # only trace PID 181
  tcpconnect -P 80     # only trace port 80
  tcpconnect -P 80,81  # only trace port 80 and 81
  tcpconnect -4        # only trace IPv4 family
  tcpconnect -6        # only trace IPv6 family
  tcpconnect -U        # include UID
  tcpconnect -u 1000   # only trace UID 1000
  tcpconnect -c        # count connects per src ip and dest ip/port
  tcpconnect -L        # include LPORT while printing outputs
  tcpconnect --cgroup /sys/fs/cgroup/unified/system.slice  # only this cgroup (v2)
  tcpconnect --json    # one JSON object per connection

Hooks: tracepoint sock:inet_sock_set_state (CLOSE -> SYN_SENT, in the connecting task); with
-L also syscalls:sys_exit_connect and the socket's next state change, for the local port.

ACCURACY: every active open is seen, including those not made by connect(2) (TCP Fast Open
sendto(), io_uring): each attempt is printed when it starts, as in BCC, whether or not it
succeeds. With -L a connection is printed once its local port is bound."
)]
struct Opts {
    /// Include a TIME(s) column (seconds since the first event).
    #[arg(short = 't', long)]
    timestamp: bool,
    /// Trace this PID only.
    #[arg(short = 'p', long)]
    pid: Option<u32>,
    /// Comma-separated list of destination ports to trace.
    #[arg(short = 'P', long)]
    port: Option<String>,
    /// Trace IPv4 family only.
    #[arg(short = '4', long, conflicts_with = "ipv6")]
    ipv4: bool,
    /// Trace IPv6 family only.
    #[arg(short = '6', long)]
    ipv6: bool,
    /// Include LPORT on output.
    #[arg(short = 'L', long)]
    lport: bool,
    /// Include UID on output.
    #[arg(short = 'U', long = "print-uid")]
    print_uid: bool,
    /// Trace this UID only.
    #[arg(short = 'u', long)]
    uid: Option<u32>,
    /// Count connects per source ip and destination ip/port; printed at Ctrl-C.
    #[arg(short = 'c', long)]
    count: bool,
    /// Trace processes of this cgroup (v2 directory) only.
    #[arg(long)]
    cgroup: Option<String>,
    /// Include the likely DNS query of each connect (needs kprobes: not on this kernel).
    #[arg(short = 'd', long)]
    dns: bool,
    #[command(flatten)]
    common: Common,
}

/// The count map's header, as BCC prints it at the end.
const COUNT_HEADER: &str =
    "LADDR                     RADDR                     RPORT                CONNECTS";

/// The expressions of one connection's columns.
struct Row<'a> {
    pid: &'a str,
    comm: &'a str,
    uid: &'a str,
    ip: &'a str,
    saddr: &'a str,
    lport: &'a str,
    daddr: &'a str,
    dport: &'a str,
}

impl Row<'_> {
    /// The connection as its tracepoint event shows it, for IPv4 or IPv6.
    fn at_state_change(v6: bool) -> Row<'static> {
        let (ip, saddr, daddr) = if v6 {
            ("6", "ntop(10, args->saddr_v6)", "ntop(10, args->daddr_v6)")
        } else {
            ("4", "ntop(args->saddr)", "ntop(args->daddr)")
        };
        Row {
            pid: "pid",
            comm: "comm",
            uid: "uid",
            ip,
            saddr,
            lport: "args->sport",
            daddr,
            dport: "args->dport",
        }
    }

    /// The connection kept in `$c` (see [`STORED`]), with local port `lport`.
    fn stored(lport: &str) -> Row<'_> {
        Row {
            pid: "$c.0",
            comm: "$c.1",
            uid: "$c.2",
            ip: "$c.3",
            saddr: "$c.4",
            lport,
            daddr: "$c.5",
            dport: "$c.6",
        }
    }

    /// The `printf` of this row with BCC's columns (as `o` asks).
    fn printf(&self, o: &Opts) -> String {
        let (format, mut values) = (event_format(o), Vec::new());
        if o.timestamp {
            values.push("nsecs");
        }
        if o.print_uid {
            values.push(self.uid);
        }
        values.extend([self.pid, self.comm, self.ip, self.saddr]);
        if o.lport {
            values.push(self.lport);
        }
        values.extend([self.daddr, self.dport]);
        format!("printf(\"{format}\", {});", values.join(", "))
    }
}

/// What `-L` keeps of a connection until its local port is known:
/// `(pid, comm, uid, ip, saddr, daddr, dport)`.
const STORED: [&str; 2] = [
    "(pid, comm, uid, 4, ntop(args->saddr), ntop(args->daddr), args->dport)",
    "(pid, comm, uid, 6, ntop(10, args->saddr_v6), ntop(10, args->daddr_v6), args->dport)",
];

/// The printf format of an event (with `\\n` as the script writes it).
fn event_format(o: &Opts) -> String {
    let mut format = String::new();
    if o.timestamp {
        format.push_str("%llu ");
    }
    if o.print_uid {
        format.push_str("%-6d");
    }
    format.push_str("%-6d %-12.12s %-2d %-16s ");
    if o.lport {
        format.push_str("%-6d ");
    }
    format.push_str("%-16s %-6d\\n");
    format
}

/// The JSON field names of an event.
fn fields(o: &Opts) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if o.print_uid {
        fields.push("uid");
    }
    fields.extend(["pid", "comm", "ip", "saddr"]);
    if o.lport {
        fields.push("lport");
    }
    fields.extend(["daddr", "dport"]);
    fields
}

/// `if (family == AF_INET) { v4 } else { v6 }`, indented by `indent`.
fn by_family(v4: &str, v6: &str, indent: &str) -> String {
    format!(
        "{indent}if (args->family == {}) {{\n{indent}  {v4}\n{indent}}} else {{\n{indent}  {v6}\n{indent}}}\n",
        tcp::AF_INET
    )
}

pub fn plan(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o: Opts = script::parse("tcpconnect", args)?;
    if o.dns {
        return Err(ToolError::Unsupported(
            "-d/--dns needs kprobes on udp_recvmsg to read DNS answers, and this kernel has \
             no kernel-function probes (CONFIG_KPROBES=n, fentry not permitted); run without -d"
                .into(),
        ));
    }
    if o.count && o.lport {
        return Err(ToolError::BadArgument(
            "-c counts per address and destination port: it shows no LPORT (drop -L)".into(),
        ));
    }
    tcp::require_tracepoint(
        kernel,
        "sock",
        "inet_sock_set_state",
        "tcpconnect needs to see TCP connections start",
    )?;
    let ports = tcp::ports(o.port.as_deref(), "port")?;
    let mut filter = Predicate::tool()
        .and(format!("args->protocol == {}", tcp::IPPROTO_TCP))
        .and(format!("args->oldstate == {}", tcp::CLOSE))
        .and(format!("args->newstate == {}", tcp::SYN_SENT))
        .and_if(o.pid, "pid == {}")
        .and_if(o.uid, "uid == {}");
    if let Some(family) = tcp::family_condition(o.ipv4, o.ipv6, "args->family") {
        filter = filter.and(family);
    }
    if !ports.is_empty() {
        filter = filter.and(script::any_of("args->dport", &ports));
    }
    if let Some(path) = &o.cgroup {
        filter = filter.and(format!("cgroup == {}", script::cgroup_id(path)?));
    }

    let mut s = String::from(
        "// tcpconnect: active TCP opens (CLOSE -> SYN_SENT), in the connecting task.\n",
    );
    s.push_str(&format!(
        "tracepoint:sock:inet_sock_set_state\n{}\n{{\n",
        filter.slashes().trim_start()
    ));
    if o.count {
        s.push_str(&by_family(
            "@connects[ntop(args->saddr), ntop(args->daddr), args->dport] = count();",
            "@connects[ntop(10, args->saddr_v6), ntop(10, args->daddr_v6), args->dport] = count();",
            "  ",
        ));
        s.push_str("}\n\nEND\n{\n  print(@connects);\n  clear(@connects);\n}\n");
    } else if !o.lport {
        s.push_str(&by_family(
            &Row::at_state_change(false).printf(&o),
            &Row::at_state_change(true).printf(&o),
            "  ",
        ));
        s.push_str("}\n");
    } else {
        // The connection waits in @conn until its local port is known.
        s.push_str(&by_family(
            &format!("@conn[args->skaddr] = {};", STORED[0]),
            &format!("@conn[args->skaddr] = {};", STORED[1]),
            "  ",
        ));
        s.push_str("  @sock[tid] = args->skaddr;\n}\n\n");
        s.push_str(&format!(
            "// connect() returned: the local port is bound, unless the attempt failed already.\n\
             tracepoint:syscalls:sys_exit_connect\n/has_key(@sock, tid)/\n{{\n  \
             $sk = @sock[tid];\n  delete(@sock, tid);\n  \
             $lport = ((struct sock *)$sk)->__sk_common.skc_num;\n  \
             if ($lport != 0 && has_key(@conn, $sk)) {{\n    $c = @conn[$sk];\n    {}\n    \
             delete(@conn, $sk);\n  }}\n}}\n\n",
            Row::stored("$lport").printf(&o)
        ));
        s.push_str(&format!(
            "// The socket left SYN_SENT first (connected, refused, or not made by connect()).\n\
             tracepoint:sock:inet_sock_set_state\n\
             /args->protocol == {} && args->oldstate == {} && has_key(@conn, args->skaddr)/\n{{\n  \
             $c = @conn[args->skaddr];\n  {}\n  delete(@conn, args->skaddr);\n}}\n\n\
             END\n{{\n  clear(@conn);\n  clear(@sock);\n}}\n",
            tcp::IPPROTO_TCP,
            tcp::SYN_SENT,
            Row::stored("args->sport").printf(&o)
        ));
    }

    let mut header = String::from("Tracing connect ... Hit Ctrl-C to end\n");
    if !o.count {
        if o.timestamp {
            header.push_str(&format!("{:<9}", "TIME(s)"));
        }
        if o.print_uid {
            header.push_str(&format!("{:<6}", "UID"));
        }
        header.push_str(&format!(
            "{:<6} {:<12} {:<2} {:<16} ",
            "PID", "COMM", "IP", "SADDR"
        ));
        if o.lport {
            header.push_str(&format!("{:<6} ", "LPORT"));
        }
        header.push_str(&format!("{:<16} {:<6}\n", "DADDR", "DPORT"));
    }
    let mut plan = Plan::new(s, &o.common).header(header);
    if o.count {
        plan = plan.maps(Box::new(render_counts));
    } else {
        let mut event = EventSpec::new(event_format(&o).replace("\\n", "\n"), &fields(&o));
        if o.timestamp {
            event = event.seconds(9, 3);
        }
        plan = plan.event(event);
    }
    Ok(plan)
}

/// The `-c` table: IPv4 flows then IPv6 flows, each by count, most first (as BCC).
fn render_counts(dump: &MapDump, json: bool) -> String {
    let mut rows: Vec<(String, String, String, u64)> = dump
        .entries
        .iter()
        .map(|e| {
            (
                tcp::text(e.key.first()),
                tcp::text(e.key.get(1)),
                tcp::text(e.key.get(2)),
                tcp::count(&e.value),
            )
        })
        .collect();
    rows.sort_by(|a, b| {
        tcp::is_ipv6(&a.0)
            .cmp(&tcp::is_ipv6(&b.0))
            .then(b.3.cmp(&a.3))
            .then_with(|| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)))
    });
    let mut text = String::new();
    if !json {
        text.push_str(&format!("\n{COUNT_HEADER}\n"));
    }
    for (laddr, raddr, rport, connects) in rows {
        if json {
            let object = serde_json::json!({
                "laddr": laddr,
                "raddr": raddr,
                "rport": rport.parse::<u64>().unwrap_or(0),
                "connects": connects,
            });
            text.push_str(&format!("{object}\n"));
        } else {
            text.push_str(&format!(
                "{laddr:<25} {raddr:<25} {rport:<20} {connects:<10}\n"
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use scry_output::{AggValue, MapEntry, MapKind, Value};

    fn opts(args: &[&str]) -> Opts {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        script::parse("tcpconnect", &args).expect("valid options")
    }

    #[test]
    fn columns_follow_bcc() {
        let o = opts(&["-t", "-U", "-L"]);
        assert_eq!(
            event_format(&o),
            "%llu %-6d%-6d %-12.12s %-2d %-16s %-6d %-16s %-6d\\n"
        );
        assert_eq!(
            Row::stored("$lport").printf(&o),
            "printf(\"%llu %-6d%-6d %-12.12s %-2d %-16s %-6d %-16s %-6d\\n\", nsecs, $c.2, \
             $c.0, $c.1, $c.3, $c.4, $lport, $c.5, $c.6);"
        );
        assert_eq!(
            fields(&o),
            [
                "uid", "pid", "comm", "ip", "saddr", "lport", "daddr", "dport"
            ]
        );
        let v6 = Row::at_state_change(true).printf(&opts(&[]));
        assert!(v6.contains("6, ntop(10, args->saddr_v6), ntop(10, args->daddr_v6), args->dport)"));
    }

    #[test]
    fn count_table() {
        let entry = |s: &str, d: &str, port: u64, n: u64| MapEntry {
            key: vec![
                Value::Str(s.into()),
                Value::Str(d.into()),
                Value::UInt(port),
            ],
            value: AggValue::UInt(n),
        };
        let dump = MapDump {
            name: "@connects".into(),
            kind: MapKind::Count,
            entries: vec![
                entry("::1", "::1", 22, 9),
                entry("10.0.0.1", "10.0.0.2", 80, 1),
                entry("10.0.0.1", "10.0.0.3", 443, 3),
            ],
        };
        let text = render_counts(&dump, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "");
        assert_eq!(lines[1], COUNT_HEADER);
        assert!(lines[2].starts_with("10.0.0.1                  10.0.0.3                  443 "));
        assert!(lines[3].ends_with(" 1         "));
        assert!(lines[4].starts_with("::1 "));
        let json = render_counts(&dump, true);
        assert!(
            json.starts_with("{\"connects\":3,\"laddr\":\"10.0.0.1\""),
            "{json}"
        );
    }

    #[test]
    fn unsupported_and_bad_options() {
        let kernel = scry_sema::kernel::StaticKernel::default();
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(matches!(
            plan(&args(&["-d"]), &kernel),
            Err(ToolError::Unsupported(_))
        ));
        assert!(matches!(
            plan(&args(&["-c", "-L"]), &kernel),
            Err(ToolError::BadArgument(_))
        ));
    }
}
