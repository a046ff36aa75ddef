//! tcpaccept: TCP connections returned by accept() and accept4(), in the accepting task.
//!
//! BCC hooks the return of `inet_csk_accept` with a kretprobe. Here the syscall exit gives
//! the new descriptor, and the socket is found through the task's file table
//! (`file->private_data` is the `struct socket`), whose addresses and ports are read through
//! BTF. (`sock:inet_sock_set_state` runs in softirq context, with the wrong pid.)

use std::ffi::OsString;

use clap::Parser;
use scry_sema::KernelInfo;

use super::tcp;
use crate::script::{self, Common, Predicate};
use crate::{EventSpec, Plan, ToolError};

/// Trace TCP accepts: the accepting process and the connection's addresses and ports.
#[derive(Debug, Parser)]
#[command(
    name = "tcpaccept",
    after_help = "Examples:
  tcpaccept           # trace all TCP accept()s
  tcpaccept -t        # include timestamps
  tcpaccept -T        # include time column (HH:MM:SS)
  tcpaccept -P 80,81  # only trace port 80 and 81
  tcpaccept -p 181    # only trace PID 181
  tcpaccept -4        # trace IPv4 family
  tcpaccept -6        # trace IPv6 family
  tcpaccept --cgroup /sys/fs/cgroup/unified/system.slice  # only this cgroup (v2)
  tcpaccept --json    # one JSON object per accept

Hooks: tracepoints syscalls:sys_exit_{accept,accept4} (fd -> file -> socket -> sock through
BTF).

ACCURACY: connections accepted with accept(2) and accept4(2) are all seen, with the
accepting process, including accepts that were already waiting when tracing started.
Missed: accepts made through io_uring (IORING_OP_ACCEPT), in-kernel accepts (nfsd, ksmbd,
...), and 32-bit (compat) processes."
)]
struct Opts {
    /// Include a time column (HH:MM:SS).
    #[arg(short = 'T', long)]
    time: bool,
    /// Include a TIME(s) column (seconds since the first event).
    #[arg(short = 't', long)]
    timestamp: bool,
    /// Trace this PID only.
    #[arg(short = 'p', long)]
    pid: Option<u32>,
    /// Comma-separated list of local ports to trace.
    #[arg(short = 'P', long)]
    port: Option<String>,
    /// Trace IPv4 family only.
    #[arg(short = '4', long, conflicts_with = "ipv6")]
    ipv4: bool,
    /// Trace IPv6 family only.
    #[arg(short = '6', long)]
    ipv6: bool,
    /// Trace processes of this cgroup (v2 directory) only.
    #[arg(long)]
    cgroup: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// The socket of the accepted descriptor.
const SOCK: &str = "((struct socket *)curtask->files->fdt->fd[args->ret]->private_data)->sk";

/// The printf format of an event (with `\\n` as the script writes it).
fn event_format(o: &Opts) -> String {
    let mut format = String::new();
    if o.timestamp {
        format.push_str("%llu ");
    }
    if o.time {
        format.push_str("%-9s");
    }
    format.push_str("%-7d %-12.12s %-2d %-16s %-5d %-16s %-5d\\n");
    format
}

/// The printf of an accepted connection of IP version `ip` with addresses `raddr`, `laddr`.
fn printf(o: &Opts, ip: u8, raddr: &str, laddr: &str) -> String {
    let mut values = Vec::new();
    if o.timestamp {
        values.push("nsecs");
    }
    if o.time {
        values.push("strftime(\"%H:%M:%S\", nsecs)");
    }
    let ip = ip.to_string();
    values.extend(["pid", "comm", &ip, raddr, "$rport", laddr, "$lport"]);
    format!("printf(\"{}\", {});", event_format(o), values.join(", "))
}

/// The JSON field names of an event.
fn fields(o: &Opts) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if o.time {
        fields.push("time");
    }
    fields.extend(["pid", "comm", "ip", "raddr", "rport", "laddr", "lport"]);
    fields
}

/// The header line.
fn header(o: &Opts) -> String {
    let mut header = String::new();
    if o.timestamp {
        header.push_str(&format!("{:<9}", "TIME(s)"));
    }
    if o.time {
        header.push_str(&format!("{:<9}", "TIME"));
    }
    header.push_str(&format!(
        "{:<7} {:<12} {:<2} {:<16} {:<5} {:<16} {:<5}\n",
        "PID", "COMM", "IP", "RADDR", "RPORT", "LADDR", "LPORT"
    ));
    header
}

pub fn plan(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o: Opts = script::parse("tcpaccept", args)?;
    let calls = script::syscalls(kernel, &["accept", "accept4"])?;
    let ports = tcp::ports(o.port.as_deref(), "port")?;
    let v6 = !o.ipv4;
    let mut filter = Predicate::tool()
        .and("args->ret >= 0")
        .and_if(o.pid, "pid == {}");
    if let Some(path) = &o.cgroup {
        filter = filter.and(format!("cgroup == {}", script::cgroup_id(path)?));
    }
    let mut accepted = Predicate::new().and(format!("$sk->sk_protocol == {}", tcp::IPPROTO_TCP));
    if let Some(family) = tcp::family_condition(o.ipv4, o.ipv6, "$family") {
        accepted = accepted.and(family);
    }
    if !ports.is_empty() {
        accepted = accepted.and(script::any_of("$lport", &ports));
    }

    let mut s = String::from("// tcpaccept: TCP connections accepted by accept() and accept4().\n");
    s.push_str(&format!(
        "{}\n{}\n{{\n  $sk = {SOCK};\n  $family = $sk->__sk_common.skc_family;\n  \
         $lport = $sk->__sk_common.skc_num;\n  $dport = $sk->__sk_common.skc_dport;\n  \
         $rport = (($dport & 0xff) << 8) | ($dport >> 8);\n  if ({}) {{\n",
        script::syscall_probes(&calls, "exit"),
        filter.slashes().trim_start(),
        accepted.expr()
    ));
    if !o.ipv6 {
        s.push_str(&format!(
            "    if ($family == {}) {{\n      {}\n    }}\n",
            tcp::AF_INET,
            printf(
                &o,
                4,
                "ntop($sk->__sk_common.skc_daddr)",
                "ntop($sk->__sk_common.skc_rcv_saddr)"
            )
        ));
    }
    if v6 {
        s.push_str(&format!(
            "    if ($family == {}) {{\n      {}\n    }}\n",
            tcp::AF_INET6,
            printf(
                &o,
                6,
                "ntop($sk->__sk_common.skc_v6_daddr)",
                "ntop($sk->__sk_common.skc_v6_rcv_saddr)"
            )
        ));
    }
    s.push_str("  }\n}\n");

    let mut event = EventSpec::new(event_format(&o).replace("\\n", "\n"), &fields(&o));
    if o.timestamp {
        event = event.seconds(9, 3);
    }
    Ok(Plan::new(s, &o.common).header(header(&o)).event(event))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(args: &[&str]) -> Opts {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        script::parse("tcpaccept", &args).expect("valid options")
    }

    #[test]
    fn columns_follow_bcc() {
        let o = opts(&["-T", "-t"]);
        assert_eq!(
            event_format(&o),
            "%llu %-9s%-7d %-12.12s %-2d %-16s %-5d %-16s %-5d\\n"
        );
        assert_eq!(
            header(&opts(&[])),
            "PID     COMM         IP RADDR            RPORT LADDR            LPORT\n"
        );
        assert_eq!(
            fields(&o),
            [
                "time", "pid", "comm", "ip", "raddr", "rport", "laddr", "lport"
            ]
        );
        let line = printf(&opts(&[]), 6, "$a.1", "$a.0");
        assert!(
            line.ends_with("pid, comm, 6, $a.1, $rport, $a.0, $lport);"),
            "{line}"
        );
    }

    #[test]
    fn conflicting_families_are_refused() {
        let args: Vec<OsString> = ["-4", "-6"].iter().map(OsString::from).collect();
        let kernel = scry_sema::kernel::StaticKernel::default();
        assert!(matches!(plan(&args, &kernel), Err(ToolError::Usage(_))));
    }
}
