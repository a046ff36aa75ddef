//! funccount: count calls of user functions, tracepoints and USDT probes matching a
//! pattern, with BCC's options and output.

use std::ffi::OsString;

use clap::Parser;
use scry_output::{AggValue, MapDump};
use scry_sema::KernelInfo;

use crate::printer::json_value;
use crate::script::{self, Common, Predicate};
use crate::spec::{self, ProbeSpec};
use crate::{Plan, ToolError};

/// Count functions, tracepoints and USDT probes.
#[derive(Debug, Parser)]
#[command(
    name = "funccount",
    after_help = "Examples:
  funccount 't:syscalls:sys_enter_*'   # count every syscall by its tracepoint
  funccount -r 't:sched:sched_(switch|wakeup)'  # the same with a regular expression
  funccount -Ti 5 't:block:*'          # output every 5 seconds, with timestamps
  funccount -d 10 't:syscalls:sys_enter_read*'  # trace for 10 seconds only
  funccount -p 185 't:syscalls:sys_enter_*'     # count syscalls of PID 185 only
  funccount c:malloc                   # count all malloc() calls in libc
  funccount 'c:str*'                   # count libc functions starting with \"str\"
  funccount ./test:read*               # count \"read*\" calls in the ./test binary
  funccount -p 185 u:node:gc*          # count all GC USDT probes in node, PID 185
  funccount -c 1 't:irq:*'             # count IRQ tracepoints on CPU 1 only
  funccount --json c:malloc            # one JSON object per function

Patterns: t:CATEGORY:EVENT (tracepoints), [p:]LIBRARY:FUNCTION (uprobes; LIBRARY is a path,
a program in PATH or a library name such as c for libc), u:LIBRARY:PROBE (USDT), with *
wildcards (or a regular expression with -r). Kernel functions (vfs_*, p::FUNC) need kprobes,
which this kernel does not have: funccount says so and suggests tracepoints instead."
)]
struct Opts {
    /// Trace this PID only.
    #[arg(short = 'p', long)]
    pid: Option<u32>,
    /// Summary interval, in seconds.
    #[arg(short = 'i', long)]
    interval: Option<u64>,
    /// Total duration of the trace, in seconds.
    #[arg(short = 'd', long)]
    duration: Option<u64>,
    /// Include a timestamp on output.
    #[arg(short = 'T', long)]
    timestamp: bool,
    /// Use regular expressions (matched from the start of the name); default is * wildcards.
    #[arg(short = 'r', long)]
    regexp: bool,
    /// Print the tool's script before starting (as --script).
    #[arg(short = 'D', long)]
    debug: bool,
    /// Trace this CPU only.
    #[arg(short = 'c', long)]
    cpu: Option<u32>,
    /// Search expression for events.
    pattern: String,
    #[command(flatten)]
    common: Common,
}

/// BCC's reporting schedule: every `interval` seconds (or once after `duration`), stopping
/// after `duration`. Returns (interval, number of reports).
pub fn schedule(
    interval: Option<u64>,
    duration: Option<u64>,
) -> Result<(Option<u64>, Option<u64>), ToolError> {
    if interval == Some(0) || duration == Some(0) {
        return Err(ToolError::BadArgument(
            "intervals and durations are whole seconds, at least 1".into(),
        ));
    }
    Ok(match (interval, duration) {
        (Some(i), Some(d)) => (Some(i), Some(d.div_ceil(i))),
        (None, Some(d)) => (Some(d), Some(1)),
        (i, None) => (i, None),
    })
}

pub fn plan(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o: Opts = script::parse("funccount", args)?;
    let spec = ProbeSpec::parse(&o.pattern).map_err(ToolError::BadArgument)?;
    if spec.is_return() {
        return Err(ToolError::BadArgument(
            "funccount counts entries: use p:, t: or u: (or no type)".into(),
        ));
    }
    let expansion = spec.expand("funccount", kernel, o.pid, o.regexp)?;
    let (interval, count) = schedule(o.interval, o.duration)?;
    let filter = Predicate::tool()
        .and_if(o.pid, "pid == {}")
        .and_if(o.cpu, "cpu == {}");
    let mut s = format!(
        "// funccount: calls of {} ({} matched).\n{}{}\n{{\n  @counts[probe] = count();\n}}\n\n",
        o.pattern,
        expansion.matched.len(),
        expansion.attach_list(),
        filter.slashes()
    );
    s.push_str(&script::report_every(
        interval,
        count,
        o.timestamp,
        "print(@counts);\n  clear(@counts);",
    ));
    let blank = !o.timestamp;
    let render = Box::new(move |dump: &MapDump, json: bool| render(dump, json, blank));
    let mut plan = Plan::new(s, &o.common)
        .header(format!(
            "Tracing {} functions for \"{}\"... Hit Ctrl-C to end.\n",
            expansion.matched.len(),
            o.pattern
        ))
        .maps(render)
        .footer("Detaching...\n");
    plan.print_script |= o.debug;
    Ok(plan)
}

/// The counts by function, as BCC prints them (ascending), or one JSON object each.
fn render(dump: &MapDump, json: bool, blank: bool) -> String {
    let mut rows: Vec<(u64, String)> = dump
        .entries
        .iter()
        .filter_map(|e| {
            let count = match e.value {
                AggValue::Int(i) => i.max(0) as u64,
                AggValue::UInt(u) => u,
                _ => return None,
            };
            let name = match e.key.first() {
                Some(scry_output::Value::Sym(s) | scry_output::Value::Str(s)) => {
                    spec::display_name(s)
                }
                Some(other) => json_value(other).to_string(),
                None => String::new(),
            };
            (count > 0).then_some((count, name))
        })
        .collect();
    rows.sort();
    let mut text = String::new();
    if json {
        for (count, name) in rows {
            text.push_str(&format!(
                "{}\n",
                serde_json::json!({ "func": name, "count": count })
            ));
        }
        return text;
    }
    if blank {
        text.push('\n');
    }
    text.push_str(&format!("{:<36} {:>8}\n", "FUNC", "COUNT"));
    for (count, name) in rows {
        text.push_str(&format!("{name:<36} {count:>8}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use scry_output::{MapKind, Value};
    use scry_sema::kernel::StaticKernel;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn tracepoint_wildcards_count_by_probe() {
        let k = StaticKernel::sample();
        let plan = plan(&args(&["-p", "42", "t:syscalls:sys_enter_*"]), &k)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(plan.script.contains("tracepoint:syscalls:sys_enter_* /"));
        assert!(plan.script.contains("@counts[probe] = count();"));
        assert!(plan.script.contains("pid == 42"));
        assert!(plan.header.starts_with("Tracing "));
        assert!(
            plan.header
                .ends_with(" functions for \"t:syscalls:sys_enter_*\"... Hit Ctrl-C to end.\n")
        );
        assert_eq!(plan.footer, "Detaching...\n");
    }

    #[test]
    fn kernel_functions_are_refused_with_advice() {
        let k = StaticKernel::sample();
        let Err(ToolError::Unsupported(msg)) = plan(&args(&["vfs_read"]), &k) else {
            panic!("vfs_read accepted");
        };
        assert!(msg.contains("t:syscalls:sys_enter_read"), "{msg}");
    }

    #[test]
    fn schedules_follow_bcc() {
        assert_eq!(schedule(None, None).unwrap(), (None, None));
        assert_eq!(schedule(None, Some(10)).unwrap(), (Some(10), Some(1)));
        assert_eq!(schedule(Some(3), Some(10)).unwrap(), (Some(3), Some(4)));
        assert!(schedule(Some(0), None).is_err());
    }

    #[test]
    fn table_is_sorted_ascending() {
        let dump = MapDump {
            name: "@counts".into(),
            kind: MapKind::Count,
            entries: vec![
                scry_output::MapEntry {
                    key: vec![Value::Sym("tracepoint:syscalls:sys_enter_read".into())],
                    value: AggValue::UInt(30),
                },
                scry_output::MapEntry {
                    key: vec![Value::Sym("uprobe:/bin/x:work".into())],
                    value: AggValue::UInt(7),
                },
            ],
        };
        assert_eq!(
            render(&dump, false, true),
            "\nFUNC                                    COUNT\n\
             work                                        7\n\
             syscalls:sys_enter_read                    30\n"
        );
        assert_eq!(
            render(&dump, true, true),
            "{\"count\":7,\"func\":\"work\"}\n{\"count\":30,\"func\":\"syscalls:sys_enter_read\"}\n"
        );
    }
}
