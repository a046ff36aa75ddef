//! execsnoop: trace new processes (execve/execveat) with BCC's options and columns.

use std::ffi::OsString;

use clap::Parser;
use scry_output::Value;
use scry_sema::KernelInfo;

use crate::plan::Collect;
use crate::script::{self, Common, Predicate};
use crate::{EventSpec, Plan, ToolError};

/// Trace exec() syscalls: every new program, with its parent and arguments.
#[derive(Debug, Parser)]
#[command(
    name = "execsnoop",
    after_help = "Examples:
  execsnoop                # trace all exec() syscalls
  execsnoop -x             # include failed exec()s
  execsnoop -T             # include time (HH:MM:SS)
  execsnoop -U             # include UID
  execsnoop -u 1000        # only trace UID 1000
  execsnoop -u user        # get user UID and trace only them
  execsnoop -t             # include timestamps
  execsnoop -q             # add \"quotemarks\" around arguments
  execsnoop -n main        # only print command lines containing \"main\"
  execsnoop -l tpkg        # only print command where arguments contains \"tpkg\"
  execsnoop -P 181         # only trace new processes whose parent PID is 181
  execsnoop --json         # one JSON object per exec

Hooks: tracepoints syscalls:sys_{enter,exit}_{execve,execveat}. The arguments are read when
the call starts (up to --max-args of them, 128 bytes each); the line is printed when it
returns, with the new command name."
)]
struct Opts {
    /// Include a TIME column (HH:MM:SS).
    #[arg(short = 'T', long)]
    time: bool,
    /// Include a TIME(s) column (seconds since the first event).
    #[arg(short = 't', long)]
    timestamp: bool,
    /// Include failed exec()s.
    #[arg(short = 'x', long)]
    fails: bool,
    /// Trace this UID only (a number or a user name).
    #[arg(short = 'u', long)]
    uid: Option<String>,
    /// Add quotemarks (\") around arguments.
    #[arg(short = 'q', long)]
    quote: bool,
    /// Only print commands whose name matches this regular expression.
    #[arg(short = 'n', long)]
    name: Option<String>,
    /// Only print commands where an argument matches this regular expression.
    #[arg(short = 'l', long)]
    line: Option<String>,
    /// Print the UID column.
    #[arg(short = 'U', long = "print-uid")]
    print_uid: bool,
    /// Print the CPU column.
    #[arg(short = 'C', long = "print-cpu")]
    print_cpu: bool,
    /// Print the parent's command name (PCOMM column).
    #[arg(short = 'M', long = "print-pcomm")]
    print_pcomm: bool,
    /// Only trace processes whose parent has this PID.
    #[arg(short = 'P', long)]
    ppid: Option<u32>,
    /// Maximum number of arguments parsed and displayed.
    #[arg(long = "max-args", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=128))]
    max_args: u32,
    /// Trace processes of this cgroup (v2 directory) only.
    #[arg(long)]
    cgroup: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// A user name or number as a UID.
pub fn resolve_uid(user: &str) -> Result<u32, ToolError> {
    if let Ok(uid) = user.parse() {
        return Ok(uid);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|l| {
            let mut f = l.split(':');
            (f.next() == Some(user))
                .then(|| f.nth(1)?.parse().ok())
                .flatten()
        })
        .ok_or_else(|| ToolError::BadArgument(format!("unknown user '{user}'")))
}

fn regex(text: &Option<String>, what: &str) -> Result<Option<regex::Regex>, ToolError> {
    text.as_deref()
        .map(|r| {
            regex::Regex::new(r)
                .map_err(|e| ToolError::BadArgument(format!("invalid {what} regex: {e}")))
        })
        .transpose()
}

pub fn plan(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o: Opts = script::parse("execsnoop", args)?;
    let calls = script::syscalls(kernel, &["execve", "execveat"])?;
    let uid = o.uid.as_deref().map(resolve_uid).transpose()?;
    let name = regex(&o.name, "--name")?;
    let line = regex(&o.line, "--line")?;
    let mut filter = Predicate::tool()
        .and_if(uid, "uid == {}")
        .and_if(o.ppid, "curtask->real_parent->tgid == {}");
    if let Some(path) = &o.cgroup {
        filter = filter.and(format!("cgroup == {}", script::cgroup_id(path)?));
    }
    let max = o.max_args;
    let mut s = format!(
        "// execsnoop: exec() calls. Arguments are sent one by one when the call starts\n\
         // (\"%d %d %s\": pid, index, argument); the line is printed when it returns.\n\
         {}{}\n{{\n  @start[tid] = 1;\n  $i = 0;\n  while ($i < {max}) {{\n    \
         $arg = *uptr(args->argv + $i);\n    if ($arg == 0) {{ break; }}\n    \
         printf(\"%d %d %s\\n\", pid, $i, str($arg, 128));\n    $i++;\n  }}\n  \
         if ($i == {max} && *uptr(args->argv + $i) != 0) {{\n    \
         printf(\"%d %d %s\\n\", pid, $i, \"...\");\n  }}\n}}\n\n",
        script::syscall_probes(&calls, "enter"),
        filter.slashes()
    );
    let mut format = String::new();
    let mut values: Vec<&str> = Vec::new();
    let mut fields: Vec<&'static str> = Vec::new();
    let mut header = String::new();
    // TIME(s) comes first: the printer draws it from the leading nsecs.
    if o.timestamp {
        format.push_str("%llu ");
        values.push("nsecs");
        header.push_str(&format!("{:<8}", "TIME(s)"));
    }
    if o.time {
        format.push_str("%-9s");
        values.push("strftime(\"%H:%M:%S\", nsecs)");
        fields.push("time");
        header.push_str(&format!("{:<9}", "TIME"));
    }
    if o.print_uid {
        format.push_str("%-6d");
        values.push("uid");
        fields.push("uid");
        header.push_str(&format!("{:<6}", "UID"));
    }
    format.push_str("%-16s %-7d ");
    values.extend(["comm", "pid"]);
    fields.extend(["comm", "pid"]);
    header.push_str(&format!("{:<16} {:<7} ", "COMM", "PID"));
    if o.print_pcomm {
        format.push_str("%-16s ");
        values.push("curtask->real_parent->comm");
        fields.push("pcomm");
        header.push_str(&format!("{:<16} ", "PCOMM"));
    }
    format.push_str("%-7d ");
    values.push("curtask->real_parent->tgid");
    fields.push("ppid");
    header.push_str(&format!("{:<7} ", "PPID"));
    if o.print_cpu {
        format.push_str("%-4d ");
        values.push("cpu");
        fields.push("cpu");
        header.push_str(&format!("{:<4} ", "CPU"));
    }
    format.push_str("%3d %s\\n");
    // The last value, an empty string in the script, becomes the arguments.
    values.extend(["args->ret", "\"\""]);
    fields.extend(["ret", "args"]);
    header.push_str("RET ARGS\n");
    let condition = if o.fails {
        "has_key(@start, tid)".to_string()
    } else {
        "has_key(@start, tid) && args->ret == 0".to_string()
    };
    s.push_str(&format!(
        "{}\n/{condition}/\n{{\n  printf(\"{format}\", {});\n}}\n\n",
        script::syscall_probes(&calls, "exit"),
        values.join(", ")
    ));
    s.push_str(&format!(
        "{}\n{{\n  delete(@start, tid);\n}}\n\nEND {{ clear(@start); }}\n",
        script::syscall_probes(&calls, "exit")
    ));

    let part = EventSpec::new("%d %d %s\n", &["pid", "index", "arg"]).collect(Collect::Part {
        key: 0,
        index: 1,
        value: 2,
    });
    let offset = usize::from(o.timestamp);
    let n = values.len();
    let pid_at = values
        .iter()
        .position(|v| *v == "pid")
        .expect("the pid column is always there");
    let mut event = EventSpec::new(format.replace("\\n", "\n"), &fields).collect(Collect::Final {
        key: pid_at,
        quote: o.quote,
    });
    if o.timestamp {
        event = event.seconds(8, 3);
    }
    let comm_at = offset + usize::from(o.time) + usize::from(o.print_uid);
    if name.is_some() || line.is_some() {
        event = event.filter(Box::new(move |values: &[Value]| {
            let text = |i: usize| match values.get(i) {
                Some(Value::Str(s)) => s.as_str(),
                _ => "",
            };
            name.as_ref().is_none_or(|r| r.is_match(text(comm_at)))
                && line.as_ref().is_none_or(|r| r.is_match(text(n - 1)))
        }));
    }
    Ok(Plan::new(s, &o.common)
        .header(header)
        .event(part)
        .event(event))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_and_named_uids() {
        assert_eq!(resolve_uid("1000").unwrap(), 1000);
        assert_eq!(resolve_uid("root").unwrap(), 0);
        assert!(resolve_uid("no-such-user-here").is_err());
    }
}
