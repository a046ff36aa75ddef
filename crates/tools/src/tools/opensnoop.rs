//! opensnoop: trace open(), openat() and openat2() with BCC's options and columns.

use std::ffi::OsString;

use clap::Parser;
use scry_sema::KernelInfo;

use crate::script::{self, Common, Predicate};
use crate::{EventSpec, Plan, ToolError};

/// Trace open() syscalls: every file opened, by which process, with the result.
#[derive(Debug, Parser)]
#[command(
    name = "opensnoop",
    after_help = "Examples:
  opensnoop                # trace all open() syscalls
  opensnoop -T             # include timestamps
  opensnoop -U             # include UID
  opensnoop -x             # only show failed opens
  opensnoop -p 181         # only trace PID 181
  opensnoop -t 123         # only trace TID 123
  opensnoop -u 1000        # only trace UID 1000
  opensnoop -d 10          # trace for 10 seconds only
  opensnoop -n main        # only print process names containing \"main\"
  opensnoop -e             # show extended fields
  opensnoop -f O_WRONLY -f O_RDWR  # only print calls for writing
  opensnoop --json         # one JSON object per open

Hooks: tracepoints syscalls:sys_{enter,exit}_{open,openat,openat2}; the path is read when
the call returns."
)]
struct Opts {
    /// Include a TIME(s) column (seconds since the first event).
    #[arg(short = 'T', long)]
    timestamp: bool,
    /// Print the UID column.
    #[arg(short = 'U', long = "print-uid")]
    print_uid: bool,
    /// Only show failed opens.
    #[arg(short = 'x', long)]
    failed: bool,
    /// Trace this PID only.
    #[arg(short = 'p', long)]
    pid: Option<u32>,
    /// Trace this TID only (the first column becomes TID).
    #[arg(short = 't', long)]
    tid: Option<u32>,
    /// Trace this UID only.
    #[arg(short = 'u', long)]
    uid: Option<u32>,
    /// Total duration of the trace, in seconds.
    #[arg(short = 'd', long)]
    duration: Option<u64>,
    /// Only print process names containing this text.
    #[arg(short = 'n', long)]
    name: Option<String>,
    /// Show extended fields (FLAGS, MODE).
    #[arg(short = 'e', long = "extended_fields")]
    extended: bool,
    /// Only print calls with this flag set (O_WRONLY, O_CREAT, ...; repeatable).
    #[arg(short = 'f', long = "flag_filter")]
    flags: Vec<String>,
    /// Trace processes of this cgroup (v2 directory) only.
    #[arg(long)]
    cgroup: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// `O_*` flag values (x86-64 and the generic ABI).
fn open_flag(name: &str) -> Option<u64> {
    Some(match name.to_ascii_uppercase().as_str() {
        "O_RDONLY" => 0,
        "O_WRONLY" => 0o1,
        "O_RDWR" => 0o2,
        "O_CREAT" => 0o100,
        "O_EXCL" => 0o200,
        "O_NOCTTY" => 0o400,
        "O_TRUNC" => 0o1000,
        "O_APPEND" => 0o2000,
        "O_NONBLOCK" => 0o4000,
        "O_DSYNC" => 0o10000,
        "O_ASYNC" => 0o20000,
        "O_DIRECT" => 0o40000,
        "O_LARGEFILE" => 0o100000,
        "O_DIRECTORY" => 0o200000,
        "O_NOFOLLOW" => 0o400000,
        "O_NOATIME" => 0o1000000,
        "O_CLOEXEC" => 0o2000000,
        "O_SYNC" => 0o4010000,
        "O_PATH" => 0o10000000,
        "O_TMPFILE" => 0o20200000,
        _ => return None,
    })
}

pub fn plan(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o: Opts = script::parse("opensnoop", args)?;
    let calls = script::syscalls(kernel, &["open", "openat", "openat2"])?;
    let mut mask = 0u64;
    for f in &o.flags {
        mask |= open_flag(f)
            .ok_or_else(|| ToolError::BadArgument(format!("unknown open flag '{f}'")))?;
    }
    let mut filter = Predicate::tool()
        .and_if(o.pid, "pid == {}")
        .and_if(o.tid, "tid == {}")
        .and_if(o.uid, "uid == {}");
    if let Some(path) = &o.cgroup {
        filter = filter.and(format!("cgroup == {}", script::cgroup_id(path)?));
    }
    let mut s = String::from("// opensnoop: open(), openat() and openat2() calls.\n");
    for call in &calls {
        let (flags, mode) = if *call == "openat2" {
            // struct open_how { u64 flags; u64 mode; u64 resolve; } in user memory.
            (
                "*uptr((uint64 *)args->how)",
                "*uptr((uint64 *)args->how + 1)",
            )
        } else {
            ("args->flags", "args->mode")
        };
        s.push_str(&format!(
            "tracepoint:syscalls:sys_enter_{call}{}\n{{\n  $flags = {flags};\n",
            filter.slashes()
        ));
        if mask != 0 {
            s.push_str(&format!("  if (($flags & {mask:#o}) != 0) {{\n  "));
        }
        s.push_str(&format!(
            "  @path[tid] = args->filename;\n  @flags[tid] = $flags;\n  @mode[tid] = {mode};\n"
        ));
        if mask != 0 {
            s.push_str("  }\n");
        }
        s.push_str("}\n\n");
    }
    let mut format = String::new();
    let mut values = Vec::new();
    let mut fields = Vec::new();
    if o.timestamp {
        format.push_str("%llu ");
        values.push("nsecs");
    }
    if o.print_uid {
        format.push_str("%-6d");
        values.push("uid");
        fields.push("uid");
    }
    format.push_str("%-6d %-16s %4d %3d ");
    values.extend([
        if o.tid.is_some() { "tid" } else { "pid" },
        "comm",
        "$fd",
        "$err",
    ]);
    fields.extend([
        if o.tid.is_some() { "tid" } else { "pid" },
        "comm",
        "fd",
        "err",
    ]);
    if o.extended {
        format.push_str("%08o %04o ");
        values.extend(["@flags[tid]", "@mode[tid]"]);
        fields.extend(["flags", "mode"]);
    }
    format.push_str("%s\\n");
    values.push("str(@path[tid])");
    fields.push("path");
    s.push_str(&format!(
        "{}\n/has_key(@path, tid)/\n{{\n  $ret = args->ret;\n  $fd = $ret >= 0 ? $ret : -1;\n  \
         $err = $ret >= 0 ? 0 : -$ret;\n",
        script::syscall_probes(&calls, "exit")
    ));
    if o.failed {
        s.push_str("  if ($ret < 0) {\n  ");
    }
    s.push_str(&format!("  printf(\"{format}\", {});\n", values.join(", ")));
    if o.failed {
        s.push_str("  }\n");
    }
    s.push_str("  delete(@path, tid);\n  delete(@flags, tid);\n  delete(@mode, tid);\n}\n");
    if let Some(d) = o.duration {
        s.push_str(&format!("\ninterval:s:{d} {{ exit(); }}\n"));
    }
    s.push_str("\nEND { clear(@path); clear(@flags); clear(@mode); }\n");

    let mut header = String::new();
    if o.timestamp {
        header.push_str(&format!("{:<14}", "TIME(s)"));
    }
    if o.print_uid {
        header.push_str(&format!("{:<6}", "UID"));
    }
    header.push_str(&format!(
        "{:<6} {:<16} {:>4} {:>3} ",
        if o.tid.is_some() { "TID" } else { "PID" },
        "COMM",
        "FD",
        "ERR"
    ));
    if o.extended {
        header.push_str(&format!("{:<8} {:<4} ", "FLAGS", "MODE"));
    }
    header.push_str("PATH\n");
    let format = format.replace("\\n", "\n");
    let mut event = EventSpec::new(format, &fields);
    if o.timestamp {
        event = event.seconds(14, 9);
    }
    if let Some(name) = o.name {
        // As BCC: a substring of the command name, matched in user space.
        let at = usize::from(o.timestamp) + usize::from(o.print_uid) + 1;
        event = event.filter(Box::new(move |values| {
            matches!(values.get(at), Some(scry_output::Value::Str(comm)) if comm.contains(&name))
        }));
    }
    Ok(Plan::new(s, &o.common).header(header).event(event))
}
