//! Pass 1: attach points → concrete targets.
//!
//! Tracepoint wildcards are matched against the kernel's list, intervals and sampling rates
//! are parsed, and probe kinds this kernel cannot attach (kprobes, fentry, hardware events)
//! are reported with the facility that is missing and a tracepoint to use instead.

use scry_diagnostics::{Diagnostic, Diagnostics};
use scry_syntax::ast;

use crate::Options;
use crate::kernel::{KernelInfo, TracepointFormat};

/// What fires a probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Begin,
    End,
    Tracepoint(TracepointFormat),
    /// `interval:`: one CPU, every `period_ns`.
    Interval {
        period_ns: u64,
        text: String,
    },
    /// `profile:`: every CPU, by period (ns) or frequency (Hz).
    Profile {
        period_ns: Option<u64>,
        hz: Option<u64>,
        text: String,
    },
    /// `software:`: a perf software event on every CPU.
    Software {
        config: u64,
        period: u64,
        text: String,
    },
    /// `rawtracepoint:`.
    RawTracepoint {
        name: String,
    },
    /// `usdt:` at one probe site.
    Usdt(crate::kernel::UsdtProbe),
    /// `hardware:`: a CPU PMU event on every CPU.
    Hardware {
        config: u64,
        period: u64,
        text: String,
    },
    /// `fentry:`/`fexit:` on a kernel function, by its BTF id; `nargs` parameters.
    Fentry {
        function: String,
        btf_id: u32,
        nargs: u32,
        ret: bool,
    },
    /// `kprobe:`/`kretprobe:` through the kprobe PMU (kernels with CONFIG_KPROBES).
    Kprobe {
        function: String,
        offset: u64,
        ret: bool,
    },
    /// `uprobe:`/`uretprobe:` at a file offset of a binary.
    Uprobe {
        path: String,
        symbol: String,
        offset: u64,
        ret: bool,
    },
}

impl Target {
    /// The full probe name bpftrace's `probe` builtin gives.
    pub fn probe_name(&self) -> String {
        match self {
            Target::Begin => "BEGIN".into(),
            Target::End => "END".into(),
            Target::Tracepoint(f) => format!("tracepoint:{}:{}", f.category, f.name),
            Target::Interval { text, .. } => format!("interval:{text}"),
            Target::Profile { text, .. } => format!("profile:{text}"),
            Target::Software { text, .. } => format!("software:{text}"),
            Target::RawTracepoint { name } => format!("rawtracepoint:{name}"),
            Target::Usdt(p) => format!("usdt:{}:{}:{}", p.path, p.provider, p.name),
            Target::Hardware { text, .. } => format!("hardware:{text}"),
            Target::Fentry { function, ret, .. } => {
                format!("{}:{function}", if *ret { "fexit" } else { "fentry" })
            }
            Target::Kprobe {
                function,
                offset,
                ret,
            } => {
                let kind = if *ret { "kretprobe" } else { "kprobe" };
                if *offset > 0 {
                    format!("{kind}:{function}+{offset}")
                } else {
                    format!("{kind}:{function}")
                }
            }
            Target::Uprobe {
                path, symbol, ret, ..
            } => {
                format!(
                    "{}:{path}:{symbol}",
                    if *ret { "uretprobe" } else { "uprobe" }
                )
            }
        }
    }
}

/// The broad kind of a probe block, from its first attach point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    Begin,
    End,
    Tracepoint,
    Interval,
    Profile,
    Software,
    RawTracepoint,
}

/// A probe block's targets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeInfo {
    pub targets: Vec<Target>,
}

impl ProbeInfo {
    /// True when any target is a tracepoint (so `args` is meaningful).
    pub fn has_tracepoints(&self) -> bool {
        self.targets
            .iter()
            .any(|t| matches!(t, Target::Tracepoint(_)))
    }
    /// True when any target is a raw tracepoint or uprobe (so `arg0..` are meaningful).
    pub fn has_raw_args(&self) -> bool {
        self.targets.iter().any(|t| {
            matches!(
                t,
                Target::RawTracepoint { .. }
                    | Target::Uprobe { ret: false, .. }
                    | Target::Kprobe { ret: false, .. }
                    | Target::Fentry { .. }
                    | Target::Usdt(_)
            )
        })
    }
    /// True when any target is a raw tracepoint (so `args.name` reads BTF-typed arguments).
    pub fn has_raw_tracepoints(&self) -> bool {
        self.targets
            .iter()
            .any(|t| matches!(t, Target::RawTracepoint { .. } | Target::Fentry { .. }))
    }
    /// True when any target is a uretprobe (so `retval` is meaningful).
    pub fn has_retval(&self) -> bool {
        self.targets.iter().any(|t| {
            matches!(
                t,
                Target::Uprobe { ret: true, .. }
                    | Target::Kprobe { ret: true, .. }
                    | Target::Fentry { ret: true, .. }
            )
        })
    }
    /// True when any target is a uprobe or uretprobe (so `func` is meaningful).
    pub fn has_func(&self) -> bool {
        self.targets.iter().any(|t| {
            matches!(
                t,
                Target::Uprobe { .. } | Target::Kprobe { .. } | Target::Fentry { .. }
            )
        })
    }
}

/// Glob match with `*` and `?`.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

fn parse_rate(unit: &str, value: &str) -> Option<(Option<u64>, Option<u64>)> {
    let n: u64 = value.parse().ok().filter(|&n| n > 0)?;
    Some(match unit {
        "s" => (Some(n.checked_mul(1_000_000_000)?), None),
        "ms" => (Some(n.checked_mul(1_000_000)?), None),
        "us" => (Some(n.checked_mul(1_000)?), None),
        "ns" => (Some(n), None),
        "hz" => (None, Some(n)),
        _ => return None,
    })
}

/// Splits `interval:1s`-style single parts into (unit, value).
fn rate_parts(parts: &[String]) -> Option<(String, String)> {
    match parts {
        [unit, value] => Some((unit.clone(), value.clone())),
        [one] => {
            let digits: String = one.chars().take_while(|c| c.is_ascii_digit()).collect();
            let unit = &one[digits.len()..];
            Some((unit.to_string(), digits))
        }
        _ => None,
    }
}

/// bpftrace's software events: names, aliases, perf config and default period.
pub const SOFTWARE_EVENTS: &[(&str, &str, u64, u64)] = &[
    ("cpu-clock", "cpu", 0, 1_000_000),
    ("task-clock", "", 1, 1_000_000),
    ("page-faults", "faults", 2, 100),
    ("context-switches", "cs", 3, 1_000),
    ("cpu-migrations", "", 4, 1),
    ("minor-faults", "", 5, 100),
    ("major-faults", "", 6, 1),
    ("alignment-faults", "", 7, 1),
    ("emulation-faults", "", 8, 1),
    ("dummy", "", 9, 1),
    ("bpf-output", "", 10, 1),
];

/// bpftrace's hardware events: names, aliases, perf config and default period.
pub const HARDWARE_EVENTS: &[(&str, &str, u64, u64)] = &[
    ("cpu-cycles", "cycles", 0, 1_000_000),
    ("instructions", "", 1, 1_000_000),
    ("cache-references", "", 2, 1_000_000),
    ("cache-misses", "", 3, 1_000_000),
    ("branch-instructions", "branches", 4, 100_000),
    ("branch-misses", "", 5, 100_000),
    ("bus-cycles", "", 6, 100_000),
    ("frontend-stalls", "", 7, 1_000_000),
    ("backend-stalls", "", 8, 1_000_000),
    ("ref-cycles", "", 9, 1_000_000),
];

/// Tracepoints whose names share a word with `function`, to suggest instead of a kprobe.
fn suggest_tracepoints(kernel: &dyn KernelInfo, function: &str) -> Vec<String> {
    let word = function
        .trim_start_matches("__x64_sys_")
        .trim_start_matches("__arm64_sys_")
        .trim_start_matches("vfs_")
        .trim_start_matches("do_")
        .trim_start_matches("sys_")
        .trim_end_matches('*');
    let Ok(all) = kernel.tracepoints() else {
        return Vec::new();
    };
    if word.len() < 2 {
        return Vec::new();
    }
    // Exact syscall tracepoints first, then other events naming the word.
    let mut exact: Vec<String> = all
        .iter()
        .filter(|(category, event)| {
            category == "syscalls"
                && (event == &format!("sys_enter_{word}") || event == &format!("sys_exit_{word}"))
        })
        .map(|(c, e)| format!("tracepoint:{c}:{e}"))
        .collect();
    let mut related: Vec<String> = all
        .iter()
        .filter(|(category, event)| category != "syscalls" && event.contains(word))
        .map(|(c, e)| format!("tracepoint:{c}:{e}"))
        .collect();
    exact.sort();
    related.sort();
    exact.extend(related);
    exact.truncate(4);
    exact
}

fn missing_facility(
    kernel: &dyn KernelInfo,
    point: &ast::AttachPoint,
    what: &str,
    why: &str,
) -> Diagnostic {
    let function = point.parts.last().cloned().unwrap_or_default();
    let mut diagnostic = Diagnostic::error(point.span, format!("{}: {what} {why}", point.raw));
    let suggestions = suggest_tracepoints(kernel, &function);
    if suggestions.is_empty() {
        diagnostic = diagnostic.with_hint(
            "use a tracepoint instead: list them with scry -l 'tracepoint:*'".to_string(),
        );
    } else {
        diagnostic = diagnostic.with_hint(format!(
            "use a tracepoint instead, e.g. {}",
            suggestions.join(", ")
        ));
    }
    diagnostic
}

fn expand_point(
    point: &ast::AttachPoint,
    kernel: &dyn KernelInfo,
    options: &Options,
    diagnostics: &mut Diagnostics,
) -> Vec<Target> {
    let parts: Vec<String> = point
        .parts
        .iter()
        .map(|p| substitute_positional(p, options))
        .collect();
    let bad = |diagnostics: &mut Diagnostics, msg: String| {
        diagnostics.push(Diagnostic::error(point.span, msg));
        Vec::new()
    };
    match point.provider.as_str() {
        "BEGIN" | "begin" => vec![Target::Begin],
        "END" | "end" => vec![Target::End],
        "tracepoint" => {
            let [category, event] = parts.as_slice() else {
                return bad(
                    diagnostics,
                    format!(
                        "Invalid tracepoint: {}: expected tracepoint:category:event",
                        point.raw
                    ),
                );
            };
            let all = match kernel.tracepoints() {
                Ok(all) => all,
                Err(err) => return bad(diagnostics, format!("cannot list tracepoints: {err}")),
            };
            let mut targets = Vec::new();
            for (c, e) in all
                .iter()
                .filter(|(c, e)| glob(category, c) && glob(event, e))
            {
                match kernel.tracepoint_format(c, e) {
                    Ok(format) => targets.push(Target::Tracepoint(format)),
                    // Wildcards can match events whose format is unreadable; skip them there.
                    Err(err) if !category.contains(['*', '?']) && !event.contains(['*', '?']) => {
                        return bad(diagnostics, format!("tracepoint {c}:{e}: {err}"));
                    }
                    Err(_) => {}
                }
            }
            if targets.is_empty() {
                return bad(
                    diagnostics,
                    format!("tracepoint not found: {category}:{event}"),
                );
            }
            targets
        }
        "interval" | "profile" => {
            let rate = rate_parts(&parts)
                .and_then(|(unit, value)| Some((parse_rate(&unit, &value)?, unit, value)));
            let Some(((period_ns, hz), unit, value)) = rate else {
                return bad(
                    diagnostics,
                    format!(
                        "Invalid rate of {}: {} (expected s, ms, us or hz, and a positive count)",
                        point.provider, point.raw
                    ),
                );
            };
            let text = format!("{unit}:{value}");
            if point.provider == "interval" {
                let period_ns = period_ns.unwrap_or_else(|| 1_000_000_000 / hz.unwrap_or(1).max(1));
                vec![Target::Interval { period_ns, text }]
            } else {
                vec![Target::Profile {
                    period_ns,
                    hz,
                    text,
                }]
            }
        }
        "software" => {
            let Some(name) = parts.first() else {
                return bad(
                    diagnostics,
                    format!("Invalid software probe: {}", point.raw),
                );
            };
            let Some(&(full, _, config, default_period)) = SOFTWARE_EVENTS
                .iter()
                .find(|(n, alias, _, _)| n == name || (!alias.is_empty() && alias == name))
            else {
                return bad(diagnostics, format!("Invalid software event: {name}"));
            };
            let period = match parts.get(1) {
                Some(count) => match count.parse::<u64>() {
                    Ok(n) if n > 0 => n,
                    _ => {
                        return bad(
                            diagnostics,
                            format!("Invalid count for software probe: {count}"),
                        );
                    }
                },
                None => default_period,
            };
            vec![Target::Software {
                config,
                period,
                text: format!("{full}:{period}"),
            }]
        }
        "rawtracepoint" => {
            let Some(name) = parts.last() else {
                return bad(diagnostics, format!("Invalid rawtracepoint: {}", point.raw));
            };
            if name.contains(['*', '?']) {
                let all = kernel.tracepoints().unwrap_or_default();
                let mut names: Vec<String> = all
                    .into_iter()
                    .filter(|(_, e)| glob(name, e))
                    .map(|(_, e)| e)
                    .collect();
                names.sort();
                names.dedup();
                if names.is_empty() {
                    return bad(diagnostics, format!("rawtracepoint not found: {name}"));
                }
                return names
                    .into_iter()
                    .map(|name| Target::RawTracepoint { name })
                    .collect();
            }
            if !kernel.has_raw_tracepoint(name) {
                return bad(diagnostics, format!("rawtracepoint not found: {name}"));
            }
            vec![Target::RawTracepoint { name: name.clone() }]
        }
        "usdt" => {
            let (file, provider, name) = match parts.as_slice() {
                [file, provider, name] => (file.clone(), provider.clone(), name.clone()),
                [file, name] => (file.clone(), "*".to_string(), name.clone()),
                _ => {
                    let message = format!(
                        "Invalid usdt probe: {} (expected usdt:PATH:[PROVIDER:]NAME)",
                        point.raw
                    );
                    return bad(diagnostics, message);
                }
            };
            match kernel.usdt_probes(&file, &provider, &name, options.pid) {
                Ok(found) if found.is_empty() => bad(
                    diagnostics,
                    format!(
                        "No probes to attach: no USDT probe matches {provider}:{name} in {file}"
                    ),
                ),
                Ok(found) => found.into_iter().map(Target::Usdt).collect(),
                Err(err) => bad(diagnostics, format!("{}: {err}", point.raw)),
            }
        }
        "uprobe" | "uretprobe" => {
            let ret = point.provider == "uretprobe";
            let (file, function) = match parts.as_slice() {
                [file, function] => (file.clone(), function.clone()),
                _ => {
                    let message = format!(
                        "Invalid {} probe: {} (expected {}:PATH:FUNCTION)",
                        point.provider, point.raw, point.provider
                    );
                    return bad(diagnostics, message);
                }
            };
            // FUNCTION, FUNCTION+OFFSET or 0xADDRESS (an address is resolved like a symbol).
            let (pattern, extra) = match function.split_once('+') {
                Some((f, off)) => match parse_number(off) {
                    Some(n) => (f.to_string(), n),
                    None => return bad(diagnostics, format!("Invalid offset in {}", point.raw)),
                },
                None => (function.clone(), 0),
            };
            match kernel.uprobe_symbols(&file, &pattern, options.pid) {
                Ok(found) if found.is_empty() => {
                    let message =
                        format!("No probes to attach: no function matches {pattern} in {file}");
                    bad(diagnostics, message)
                }
                Ok(found) => found
                    .into_iter()
                    .map(|s| Target::Uprobe {
                        path: s.path,
                        symbol: if extra > 0 {
                            format!("{}+{extra}", s.symbol)
                        } else {
                            s.symbol
                        },
                        offset: s.offset + extra,
                        ret,
                    })
                    .collect(),
                Err(err) => bad(diagnostics, format!("{}: {err}", point.raw)),
            }
        }
        "kprobe" | "kretprobe" if !kernel.has_kprobes() => {
            diagnostics.push(missing_facility(
                kernel,
                point,
                "kprobes are not available on this kernel",
                "(it was built without CONFIG_KPROBES: there is no kprobe PMU and no kprobe_events in tracefs)",
            ));
            Vec::new()
        }
        "fentry" | "fexit" if !kernel.has_fentry() => {
            diagnostics.push(missing_facility(
                kernel,
                point,
                "fentry/fexit programs cannot be loaded on this kernel",
                "(the kernel refuses BPF trampolines: loading a tracing program fails with EPERM)",
            ));
            Vec::new()
        }
        "fentry" | "fexit" => {
            let ret = point.provider == "fexit";
            let Some(function) = parts.last().cloned() else {
                return bad(
                    diagnostics,
                    format!("Invalid {} probe: {}", point.provider, point.raw),
                );
            };
            let Some(btf) = kernel.btf() else {
                return bad(
                    diagnostics,
                    format!(
                        "{}: fentry/fexit need the kernel's BTF, and this kernel has none",
                        point.raw
                    ),
                );
            };
            let (Some(id), Ok(Some(signature))) = (
                btf.find(&function, scry_btf::Kind::Func),
                btf.func_proto(&function),
            ) else {
                return bad(
                    diagnostics,
                    format!("{}: no kernel function {function} in BTF", point.raw),
                );
            };
            vec![Target::Fentry {
                function,
                btf_id: id.0,
                nargs: signature.params.len() as u32,
                ret,
            }]
        }
        "hardware" if kernel.has_hardware_pmu() => {
            let Some(name) = parts.first() else {
                return bad(
                    diagnostics,
                    format!("Invalid hardware probe: {}", point.raw),
                );
            };
            let Some(&(full, _, config, default_period)) = HARDWARE_EVENTS
                .iter()
                .find(|(n, alias, _, _)| n == name || (!alias.is_empty() && alias == name))
            else {
                return bad(diagnostics, format!("Invalid hardware event: {name}"));
            };
            let period = match parts.get(1).map(|c| c.parse::<u64>()) {
                Some(Ok(n)) if n > 0 => n,
                Some(_) => {
                    return bad(
                        diagnostics,
                        format!("Invalid count for hardware probe: {}", point.raw),
                    );
                }
                None => default_period,
            };
            vec![Target::Hardware {
                config,
                period,
                text: format!("{full}:{period}"),
            }]
        }
        "kprobe" | "kretprobe" => {
            let ret = point.provider == "kretprobe";
            let (function, offset) = match parts.as_slice() {
                [function] | [_, function] => match function.split_once('+') {
                    Some((f, off)) => match parse_number(off) {
                        Some(n) => (f.to_string(), n),
                        None => {
                            return bad(diagnostics, format!("Invalid offset in {}", point.raw));
                        }
                    },
                    None => (function.clone(), 0),
                },
                _ => {
                    return bad(
                        diagnostics,
                        format!("Invalid {} probe: {}", point.provider, point.raw),
                    );
                }
            };
            if function.contains(['*', '?']) {
                return bad(
                    diagnostics,
                    format!(
                        "{}: wildcards in kernel function names are not supported by scry yet",
                        point.raw
                    ),
                );
            }
            vec![Target::Kprobe {
                function,
                offset,
                ret,
            }]
        }
        "hardware" => {
            diagnostics.push(missing_facility(
                kernel,
                point,
                "hardware perf events are not available on this machine",
                "(there is no CPU PMU, as is usual in virtual machines); use software:cpu-clock or profile:hz:N for sampling",
            ));
            Vec::new()
        }
        other => bad(
            diagnostics,
            format!(
                "{other} probes are not supported by scry yet (supported here: BEGIN, END, tracepoint, rawtracepoint, uprobe, uretprobe, usdt, interval, profile, software)"
            ),
        ),
    }
}

fn parse_number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Replaces `$N` in an attach point part with positional parameter N.
fn substitute_positional(part: &str, options: &Options) -> String {
    let mut out = String::new();
    let mut chars = part.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            let mut digits = String::new();
            while let Some(d) = chars.peek().copied().filter(|d| d.is_ascii_digit()) {
                digits.push(d);
                chars.next();
            }
            let index: usize = digits.parse().unwrap_or(0);
            out.push_str(
                index
                    .checked_sub(1)
                    .and_then(|i| options.positional.get(i))
                    .map(String::as_str)
                    .unwrap_or(""),
            );
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs the pass.
pub fn run(
    program: &ast::Program,
    kernel: &dyn KernelInfo,
    options: &Options,
    diagnostics: &mut Diagnostics,
) -> Vec<ProbeInfo> {
    program
        .probes
        .iter()
        .map(|probe| {
            let mut targets = Vec::new();
            for point in &probe.attach_points {
                targets.extend(expand_point(point, kernel, options, diagnostics));
            }
            ProbeInfo { targets }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::StaticKernel;

    fn expand(src: &str) -> (Vec<ProbeInfo>, Vec<String>) {
        let parsed = scry_syntax::parse(src);
        assert!(!parsed.diagnostics.has_errors(), "{:?}", parsed.diagnostics);
        let mut diagnostics = Diagnostics::default();
        let probes = run(
            &parsed.program,
            &StaticKernel::sample(),
            &Options::default(),
            &mut diagnostics,
        );
        let messages = diagnostics.iter().map(|d| {
            let mut m = d.message.clone();
            for h in &d.hints {
                m.push_str(" | ");
                m.push_str(h);
            }
            m
        });
        (probes, messages.collect())
    }

    #[test]
    fn globs() {
        assert!(glob("sys_enter_*", "sys_enter_openat"));
        assert!(glob("block_rq_i*", "block_rq_issue"));
        assert!(glob("*", ""));
        assert!(glob("a?c", "abc"));
        assert!(!glob("sys_enter_*", "sys_exit_read"));
        assert!(glob("*_read", "sys_exit_read"));
    }

    #[test]
    fn tracepoint_wildcards_expand() {
        let (probes, errors) = expand("tracepoint:syscalls:sys_enter_* { }");
        assert!(errors.is_empty());
        let names: Vec<String> = probes[0].targets.iter().map(Target::probe_name).collect();
        assert_eq!(
            names,
            [
                "tracepoint:syscalls:sys_enter_openat",
                "tracepoint:syscalls:sys_enter_read"
            ]
        );
    }

    #[test]
    fn unknown_tracepoint_is_named() {
        let (_, errors) = expand("tracepoint:nope:nothing { }");
        assert_eq!(errors, ["tracepoint not found: nope:nothing"]);
    }

    #[test]
    fn kprobe_error_names_facility_and_suggests_tracepoints() {
        let (_, errors) = expand("kprobe:vfs_read { }");
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].contains("kprobes are not available on this kernel"),
            "{}",
            errors[0]
        );
        assert!(errors[0].contains("CONFIG_KPROBES"), "{}", errors[0]);
        assert!(
            errors[0].contains("tracepoint:syscalls:sys_enter_read"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn intervals_and_software() {
        let (probes, errors) =
            expand("interval:ms:100 { } interval:2s { } profile:hz:99 { } software:faults { }");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            probes[0].targets[0],
            Target::Interval {
                period_ns: 100_000_000,
                text: "ms:100".into()
            }
        );
        assert_eq!(
            probes[1].targets[0],
            Target::Interval {
                period_ns: 2_000_000_000,
                text: "s:2".into()
            }
        );
        assert_eq!(probes[2].targets[0].probe_name(), "profile:hz:99");
        assert_eq!(
            probes[3].targets[0],
            Target::Software {
                config: 2,
                period: 100,
                text: "page-faults:100".into()
            }
        );
        let (_, errors) = expand("interval:parsec:1 { }");
        assert_eq!(errors.len(), 1);
    }
}
