//! biosnoop: one line per block device I/O, with BCC's options and columns.

use std::ffi::OsString;

use clap::Parser;
use scry_sema::KernelInfo;

use crate::script::{self, Common};
use crate::tools::block;
use crate::{EventSpec, Plan, ToolError};

/// Trace block device I/O: who issued it, where, how large and how long it took.
#[derive(Debug, Parser)]
#[command(
    name = "biosnoop",
    after_help = "Examples:
  biosnoop           # trace all block I/O
  biosnoop -Q        # include OS queued time (QUE(ms) column)
  biosnoop -d vda    # trace vda only
  biosnoop -P        # display the I/O pattern (S = sequential, R = random)
  biosnoop --json    # one JSON object per I/O

Hooks: BTF raw tracepoints block_io_start (the issuing process, in its own context),
block_rq_insert (-Q), block_rq_issue and block_rq_complete; no kprobes. LAT(ms) is from
issue to the device to completion. Requests that are not accounted (flushes, passthrough,
queues with iostats off) are attributed to the task that issued them to the device."
)]
struct Opts {
    /// Include OS queued time (QUE(ms) column).
    #[arg(short = 'Q', long)]
    queue: bool,
    /// Trace this disk only (e.g. vda).
    #[arg(short = 'd', long)]
    disk: Option<String>,
    /// Display the I/O pattern (sequential or random).
    #[arg(short = 'P', long)]
    pattern: bool,
    #[command(flatten)]
    common: Common,
}

pub fn plan(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o: Opts = script::parse("biosnoop", args)?;
    let mut hooks = vec!["block_rq_issue", "block_rq_complete"];
    if o.queue {
        hooks.push("block_rq_insert");
    }
    block::check(kernel, &hooks)?;
    let io_start = kernel.has_raw_tracepoint("block_io_start");
    let disk = block::DISK;
    let mut s = String::from("// biosnoop: block I/O, one line per request at completion.\n");
    if io_start {
        s.push_str(
            "rawtracepoint:block_io_start\n{\n  @pid[args->rq] = pid;\n  @comm[args->rq] = comm;\n}\n\n",
        );
    }
    if o.queue {
        s.push_str("rawtracepoint:block_rq_insert\n{\n  @queued[args->rq] = nsecs;\n}\n\n");
    }
    s.push_str(
        "rawtracepoint:block_rq_issue\n{\n  $rq = args->rq;\n  @issued[$rq] = nsecs;\n  \
         @bytes[$rq] = $rq->__data_len;\n  if (!has_key(@pid, $rq)) {\n    \
         @pid[$rq] = pid;\n    @comm[$rq] = comm;\n  }\n}\n\n",
    );
    s.push_str(
        "rawtracepoint:block_rq_complete\n/has_key(@issued, args->rq)/\n{\n  $rq = args->rq;\n",
    );
    let mut body = String::from(
        "$now = nsecs;\n$lat = ($now - @issued[$rq]) / 10000;\n\
         $sector = $rq->__sector;\n$bytes = @bytes[$rq];\n\
         $t = ($rq->cmd_flags & 0xff) == 1 ? \"W\" : \"R\";\n",
    );
    let mut format = String::from("%llu  %-14.14s %-7d %-9s %-1s %-10d %-7d");
    let mut values: Vec<&str> = vec![
        "$now",
        "@comm[$rq]",
        "@pid[$rq]",
        disk,
        "$t",
        "$sector",
        "$bytes",
    ];
    let mut fields: Vec<&'static str> = vec!["comm", "pid", "disk", "t", "sector", "bytes"];
    let mut header = format!(
        "{:<11} {:<14} {:<7} {:<9} {:<1} {:<10} {:<7}",
        "TIME(s)", "COMM", "PID", "DISK", "T", "SECTOR", "BYTES"
    );
    if o.pattern {
        body.push_str(&format!(
            "$p = @last[{disk}] == $sector ? \"S\" : \"R\";\n@last[{disk}] = $sector + $bytes / 512;\n"
        ));
        format.push_str("%-1s ");
        values.push("$p");
        fields.push("pattern");
        header.push_str(&format!("{:<1} ", "P"));
    }
    if o.queue {
        body.push_str(
            "$que = has_key(@queued, $rq) ? (@issued[$rq] - @queued[$rq]) / 10000 : 0;\n",
        );
        format.push_str("%4d.%02d ");
        values.extend(["$que / 100", "$que % 100"]);
        fields.extend(["que_ms", "que_ms.frac2"]);
        header.push_str(&format!("{:>7} ", "QUE(ms)"));
    }
    format.push_str("%4d.%02d\\n");
    values.extend(["$lat / 100", "$lat % 100"]);
    fields.extend(["lat_ms", "lat_ms.frac2"]);
    header.push_str(&format!("{:>7}\n", "LAT(ms)"));
    body.push_str(&format!("printf(\"{format}\", {});\n", values.join(", ")));
    let body = body.replace('\n', "\n  ");
    match &o.disk {
        Some(d) => s.push_str(&format!(
            "  if ({disk} == {}) {{\n    {}\n  }}\n",
            script::quote(d),
            body.trim_end().replace("\n  ", "\n    ")
        )),
        None => s.push_str(&format!("  {}\n", body.trim_end())),
    }
    s.push_str(
        "  delete(@issued, $rq);\n  delete(@bytes, $rq);\n  delete(@pid, $rq);\n  \
         delete(@comm, $rq);\n",
    );
    if o.queue {
        s.push_str("  delete(@queued, $rq);\n");
    }
    s.push_str(
        "}\n\nEND\n{\n  clear(@issued);\n  clear(@bytes);\n  clear(@pid);\n  clear(@comm);\n",
    );
    if o.queue {
        s.push_str("  clear(@queued);\n");
    }
    if o.pattern {
        s.push_str("  clear(@last);\n");
    }
    s.push_str("}\n");
    let event = EventSpec::new(format.replace("\\n", "\n"), &fields).seconds(11, 6);
    Ok(Plan::new(s, &o.common).header(header).event(event))
}
