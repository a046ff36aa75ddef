//! tcpretrans: TCP retransmits, from tracepoint `tcp:tcp_retransmit_skb`.
//!
//! Since Linux 6.x the tracepoint sits at the end of `__tcp_retransmit_skb` and also fires
//! for attempts that failed (`err != 0`, e.g. EBUSY while the original is still queued in
//! the host): they are left out unless `--errors` asks for them, so that the default output
//! means what BCC's does. Tail loss probes (`-l`) need a kprobe on `tcp_send_loss_probe`.

use std::ffi::OsString;

use clap::Parser;
use scry_output::{MapDump, Value};
use scry_sema::KernelInfo;

use super::tcp;
use crate::script::{self, Common, Predicate};
use crate::{EventSpec, Plan, ToolError};

/// Trace TCP retransmits.
#[derive(Debug, Parser)]
#[command(
    name = "tcpretrans",
    after_help = "Examples:
  tcpretrans           # trace TCP retransmits
  tcpretrans -s        # display TCP sequence numbers
  tcpretrans -c        # count retransmits per flow, printed at Ctrl-C
  tcpretrans -4        # trace IPv4 family only
  tcpretrans -6        # trace IPv6 family only
  tcpretrans --errors  # also show failed retransmit attempts (ERR column)
  tcpretrans --json    # one JSON object per retransmit

Hooks: tracepoint tcp:tcp_retransmit_skb (the sequence number through BTF: the skb's
struct tcp_skb_cb).

ACCURACY: PID is the task on the CPU when the retransmit ran (often 0: a timer softirq).
Retransmit attempts that failed (err != 0, which this tracepoint reports since Linux 6.x)
are hidden unless --errors is given. -l (tail loss probes) is not available: it needs a
kprobe on tcp_send_loss_probe, and this kernel has none; a probe that resends the last
segment shows up as an ordinary retransmit."
)]
struct Opts {
    /// Display TCP sequence numbers.
    #[arg(short = 's', long)]
    sequence: bool,
    /// Include tail loss probe attempts (needs kprobes: not on this kernel).
    #[arg(short = 'l', long)]
    lossprobe: bool,
    /// Count retransmits per flow; printed at Ctrl-C.
    #[arg(short = 'c', long)]
    count: bool,
    /// Trace IPv4 family only.
    #[arg(short = '4', long, conflicts_with = "ipv6")]
    ipv4: bool,
    /// Trace IPv6 family only.
    #[arg(short = '6', long)]
    ipv6: bool,
    /// Also show failed retransmit attempts, with their error (ERR column).
    #[arg(long)]
    errors: bool,
    #[command(flatten)]
    common: Common,
}

/// The count map's header, as BCC prints it at the end.
const COUNT_HEADER: &str = "LADDR:LPORT               RADDR:RPORT               RETRANSMITS";

/// The sequence number of the retransmitted skb: `TCP_SKB_CB(skb)->seq`.
const SEQ: &str = "*(uint32 *)((uint64)args->skbaddr + offsetof(struct sk_buff, cb) + \
                   offsetof(struct tcp_skb_cb, seq))";

/// The script's printf format (the text line itself is drawn by [`line`]).
fn event_format(o: &Opts) -> String {
    let mut format = String::from("%-8s %-7d %-2d %s:%d %s> %s:%d %s");
    if o.sequence {
        format.push_str(" %u");
    }
    if o.errors {
        format.push_str(" %d");
    }
    format.push_str("\\n");
    format
}

/// The JSON field names of an event.
fn fields(o: &Opts) -> Vec<&'static str> {
    let mut fields = vec![
        "time", "pid", "ip", "laddr", "lport", "type", "raddr", "rport", "state",
    ];
    if o.sequence {
        fields.push("seq");
    }
    if o.errors {
        fields.push("err");
    }
    fields
}

/// BCC's line from the event's values (see [`fields`]): `ADDR:PORT` columns padded as one.
fn line(values: &[Value], sequence: bool, errors: bool) -> String {
    let t = |i: usize| tcp::text(values.get(i));
    let mut line = format!(
        "{:<8} {:<7} {:<2} {:<20} {:>1}> {:<20}",
        t(0),
        t(1),
        t(2),
        format!("{}:{}", t(3), t(4)),
        t(5),
        format!("{}:{}", t(6), t(7)),
    );
    let state = t(8);
    let mut rest: Vec<String> = Vec::new();
    if sequence {
        rest.push(t(9));
    }
    if errors {
        rest.push(t(9 + usize::from(sequence)));
    }
    if rest.is_empty() {
        line.push_str(&format!(" {state}\n"));
    } else {
        line.push_str(&format!(" {state:<12}"));
        let last = rest.len() - 1;
        for (i, value) in rest.iter().enumerate() {
            if i == last {
                line.push_str(&format!(" {value}\n"));
            } else {
                line.push_str(&format!(" {value:<10}"));
            }
        }
    }
    line
}

/// The header line.
fn header(o: &Opts) -> String {
    let mut header = format!(
        "{:<8} {:<7} {:<2} {:<20} {:>1}> {:<20}",
        "TIME", "PID", "IP", "LADDR:LPORT", "T", "RADDR:RPORT"
    );
    match (o.sequence, o.errors) {
        (false, false) => header.push_str(&format!(" {:<4}", "STATE")),
        (true, false) => header.push_str(&format!(" {:<12} {:<10}", "STATE", "SEQ")),
        (false, true) => header.push_str(&format!(" {:<12} ERR", "STATE")),
        (true, true) => header.push_str(&format!(" {:<12} {:<10} ERR", "STATE", "SEQ")),
    }
    header.push('\n');
    header
}

/// `$state`: the TCP state's name, as BCC prints it.
fn state_names() -> String {
    let mut expr = String::from("\"UNKNOWN\"");
    for state in (1..=12).rev() {
        expr = format!("$st == {state} ? \"{}\" : ({expr})", tcp::state_name(state));
    }
    format!("$st = args->state;\n  $state = {expr};\n")
}

pub fn plan(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o: Opts = script::parse("tcpretrans", args)?;
    if o.lossprobe {
        return Err(ToolError::Unsupported(
            "-l/--lossprobe needs a kprobe on tcp_send_loss_probe, and this kernel provides no \
             kernel-function probes (CONFIG_KPROBES=n, fentry not permitted). A loss probe that \
             resends the last segment still shows up as an ordinary retransmit (R>); run \
             without -l"
                .into(),
        ));
    }
    tcp::require_tracepoint(
        kernel,
        "tcp",
        "tcp_retransmit_skb",
        "tcpretrans needs to see retransmits",
    )?;
    let mut filter = Predicate::new();
    if !o.errors {
        filter = filter.and("args->err == 0");
    }
    if let Some(family) = tcp::family_condition(o.ipv4, o.ipv6, "args->family") {
        filter = filter.and(family);
    }
    let mut s = String::from("// tcpretrans: TCP retransmits.\n");
    s.push_str(&format!(
        "tracepoint:tcp:tcp_retransmit_skb{}\n{{\n",
        if filter.expr() == "1" {
            String::new()
        } else {
            format!("\n{}", filter.slashes().trim_start())
        }
    ));
    let by_family = |v4: String, v6: String| {
        format!(
            "  if (args->family == {}) {{\n    {v4}\n  }} else {{\n    {v6}\n  }}\n",
            tcp::AF_INET
        )
    };
    if o.count {
        s.push_str(&by_family(
            "@retransmits[ntop(args->saddr), args->sport, ntop(args->daddr), args->dport] = count();"
                .into(),
            "@retransmits[ntop(10, args->saddr_v6), args->sport, ntop(10, args->daddr_v6), \
             args->dport] = count();"
                .into(),
        ));
        s.push_str("}\n\nEND\n{\n  print(@retransmits);\n  clear(@retransmits);\n}\n");
    } else {
        s.push_str("  ");
        s.push_str(&state_names());
        let printf = |ip: u8, saddr: &str, daddr: &str| {
            let ip = ip.to_string();
            let mut values = vec![
                "strftime(\"%H:%M:%S\", nsecs)",
                "pid",
                &ip,
                saddr,
                "args->sport",
                "\"R\"",
                daddr,
                "args->dport",
                "$state",
            ];
            if o.sequence {
                values.push(SEQ);
            }
            if o.errors {
                values.push("args->err");
            }
            format!("printf(\"{}\", {});", event_format(&o), values.join(", "))
        };
        s.push_str(&by_family(
            printf(4, "ntop(args->saddr)", "ntop(args->daddr)"),
            printf(6, "ntop(10, args->saddr_v6)", "ntop(10, args->daddr_v6)"),
        ));
        s.push_str("}\n");
    }

    let mut header = String::from("Tracing retransmits ... Hit Ctrl-C to end\n");
    if !o.count {
        header.push_str(&self::header(&o));
    }
    let plan = Plan::new(s, &o.common).header(header);
    if o.count {
        return Ok(plan.maps(Box::new(render_counts)));
    }
    let (sequence, errors) = (o.sequence, o.errors);
    Ok(plan.event(
        EventSpec::new(event_format(&o).replace("\\n", "\n"), &fields(&o))
            .text(Box::new(move |values| line(values, sequence, errors))),
    ))
}

/// The `-c` table: IPv4 flows then IPv6 flows, each by count, fewest first (as BCC).
fn render_counts(dump: &MapDump, json: bool) -> String {
    let mut rows: Vec<(String, String, String, String, u64)> = dump
        .entries
        .iter()
        .map(|e| {
            (
                tcp::text(e.key.first()),
                tcp::text(e.key.get(1)),
                tcp::text(e.key.get(2)),
                tcp::text(e.key.get(3)),
                tcp::count(&e.value),
            )
        })
        .collect();
    rows.sort_by(|a, b| {
        tcp::is_ipv6(&a.0)
            .cmp(&tcp::is_ipv6(&b.0))
            .then(a.4.cmp(&b.4))
            .then_with(|| (&a.0, &a.1, &a.2, &a.3).cmp(&(&b.0, &b.1, &b.2, &b.3)))
    });
    let mut text = String::new();
    if !json {
        text.push_str(&format!("\n{COUNT_HEADER}\n"));
    }
    for (laddr, lport, raddr, rport, n) in rows {
        if json {
            let object = serde_json::json!({
                "laddr": laddr,
                "lport": lport.parse::<u64>().unwrap_or(0),
                "raddr": raddr,
                "rport": rport.parse::<u64>().unwrap_or(0),
                "retransmits": n,
            });
            text.push_str(&format!("{object}\n"));
        } else {
            text.push_str(&format!(
                "{:<20} <-> {:<20} {n:>10}\n",
                format!("[{laddr}]#{lport}"),
                format!("[{raddr}]#{rport}")
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use scry_output::{AggValue, MapEntry, MapKind};

    fn opts(args: &[&str]) -> Opts {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        script::parse("tcpretrans", &args).expect("valid options")
    }

    fn event(extra: &[Value]) -> Vec<Value> {
        let mut values = vec![
            Value::Str("00:00:48".into()),
            Value::Int(0),
            Value::Int(4),
            Value::Str("10.77.0.1".into()),
            Value::UInt(45214),
            Value::Str("R".into()),
            Value::Str("10.77.0.2".into()),
            Value::UInt(9999),
            Value::Str("ESTABLISHED".into()),
        ];
        values.extend_from_slice(extra);
        values
    }

    #[test]
    fn lines_follow_bcc() {
        assert_eq!(
            header(&opts(&[])),
            "TIME     PID     IP LADDR:LPORT          T> RADDR:RPORT          STATE\n"
        );
        assert_eq!(
            line(&event(&[]), false, false),
            "00:00:48 0       4  10.77.0.1:45214      R> 10.77.0.2:9999       ESTABLISHED\n"
        );
        assert_eq!(
            line(&event(&[Value::UInt(12345)]), true, false),
            "00:00:48 0       4  10.77.0.1:45214      R> 10.77.0.2:9999       ESTABLISHED  12345\n"
        );
        assert_eq!(
            line(&event(&[Value::UInt(7), Value::Int(-16)]), true, true),
            "00:00:48 0       4  10.77.0.1:45214      R> 10.77.0.2:9999       ESTABLISHED  7          -16\n"
        );
        assert!(header(&opts(&["-s", "--errors"])).ends_with("STATE        SEQ        ERR\n"));
    }

    #[test]
    fn formats_and_fields() {
        let o = opts(&["-s", "--errors"]);
        assert_eq!(
            event_format(&o),
            "%-8s %-7d %-2d %s:%d %s> %s:%d %s %u %d\\n"
        );
        assert_eq!(fields(&o).len(), 11);
        let names = state_names();
        assert!(names.starts_with("$st = args->state;\n  $state = $st == 1 ? \"ESTABLISHED\""));
        assert!(names.contains("$st == 12 ? \"NEW_SYN_RECV\" : (\"UNKNOWN\")"));
    }

    #[test]
    fn count_table() {
        let entry = |s: &str, n: u64| MapEntry {
            key: vec![
                Value::Str(s.into()),
                Value::UInt(1000),
                Value::Str(s.into()),
                Value::UInt(80),
            ],
            value: AggValue::UInt(n),
        };
        let dump = MapDump {
            name: "@retransmits".into(),
            kind: MapKind::Count,
            entries: vec![entry("::1", 1), entry("10.0.0.2", 5), entry("10.0.0.1", 2)],
        };
        let text = render_counts(&dump, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], COUNT_HEADER);
        assert_eq!(
            lines[2],
            "[10.0.0.1]#1000      <-> [10.0.0.1]#80                 2"
        );
        assert!(lines[3].starts_with("[10.0.0.2]#1000"));
        assert!(lines[4].starts_with("[::1]#1000"));
    }

    #[test]
    fn lossprobe_is_unsupported() {
        let args: Vec<OsString> = ["-l"].iter().map(OsString::from).collect();
        let kernel = scry_sema::kernel::StaticKernel::default();
        assert!(matches!(
            plan(&args, &kernel),
            Err(ToolError::Unsupported(m)) if m.contains("tcp_send_loss_probe")
        ));
    }
}
