//! profile: a CPU profiler sampling stack traces at a timed interval, with BCC's options.

use std::ffi::OsString;

use clap::Parser;
use scry_output::MapDump;
use scry_sema::KernelInfo;

use crate::script::{self, Common, Predicate};
use crate::stacks;
use crate::{Plan, ToolError};

/// Profile CPU usage by sampling stack traces at a timed interval.
#[derive(Debug, Parser)]
#[command(
    name = "profile",
    after_help = "Examples:
  profile             # profile stack traces at 49 Hertz until Ctrl-C
  profile -F 99       # profile stack traces at 99 Hertz
  profile -c 1000000  # profile stack traces every 1 in a million events
  profile 5           # profile at 49 Hertz for 5 seconds only
  profile -f 5        # output in folded format for flame graphs
  profile -p 185      # only profile process with PID 185
  profile -L 185      # only profile thread with TID 185
  profile -U          # only show user space stacks (no kernel)
  profile -K          # only show kernel space stacks (no user)
  profile --json 5    # one JSON object per stack

Hooks: a software cpu-clock perf event on every CPU. Stacks are symbolized when printed,
from /proc/kallsyms and the processes' ELF symbol tables."
)]
struct Opts {
    /// Profile these process IDs only (comma-separated).
    #[arg(short = 'p', long)]
    pid: Option<String>,
    /// Profile these thread IDs only (comma-separated).
    #[arg(short = 'L', long)]
    tid: Option<String>,
    /// Show stacks from user space only (no kernel space stacks).
    #[arg(
        short = 'U',
        long = "user-stacks-only",
        conflicts_with = "kernel_stacks_only"
    )]
    user_stacks_only: bool,
    /// Show stacks from kernel space only (no user space stacks).
    #[arg(short = 'K', long = "kernel-stacks-only")]
    kernel_stacks_only: bool,
    /// Sample frequency, in Hertz.
    #[arg(short = 'F', long, conflicts_with = "count")]
    frequency: Option<u64>,
    /// Sample period, in cpu-clock nanoseconds.
    #[arg(short = 'c', long)]
    count: Option<u64>,
    /// Insert a delimiter between kernel and user stacks.
    #[arg(short = 'd', long)]
    delimited: bool,
    /// Add _[k] annotations to kernel frames.
    #[arg(short = 'a', long)]
    annotations: bool,
    /// Include CPU idle stacks.
    #[arg(short = 'I', long = "include-idle")]
    include_idle: bool,
    /// Output folded format, one line per stack (for flame graphs).
    #[arg(short = 'f', long)]
    folded: bool,
    /// Sample this CPU only.
    #[arg(short = 'C', long)]
    cpu: Option<u32>,
    /// Profile processes of this cgroup (v2 directory) only.
    #[arg(long)]
    cgroup: Option<String>,
    /// Duration of the trace, in seconds.
    duration: Option<u64>,
    #[command(flatten)]
    common: Common,
}

/// Options of profile's stack printer.
#[derive(Debug, Clone, Copy)]
pub struct StackStyle {
    pub kernel: bool,
    pub user: bool,
    pub delimited: bool,
    pub annotations: bool,
    pub folded: bool,
}

/// Renders a map keyed by `[kstack(perf)?, ustack(perf)?, comm, pid]` of counts, as BCC's
/// profile does.
pub fn render_stacks(dump: &MapDump, json: bool, style: StackStyle) -> String {
    let annotate = |f: &str| {
        if style.annotations {
            format!("{f}_[k]")
        } else {
            f.to_string()
        }
    };
    let delimited = style.delimited && style.kernel && style.user;
    let mut text = String::new();
    for c in stacks::counted(dump, style.kernel, style.user, false) {
        let names = |f: &[stacks::Frame]| f.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>();
        if json {
            let line = serde_json::json!({
                "comm": c.comm, "pid": c.pid, "count": c.count,
                "kernel_stack": names(&c.kernel), "user_stack": names(&c.user),
            });
            text.push_str(&format!("{line}\n"));
        } else if style.folded {
            text.push_str(&c.folded(true, delimited, annotate));
        } else {
            for (_, f) in &c.kernel {
                text.push_str(&format!("    {}\n", annotate(f)));
            }
            if delimited {
                text.push_str("    --\n");
            }
            for (_, f) in &c.user {
                text.push_str(&format!("    {f}\n"));
            }
            text.push_str(&format!(
                "    {:<16} {} ({})\n        {}\n\n",
                "-", c.comm, c.pid, c.count
            ));
        }
    }
    text
}

pub fn plan(args: &[OsString], _kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o: Opts = script::parse("profile", args)?;
    let mut filter = Predicate::tool();
    if !o.include_idle {
        filter = filter.and("pid != 0");
    }
    if let Some(pids) = &o.pid {
        filter = filter.and(script::any_of("pid", &script::number_list(pids, "PID")?));
    }
    if let Some(tids) = &o.tid {
        filter = filter.and(script::any_of("tid", &script::number_list(tids, "TID")?));
    }
    filter = filter.and_if(o.cpu, "cpu == {}");
    if let Some(path) = &o.cgroup {
        filter = filter.and(format!("cgroup == {}", script::cgroup_id(path)?));
    }
    let hz = o.frequency.unwrap_or(49);
    if hz == 0 || o.count == Some(0) {
        return Err(ToolError::BadArgument(
            "the sample rate must be positive".into(),
        ));
    }
    let probe = match o.count {
        Some(c) => format!("software:cpu-clock:{c}"),
        None => format!("profile:hz:{hz}"),
    };
    let kernel = !o.user_stacks_only;
    let user = !o.kernel_stacks_only;
    let mut key = Vec::new();
    if kernel {
        key.push("kstack(perf)");
    }
    if user {
        key.push("ustack(perf)");
    }
    key.extend(["comm", "pid"]);
    let mut s = format!(
        "// profile: stack traces sampled on every CPU.\n{probe}{}\n{{\n  @stacks[{}] = count();\n}}\n\n",
        filter.slashes(),
        key.join(", ")
    );
    if let Some(d) = o.duration {
        s.push_str(&format!("interval:s:{d}\n{{\n  exit();\n}}\n\n"));
    }
    s.push_str("END\n{\n  print(@stacks);\n  clear(@stacks);\n}\n");
    let what = match (kernel, user) {
        (true, true) => "user + kernel",
        (true, false) => "kernel",
        _ => "user",
    };
    let threads = match (&o.pid, &o.tid) {
        (Some(p), _) => format!("PID {p}"),
        (_, Some(t)) => format!("TID {t}"),
        _ => "all threads".into(),
    };
    let rate = match o.count {
        Some(c) => format!("every {c} events"),
        None => format!("at {hz} Hertz"),
    };
    let cpu = o.cpu.map(|c| format!(" on CPU#{c}")).unwrap_or_default();
    let end = match o.duration {
        Some(d) => format!(" for {d} secs."),
        None => "... Hit Ctrl-C to end.".into(),
    };
    let header = if o.folded {
        String::new()
    } else {
        format!("Sampling {rate} of {threads} by {what} stack{cpu}{end}\n")
    };
    let style = StackStyle {
        kernel,
        user,
        delimited: o.delimited,
        annotations: o.annotations,
        folded: o.folded,
    };
    Ok(Plan::new(s, &o.common)
        .header(header)
        .maps(Box::new(move |dump, json| render_stacks(dump, json, style))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::stackcount::tests::dump;

    fn style(folded: bool) -> StackStyle {
        StackStyle {
            kernel: true,
            user: true,
            delimited: true,
            annotations: folded,
            folded,
        }
    }

    #[test]
    fn stacks_print_as_bcc_profile() {
        assert_eq!(
            render_stacks(&dump(), false, style(false)),
            "    perf_syscall_enter\n    do_syscall_64\n    --\n    clock_nanosleep\n    [unknown]\n    -                sleep (77)\n        3\n\n"
        );
        assert_eq!(
            render_stacks(&dump(), false, style(true)),
            "sleep;[unknown];clock_nanosleep;-;do_syscall_64_[k];perf_syscall_enter_[k] 3\n"
        );
        let json: serde_json::Value =
            serde_json::from_str(render_stacks(&dump(), true, style(false)).trim()).unwrap();
        assert_eq!(json["kernel_stack"][0], "perf_syscall_enter");
        assert_eq!(json["count"], 3);
    }
}
