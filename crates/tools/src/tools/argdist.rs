//! argdist: distributions of function arguments and return values (counts or log2
//! histograms) from user functions, tracepoints and USDT probes, with BCC's specifier
//! syntax, options and output.

use std::ffi::OsString;

use clap::Parser;
use scry_output::{AggValue, MapDump, Value};
use scry_sema::KernelInfo;

use crate::hist;
use crate::printer::json_value;
use crate::script::{self, Common, Predicate};
use crate::spec::cexpr::{self, Context, Entry, Param, Used, ValueType};
use crate::spec::{Kind, ProbeSpec};
use crate::{Plan, ToolError};

/// Trace a function and display a summary of its parameter values.
#[derive(Debug, Parser)]
#[command(
    name = "argdist",
    after_help = "Probe specifier syntax:
  {p,r,t,u}:{[library],category}:function(signature)[:type[,type...]:expr[,expr...][:filter]][#label]
Where:
  p,r,t,u    probe at function entry, function exit, tracepoint, or USDT probe;
             exit probes can use $retval, $entry(param) and $latency (nanoseconds)
  library    the library or binary that contains the function (c is libc)
  category   the category of the tracepoint (e.g. syscalls, sched)
  function   the function name to trace (or tracepoint name)
  signature  the function's parameters, as in the C header
  type       the type of the expression to collect (char* is a string)
  expr       the expression to collect; $PID and $COMM are the process
  filter     the filter that is applied to collected values
  label      the label for this probe in the output

Examples:
  argdist -p 1005 -C 'p:c:malloc(size_t size):size_t:size:size==16'
        Count how many times process 1005 called malloc with a size of 16 bytes
  argdist -C 'r:c:gets():char*:(char*)$retval#snooped strings'
        Snoop on all strings returned by gets()
  argdist -p 1005 -C 'p:c:write(int fd):int:fd' -T 5
        Count writes by file descriptor in process 1005, only the top 5 busiest fds
  argdist -p 1005 -H 'r:c:read()'
        Histogram of results (sizes) returned by read() in process 1005
  argdist -H 'r:c:malloc(size_t size):u64:$latency'
        Histogram of malloc() latencies in nanoseconds
  argdist -H 'p:c:write(int fd, const void *buf, size_t count):size_t:count:fd==1'
        Histogram of buffer sizes written to STDOUT
  argdist -C 'p:c:fork()#fork calls'
        Count fork() calls in libc across all processes
  argdist -H 't:block:block_rq_complete():u32:args->nr_sector'
        Histogram of the number of sectors in completing block I/O requests
  argdist -C 't:irq:irq_handler_entry():int:args->irq'
        Count interrupts by interrupt request (IRQ)
  argdist -C 't:syscalls:sys_enter_openat():char*:args->filename' -i 5 -n 2
        Count opened file names, two 5-second reports
  argdist -C 'u:pthread:pthread_start():u64:arg2' -p 1337
        Count the start functions of threads through the USDT pthread_start probe
  argdist --json -C 'p:c:write(int fd):int:fd'
        One JSON object per counted value

Kernel functions (p::FUNC, r::FUNC) need kprobes, which this kernel does not have. Not
supported: -I (headers)."
)]
struct Opts {
    /// ID of the process to trace.
    #[arg(short = 'p', long)]
    pid: Option<u32>,
    /// ID of the thread to trace.
    #[arg(short = 't', long)]
    tid: Option<u32>,
    /// Maximum string size to read from char* arguments.
    #[arg(short = 'z', long = "string-size", default_value_t = 80)]
    string_size: u32,
    /// Output interval, in seconds.
    #[arg(short = 'i', long, default_value_t = 1)]
    interval: u64,
    /// Total duration of the trace, in seconds.
    #[arg(short = 'd', long)]
    duration: Option<u64>,
    /// Number of outputs.
    #[arg(short = 'n', long = "number")]
    count: Option<u64>,
    /// Print the tool's script (as --script).
    #[arg(short = 'v', long)]
    verbose: bool,
    /// Do not clear histograms and counts at each interval.
    #[arg(short = 'c', long)]
    cumulative: bool,
    /// Number of top results to show (not applicable to histograms).
    #[arg(short = 'T', long)]
    top: Option<usize>,
    /// Probe specifier to capture a histogram of (see the syntax below).
    #[arg(short = 'H', long = "histogram", value_name = "specifier")]
    histogram: Vec<String>,
    /// Probe specifier to capture a count of (see the syntax below).
    #[arg(short = 'C', long = "count", value_name = "specifier")]
    counts: Vec<String>,
    #[command(flatten)]
    common: Common,
}

/// One parsed specifier.
#[derive(Debug, Clone)]
struct ArgProbe {
    /// The specifier as given.
    raw: String,
    hist: bool,
    spec: ProbeSpec,
    params: Vec<Param>,
    types: Vec<String>,
    /// The expressions as written (for display).
    exprs: Vec<String>,
    filter: Option<String>,
    label: Option<String>,
    /// No expression was given: count calls, or return values of `r:` probes.
    default_expr: bool,
}

fn bail(raw: &str, error: impl std::fmt::Display) -> ToolError {
    ToolError::BadArgument(format!("error parsing probe '{raw}': {error}"))
}

fn parse_probe(raw: &str, hist: bool) -> Result<ArgProbe, ToolError> {
    let (spec_text, label) = match raw.split_once('#') {
        Some((s, l)) => (s, Some(l.to_string())),
        None => (raw, None),
    };
    let parts: Vec<&str> = spec_text.trim().split(':').collect();
    if parts.len() < 3 {
        return Err(bail(
            raw,
            "at least the probe type, library, and function signature must be specified",
        ));
    }
    if parts.len() > 6 {
        return Err(bail(raw, "extraneous ':'-separated parts detected"));
    }
    let ty = parts[0];
    if !matches!(ty, "p" | "r" | "t" | "u") {
        return Err(bail(
            raw,
            format!("probe type must be 'p', 'r', 't', or 'u' but got '{ty}'"),
        ));
    }
    let (function, signature) = match parts[2].split_once('(') {
        Some((f, rest)) if rest.trim_end().ends_with(')') => {
            let rest = rest.trim_end();
            (f.trim(), &rest[..rest.len() - 1])
        }
        _ => {
            return Err(bail(
                raw,
                format!("function signature '{}' has an invalid format", parts[2]),
            ));
        }
    };
    let spec =
        ProbeSpec::parse(&format!("{ty}:{}:{function}", parts[1])).map_err(|e| bail(raw, e))?;
    let params = cexpr::parse_signature(signature).map_err(|e| bail(raw, e))?;
    if !params.is_empty() && matches!(spec.kind, Kind::Tracepoint | Kind::Usdt) {
        return Err(bail(
            raw,
            "USDT and tracepoint probes have no signature: use arg1, arg2, ... or args->FIELD",
        ));
    }
    let is_return = spec.is_return();
    let default_expr = parts.len() < 5;
    let (types, exprs) = if default_expr {
        if hist && !is_return {
            return Err(bail(raw, "histograms must have expr"));
        }
        if is_return {
            (vec!["int".to_string()], vec!["$retval".to_string()])
        } else {
            (vec!["u64".to_string()], vec!["1".to_string()])
        }
    } else {
        let types: Vec<String> = cexpr::split_top_level(parts[3], ',')
            .into_iter()
            .map(|t| t.trim().to_string())
            .collect();
        let exprs: Vec<String> = cexpr::split_top_level(parts[4], ',')
            .into_iter()
            .map(|e| e.trim().to_string())
            .collect();
        if types.iter().chain(&exprs).any(String::is_empty) {
            return Err(bail(raw, "no exprs or types specified"));
        }
        if types.len() != exprs.len() {
            return Err(bail(raw, "mismatched # of exprs and types"));
        }
        if hist && exprs.len() > 1 {
            return Err(bail(raw, "histograms can only have 1 expr"));
        }
        (types, exprs)
    };
    if hist && cexpr::value_type(&types[0]) == ValueType::Str {
        return Err(bail(
            raw,
            "histograms need an integer expression, not a string",
        ));
    }
    let filter = parts
        .get(5)
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty());
    Ok(ArgProbe {
        raw: raw.to_string(),
        hist,
        spec,
        params,
        types,
        exprs,
        filter,
        label,
        default_expr,
    })
}

/// What the renderer needs of a probe.
#[derive(Debug, Clone)]
struct Shown {
    hist: bool,
    /// The spec line (count) or the histogram's label.
    title: String,
    exprs: Vec<String>,
    default_expr: bool,
    is_return: bool,
}

pub fn plan(args: &[OsString], kernel: &dyn KernelInfo) -> Result<Plan, ToolError> {
    let o: Opts = script::parse("argdist", args)?;
    let mut probes = Vec::new();
    for c in &o.counts {
        probes.push(parse_probe(c, false)?);
    }
    for h in &o.histogram {
        probes.push(parse_probe(h, true)?);
    }
    if probes.is_empty() {
        return Err(ToolError::BadArgument(
            "at least one specifier is required (-C or -H)".into(),
        ));
    }
    if o.interval == 0 || o.duration == Some(0) || o.count == Some(0) {
        return Err(ToolError::BadArgument(
            "intervals, durations and counts must be at least 1".into(),
        ));
    }
    let common = Predicate::tool()
        .and_if(o.pid, "pid == {}")
        .and_if(o.tid, "tid == {}");
    let mut s = String::from("// argdist: argument and return value distributions.\n");
    let mut shown = Vec::new();
    for (index, probe) in probes.iter().enumerate() {
        s.push_str(&probe_script(probe, index, kernel, &common, o.pid)?);
        shown.push(Shown {
            hist: probe.hist,
            title: if probe.hist {
                probe.label.clone().unwrap_or_else(|| {
                    if probe.default_expr {
                        "retval".into()
                    } else {
                        probe.exprs[0].clone()
                    }
                })
            } else {
                probe.label.clone().unwrap_or_else(|| probe.raw.clone())
            },
            exprs: probe.exprs.clone(),
            default_expr: probe.default_expr,
            is_return: probe.spec.is_return(),
        });
    }
    let reports = match (o.count, o.duration) {
        (Some(n), Some(d)) => Some(n.min(d.div_ceil(o.interval))),
        (Some(n), None) => Some(n),
        (None, Some(d)) => Some(d.div_ceil(o.interval)),
        (None, None) => None,
    };
    let mut print = String::from("time(\"[%H:%M:%S]\\n\");\n");
    for index in 0..probes.len() {
        print.push_str(&format!("  print(@argdist{index});\n"));
        if !o.cumulative {
            print.push_str(&format!("  clear(@argdist{index});\n"));
        }
    }
    s.push_str(&format!("\ninterval:s:{}\n{{\n  {print}", o.interval));
    match reports {
        Some(n) => s.push_str(&format!(
            "  @argdist_reports = @argdist_reports + 1;\n  \
             if (@argdist_reports >= {n}) {{ exit(); }}\n}}\n\n\
             END\n{{\n  if (@argdist_reports < {n}) {{\n  {print}  }}\n  clear(@argdist_reports);\n}}\n"
        )),
        None => s.push_str(&format!("}}\n\nEND\n{{\n  {print}}}\n")),
    }
    let top = o.top;
    let mut plan = Plan::new(s, &o.common).maps(Box::new(move |dump: &MapDump, json: bool| {
        let index = dump
            .name
            .strip_prefix("@argdist")
            .and_then(|i| i.parse::<usize>().ok());
        match index.and_then(|i| shown.get(i)) {
            Some(probe) => render(dump, json, probe, top),
            None => String::new(),
        }
    }));
    plan.max_strlen = o.string_size.clamp(1, 4096);
    plan.print_script |= o.verbose;
    Ok(plan)
}

/// The probes of specifier `index`: an entry probe saving what `$entry()`/`$latency` need,
/// and the probe that counts.
fn probe_script(
    probe: &ArgProbe,
    index: usize,
    kernel: &dyn KernelInfo,
    common: &Predicate,
    pid: Option<u32>,
) -> Result<String, ToolError> {
    let expansion = probe.spec.expand("argdist", kernel, pid, false)?;
    if expansion.matched.len() != 1 || probe.spec.has_wildcards() {
        return Err(bail(
            &probe.raw,
            "argdist probes one function, event or USDT probe per specifier",
        ));
    }
    let map = format!("@argdist{index}");
    let entry = |e: Entry| match e {
        Entry::Param(name) => format!("{map}_entry_{name}[tid]"),
        Entry::Latency => format!("(nsecs - {map}_ts[tid])"),
    };
    let ctx = Context {
        params: &probe.params,
        shift_args: matches!(probe.spec.kind, Kind::User { .. } | Kind::Usdt),
        entry: probe
            .spec
            .is_return()
            .then_some(&entry as &dyn Fn(Entry) -> String),
    };
    let mut used = Used::default();
    let mut keys = Vec::new();
    for (ty, expr) in probe.types.iter().zip(&probe.exprs) {
        let e = ctx
            .rewrite(expr, &mut used)
            .map_err(|err| bail(&probe.raw, err))?;
        keys.push(match cexpr::value_type(ty) {
            ValueType::Str => format!("str({e})"),
            ValueType::Int(Some(cast)) => format!("({cast})({e})"),
            ValueType::Int(None) => e,
        });
    }
    let filter = match &probe.filter {
        Some(f) => Some(
            ctx.rewrite(f, &mut used)
                .map_err(|err| bail(&probe.raw, err))?,
        ),
        None => None,
    };
    let mut s = format!(
        "\n// {}: {}\n",
        if probe.hist { "-H" } else { "-C" },
        probe.raw
    );
    let saved = used.latency || !used.entries.is_empty();
    // The map written at entry whose key says the entry was seen.
    let marker = if used.latency {
        format!("{map}_ts")
    } else {
        format!(
            "{map}_entry_{}",
            used.entries.first().map_or("", String::as_str)
        )
    };
    if saved {
        let entry_spec = ProbeSpec {
            kind: Kind::User { ret: false },
            ..probe.spec.clone()
        };
        let entry_points = entry_spec.expand("argdist", kernel, pid, false)?;
        s.push_str(&format!(
            "{}{}\n{{\n",
            entry_points.attach_list(),
            common.slashes()
        ));
        if used.latency {
            s.push_str(&format!("  {map}_ts[tid] = nsecs;\n"));
        }
        for name in &used.entries {
            let arg = probe
                .params
                .iter()
                .position(|p| p.name == *name)
                .ok_or_else(|| bail(&probe.raw, format!("no parameter {name}")))?;
            s.push_str(&format!("  {map}_entry_{name}[tid] = arg{arg};\n"));
        }
        s.push_str("}\n\n");
    }
    s.push_str(&format!(
        "{}{}\n{{\n",
        expansion.attach_list(),
        common.slashes()
    ));
    let mut indent = String::from("  ");
    if saved {
        s.push_str(&format!("  if (has_key({marker}, tid)) {{\n"));
        indent.push_str("  ");
    }
    if let Some(f) = &filter {
        s.push_str(&format!("{indent}if ({f}) {{\n"));
    }
    let inner = if filter.is_some() { "  " } else { "" };
    if probe.hist {
        s.push_str(&format!("{indent}{inner}{map} = hist({});\n", keys[0]));
    } else {
        s.push_str(&format!(
            "{indent}{inner}{map}[{}] = count();\n",
            keys.join(", ")
        ));
    }
    if filter.is_some() {
        s.push_str(&format!("{indent}}}\n"));
    }
    if saved {
        if used.latency {
            s.push_str(&format!("    delete({map}_ts, tid);\n"));
        }
        for name in &used.entries {
            s.push_str(&format!("    delete({map}_entry_{name}, tid);\n"));
        }
        s.push_str("  }\n");
    }
    s.push_str("}\n");
    Ok(s)
}

/// A count map as BCC prints it (ascending, `-T` keeps the largest), or a histogram.
fn render(dump: &MapDump, json: bool, probe: &Shown, top: Option<usize>) -> String {
    let mut text = String::new();
    if probe.hist {
        let buckets: Vec<u64> = dump
            .entries
            .iter()
            .find_map(|e| match &e.value {
                AggValue::Hist(b) => Some(b.clone()),
                _ => None,
            })
            .unwrap_or_default();
        if json {
            let object = serde_json::json!({
                "probe": probe.title,
                "buckets": hist::log2_json(&buckets),
            });
            return format!("{object}\n");
        }
        return hist::log2_text(&buckets, &probe.title);
    }
    let mut rows: Vec<(u64, &[Value])> = dump
        .entries
        .iter()
        .filter_map(|e| match e.value {
            AggValue::Int(i) => Some((i.max(0) as u64, e.key.as_slice())),
            AggValue::UInt(u) => Some((u, e.key.as_slice())),
            _ => None,
        })
        .collect();
    rows.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| hist::sort_key(a.1).cmp(&hist::sort_key(b.1)))
    });
    if let Some(top) = top {
        rows.drain(..rows.len().saturating_sub(top));
    }
    let event = |key: &[Value]| -> String {
        if probe.default_expr {
            return if probe.is_return {
                format!(
                    "retval = {}",
                    key.first()
                        .map(scry_output::Value::to_text)
                        .unwrap_or_default()
                )
            } else {
                "total calls".into()
            };
        }
        probe
            .exprs
            .iter()
            .zip(key)
            .map(|(e, v)| format!("{e} = {}", v.to_text()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if json {
        for (count, key) in rows {
            let mut values = serde_json::Map::new();
            if !probe.default_expr || probe.is_return {
                let names: Vec<String> = if probe.default_expr {
                    vec!["retval".into()]
                } else {
                    probe.exprs.clone()
                };
                for (name, value) in names.into_iter().zip(key) {
                    values.insert(name, json_value(value));
                }
            }
            let object = serde_json::json!({
                "probe": probe.title,
                "count": count,
                "values": values,
            });
            text.push_str(&format!("{object}\n"));
        }
        return text;
    }
    text.push_str(&format!("{}\n\t{:<10} {}\n", probe.title, "COUNT", "EVENT"));
    for (count, key) in rows {
        text.push_str(&format!("\t{count:<10} {}\n", event(key)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use scry_output::{MapEntry, MapKind};
    use scry_sema::kernel::StaticKernel;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn specifiers_parse_as_bcc() {
        let p = parse_probe(
            "p:c:write(int fd, char *buf, size_t len):int,char*:fd,buf:fd==1#w",
            false,
        )
        .unwrap();
        assert_eq!(p.spec.attach_point(), "uprobe:c:write");
        assert_eq!(p.params.len(), 3);
        assert_eq!(p.types, ["int", "char*"]);
        assert_eq!(p.exprs, ["fd", "buf"]);
        assert_eq!(p.filter.as_deref(), Some("fd==1"));
        assert_eq!(p.label.as_deref(), Some("w"));
        let p = parse_probe("r:c:read()", true).unwrap();
        assert!(p.default_expr && p.exprs == ["$retval"]);
        assert!(parse_probe("p:c:malloc()", true).is_err());
        assert!(parse_probe("p:c:malloc", false).is_err());
        assert!(parse_probe("x:c:malloc()", false).is_err());
        assert!(parse_probe("p:c:f(int a):int,int:a", false).is_err());
        assert!(parse_probe("t:a:b(int x):int:x", false).is_err());
        assert!(parse_probe("p:c:f(char *s):char*:s", true).is_err());
    }

    #[test]
    fn tracepoint_counts_and_histograms() {
        let k = StaticKernel::sample();
        let plan = plan(
            &args(&[
                "-C",
                "t:syscalls:sys_enter_openat():char*,int:args->filename,args->flags:args->dfd != 0",
                "-H",
                "t:syscalls:sys_enter_read():u32:args->count",
                "-n",
                "2",
            ]),
            &k,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            plan.script
                .contains("    @argdist0[str(args->filename), (int32)(args->flags)] = count();"),
            "{}",
            plan.script
        );
        assert!(
            plan.script.contains("  if (args->dfd != 0) {"),
            "{}",
            plan.script
        );
        assert!(
            plan.script
                .contains("@argdist1 = hist((uint32)(args->count));")
        );
        assert!(
            plan.script
                .contains("if (@argdist_reports >= 2) { exit(); }")
        );
        assert!(plan.script.contains("interval:s:1\n"));
    }

    #[test]
    fn kernel_functions_are_refused() {
        let k = StaticKernel::sample();
        assert!(matches!(
            plan(&args(&["-H", "p::__kmalloc(size_t size):u64:size"]), &k),
            Err(ToolError::Unsupported(_))
        ));
        assert!(plan(&args(&[]), &k).is_err());
    }

    fn shown(hist: bool, default_expr: bool, is_return: bool) -> Shown {
        Shown {
            hist,
            title: "p:c:malloc(size_t size):size_t:size".into(),
            exprs: vec!["size".into()],
            default_expr,
            is_return,
        }
    }

    #[test]
    fn counts_render_ascending_with_top() {
        let dump = MapDump {
            name: "@argdist0".into(),
            kind: MapKind::Count,
            entries: [(16, 3), (32, 1), (64, 5)]
                .iter()
                .map(|&(size, count)| MapEntry {
                    key: vec![Value::UInt(size)],
                    value: AggValue::UInt(count),
                })
                .collect(),
        };
        assert_eq!(
            render(&dump, false, &shown(false, false, false), Some(2)),
            "p:c:malloc(size_t size):size_t:size\n\tCOUNT      EVENT\n\
             \t3          size = 16\n\t5          size = 64\n"
        );
        assert_eq!(
            render(&dump, false, &shown(false, true, true), Some(1)),
            "p:c:malloc(size_t size):size_t:size\n\tCOUNT      EVENT\n\t5          retval = 64\n"
        );
        let json = render(&dump, true, &shown(false, false, false), None);
        assert!(json.starts_with("{\"count\":1,\"probe\""), "{json}");
        assert!(json.contains("\"values\":{\"size\":32}"), "{json}");
    }

    #[test]
    fn histograms_render_with_their_label() {
        let dump = MapDump {
            name: "@argdist0".into(),
            kind: MapKind::Hist,
            entries: vec![MapEntry {
                key: vec![],
                value: AggValue::Hist(vec![0, 0, 1, 4]),
            }],
        };
        let mut probe = shown(true, false, false);
        probe.title = "size".into();
        let text = render(&dump, false, &probe, None);
        assert!(
            text.starts_with("     size                : count     distribution\n"),
            "{text}"
        );
        assert!(
            text.contains("         2 -> 3          : 4        |"),
            "{text}"
        );
    }
}
