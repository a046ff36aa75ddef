//! Attach-point splitting and provider alias expansion.

use crate::ast::AttachPoint;
use scry_diagnostics::Span;

/// Expands a provider alias to bpftrace's canonical provider name.
/// Unknown names are returned unchanged (semantic analysis reports them).
pub fn canonical_provider(name: &str) -> &str {
    match name {
        "t" => "tracepoint",
        "rt" => "rawtracepoint",
        "u" => "uprobe",
        "ur" => "uretprobe",
        "U" => "usdt",
        "s" => "software",
        "h" => "hardware",
        "p" => "profile",
        "i" => "interval",
        "k" => "kprobe",
        "kr" => "kretprobe",
        "f" | "kfunc" => "fentry",
        "fr" | "kretfunc" => "fexit",
        "w" => "watchpoint",
        "aw" => "asyncwatchpoint",
        "it" => "iter",
        "begin" | "BEGIN" => "BEGIN",
        "end" | "END" => "END",
        other => other,
    }
}

/// Splits raw attach-point text at `:` (outside double quotes) into provider and parts.
pub fn split_attach_point(raw: &str, span: Span) -> AttachPoint {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => in_quotes = !in_quotes,
            '\\' if in_quotes => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            ':' if !in_quotes => segments.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    segments.push(current);
    let provider = canonical_provider(&segments[0]).to_string();
    AttachPoint {
        raw: raw.to_string(),
        provider,
        parts: segments.into_iter().skip(1).collect(),
        span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(raw: &str) -> (String, Vec<String>) {
        let ap = split_attach_point(raw, Span::default());
        assert_eq!(ap.raw, raw);
        (ap.provider, ap.parts)
    }

    #[test]
    fn providers_and_parts() {
        assert_eq!(split("BEGIN"), ("BEGIN".into(), vec![]));
        assert_eq!(split("end"), ("END".into(), vec![]));
        assert_eq!(
            split("t:syscalls:sys_enter_*"),
            (
                "tracepoint".into(),
                vec!["syscalls".into(), "sys_enter_*".into()]
            )
        );
        assert_eq!(
            split("uprobe:/bin/bash:readline"),
            ("uprobe".into(), vec!["/bin/bash".into(), "readline".into()])
        );
        assert_eq!(
            split("usdt:/p:prov:name"),
            (
                "usdt".into(),
                vec!["/p".into(), "prov".into(), "name".into()]
            )
        );
        assert_eq!(split("kfunc:vfs_read").0, "fentry");
        assert_eq!(split("kretfunc:vfs_read").0, "fexit");
        assert_eq!(split("interval:1s"), ("interval".into(), vec!["1s".into()]));
        assert_eq!(
            split("i:ms:$1"),
            ("interval".into(), vec!["ms".into(), "$1".into()])
        );
        assert_eq!(
            split("uprobe:\"/a b\":\"ns::f\""),
            ("uprobe".into(), vec!["/a b".into(), "ns::f".into()])
        );
        assert_eq!(split("nosuch:x").0, "nosuch");
    }
}
