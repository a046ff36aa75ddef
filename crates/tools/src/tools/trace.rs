//! trace: print a line per event of user functions, their returns, tracepoints and USDT
//! probes, with BCC's probe syntax (`SPEC [(predicate)] ["format", args...]`), options and
//! columns.

use std::cell::Cell;
use std::ffi::OsString;
use std::rc::Rc;

use clap::Parser;
use scry_output::Value;
use scry_sema::KernelInfo;

use crate::plan::EventFilter;
use crate::script::{self, Common, Predicate};
use crate::spec::cexpr::{self, Context, Param, Used};
use crate::spec::{Kind, ProbeSpec};
use crate::{EventSpec, Plan, ToolError};

/// Attach to functions, tracepoints and USDT probes and print trace messages.
#[derive(Debug, Parser)]
#[command(
    name = "trace",
    after_help = "Examples:
  trace 't:syscalls:sys_enter_openat \"%s\", args->filename'
        Trace openat() calls and print the file name being opened
  trace 't:syscalls:sys_enter_read (args->count > 20000) \"read %d bytes\", args->count'
        Trace read() calls and print a message for reads > 20000 bytes
  trace 't:syscalls:sys_enter_openat \"%s\", args->filename' -n main
        Only print events of process names containing \"main\"
  trace 't:syscalls:sys_enter_openat \"%s\", args->filename' -f config
        Only print events whose message contains \"config\"
  trace 'c:open (arg2 == 42) \"%s %d\", arg1, arg2'
        Trace the open() call from libc only if the flags (arg2) argument is 42
  trace 'c:malloc \"size = %d\", arg1'
        Trace malloc calls and print the size being allocated
  trace 'p:c:write (arg1 == 1) \"writing %d bytes to STDOUT\", arg3'
        Trace the write() call from libc to monitor writes to STDOUT
  trace 'r:c:malloc (retval) \"allocated = %x\", retval'
        Trace returns from malloc and print non-NULL allocated buffers
  trace 'p:/bin/bash:readline_internal_teardown(int eof) \"eof=%d\", eof'
        Name the arguments with a signature
  trace 't:block:block_rq_complete \"sectors=%d\", args->nr_sector'
        Trace the block_rq_complete kernel tracepoint and print # of tx sectors
  trace 'u:pthread:pthread_create (arg4 != 0)'
        Trace the USDT probe pthread_create when its 4th argument is non-zero
  trace -U 'c:malloc \"%d\", arg1' -M 10
        Print 10 malloc calls with their user stacks
  trace --json 't:syscalls:sys_enter_openat \"%s\", args->filename'
        One JSON object per event (fields pid, tid, comm, func, v0, v1, ...)

Probes: t:CATEGORY:EVENT, p:LIBRARY:FUNCTION[(signature)] or LIBRARY:FUNCTION, r:LIBRARY:FUNCTION
(retval is the return value), u:LIBRARY:[PROVIDER:]PROBE. Arguments are arg1..arg6 (or the
signature's names), args->FIELD on tracepoints, retval, $pid (thread), $tgid, $uid, $gid, $cpu,
$task; STRCMP(\"text\", expr) compares strings. Format conversions as C printf, plus %K and %U
(kernel and user symbol of an address). %s of a syscall tracepoint's pointer reads user memory.
Kernel functions (do_sys_open, p::FUNC, r::FUNC) need kprobes, which this kernel does not have.
Not supported: -I (headers), -A, -B, -s, -u, -b."
)]
struct Opts {
    /// ID of the process to trace.
    #[arg(short = 'p', long, conflicts_with = "tid")]
    pid: Option<u32>,
    /// ID of the thread to trace.
    #[arg(short = 'L', long)]
    tid: Option<u32>,
    /// ID of the user to trace.
    #[arg(long)]
    uid: Option<u32>,
    /// Print the tool's script (as --script).
    #[arg(short = 'v', long)]
    verbose: bool,
    /// Maximum size to read from strings.
    #[arg(short = 'Z', long = "string-size", default_value_t = 80)]
    string_size: u32,
    /// Do not filter trace's own pid from the trace.
    #[arg(short = 'S', long = "include-self")]
    include_self: bool,
    /// Number of events to print before quitting.
    #[arg(short = 'M', long = "max-events")]
    max_events: Option<u64>,
    /// Print a timestamp column (seconds since the first event).
    #[arg(short = 't', long)]
    timestamp: bool,
    /// Print a time column (HH:MM:SS).
    #[arg(short = 'T', long)]
    time: bool,
    /// Print the CPU column.
    #[arg(short = 'C', long = "print_cpu")]
    print_cpu: bool,
    /// Trace processes of this cgroup (v2 directory) only.
    #[arg(short = 'c', long = "cgroup-path")]
    cgroup_path: Option<String>,
    /// Only print process names containing this name.
    #[arg(short = 'n', long)]
    name: Option<String>,
    /// Only print the events whose message contains this string.
    #[arg(short = 'f', long = "msg-filter")]
    msg_filter: Option<String>,
    /// Output the kernel stack trace of each event.
    #[arg(short = 'K', long = "kernel-stack")]
    kernel_stack: bool,
    /// Output the user stack trace of each event.
    #[arg(short = 'U', long = "user-stack")]
    user_stack: bool,
    /// Print addresses in stacks.
    #[arg(short = 'a', long)]
    address: bool,
    /// Probe specifiers (see the examples).
    #[arg(required = true)]
    probes: Vec<String>,
    #[command(flatten)]
    common: Common,
}

/// JSON names of the message's values.
const VALUE_NAMES: [&str; 16] = [
    "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14",
    "v15",
];

/// One probe of the command line, split as BCC does.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TraceProbe {
    spec: ProbeSpec,
    params: Vec<Param>,
    predicate: Option<String>,
    /// The format as written (C escapes not decoded), `None` without one.
    format: Option<String>,
    args: Vec<String>,
}

fn bail(text: &str, error: impl std::fmt::Display) -> ToolError {
    ToolError::BadArgument(format!("error in probe '{text}': {error}"))
}

/// Splits `SPEC[(signature)] [(predicate)] ["format"[, args...]]`.
fn parse_probe(text: &str) -> Result<TraceProbe, ToolError> {
    let trimmed = text.trim();
    let end = trimmed
        .find(|c: char| c.is_whitespace() || c == '(')
        .unwrap_or(trimmed.len());
    let spec = ProbeSpec::parse(&trimmed[..end]).map_err(|e| bail(text, e))?;
    let mut rest = &trimmed[end..];
    let mut params = Vec::new();
    if rest.starts_with('(') {
        let close = rest
            .find(')')
            .ok_or_else(|| bail(text, "unmatched end of signature"))?;
        if matches!(spec.kind, Kind::Tracepoint | Kind::Usdt) {
            return Err(bail(
                text,
                "USDT and tracepoint probes can't have a function signature; use arg1, arg2, \
                 ... (USDT) or args->FIELD (tracepoints) instead",
            ));
        }
        params = cexpr::parse_signature(&rest[1..close]).map_err(|e| bail(text, e))?;
        rest = &rest[close + 1..];
    }
    rest = rest.trim_start();
    let mut predicate = None;
    if rest.starts_with('(') {
        let mut depth = 0;
        let mut close = None;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let close = close.ok_or_else(|| bail(text, "unmatched end of predicate"))?;
        predicate = Some(rest[..=close].to_string());
        rest = rest[close + 1..].trim_start();
    }
    let (format, args) = if rest.is_empty() {
        (None, Vec::new())
    } else {
        let Some(body) = rest.strip_prefix('"') else {
            return Err(bail(
                text,
                format!("expected a format string in \"s, found '{rest}'"),
            ));
        };
        let mut end = None;
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end.ok_or_else(|| bail(text, "unterminated format string"))?;
        let after = body[end + 1..].trim_start();
        let args = match after.strip_prefix(',') {
            Some(list) => cexpr::split_top_level(list, ',')
                .into_iter()
                .map(|a| a.trim().to_string())
                .collect::<Vec<_>>(),
            None if after.is_empty() => Vec::new(),
            None => {
                return Err(bail(
                    text,
                    format!("expected ',' after the format, found '{after}'"),
                ));
            }
        };
        if args.iter().any(String::is_empty) {
            return Err(bail(text, "empty argument"));
        }
        (Some(body[..end].to_string()), args)
    };
    Ok(TraceProbe {
        spec,
        params,
        predicate,
        format,
        args,
    })
}

/// Decodes the C escapes of a format string.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            'e' => out.push('\x1b'),
            'x' => {
                let mut value = 0u32;
                let mut digits = 0;
                while digits < 2
                    && let Some(d) = chars.peek().and_then(|c| c.to_digit(16))
                {
                    value = value * 16 + d;
                    chars.next();
                    digits += 1;
                }
                out.push(char::from_u32(value).unwrap_or('?'));
            }
            '0'..='7' => {
                let mut value = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            value = value * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(value).unwrap_or('?'));
            }
            other => out.push(other),
        }
    }
    out
}

/// The conversion characters of a (decoded) format, with `%K`/`%U` turned into `%s`.
fn conversions(format: &str) -> Result<(String, Vec<char>), String> {
    let chars: Vec<char> = format.chars().collect();
    let mut out = String::new();
    let mut convs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        out.push(chars[i]);
        if chars[i] != '%' {
            i += 1;
            continue;
        }
        i += 1;
        if chars.get(i) == Some(&'%') {
            out.push('%');
            i += 1;
            continue;
        }
        while let Some(&c) = chars.get(i)
            && (c.is_ascii_digit() || "-+ #.hlLqjzt".contains(c))
        {
            out.push(c);
            i += 1;
        }
        let Some(&conv) = chars.get(i) else {
            return Err("the format ends inside a conversion".into());
        };
        convs.push(conv);
        out.push(if matches!(conv, 'K' | 'U') { 's' } else { conv });
        i += 1;
    }
    scry_output::parse_format(&out).map_err(|e| e.to_string())?;
    Ok((out, convs))
}

/// What FUNC shows for a probe: the function, the event, the USDT probe.
fn display_function(spec: &ProbeSpec) -> String {
    match spec.kind {
        Kind::Tracepoint => spec.short_name().to_string(),
        _ => spec.name.clone(),
    }
}

pub fn plan(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o: Opts = script::parse("trace", args)?;
    let probes = o
        .probes
        .iter()
        .map(|p| parse_probe(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut common = if o.include_self {
        Predicate::new()
    } else {
        Predicate::tool()
    };
    common = common
        .and_if(o.pid, "pid == {}")
        .and_if(o.tid, "tid == {}")
        .and_if(o.uid, "uid == {}");
    if let Some(path) = &o.cgroup_path {
        common = common.and(format!("cgroup == {}", script::cgroup_id(path)?));
    }
    // The line's columns before the message: (printf format, value, JSON field).
    let mut columns: Vec<(&str, String, &'static str)> = Vec::new();
    let mut header = String::new();
    if o.timestamp {
        // The printer turns `%llu ` and nsecs into TIME(s); one space follows.
        columns.push(("%llu  ", "nsecs".into(), ""));
        header.push_str(&format!("{:<8} ", "TIME"));
    } else if o.time {
        columns.push(("%-8s ", "strftime(\"%H:%M:%S\", nsecs)".into(), "time"));
        header.push_str(&format!("{:<8} ", "TIME"));
    }
    if o.print_cpu {
        columns.push(("%-3d ", "cpu".into(), "cpu"));
        header.push_str(&format!("{:<3} ", "CPU"));
    }
    columns.push(("%-7d ", "pid".into(), "pid"));
    columns.push(("%-7d ", "tid".into(), "tid"));
    columns.push(("%-15s ", "comm".into(), "comm"));
    let trivial = probes.iter().all(|p| p.format.is_none());
    header.push_str(&format!(
        "{:<7} {:<7} {:<15} {:<16} {}\n",
        "PID",
        "TID",
        "COMM",
        "FUNC",
        if trivial { "" } else { "-" }
    ));
    let printed = Rc::new(Cell::new(0u64));
    // Set by the user-space filter of -M: the printer then ends the run.
    let stop: Rc<Cell<bool>> = Rc::default();
    // Filters BPF cannot apply (substrings), so -M is then counted in user space too.
    let user_filters = o.name.is_some() || o.msg_filter.is_some();
    let mut s = String::from("// trace: one line per event.\n");
    let mut events = Vec::new();
    for (index, probe) in probes.iter().enumerate() {
        let expansion = probe.spec.expand("trace", kernel, o.pid, false)?;
        if expansion.matched.len() != 1 || probe.spec.has_wildcards() {
            return Err(bail(
                &o.probes[index],
                "trace probes one function, event or USDT probe per specification \
                 (funccount and stackcount take wildcards)",
            ));
        }
        let ctx = Context {
            params: &probe.params,
            shift_args: matches!(probe.spec.kind, Kind::User { .. } | Kind::Usdt),
            entry: None,
        };
        let mut used = Used::default();
        let rewrite = |e: &str, used: &mut Used| {
            ctx.rewrite(e, used)
                .map_err(|err| bail(&o.probes[index], err))
        };
        let (message, convs) = match &probe.format {
            Some(f) => conversions(&unescape(f)).map_err(|e| bail(&o.probes[index], e))?,
            None => (String::new(), Vec::new()),
        };
        if convs.len() != probe.args.len() {
            return Err(bail(
                &o.probes[index],
                format!(
                    "the format has {} conversions but {} arguments follow",
                    convs.len(),
                    probe.args.len()
                ),
            ));
        }
        if convs.len() > VALUE_NAMES.len() {
            return Err(bail(&o.probes[index], "at most 16 arguments"));
        }
        let mut values: Vec<String> = columns.iter().map(|c| c.1.clone()).collect();
        values.push(script::quote(&display_function(&probe.spec)));
        for (arg, conv) in probe.args.iter().zip(&convs) {
            let expr = rewrite(arg, &mut used)?;
            values.push(match conv {
                's' => format!("str({expr})"),
                'K' => format!("ksym({expr})"),
                'U' => format!("usym({expr})"),
                _ => expr,
            });
        }
        let mut format: String = columns.iter().map(|c| c.0).collect();
        format.push_str("%-16s ");
        format.push_str(&message);
        let mut fields: Vec<&'static str> = columns
            .iter()
            .map(|c| c.2)
            .filter(|f| !f.is_empty())
            .collect();
        fields.push("func");
        fields.extend(&VALUE_NAMES[..convs.len()]);
        let stack_mode = if o.address { "(perf)" } else { "" };
        if o.kernel_stack {
            format.push_str("%s");
            values.push(format!("kstack{stack_mode}"));
            fields.push("kernel_stack");
        }
        if o.user_stack {
            format.push_str("%s");
            values.push(format!("ustack{stack_mode}"));
            fields.push("user_stack");
        }
        format.push('\n');
        let predicate = match &probe.predicate {
            Some(p) => Some(rewrite(p, &mut used)?),
            None => None,
        };
        s.push_str(&format!(
            "\n// {}\n{}{}\n{{\n",
            o.probes[index].replace('\n', " "),
            expansion.attach_list(),
            common.slashes()
        ));
        let indent = if let Some(p) = &predicate {
            s.push_str(&format!("  if ({p}) {{\n"));
            "    "
        } else {
            "  "
        };
        s.push_str(&format!(
            "{indent}printf({}, {});\n",
            script::quote(&format),
            values.join(", ")
        ));
        if let (Some(max), false) = (o.max_events, user_filters) {
            s.push_str(&format!(
                "{indent}@trace_events = @trace_events + 1;\n\
                 {indent}if (@trace_events >= {max}) {{ exit(); }}\n"
            ));
        }
        if predicate.is_some() {
            s.push_str("  }\n");
        }
        s.push_str("}\n");
        let mut event = EventSpec::new(format, &fields);
        if o.timestamp {
            event = event.seconds(8, 6);
        }
        let comm_at = columns.len() - 1;
        let message_at = columns.len() + 1;
        event = event.filter(event_filter(
            &o,
            comm_at,
            message_at,
            &message,
            convs.len(),
            Rc::clone(&printed),
            {
                let stop = Rc::clone(&stop);
                Rc::new(move || stop.set(true))
            },
        ));
        events.push(event);
    }
    if o.max_events.is_some() && !user_filters {
        s.push_str("\nEND { clear(@trace_events); }\n");
    }
    let mut plan = Plan::new(s, &o.common).header(header);
    plan.stop = stop;
    for event in events {
        plan = plan.event(event);
    }
    plan.max_strlen = o.string_size.clamp(1, 4096);
    plan.print_script |= o.verbose;
    Ok(plan)
}

/// The user-space part of an event's filter: `-n` (comm substring), `-f` (message
/// substring) and `-M` (stop after that many printed events).
fn event_filter(
    o: &Opts,
    comm_at: usize,
    message_at: usize,
    message: &str,
    n_values: usize,
    printed: Rc<Cell<u64>>,
    stop: Rc<dyn Fn()>,
) -> EventFilter {
    let name = o.name.clone();
    let msg_filter = o.msg_filter.clone();
    let max = o.max_events;
    let user_filters = name.is_some() || msg_filter.is_some();
    let message = scry_output::parse_format(message).ok();
    Box::new(move |values: &[Value]| {
        if let Some(name) = &name
            && !matches!(values.get(comm_at), Some(Value::Str(c)) if c.contains(name.as_str()))
        {
            return false;
        }
        if let Some(wanted) = &msg_filter {
            let text = values
                .get(message_at..message_at + n_values)
                .and_then(|v| message.as_ref()?.format(v).ok())
                .unwrap_or_default();
            if !text.contains(wanted.as_str()) {
                return false;
            }
        }
        if let Some(max) = max {
            if printed.get() >= max {
                return false;
            }
            printed.set(printed.get() + 1);
            if printed.get() == max && user_filters {
                // BPF cannot count what user space filters out: stop from here.
                stop();
            }
        }
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use scry_sema::kernel::StaticKernel;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn probes_split_as_bcc_does() {
        let p = parse_probe("t:syscalls:sys_enter_openat \"%s\", args->filename").unwrap();
        assert_eq!(p.spec.name, "syscalls:sys_enter_openat");
        assert_eq!(p.format.as_deref(), Some("%s"));
        assert_eq!(p.args, ["args->filename"]);
        let p =
            parse_probe("p:c:write(int fd, char *buf) (fd == (1)) \"w \\\"%d\\\", %s\", fd, buf")
                .unwrap();
        assert_eq!(p.params.len(), 2);
        assert_eq!(p.predicate.as_deref(), Some("(fd == (1))"));
        assert_eq!(p.format.as_deref(), Some("w \\\"%d\\\", %s"));
        assert_eq!(p.args, ["fd", "buf"]);
        let p = parse_probe("r:c:malloc").unwrap();
        assert!(p.format.is_none() && p.predicate.is_none() && p.spec.is_return());
        assert!(parse_probe("t:a:b(int x)").is_err());
        assert!(parse_probe("c:f (x > 1").is_err());
        assert!(parse_probe("c:f \"%d").is_err());
        assert!(parse_probe("c:f \"%d\" x").is_err());
    }

    #[test]
    fn formats() {
        assert_eq!(unescape("a\\tb\\n\\\"\\x41\\101"), "a\tb\n\"AA");
        let (f, c) = conversions("%-5d %% %K %llu %s").unwrap();
        assert_eq!(f, "%-5d %% %s %llu %s");
        assert_eq!(c, ['d', 'K', 'u', 's']);
        assert!(conversions("%").is_err());
    }

    #[test]
    fn tracepoint_strings_are_read_with_str() {
        let k = StaticKernel::sample();
        let plan = plan(
            &args(&[
                "-T",
                "-C",
                "t:syscalls:sys_enter_openat (args->flags != 0) \"%s\", args->filename",
            ]),
            &k,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            plan.script.contains(
                "printf(\"%-8s %-3d %-7d %-7d %-15s %-16s %s\\n\", strftime(\"%H:%M:%S\", nsecs), \
                 cpu, pid, tid, comm, \"sys_enter_openat\", str(args->filename));"
            ),
            "{}",
            plan.script
        );
        assert!(
            plan.script.contains("if ((args->flags != 0)) {"),
            "{}",
            plan.script
        );
        assert_eq!(
            plan.header,
            "TIME     CPU PID     TID     COMM            FUNC             -\n"
        );
        assert_eq!(
            plan.events[0].format,
            "%-8s %-3d %-7d %-7d %-15s %-16s %s\n"
        );
        assert_eq!(
            plan.events[0].fields,
            ["time", "cpu", "pid", "tid", "comm", "func", "v0"]
        );
    }

    #[test]
    fn refusals() {
        let k = StaticKernel::sample();
        assert!(matches!(
            plan(&args(&["do_sys_open \"%s\", arg2"]), &k),
            Err(ToolError::Unsupported(_))
        ));
        assert!(matches!(
            plan(
                &args(&["t:syscalls:sys_enter_openat \"%s %d\", args->filename"]),
                &k
            ),
            Err(ToolError::BadArgument(_))
        ));
        assert!(plan(&args(&["t:syscalls:sys_enter_*"]), &k).is_err());
    }

    #[test]
    fn filters_apply_in_user_space() {
        let o = Opts::try_parse_from(["trace", "-n", "ca", "-f", "etc", "-M", "1", "x"]).unwrap();
        let printed = Rc::new(Cell::new(0));
        let stopped = Rc::new(Cell::new(false));
        let flag = Rc::clone(&stopped);
        let stop: Rc<dyn Fn()> = Rc::new(move || flag.set(true));
        let filter = event_filter(&o, 2, 4, "%s", 1, Rc::clone(&printed), Rc::clone(&stop));
        let event = |comm: &str, path: &str| {
            vec![
                Value::Int(1),
                Value::Int(1),
                Value::Str(comm.into()),
                Value::Str("f".into()),
                Value::Str(path.into()),
            ]
        };
        assert!(!filter(&event("sh", "/etc/passwd")));
        assert!(!filter(&event("cat", "/tmp/x")));
        assert!(!stopped.get());
        assert!(filter(&event("cat", "/etc/passwd")));
        assert!(stopped.get());
        assert_eq!(printed.get(), 1);
        // -M 1 reached: nothing more is printed.
        assert!(!filter(&event("cat", "/etc/passwd")));
    }
}
