//! killsnoop: signals sent by kill() and its relatives, with BCC's options and columns.

use std::ffi::OsString;

use clap::Parser;
use scry_sema::KernelInfo;

use crate::script::{self, Common, Predicate};
use crate::{EventSpec, Plan, ToolError};

/// Trace signals issued by the kill() syscall (and tkill, tgkill, sigqueue, pidfd_send_signal).
#[derive(Debug, Parser)]
#[command(
    name = "killsnoop",
    after_help = "Examples:
  killsnoop              # trace all kill() signals
  killsnoop -x           # only show failed kills
  killsnoop -p 181       # only trace PID 181 (the sender)
  killsnoop -T 189       # only trace target PID 189
  killsnoop -s 9         # only trace signal 9
  killsnoop -s 1,9,TERM  # only trace signals 1, 9 and 15
  killsnoop --json       # one JSON object per signal

Hooks: tracepoints syscalls:sys_{enter,exit}_{kill,tkill,tgkill,rt_sigqueueinfo,
rt_tgsigqueueinfo,pidfd_send_signal} (those this kernel has). TPID is the pid or thread id the
call names (for pidfd_send_signal, the pid behind the pidfd); a negative TPID is a process
group (kill(-pgid, sig)) and -1 means every process. RESULT is 0 or -errno.
Signals the kernel sends by itself (SIGCHLD, SIGSEGV, ...) make no syscall and are not shown."
)]
struct Opts {
    /// Only show failed kills.
    #[arg(short = 'x', long)]
    failed: bool,
    /// Trace this PID only (the sender).
    #[arg(short = 'p', long)]
    pid: Option<u32>,
    /// Trace this target PID only.
    #[arg(short = 'T', long)]
    tpid: Option<i32>,
    /// Trace these signals only (comma-separated numbers or names: 9,TERM,SIGHUP).
    #[arg(short = 's', long)]
    signal: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// Linux signal numbers by name (x86-64 and the generic ABI).
const SIGNALS: &[(&str, u64)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("POLL", 29),
    ("PWR", 30),
    ("SYS", 31),
];

/// A signal given as a number, `TERM` or `SIGTERM`.
fn signal_number(text: &str) -> Option<u64> {
    let text = text.trim();
    if let Ok(n) = text.parse::<u64>() {
        return (n <= 64).then_some(n);
    }
    let upper = text.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    SIGNALS.iter().find(|(n, _)| *n == bare).map(|(_, v)| *v)
}

/// The signals of `-s`.
fn signal_list(text: &str) -> Result<Vec<u64>, ToolError> {
    let list: Vec<u64> = text
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            signal_number(s)
                .ok_or_else(|| ToolError::BadArgument(format!("invalid signal '{s}' in '{text}'")))
        })
        .collect::<Result<_, _>>()?;
    if list.is_empty() {
        return Err(ToolError::BadArgument(format!("no signal in '{text}'")));
    }
    Ok(list)
}

/// BCC's PID column width: the digits of the largest pid, plus one.
fn pid_width() -> usize {
    std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|max| max.to_string().len() + 1)
        .unwrap_or(7)
}

/// How one syscall names its target and signal, as script expressions.
struct Call {
    name: &'static str,
    /// Statements run first (setting `$tpid` and `$sig`).
    setup: String,
    /// The condition of `-T PID`, with `{}` for the pid.
    target: &'static str,
}

fn calls(kernel: &dyn KernelInfo) -> Result<Vec<Call>, ToolError> {
    let plain = |name: &'static str| Call {
        name,
        setup: "$tpid = (int32)args->pid; $sig = (int32)args->sig;".into(),
        target: "$tpid == {}",
    };
    let group = |name: &'static str| Call {
        name,
        // The thread named, within thread group `tgid`.
        setup: "$tpid = (int32)args->pid; $sig = (int32)args->sig;".into(),
        target: "($tpid == {} || (int32)args->tgid == {})",
    };
    let mut all = vec![
        plain("kill"),
        plain("tkill"),
        group("tgkill"),
        plain("rt_sigqueueinfo"),
        group("rt_tgsigqueueinfo"),
    ];
    // pidfd_send_signal names its target by a pidfd, whose file holds the struct pid: in
    // private_data (anonymous-inode pidfds, before Linux 6.9) or in its inode's i_private
    // (pidfs). numbers[0].nr (a flexible array member) is the pid in the initial namespace.
    if kernel.btf().is_some() {
        all.push(Call {
            name: "pidfd_send_signal",
            setup: "$file = curtask->files->fdt->fd[args->pidfd];\n  \
                 $pid = (struct pid *)($file->private_data != 0 ? (uint64)$file->private_data : \
                 (uint64)$file->f_inode->i_private);\n  \
                 $tpid = $pid != 0 ? $pid->numbers[0].nr : -1;\n  \
                 $sig = (int32)args->sig;"
                .into(),
            target: "$tpid == {}",
        });
    }
    let names: Vec<&str> = all.iter().map(|c| c.name).collect();
    let found = script::syscalls(kernel, &names)?;
    Ok(all
        .into_iter()
        .filter(|c| found.contains(&c.name))
        .collect())
}

pub fn plan(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o: Opts = script::parse("killsnoop", args)?;
    let signals = o.signal.as_deref().map(signal_list).transpose()?;
    let calls = calls(kernel)?;
    let width = pid_width();
    let sender = Predicate::tool().and_if(o.pid, "pid == {}");
    let mut s = String::from(
        "// killsnoop: signals sent by kill() and its relatives; the target and signal are\n\
         // kept when the call starts and printed with the result when it returns.\n",
    );
    for call in &calls {
        let mut cond = Predicate::new();
        if let Some(t) = o.tpid {
            cond = cond.and(call.target.replace("{}", &t.to_string()));
        }
        if let Some(list) = &signals {
            cond = cond.and(script::any_of("$sig", list));
        }
        s.push_str(&format!(
            "tracepoint:syscalls:sys_enter_{}{}\n{{\n  {}\n",
            call.name,
            sender.slashes(),
            call.setup
        ));
        let indent = if cond.expr() == "1" {
            "  "
        } else {
            s.push_str(&format!("  if ({}) {{\n", cond.expr()));
            "    "
        };
        s.push_str(&format!(
            "{indent}@tpid[tid] = $tpid;\n{indent}@sig[tid] = $sig;\n"
        ));
        if indent.len() > 2 {
            s.push_str("  }\n");
        }
        s.push_str("}\n\n");
    }
    let names: Vec<&str> = calls.iter().map(|c| c.name).collect();
    let format = format!("%-9s %-{width}d %-16s %-4d %-{width}d %d\\n");
    s.push_str(&format!(
        "{}\n/has_key(@tpid, tid)/\n{{\n  $ret = (int64)args->ret;\n",
        script::syscall_probes(&names, "exit")
    ));
    let print = format!(
        "printf(\"{format}\", strftime(\"%H:%M:%S\", nsecs), pid, comm, @sig[tid], @tpid[tid], $ret);"
    );
    if o.failed {
        s.push_str(&format!("  if ($ret < 0) {{\n    {print}\n  }}\n"));
    } else {
        s.push_str(&format!("  {print}\n"));
    }
    s.push_str(
        "  delete(@tpid, tid);\n  delete(@sig, tid);\n}\n\nEND { clear(@tpid); clear(@sig); }\n",
    );
    let header = format!(
        "{:<9} {:<width$} {:<16} {:<4} {:<width$} {}\n",
        "TIME", "PID", "COMM", "SIG", "TPID", "RESULT"
    );
    let event = EventSpec::new(
        format.replace("\\n", "\n"),
        &["time", "pid", "comm", "sig", "tpid", "result"],
    );
    Ok(Plan::new(s, &o.common).header(header).event(event))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn signals_by_number_and_name() {
        assert_eq!(signal_number("9"), Some(9));
        assert_eq!(signal_number("TERM"), Some(15));
        assert_eq!(signal_number("sigkill"), Some(9));
        assert_eq!(signal_number("SIGNOPE"), None);
        assert_eq!(signal_number("65"), None);
        assert_eq!(signal_list("1, 9,USR1").unwrap(), vec![1, 9, 10]);
        assert!(signal_list("1,x").is_err());
        assert!(signal_list(",").is_err());
    }

    /// A kernel with the tracepoints `events` (`category:name`), without fields: enough to
    /// plan a tool, not to compile its script.
    pub(crate) fn kernel_with(events: &[&str]) -> scry_sema::kernel::StaticKernel {
        let formats = events
            .iter()
            .map(|e| {
                let (category, name) = e.split_once(':').expect("category:name");
                scry_sema::TracepointFormat {
                    category: category.into(),
                    name: name.into(),
                    fields: Vec::new(),
                    syscall_nr: None,
                }
            })
            .collect();
        scry_sema::kernel::StaticKernel {
            formats,
            ..Default::default()
        }
    }

    pub(crate) fn os_args(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn script_filters_sender_target_and_signal() {
        let kernel = kernel_with(&["syscalls:sys_enter_kill", "syscalls:sys_enter_tgkill"]);
        let args = os_args(&["-p", "42", "-T", "7", "-s", "9,15", "-x"]);
        let plan = plan(&args, &kernel).unwrap();
        let s = &plan.script;
        assert!(s.contains("sys_enter_kill /pid != "), "{s}");
        assert!(s.contains("&& pid == 42/"), "{s}");
        assert!(
            s.contains("if ($tpid == 7 && ($sig == 9 || $sig == 15))"),
            "{s}"
        );
        assert!(s.contains("($tpid == 7 || (int32)args->tgid == 7)"), "{s}");
        assert!(s.contains("if ($ret < 0)"), "{s}");
        assert!(!s.contains("tkill"), "{s}");
        assert!(plan.header.starts_with("TIME      PID"), "{}", plan.header);
        assert!(plan.header.ends_with(" RESULT\n"));
    }

    #[test]
    fn no_signal_syscalls_is_unsupported() {
        let kernel = kernel_with(&["syscalls:sys_enter_read"]);
        assert!(matches!(plan(&[], &kernel), Err(ToolError::Unsupported(_))));
    }
}
