//! tcplife: TCP sessions, printed when they close, with their lifespan and the bytes they
//! moved.
//!
//! As BCC's tracepoint version: `sock:inet_sock_set_state` marks a session's birth (any
//! state before FIN_WAIT1), remembers the process on SYN_SENT (active open) and LAST_ACK
//! (passive close), and prints on CLOSE. The byte counts are `struct tcp_sock`'s
//! `bytes_acked` and `bytes_received`, read through the running kernel's BTF, never through
//! headers (which is how BCC with mismatched headers printed nonsense here).

use std::ffi::OsString;

use clap::Parser;
use scry_sema::KernelInfo;

use super::tcp;
use crate::script::{self, Common, Predicate};
use crate::{EventSpec, Plan, ToolError};

/// Trace the lifespan of TCP sessions and summarize.
#[derive(Debug, Parser)]
#[command(
    name = "tcplife",
    after_help = "Examples:
  tcplife           # trace all TCP connect()s
  tcplife -T        # include time column (HH:MM:SS)
  tcplife -w        # wider columns (fit IPv6)
  tcplife -stT      # csv output, with times & timestamps
  tcplife -p 181    # only trace PID 181
  tcplife -L 80     # only trace local port 80
  tcplife -L 80,81  # only trace local ports 80 and 81
  tcplife -D 80     # only trace remote port 80
  tcplife -4        # only trace IPv4 family
  tcplife -6        # only trace IPv6 family
  tcplife --json    # one JSON object per session

Hooks: tracepoint sock:inet_sock_set_state; TX_KB and RX_KB are struct tcp_sock's
bytes_acked and bytes_received (through BTF) at close.

ACCURACY: as BCC, the process is the one that opened (SYN_SENT) or closed last (LAST_ACK)
the session, else whichever task was running at close (possibly a softirq's). Sessions
already open when tcplife started are not shown. With both -T and -t, TIME(s) comes first."
)]
struct Opts {
    /// Include a time column on output (HH:MM:SS).
    #[arg(short = 'T', long)]
    time: bool,
    /// Include a timestamp on output (seconds).
    #[arg(short = 't', long)]
    timestamp: bool,
    /// Wide column output (fits IPv6 addresses).
    #[arg(short = 'w', long)]
    wide: bool,
    /// Comma separated values output.
    #[arg(short = 's', long)]
    csv: bool,
    /// Trace this PID only.
    #[arg(short = 'p', long)]
    pid: Option<u32>,
    /// Comma-separated list of local ports to trace.
    #[arg(short = 'L', long)]
    localport: Option<String>,
    /// Comma-separated list of remote ports to trace.
    #[arg(short = 'D', long)]
    remoteport: Option<String>,
    /// Trace IPv4 family only.
    #[arg(short = '4', long, conflicts_with = "ipv6")]
    ipv4: bool,
    /// Trace IPv6 family only.
    #[arg(short = '6', long)]
    ipv6: bool,
    #[command(flatten)]
    common: Common,
}

/// The output style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Normal,
    Wide,
    Csv,
}

impl Style {
    fn of(o: &Opts) -> Style {
        if o.csv {
            Style::Csv
        } else if o.wide {
            Style::Wide
        } else {
            Style::Normal
        }
    }

    /// The session columns' printf format (after the time columns).
    fn format(self) -> &'static str {
        match self {
            Style::Normal => "%-5d %-10.10s %-15s %-5d %-15s %-5d %5d %5d %d.%02d",
            Style::Wide => "%-5d %-16.16s %-2d %-39s %-5d %-39s %-5d %6d %6d %d.%02d",
            Style::Csv => "%d,%s,%d,%s,%d,%s,%d,%d,%d,%d.%02d",
        }
    }

    /// The header of the session columns.
    fn header(self) -> String {
        let names = [
            "PID", "COMM", "IP", "LADDR", "LPORT", "RADDR", "RPORT", "TX_KB", "RX_KB", "MS",
        ];
        match self {
            Style::Normal => format!(
                "{:<5} {:<10} {:<15} {:<5} {:<15} {:<5} {:>5} {:>5} {}",
                names[0],
                names[1],
                names[3],
                names[4],
                names[5],
                names[6],
                names[7],
                names[8],
                names[9]
            ),
            Style::Wide => format!(
                "{:<5} {:<16} {:<2} {:<39} {:<5} {:<39} {:<5} {:>6} {:>6} {}",
                names[0],
                names[1],
                names[2],
                names[3],
                names[4],
                names[5],
                names[6],
                names[7],
                names[8],
                names[9]
            ),
            Style::Csv => names.join(","),
        }
    }

    /// Whether the style has an IP column.
    fn has_ip(self) -> bool {
        self != Style::Normal
    }
}

/// The printf format of an event (with `\\n` as the script writes it).
fn event_format(o: &Opts) -> String {
    let style = Style::of(o);
    let sep = if style == Style::Csv { "," } else { " " };
    let mut format = String::new();
    if o.timestamp {
        format.push_str("%llu ");
        format.push_str(sep);
    }
    if o.time {
        format.push_str(if style == Style::Csv { "%s," } else { "%-8s " });
    }
    format.push_str(style.format());
    format.push_str("\\n");
    format
}

/// The header line.
fn header(o: &Opts) -> String {
    let style = Style::of(o);
    let mut header = String::new();
    if o.timestamp {
        header.push_str(if style == Style::Csv {
            "TIME(s),"
        } else {
            "TIME(s)   "
        });
    }
    if o.time {
        header.push_str(if style == Style::Csv {
            "TIME,"
        } else {
            "TIME     "
        });
    }
    header.push_str(&style.header());
    header.push('\n');
    header
}

/// The JSON field names of an event.
fn fields(o: &Opts) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if o.time {
        fields.push("time");
    }
    fields.extend(["pid", "comm"]);
    if Style::of(o).has_ip() {
        fields.push("ip");
    }
    fields.extend([
        "laddr", "lport", "raddr", "rport", "tx_kb", "rx_kb", "ms", "ms.frac2",
    ]);
    fields
}

/// The printf of a closed session of IP version `ip` (the process is in `$w`).
fn printf(o: &Opts, v6: bool) -> String {
    let mut values: Vec<&str> = Vec::new();
    if o.timestamp {
        values.push("nsecs");
    }
    if o.time {
        values.push("strftime(\"%H:%M:%S\", nsecs)");
    }
    values.extend(["$w.0", "$w.1"]);
    if Style::of(o).has_ip() {
        values.push(if v6 { "6" } else { "4" });
    }
    let (saddr, daddr) = if v6 {
        ("ntop(10, args->saddr_v6)", "ntop(10, args->daddr_v6)")
    } else {
        ("ntop(args->saddr)", "ntop(args->daddr)")
    };
    values.extend([
        saddr,
        "args->sport",
        daddr,
        "args->dport",
        "$tp->bytes_acked / 1024",
        "$tp->bytes_received / 1024",
        "$ms / 100",
        "$ms % 100",
    ]);
    format!("printf(\"{}\", {});", event_format(o), values.join(", "))
}

pub fn plan(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o: Opts = script::parse("tcplife", args)?;
    tcp::require_tracepoint(
        kernel,
        "sock",
        "inet_sock_set_state",
        "tcplife needs to follow TCP sessions",
    )?;
    let local = tcp::ports(o.localport.as_deref(), "local port")?;
    let remote = tcp::ports(o.remoteport.as_deref(), "remote port")?;
    let mut filter = Predicate::new().and(format!("args->protocol == {}", tcp::IPPROTO_TCP));
    if let Some(family) = tcp::family_condition(o.ipv4, o.ipv6, "args->family") {
        filter = filter.and(family);
    }
    // Sessions on other ports are forgotten. The local port is still 0 on SYN_SENT (it is
    // bound just after), so that event passes to record the process.
    let mut ports = Predicate::new();
    if !local.is_empty() {
        ports = ports.and(format!(
            "(args->newstate == {} || {})",
            tcp::SYN_SENT,
            script::any_of("args->sport", &local)
        ));
    }
    if !remote.is_empty() {
        ports = ports.and(script::any_of("args->dport", &remote));
    }
    let mut who = Predicate::new().and(format!(
        "(args->newstate == {} || args->newstate == {})",
        tcp::SYN_SENT,
        tcp::LAST_ACK
    ));
    who = who.and_if(o.pid, "pid == {}");
    let print_if = Predicate::new().and_if(o.pid, "$w.0 == {}");

    let mut body = format!(
        "if (args->newstate < {fin_wait1}) {{\n  @birth[$sk] = nsecs;\n}}\n\
         // The process: the opener, or the last closer, or whoever runs at close.\n\
         if ({who}) {{\n  @who[$sk] = (pid, comm);\n}}\n\
         if (args->newstate == {close}) {{\n  if (has_key(@birth, $sk)) {{\n    \
         $ms = ((nsecs - @birth[$sk]) / 1000 + 5) / 10;\n    \
         if (!has_key(@who, $sk)) {{\n      @who[$sk] = (pid, comm);\n    }}\n    \
         $w = @who[$sk];\n    if ({print_if}) {{\n      \
         $tp = (struct tcp_sock *)args->skaddr;\n      \
         if (args->family == {af4}) {{\n        {v4}\n      }} else {{\n        {v6}\n      }}\n    \
         }}\n  }}\n  delete(@birth, $sk);\n  delete(@who, $sk);\n}}\n",
        fin_wait1 = tcp::FIN_WAIT1,
        who = who.expr(),
        close = tcp::CLOSE,
        print_if = print_if.expr(),
        af4 = tcp::AF_INET,
        v4 = printf(&o, false),
        v6 = printf(&o, true),
    );
    if !local.is_empty() || !remote.is_empty() {
        body = format!(
            "if ({}) {{\n{}}} else {{\n  delete(@birth, $sk);\n  delete(@who, $sk);\n}}\n",
            ports.expr(),
            indent(&body)
        );
    }
    let s = format!(
        "// tcplife: TCP sessions, printed at close with their lifespan and bytes.\n\
         tracepoint:sock:inet_sock_set_state\n{}\n{{\n  $sk = (uint64)args->skaddr;\n{}}}\n\n\
         END\n{{\n  clear(@birth);\n  clear(@who);\n}}\n",
        filter.slashes().trim_start(),
        indent(&body)
    );

    let mut event = EventSpec::new(event_format(&o).replace("\\n", "\n"), &fields(&o));
    if o.timestamp {
        event = if o.csv {
            event.seconds(0, 6)
        } else {
            event.seconds(9, 6)
        };
    }
    Ok(Plan::new(s, &o.common).header(header(&o)).event(event))
}

/// `text` indented by two spaces.
fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("  {l}\n")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(args: &[&str]) -> Opts {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        script::parse("tcplife", &args).expect("valid options")
    }

    #[test]
    fn headers_follow_bcc() {
        assert_eq!(
            header(&opts(&[])),
            "PID   COMM       LADDR           LPORT RADDR           RPORT TX_KB RX_KB MS\n"
        );
        assert_eq!(
            header(&opts(&["-stT"])),
            "TIME(s),TIME,PID,COMM,IP,LADDR,LPORT,RADDR,RPORT,TX_KB,RX_KB,MS\n"
        );
        assert!(header(&opts(&["-w"])).starts_with("PID   COMM             IP LADDR "));
    }

    #[test]
    fn formats_and_fields() {
        let o = opts(&["-s", "-t", "-T"]);
        assert_eq!(
            event_format(&o),
            "%llu ,%s,%d,%s,%d,%s,%d,%s,%d,%d,%d,%d.%02d\\n"
        );
        assert_eq!(
            fields(&o),
            [
                "time", "pid", "comm", "ip", "laddr", "lport", "raddr", "rport", "tx_kb", "rx_kb",
                "ms", "ms.frac2"
            ]
        );
        let line = printf(&opts(&[]), true);
        assert!(
            line.contains("$w.0, $w.1, ntop(10, args->saddr_v6), args->sport"),
            "{line}"
        );
        assert_eq!(indent("a\n\nb\n"), "  a\n\n  b\n");
    }
}
