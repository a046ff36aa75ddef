//! biolatency: block device I/O latency as a log2 histogram, with BCC's options.

use std::ffi::OsString;

use clap::Parser;
use scry_output::{AggValue, Value};
use scry_sema::KernelInfo;

use crate::hist;
use crate::script::{self, Common};
use crate::tools::block;
use crate::{Plan, ToolError};

/// Summarize block device I/O latency as a histogram.
#[derive(Debug, Parser)]
#[command(
    name = "biolatency",
    after_help = "Examples:
  biolatency                 # summarize block I/O latency as a histogram
  biolatency 1 10            # print 1 second summaries, 10 times
  biolatency -mT 1           # 1s summaries, milliseconds, and timestamps
  biolatency -Q              # include OS queued time in I/O time
  biolatency -D              # show each disk device separately
  biolatency -F              # show I/O flags separately
  biolatency -d vda          # trace vda only
  biolatency -e              # show extension summary (average, total, count)
  biolatency --json 5        # one JSON histogram every 5 seconds

Hooks: BTF raw tracepoints block_rq_insert (-Q), block_rq_issue and block_rq_complete; no
kprobes. Latency is from issue to the device (or from insertion into the OS queue with -Q)
to completion."
)]
struct Opts {
    /// Include a timestamp on output.
    #[arg(short = 'T', long)]
    timestamp: bool,
    /// Include OS queued time in I/O time.
    #[arg(short = 'Q', long)]
    queued: bool,
    /// Millisecond histogram.
    #[arg(short = 'm', long)]
    milliseconds: bool,
    /// Print a histogram per disk device.
    #[arg(short = 'D', long)]
    disks: bool,
    /// Print a histogram per set of I/O flags.
    #[arg(short = 'F', long)]
    flags: bool,
    /// Summarize average, total and count of the latency.
    #[arg(short = 'e', long)]
    extension: bool,
    /// Trace this disk only (e.g. vda).
    #[arg(short = 'd', long)]
    disk: Option<String>,
    /// JSON output (the same as --json).
    #[arg(short = 'j')]
    j: bool,
    /// Output interval, in seconds.
    interval: Option<u64>,
    /// Number of outputs.
    count: Option<u64>,
    #[command(flatten)]
    common: Common,
}

pub fn plan(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let mut o: Opts = script::parse("biolatency", args)?;
    o.common.json |= o.j;
    let mut hooks = vec!["block_rq_issue", "block_rq_complete"];
    if o.queued {
        hooks.push("block_rq_insert");
    }
    block::check(kernel, &hooks)?;
    if o.count.is_some() && o.interval.is_none() {
        return Err(ToolError::BadArgument("a count needs an interval".into()));
    }
    let (unit, div) = if o.milliseconds {
        ("msecs", 1_000_000)
    } else {
        ("usecs", 1_000)
    };
    let mut key_parts: Vec<&str> = Vec::new();
    let mut key_names: Vec<&'static str> = Vec::new();
    if o.disks {
        key_parts.push(block::DISK);
        key_names.push("disk");
    }
    if o.flags {
        key_parts.push("$rq->cmd_flags");
        key_names.push("flags");
    }
    let key = if key_parts.is_empty() {
        String::new()
    } else {
        format!("[{}]", key_parts.join(", "))
    };
    let mut s =
        String::from("// biolatency: block I/O latency, issue (or insertion) to completion.\n");
    if o.queued {
        s.push_str("rawtracepoint:block_rq_insert\n{\n  @start[args->rq] = nsecs;\n}\n\n");
        s.push_str(
            "rawtracepoint:block_rq_issue\n/!has_key(@start, args->rq)/\n{\n  \
             @start[args->rq] = nsecs;\n}\n\n",
        );
    } else {
        s.push_str("rawtracepoint:block_rq_issue\n{\n  @start[args->rq] = nsecs;\n}\n\n");
    }
    s.push_str(
        "rawtracepoint:block_rq_complete\n/has_key(@start, args->rq)/\n{\n  $rq = args->rq;\n",
    );
    let mut record =
        format!("  $lat = (nsecs - @start[$rq]) / {div};\n  @dist{key} = hist($lat);\n");
    if o.extension {
        record.push_str(&format!("  @ext{key} = avg($lat);\n"));
    }
    match &o.disk {
        Some(disk) => s.push_str(&format!(
            "  if ({} == {}) {{\n  {}  }}\n",
            block::DISK,
            script::quote(disk),
            record.replace("\n  ", "\n    ")
        )),
        None => s.push_str(&record),
    }
    s.push_str("  delete(@start, $rq);\n}\n\n");
    let print = if o.extension {
        "print(@dist);\n  print(@ext);\n  clear(@dist);\n  clear(@ext);"
    } else {
        "print(@dist);\n  clear(@dist);"
    };
    s.push_str(&script::report_every(
        o.interval,
        o.count,
        o.timestamp,
        print,
    ));
    s.push_str("\nEND { clear(@start); }\n");

    let names = block::flag_names(kernel);
    let blank = !o.timestamp;
    let render = Box::new(move |dump: &scry_output::MapDump, json: bool| {
        let label = |key: &[Value]| -> Vec<(&'static str, String)> {
            key_names
                .iter()
                .zip(key)
                .map(|(name, v)| {
                    let text = match (*name, v) {
                        ("flags", Value::UInt(f)) => block::describe(*f, &names),
                        ("flags", Value::Int(f)) => block::describe(*f as u64, &names),
                        (_, v) => v.to_text(),
                    };
                    (*name, text)
                })
                .collect()
        };
        if dump.name == "@ext" {
            let mut text = String::new();
            for entry in &dump.entries {
                let AggValue::Avg { total, count } = entry.value else {
                    continue;
                };
                let avg = if count == 0 { 0 } else { total / count as i64 };
                if json {
                    let mut object = serde_json::Map::new();
                    for (name, value) in label(&entry.key) {
                        object.insert(name.into(), serde_json::json!(value));
                    }
                    object.insert("unit".into(), serde_json::json!(unit));
                    object.insert("avg".into(), serde_json::json!(avg));
                    object.insert("total".into(), serde_json::json!(total));
                    object.insert("count".into(), serde_json::json!(count));
                    text.push_str(&format!("{}\n", serde_json::Value::Object(object)));
                } else {
                    let prefix: Vec<String> = label(&entry.key)
                        .into_iter()
                        .map(|(n, v)| format!("{n} = {v}, "))
                        .collect();
                    text.push_str(&format!(
                        "\n{}avg = {avg} {unit}, total: {total} {unit}, count: {count}\n",
                        prefix.concat()
                    ));
                }
            }
            return text;
        }
        let section = |key: &[Value]| {
            label(key)
                .into_iter()
                .map(|(name, v)| {
                    if name == "disk" {
                        format!("disk = '{v}'")
                    } else {
                        format!("{name} = {v}")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let body = hist::render_map(dump, json, unit, &key_names, &section);
        if json {
            // Flags as names, not numbers.
            return body
                .lines()
                .map(|line| {
                    let mut v: serde_json::Value =
                        serde_json::from_str(line).unwrap_or(serde_json::Value::Null);
                    if let Some(f) = v.get("flags").and_then(|f| f.as_u64()) {
                        v["flags"] = serde_json::json!(block::describe(f, &names));
                    }
                    format!("{v}\n")
                })
                .collect();
        }
        if body.is_empty() || !blank {
            body
        } else {
            format!("\n{body}")
        }
    });
    Ok(Plan::new(s, &o.common)
        .header("Tracing block device I/O... Hit Ctrl-C to end.\n")
        .maps(render))
}
