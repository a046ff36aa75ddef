//! The kernel build configuration: the options tracing depends on, each with what it means.
//!
//! Read from `/proc/config.gz` (gzip, `CONFIG_IKCONFIG_PROC`) or `/boot/config-$(uname -r)`.
//! These lines only explain the tries above: a kernel may have an option and still refuse
//! the feature (lockdown, sysctls, a missing PMU), which is why the rest of the doctor tries.

use std::io::Read;

use crate::report::{Check, Section, Status};

/// The options and what they give a scry user.
pub const OPTIONS: &[(&str, &str)] = &[
    (
        "CONFIG_BPF",
        "the BPF subsystem: nothing in scry works without it",
    ),
    (
        "CONFIG_BPF_SYSCALL",
        "the bpf() system call: needed to create maps and load programs",
    ),
    (
        "CONFIG_BPF_JIT",
        "programs run as machine code (else interpreted, slower)",
    ),
    (
        "CONFIG_HAVE_EBPF_JIT",
        "this architecture has an eBPF JIT compiler",
    ),
    (
        "CONFIG_BPF_EVENTS",
        "BPF programs on tracepoints, kprobes and uprobes",
    ),
    (
        "CONFIG_TRACEPOINTS",
        "tracepoint: and rawtracepoint: probes",
    ),
    (
        "CONFIG_FTRACE_SYSCALLS",
        "the syscalls:sys_enter_*/sys_exit_* tracepoints",
    ),
    (
        "CONFIG_KPROBES",
        "kprobe:/kretprobe: (without it use tracepoint:/rawtracepoint:)",
    ),
    (
        "CONFIG_KPROBE_EVENTS",
        "kprobes created through tracefs/perf (kprobe PMU)",
    ),
    (
        "CONFIG_UPROBES",
        "uprobe:/uretprobe:/usdt: probes on user programs",
    ),
    (
        "CONFIG_UPROBE_EVENTS",
        "uprobes created through tracefs/perf (uprobe PMU)",
    ),
    (
        "CONFIG_PERF_EVENTS",
        "profile:, interval:, software: and hardware: probes",
    ),
    (
        "CONFIG_DEBUG_INFO_BTF",
        "kernel types (BTF): struct fields, fentry/fexit, typed arguments",
    ),
    (
        "CONFIG_FUNCTION_TRACER",
        "fentry/fexit trampolines need the function tracer",
    ),
    (
        "CONFIG_DYNAMIC_FTRACE",
        "fentry/fexit trampolines need dynamic ftrace",
    ),
];

/// The kernel configuration text, if it can be read (at most 16 MiB).
pub fn read_kernel_config() -> Option<String> {
    const LIMIT: u64 = 16 << 20;
    if let Ok(file) = std::fs::File::open("/proc/config.gz") {
        let mut text = String::new();
        if flate2::read::GzDecoder::new(file)
            .take(LIMIT)
            .read_to_string(&mut text)
            .is_ok()
        {
            return Some(text);
        }
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    let file = std::fs::File::open(format!("/boot/config-{}", release.trim())).ok()?;
    let mut text = String::new();
    file.take(LIMIT).read_to_string(&mut text).ok()?;
    Some(text)
}

/// The value of `option` in `config`: `Some("y")`, `Some("m")`, `Some("\"x\"")`, or `None`
/// when it is not set or absent.
pub fn value<'a>(config: &'a str, option: &str) -> Option<&'a str> {
    config.lines().find_map(|line| {
        let (name, value) = line.split_once('=')?;
        (name.trim() == option).then(|| value.trim())
    })
}

/// One finding per option of [`OPTIONS`]; all unknown without a configuration.
pub fn checks(config: Option<&str>) -> Vec<Check> {
    OPTIONS
        .iter()
        .map(|(option, meaning)| match config {
            None => Check::new(
                Section::KernelConfig,
                *option,
                Status::Unknown,
                "no /proc/config.gz or /boot/config-$(uname -r) to read",
                *meaning,
            ),
            Some(text) => match value(text, option) {
                Some(v) if v != "n" => Check::yes_no(
                    Section::KernelConfig,
                    *option,
                    true,
                    format!("={v}"),
                    *meaning,
                ),
                _ => Check::yes_no(Section::KernelConfig, *option, false, "not set", *meaning),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "CONFIG_BPF=y\nCONFIG_UPROBES=m\n# CONFIG_KPROBES is not set\n\
                          CONFIG_X=\"a=b\"\n";

    #[test]
    fn values() {
        assert_eq!(value(SAMPLE, "CONFIG_BPF"), Some("y"));
        assert_eq!(value(SAMPLE, "CONFIG_UPROBES"), Some("m"));
        assert_eq!(value(SAMPLE, "CONFIG_KPROBES"), None);
        assert_eq!(value(SAMPLE, "CONFIG_X"), Some("\"a=b\""));
        assert_eq!(value(SAMPLE, "CONFIG_BP"), None);
    }

    #[test]
    fn findings() {
        let c = checks(Some(SAMPLE));
        assert_eq!(c.len(), OPTIONS.len());
        let get = |n: &str| c.iter().find(|c| c.name == n).map(|c| c.status);
        assert_eq!(get("CONFIG_BPF"), Some(Status::Available));
        assert_eq!(get("CONFIG_UPROBES"), Some(Status::Available));
        assert_eq!(get("CONFIG_KPROBES"), Some(Status::Unavailable));
        assert!(checks(None).iter().all(|c| c.status == Status::Unknown));
    }

    #[test]
    fn this_machine_has_a_readable_config_with_bpf() {
        // Every kernel scry supports has BPF; where the config is readable it must say so.
        if let Some(text) = read_kernel_config() {
            assert_eq!(
                value(&text, "CONFIG_BPF"),
                Some("y"),
                "{}",
                &text[..200.min(text.len())]
            );
        }
    }
}
