//! profile: a CPU profiler sampling stack traces at a timed interval, with BCC's options.

use std::ffi::OsString;

use clap::Parser;
use scry_output::{AggValue, MapDump, Value};
use scry_sema::KernelInfo;

use crate::printer::as_u64;
use crate::script::{self, Common, Predicate};
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

/// A frame as BCC prints it: the symbol without its offset, `[unknown]` when unresolved.
pub fn frame_name(frame: &str) -> String {
    let frame = frame.trim();
    if frame.is_empty() || frame.starts_with("0x") {
        return "[unknown]".into();
    }
    match frame.rsplit_once('+') {
        Some((name, off)) if !name.is_empty() && off.chars().all(|c| c.is_ascii_alphanumeric()) => {
            name.to_string()
        }
        _ => frame.to_string(),
    }
}

fn frames(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Stack(stack)) => stack.frames.iter().map(|f| frame_name(f)).collect(),
        _ => Vec::new(),
    }
}

/// Options of the stack printer shared with stackcount.
#[derive(Debug, Clone, Copy)]
pub struct StackStyle {
    pub kernel: bool,
    pub user: bool,
    pub delimited: bool,
    pub annotations: bool,
    pub folded: bool,
}

/// One stack of the map and how often it was seen.
struct Sample {
    kernel: Vec<String>,
    user: Vec<String>,
    comm: String,
    pid: u64,
    count: u64,
}

/// Renders a map keyed by `[kstack?, ustack?, comm, pid]` of counts, as BCC's profile does.
pub fn render_stacks(dump: &MapDump, json: bool, style: StackStyle) -> String {
    let mut entries: Vec<Sample> = dump
        .entries
        .iter()
        .map(|e| {
            let mut key = e.key.iter();
            let kernel = if style.kernel {
                frames(key.next())
            } else {
                Vec::new()
            };
            let user = if style.user {
                frames(key.next())
            } else {
                Vec::new()
            };
            let comm = match key.next() {
                Some(Value::Str(s)) => s.clone(),
                _ => String::new(),
            };
            let pid = key.next().map(as_u64).unwrap_or(0);
            let count = match &e.value {
                AggValue::Int(i) => *i as u64,
                AggValue::UInt(u) => *u,
                _ => 0,
            };
            Sample {
                kernel,
                user,
                comm,
                pid,
                count,
            }
        })
        .collect();
    entries.sort_by_key(|e| e.count);
    let mut text = String::new();
    let annotate = |f: &String| {
        if style.annotations {
            format!("{f}_[k]")
        } else {
            f.clone()
        }
    };
    for Sample {
        kernel,
        user,
        comm,
        pid,
        count,
    } in entries
    {
        if json {
            let line = serde_json::json!({
                "comm": comm, "pid": pid, "count": count,
                "kernel_stack": kernel, "user_stack": user,
            });
            text.push_str(&format!("{line}\n"));
        } else if style.folded {
            let mut parts = vec![comm.replace(';', "_")];
            parts.extend(user.iter().rev().cloned());
            if style.delimited && style.kernel && style.user {
                parts.push("-".into());
            }
            parts.extend(kernel.iter().rev().map(annotate));
            text.push_str(&format!("{} {count}\n", parts.join(";")));
        } else {
            for f in &kernel {
                text.push_str(&format!("    {}\n", annotate(f)));
            }
            if style.delimited && style.kernel && style.user {
                text.push_str("    --\n");
            }
            for f in &user {
                text.push_str(&format!("    {f}\n"));
            }
            text.push_str(&format!(
                "    {:<16} {comm} ({pid})\n        {count}\n\n",
                "-"
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
        key.push("kstack");
    }
    if user {
        key.push("ustack");
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

    #[test]
    fn frames_lose_offsets() {
        assert_eq!(frame_name("do_syscall_64+130"), "do_syscall_64");
        assert_eq!(frame_name("  main+0x1f"), "main");
        assert_eq!(frame_name("0x7f00aa"), "[unknown]");
        assert_eq!(frame_name("std::rt::lang_start"), "std::rt::lang_start");
    }
}
