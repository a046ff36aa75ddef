//! stackcount: count the stack traces that led to events (user functions, tracepoints, USDT
//! probes), with BCC's options and output.

use std::ffi::OsString;

use clap::Parser;
use scry_output::MapDump;
use scry_sema::KernelInfo;

use crate::script::{self, Common, Predicate};
use crate::spec::ProbeSpec;
use crate::stacks;
use crate::tools::funccount::schedule;
use crate::{Plan, ToolError};

/// Count events and their stack traces.
#[derive(Debug, Parser)]
#[command(
    name = "stackcount",
    after_help = "Examples:
  stackcount t:sched:sched_switch     # count kernel and user stacks of context switches
  stackcount -d t:sched:sched_switch  # include a user/kernel stack delimiter
  stackcount -s t:sched:sched_switch  # show symbol offsets
  stackcount -sv t:sched:sched_switch # show offsets and raw addresses (verbose)
  stackcount 't:block:block_rq_*'     # count stacks of events matching block_rq_*
  stackcount -r 't:block:block_rq_(issue|complete)'  # the same with a regular expression
  stackcount -Ti 5 t:sched:sched_wakeup  # output every 5 seconds, with timestamps
  stackcount -p 185 c:malloc          # count stacks for malloc in PID 185
  stackcount -P t:sched:sched_fork    # display stacks separately for each process
  stackcount -p 185 u:node:*          # count stacks for all USDT probes in node
  stackcount -K t:sched:sched_switch  # kernel stacks only
  stackcount -U t:sched:sched_switch  # user stacks only
  stackcount -f -D 10 c:malloc        # folded output (for flame graphs) for 10 seconds
  stackcount --json c:malloc          # one JSON object per stack

Patterns as funccount's: t:CATEGORY:EVENT, [p:]LIBRARY:FUNCTION, u:LIBRARY:PROBE. Kernel
functions need kprobes, which this kernel does not have. User stacks are symbolized when
printed, so processes that have exited by then show addresses ([unknown])."
)]
struct Opts {
    /// Trace this PID only.
    #[arg(short = 'p', long)]
    pid: Option<u32>,
    /// Trace this CPU only.
    #[arg(short = 'c', long)]
    cpu: Option<u32>,
    /// Summary interval, in seconds.
    #[arg(short = 'i', long)]
    interval: Option<u64>,
    /// Total duration of the trace, in seconds.
    #[arg(short = 'D', long)]
    duration: Option<u64>,
    /// Include a timestamp on output.
    #[arg(short = 'T', long)]
    timestamp: bool,
    /// Use regular expressions (matched from the start of the name); default is * wildcards.
    #[arg(short = 'r', long)]
    regexp: bool,
    /// Show address offsets.
    #[arg(short = 's', long)]
    offset: bool,
    /// Display stacks separately for each process.
    #[arg(short = 'P', long)]
    perpid: bool,
    /// Kernel stacks only.
    #[arg(
        short = 'K',
        long = "kernel-stacks-only",
        conflicts_with = "user_stacks_only"
    )]
    kernel_stacks_only: bool,
    /// User stacks only.
    #[arg(short = 'U', long = "user-stacks-only")]
    user_stacks_only: bool,
    /// Show raw addresses.
    #[arg(short = 'v', long)]
    verbose: bool,
    /// Insert a delimiter between kernel and user stacks.
    #[arg(short = 'd', long)]
    delimited: bool,
    /// Output folded format (one line per stack, for flame graphs).
    #[arg(short = 'f', long)]
    folded: bool,
    /// Print the tool's script before starting (as --script).
    #[arg(long)]
    debug: bool,
    /// Search expression for events.
    pattern: String,
    #[command(flatten)]
    common: Common,
}

/// How stacks are printed.
#[derive(Debug, Clone, Copy)]
struct Style {
    kernel: bool,
    user: bool,
    /// Keyed by process (`-P`, or `-p`).
    perpid: bool,
    /// Print `comm [pid]` (with `-P` but not `-p`).
    comm: bool,
    delimited: bool,
    folded: bool,
    offset: bool,
    verbose: bool,
    /// A blank line before each report (BCC's, except in folded output or with -T).
    blank: bool,
}

pub fn plan(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o: Opts = script::parse("stackcount", args)?;
    let spec = ProbeSpec::parse(&o.pattern).map_err(ToolError::BadArgument)?;
    if spec.is_return() {
        return Err(ToolError::BadArgument(
            "stackcount counts entries: use p:, t: or u: (or no type)".into(),
        ));
    }
    let expansion = spec.expand("stackcount", kernel, o.pid, o.regexp)?;
    let (interval, count) = schedule(o.interval, o.duration)?;
    let both = !o.kernel_stacks_only && !o.user_stacks_only;
    let style = Style {
        kernel: both || o.kernel_stacks_only,
        user: both || o.user_stacks_only,
        perpid: o.perpid || o.pid.is_some(),
        comm: o.perpid && o.pid.is_none(),
        delimited: o.delimited && both,
        folded: o.folded,
        offset: o.offset,
        verbose: o.verbose,
        blank: !o.folded && !o.timestamp,
    };
    let mut key = Vec::new();
    if style.kernel {
        key.push("kstack(perf)");
    }
    if style.user {
        key.push("ustack(perf)");
    }
    if style.perpid {
        key.extend(["comm", "pid"]);
    }
    let filter = Predicate::tool()
        .and_if(o.pid, "pid == {}")
        .and_if(o.cpu, "cpu == {}");
    let mut s = format!(
        "// stackcount: stacks of {} ({} matched).\n{}{}\n{{\n  @stacks[{}] = count();\n}}\n\n",
        o.pattern,
        expansion.matched.len(),
        expansion.attach_list(),
        filter.slashes(),
        key.join(", ")
    );
    s.push_str(&script::report_every(
        interval,
        count,
        o.timestamp,
        "print(@stacks);\n  clear(@stacks);",
    ));
    let mut plan = Plan::new(s, &o.common).maps(Box::new(move |dump: &MapDump, json: bool| {
        render(dump, json, style)
    }));
    if !o.folded {
        plan = plan
            .header(format!(
                "Tracing {} functions for \"{}\"... Hit Ctrl-C to end.\n",
                expansion.matched.len(),
                o.pattern
            ))
            .footer("Detaching...\n");
    }
    plan.print_script |= o.debug;
    Ok(plan)
}

fn render(dump: &MapDump, json: bool, style: Style) -> String {
    let stacks = stacks::counted(dump, style.kernel, style.user, style.offset);
    let mut text = String::new();
    if style.blank && !json {
        text.push('\n');
    }
    for c in stacks {
        let names = |f: &[(u64, String)]| f.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>();
        if json {
            let mut object = serde_json::json!({
                "kernel_stack": names(&c.kernel),
                "user_stack": names(&c.user),
                "count": c.count,
            });
            if style.perpid {
                object["comm"] = serde_json::json!(c.comm);
                object["pid"] = serde_json::json!(c.pid);
            }
            text.push_str(&format!("{object}\n"));
        } else if style.folded {
            text.push_str(&c.folded(style.perpid, style.delimited, str::to_string));
        } else {
            let line = |(addr, name): &(u64, String)| {
                if style.verbose {
                    format!("  {addr:<16x} {name}\n")
                } else {
                    format!("  {name}\n")
                }
            };
            c.kernel.iter().for_each(|f| text.push_str(&line(f)));
            if style.delimited {
                text.push_str("    --\n");
            }
            c.user.iter().for_each(|f| text.push_str(&line(f)));
            if style.comm {
                text.push_str(&format!("    {} [{}]\n", c.comm, c.pid));
            }
            text.push_str(&format!("    {}\n\n", c.count));
        }
    }
    text
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use scry_output::{AggValue, MapEntry, MapKind, Stack, StackMode, Value};
    use scry_sema::kernel::StaticKernel;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    pub(crate) fn stack(frames: &[&str]) -> Value {
        Value::Stack(Stack {
            mode: StackMode::Perf,
            frames: frames.iter().map(|f| f.to_string()).collect(),
        })
    }

    fn style() -> Style {
        Style {
            kernel: true,
            user: true,
            perpid: true,
            comm: true,
            delimited: false,
            folded: false,
            offset: false,
            verbose: false,
            blank: true,
        }
    }

    pub(crate) fn dump() -> MapDump {
        MapDump {
            name: "@stacks".into(),
            kind: MapKind::Count,
            entries: vec![MapEntry {
                key: vec![
                    stack(&[
                        "ffffffff814b2b2d perf_syscall_enter+397",
                        "ffffffff821ef81a do_syscall_64+506",
                    ]),
                    stack(&[
                        "7efd491ea503 clock_nanosleep+35 (/usr/lib/libc.so.6)",
                        "55d975c81169 ",
                    ]),
                    Value::Str("sleep".into()),
                    Value::Int(77),
                ],
                value: AggValue::UInt(3),
            }],
        }
    }

    #[test]
    fn multi_line_and_folded_output() {
        assert_eq!(
            render(&dump(), false, style()),
            "\n  perf_syscall_enter\n  do_syscall_64\n  clock_nanosleep\n  [unknown]\n    sleep [77]\n    3\n\n"
        );
        let folded = Style {
            folded: true,
            delimited: true,
            blank: false,
            ..style()
        };
        assert_eq!(
            render(&dump(), false, folded),
            "sleep;[unknown];clock_nanosleep;-;do_syscall_64;perf_syscall_enter 3\n"
        );
        let verbose = Style {
            verbose: true,
            comm: false,
            delimited: true,
            ..style()
        };
        let text = render(&dump(), false, verbose);
        assert!(
            text.contains(
                "  ffffffff821ef81a do_syscall_64\n    --\n  7efd491ea503     clock_nanosleep\n"
            ),
            "{text}"
        );
        let json = render(&dump(), true, style());
        assert!(
            json.contains("\"user_stack\":[\"clock_nanosleep\",\"[unknown]\"]"),
            "{json}"
        );
    }

    #[test]
    fn plans_keys_by_the_chosen_stacks() {
        let k = StaticKernel::sample();
        let p = plan(&args(&["-K", "-P", "t:syscalls:sys_enter_read"]), &k)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            p.script
                .contains("@stacks[kstack(perf), comm, pid] = count();"),
            "{}",
            p.script
        );
        assert!(
            p.header
                .contains("Tracing 1 functions for \"t:syscalls:sys_enter_read\"")
        );
        assert!(plan(&args(&["-K", "-U", "t:syscalls:sys_enter_read"]), &k).is_err());
        assert!(matches!(
            plan(&args(&["vfs_read"]), &k),
            Err(ToolError::Unsupported(_))
        ));
    }
}
