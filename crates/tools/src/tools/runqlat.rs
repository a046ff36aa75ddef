//! runqlat: run-queue (scheduler) latency as a log2 histogram, with BCC's options.

use std::ffi::OsString;

use clap::Parser;
use scry_output::Value;
use scry_sema::KernelInfo;

use crate::hist;
use crate::script::{self, Common, Predicate};
use crate::{Plan, ToolError};

/// Summarize run queue (scheduler) latency as a histogram.
#[derive(Debug, Parser)]
#[command(
    name = "runqlat",
    after_help = "Examples:
  runqlat            # summarize run queue latency as a histogram
  runqlat 1 10       # print 1 second summaries, 10 times
  runqlat -mT 1      # 1s summaries, milliseconds, and timestamps
  runqlat -P         # show each PID separately
  runqlat -p 185     # trace PID 185 only
  runqlat -L         # show each TID separately
  runqlat --pidnss   # show each PID namespace separately
  runqlat --json 5   # one JSON histogram every 5 seconds

Hooks: BTF raw tracepoints sched_wakeup, sched_wakeup_new and sched_switch. A task is
enqueued when woken, or when switched out while still runnable ((prev_state & 0xff) == 0,
which counts preempted tasks too), and its latency is the time until it is switched in."
)]
struct Opts {
    /// Include a timestamp on output.
    #[arg(short = 'T', long)]
    timestamp: bool,
    /// Millisecond histogram.
    #[arg(short = 'm', long)]
    milliseconds: bool,
    /// Print a histogram per process ID.
    #[arg(short = 'P', long)]
    pids: bool,
    /// Print a histogram per PID namespace.
    #[arg(long)]
    pidnss: bool,
    /// Print a histogram per thread ID.
    #[arg(short = 'L', long)]
    tids: bool,
    /// Trace this PID only.
    #[arg(short = 'p', long)]
    pid: Option<u32>,
    /// Trace processes of this cgroup (v2 directory) only.
    #[arg(short = 'c', long)]
    cgroup: Option<String>,
    /// Output interval, in seconds.
    interval: Option<u64>,
    /// Number of outputs.
    count: Option<u64>,
    #[command(flatten)]
    common: Common,
}

pub fn plan(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o: Opts = script::parse("runqlat", args)?;
    for tp in ["sched_wakeup", "sched_wakeup_new", "sched_switch"] {
        if !kernel.has_raw_tracepoint(tp) {
            return Err(ToolError::Unsupported(format!(
                "the scheduler tracepoint {tp} is missing on this kernel"
            )));
        }
    }
    if [o.pids, o.tids, o.pidnss].iter().filter(|b| **b).count() > 1 {
        return Err(ToolError::BadArgument(
            "-P, -L and --pidnss are exclusive".into(),
        ));
    }
    if o.count.is_some() && o.interval.is_none() {
        return Err(ToolError::BadArgument("a count needs an interval".into()));
    }
    let (unit, div) = if o.milliseconds {
        ("msecs", 1_000_000)
    } else {
        ("usecs", 1_000)
    };
    // Conditions on the task `$t` that is enqueued or switched in.
    let mut filter = Predicate::new().and("$t->pid != 0");
    filter = filter.and_if(o.pid, "$t->tgid == {}");
    if let Some(path) = &o.cgroup {
        filter = filter.and(format!(
            "$t->cgroups->dfl_cgrp->kn->id == {}",
            script::cgroup_id(path)?
        ));
    }
    let (key, key_names, label): (&str, &[&'static str], &str) = if o.pids {
        ("[$t->tgid, $t->comm]", &["pid", "comm"], "pid")
    } else if o.tids {
        ("[$t->pid]", &["tid"], "tid")
    } else if o.pidnss {
        (
            "[$t->nsproxy->pid_ns_for_children->ns.inum]",
            &["pidns"],
            "pidns",
        )
    } else {
        ("", &[], "")
    };
    let cond = filter.expr();
    let mut s = format!(
        "// runqlat: time from enqueue (wakeup, or preemption while runnable) to running.\n\
         rawtracepoint:sched_wakeup,\nrawtracepoint:sched_wakeup_new\n{{\n  $t = args->p;\n  \
         if ({cond}) {{\n    @qtime[$t->pid] = nsecs;\n  }}\n}}\n\n\
         rawtracepoint:sched_switch\n{{\n  $t = args->prev;\n  \
         if ((args->prev_state & 0xff) == 0 && {cond}) {{\n    @qtime[$t->pid] = nsecs;\n  }}\n  \
         $t = args->next;\n  if (has_key(@qtime, $t->pid)) {{\n    \
         @dist{key} = hist((nsecs - @qtime[$t->pid]) / {div});\n    \
         delete(@qtime, $t->pid);\n  }}\n}}\n\n"
    );
    s.push_str(&script::report_every(
        o.interval,
        o.count,
        o.timestamp,
        "print(@dist);\n  clear(@dist);",
    ));
    let label = label.to_string();
    let blank = !o.timestamp;
    let render = Box::new(move |dump: &scry_output::MapDump, json: bool| {
        let section = |key: &[Value]| match key {
            [pid, comm] => format!("{label} = {} {}", pid.to_text(), comm.to_text()),
            [k] => format!("{label} = {}", k.to_text()),
            _ => String::new(),
        };
        let body = hist::render_map(dump, json, unit, key_names, &section);
        if json || body.is_empty() || !blank {
            body
        } else {
            format!("\n{body}")
        }
    });
    Ok(Plan::new(s, &o.common)
        .header("Tracing run queue latency... Hit Ctrl-C to end.\n")
        .maps(render))
}
