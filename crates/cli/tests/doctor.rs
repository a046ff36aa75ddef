//! `scry doctor` on this machine: the kernel (6.18, built without kprobes, refusing BPF
//! trampolines) must be reported as it is, in text and in JSON.

mod common;

use std::collections::HashMap;

/// Status by check name from `scry doctor --json`.
fn statuses(json: &str) -> HashMap<String, String> {
    let v: serde_json::Value = serde_json::from_str(json).expect("doctor prints JSON");
    v["checks"]
        .as_array()
        .expect("a checks array")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_string(),
                c["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn doctor_reports_this_kernel() {
    if !common::can_trace("doctor_reports_this_kernel") {
        return;
    }
    let run = common::run_scry(&["doctor", "--json"]);
    assert_eq!(run.code(), 0, "{run:?}");
    let s = statuses(&run.stdout);
    let is = |name: &str, want: &str| {
        assert_eq!(
            s.get(name).map(String::as_str),
            Some(want),
            "{name} in {}",
            run.stdout
        );
    };
    for name in [
        "tracepoint",
        "rawtracepoint",
        "rawtracepoint (BTF)",
        "uprobe",
        "uretprobe",
        "perf event",
        "BTF",
        "tracefs",
        "root",
        "CONFIG_BPF",
        "CONFIG_BPF_SYSCALL",
        "CONFIG_BPF_JIT",
        "CONFIG_HAVE_EBPF_JIT",
        "CONFIG_BPF_EVENTS",
        "BPF_MAP_TYPE_RINGBUF",
        "BPF_PROG_TYPE_RAW_TRACEPOINT",
        "bpf_probe_read_kernel",
    ] {
        is(name, "available");
    }
    for name in ["kprobe", "kretprobe", "fentry", "CONFIG_KPROBES"] {
        is(name, "unavailable");
    }

    let text = common::run_scry(&["doctor"]);
    assert_eq!(text.code(), 0, "{text:?}");
    let line = |name: &str| {
        text.stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap_or_else(|| panic!("no {name} line in {}", text.stdout))
            .to_string()
    };
    assert!(
        line("kprobe").trim_start().starts_with("NO "),
        "{}",
        line("kprobe")
    );
    assert!(
        line("tracepoint").trim_start().starts_with("yes "),
        "{}",
        line("tracepoint")
    );
    // Each unavailable probe kind says what to use instead.
    assert!(
        text.stdout
            .contains("kprobe:/kretprobe: unavailable: use tracepoint: or rawtracepoint: instead"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("fentry:/fexit: unavailable"),
        "{}",
        text.stdout
    );
}

#[test]
fn doctor_rejects_unknown_flags() {
    let run = common::run_scry(&["doctor", "--bogus"]);
    assert_eq!(run.code(), 2, "{run:?}");
}
