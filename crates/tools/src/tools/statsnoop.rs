//! statsnoop: trace the stat() family of syscalls with BCC's options and columns.

use std::ffi::OsString;

use clap::Parser;
use scry_sema::KernelInfo;

use crate::script::{self, Common, Predicate};
use crate::{EventSpec, Plan, ToolError};

/// Trace stat() syscalls: which files are looked up, by which process, with the result.
#[derive(Debug, Parser)]
#[command(
    name = "statsnoop",
    after_help = "Examples:
  statsnoop           # trace all stat() syscalls
  statsnoop -t        # include timestamps
  statsnoop -s        # include syscall name
  statsnoop -x        # only show failed stats
  statsnoop -p 181    # only trace PID 181
  statsnoop --json    # one JSON object per call

Hooks: tracepoints syscalls:sys_{enter,exit}_{statfs,stat,lstat,newstat,newlstat,fstatat64,
newfstatat,statx} (those this kernel has). The path is read when the call returns. A call on
an open file with an empty path (fstat() is newfstatat(fd, \"\", AT_EMPTY_PATH) in glibc)
shows PATH as fd:N."
)]
struct Opts {
    /// Include a TIME(s) column (seconds since the first event).
    #[arg(short = 't', long)]
    timestamp: bool,
    /// Include the SYSCALL column.
    #[arg(short = 's', long)]
    sysname: bool,
    /// Only show failed stats.
    #[arg(short = 'x', long)]
    failed: bool,
    /// Trace this PID only.
    #[arg(short = 'p', long)]
    pid: Option<u32>,
    #[command(flatten)]
    common: Common,
}

/// The syscalls traced, with their path argument and whether they take a directory fd.
const CALLS: &[(&str, &str, bool)] = &[
    ("statfs", "pathname", false),
    ("stat", "filename", false),
    ("lstat", "filename", false),
    ("newstat", "filename", false),
    ("newlstat", "filename", false),
    ("fstatat64", "filename", true),
    ("newfstatat", "filename", true),
    ("statx", "filename", true),
];

pub fn plan(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o: Opts = script::parse("statsnoop", args)?;
    let names: Vec<&str> = CALLS.iter().map(|c| c.0).collect();
    let found = script::syscalls(kernel, &names)?;
    let filter = Predicate::tool().and_if(o.pid, "pid == {}");
    // Two lines: with a path, and with the directory fd when the path is empty.
    let mut format = String::new();
    let mut values = Vec::new();
    let mut fields = Vec::new();
    if o.timestamp {
        format.push_str("%llu ");
        values.push("nsecs".to_string());
    }
    format.push_str("%-7d %-16s %4d %3d");
    values.extend(["pid", "comm", "$fd", "$err"].map(String::from));
    fields.extend(["pid", "comm", "fd", "err"]);
    if o.sysname {
        format.push_str(" %-12s");
        fields.push("syscall");
    }
    let path_format = format!("{format} %s\\n");
    let fd_format = format!("{format} fd:%d\\n");
    let mut s = String::from(
        "// statsnoop: stat() family calls; the path is read when the call returns.\n",
    );
    for (call, path, dfd) in CALLS.iter().filter(|c| found.contains(&c.0)) {
        let dfd = if *dfd { "(int32)args->dfd" } else { "-100" };
        s.push_str(&format!(
            "tracepoint:syscalls:sys_enter_{call}{}\n{{\n  @path[tid] = args->{path};\n  \
             @dfd[tid] = {dfd};\n}}\n\n",
            filter.slashes()
        ));
    }
    for (call, _, _) in CALLS.iter().filter(|c| found.contains(&c.0)) {
        let mut args = values.clone();
        if o.sysname {
            args.push(script::quote(call));
        }
        let args = args.join(", ");
        s.push_str(&format!(
            "tracepoint:syscalls:sys_exit_{call}\n/has_key(@path, tid)/\n{{\n  \
             $ret = (int64)args->ret;\n  $fd = $ret >= 0 ? $ret : -1;\n  \
             $err = $ret >= 0 ? 0 : -$ret;\n  $path = str(@path[tid]);\n"
        ));
        let body = format!(
            "if ($path == \"\" && @dfd[tid] >= 0) {{\n    \
             printf(\"{fd_format}\", {args}, @dfd[tid]);\n  }} else {{\n    \
             printf(\"{path_format}\", {args}, $path);\n  }}"
        );
        if o.failed {
            s.push_str(&format!(
                "  if ($ret < 0) {{\n  {}\n  }}\n",
                body.replace("\n", "\n  ")
            ));
        } else {
            s.push_str(&format!("  {body}\n"));
        }
        s.push_str("  delete(@path, tid);\n  delete(@dfd, tid);\n}\n\n");
    }
    s.push_str("END { clear(@path); clear(@dfd); }\n");

    let mut header = String::new();
    if o.timestamp {
        header.push_str(&format!("{:<14}", "TIME(s)"));
    }
    header.push_str(&format!(
        "{:<7} {:<16} {:>4} {:>3}",
        "PID", "COMM", "FD", "ERR"
    ));
    if o.sysname {
        header.push_str(&format!(" {:<12}", "SYSCALL"));
    }
    header.push_str(" PATH\n");
    let mut path_fields = fields.clone();
    path_fields.push("path");
    let mut fd_fields = fields;
    fd_fields.push("dirfd");
    let mut events = [
        EventSpec::new(path_format.replace("\\n", "\n"), &path_fields),
        EventSpec::new(fd_format.replace("\\n", "\n"), &fd_fields),
    ];
    if o.timestamp {
        events = events.map(|e| e.seconds(14, 9));
    }
    let [path_event, fd_event] = events;
    Ok(Plan::new(s, &o.common)
        .header(header)
        .event(path_event)
        .event(fd_event))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::killsnoop::tests::{kernel_with, os_args};

    #[test]
    fn only_existing_syscalls_with_their_path_argument() {
        let kernel = kernel_with(&["syscalls:sys_enter_statfs", "syscalls:sys_enter_newfstatat"]);
        let plan = plan(&os_args(&["-s", "-t", "-x", "-p", "9"]), &kernel).unwrap();
        let s = &plan.script;
        assert!(
            s.contains("@path[tid] = args->pathname;\n  @dfd[tid] = -100;"),
            "{s}"
        );
        assert!(s.contains("@dfd[tid] = (int32)args->dfd;"), "{s}");
        assert!(s.contains("\"newfstatat\", $path"), "{s}");
        assert!(!s.contains("statx"), "{s}");
        assert!(s.contains("&& pid == 9/"), "{s}");
        assert!(s.contains("if ($ret < 0)"), "{s}");
        assert_eq!(
            plan.header,
            "TIME(s)       PID     COMM               FD ERR SYSCALL      PATH\n"
        );
        assert_eq!(plan.events[0].format, "%llu %-7d %-16s %4d %3d %-12s %s\n");
        assert_eq!(plan.events[0].seconds, Some((14, 9)));
    }
}
