//! Facts read rather than tried: privileges, sysctls, BTF, tracefs, the JIT, kallsyms.

use crate::report::{Check, Section, Status};

/// `(name, bit)` of the capabilities tracing needs.
const CAPS: &[(&str, u32, &str)] = &[
    (
        "CAP_SYS_ADMIN",
        21,
        "all of BPF and perf (the only way before Linux 5.8)",
    ),
    (
        "CAP_BPF",
        39,
        "creating maps and loading programs (Linux 5.8+)",
    ),
    (
        "CAP_PERFMON",
        38,
        "attaching to tracepoints, kprobes, uprobes and perf events (5.8+)",
    ),
];

/// The effective uid and `CapEff` mask from a `/proc/PID/status` text.
pub fn parse_status(status: &str) -> (Option<u32>, Option<u64>) {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
    };
    let euid = field("Uid:").and_then(|v| v.split_whitespace().nth(1)?.parse().ok());
    let caps = field("CapEff:").and_then(|v| u64::from_str_radix(v, 16).ok());
    (euid, caps)
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Root, capabilities and the sysctls that gate BPF and perf.
pub fn privileges() -> Vec<Check> {
    let s = Section::Privileges;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let (euid, caps) = parse_status(&status);
    let mut out = vec![Check::yes_no(
        s,
        "root",
        euid == Some(0),
        match euid {
            Some(id) => format!("effective uid {id}"),
            None => "effective uid unknown".into(),
        },
        if euid == Some(0) {
            ""
        } else {
            "scry needs root, or CAP_BPF + CAP_PERFMON"
        },
    )];
    for (name, bit, meaning) in CAPS {
        let has = caps.is_some_and(|c| c & (1 << bit) != 0);
        out.push(Check::yes_no(
            s,
            *name,
            has,
            if has {
                "in the effective set"
            } else {
                "not in the effective set"
            },
            *meaning,
        ));
    }
    let unpriv = read_trimmed("/proc/sys/kernel/unprivileged_bpf_disabled");
    out.push(Check::new(
        s,
        "kernel.unprivileged_bpf_disabled",
        Status::Info,
        unpriv
            .clone()
            .map_or("unreadable".into(), |v| format!("= {v}")),
        match unpriv.as_deref() {
            Some("0") => "users without CAP_BPF may load some programs",
            Some(_) => "only privileged users may use bpf() (normal: run scry as root)",
            None => "",
        },
    ));
    let paranoid = read_trimmed("/proc/sys/kernel/perf_event_paranoid");
    out.push(Check::new(
        s,
        "kernel.perf_event_paranoid",
        Status::Info,
        paranoid
            .clone()
            .map_or("unreadable".into(), |v| format!("= {v}")),
        "with CAP_PERFMON or root this does not matter; otherwise values above 1 forbid tracing",
    ));
    let lockdown = read_trimmed("/sys/kernel/security/lockdown");
    let locked = lockdown
        .as_deref()
        .is_some_and(|l| l.contains("[integrity]") || l.contains("[confidentiality]"));
    out.push(Check::yes_no(
        s,
        "no kernel lockdown",
        !locked,
        lockdown.unwrap_or_else(|| "no lockdown LSM".into()),
        if locked {
            "lockdown forbids reading kernel memory: kstack, struct fields and probe_read fail"
        } else {
            ""
        },
    ));
    out
}

/// BTF, tracefs, the JIT and kallsyms.
pub fn facilities() -> Vec<Check> {
    let s = Section::Facilities;
    let mut out = Vec::new();
    let btf = std::fs::read("/sys/kernel/btf/vmlinux")
        .map_err(|e| e.to_string())
        .and_then(|b| scry_btf::Btf::parse(b).map_err(|e| e.to_string()));
    match &btf {
        Ok(btf) => {
            let modules = std::fs::read_dir("/sys/kernel/btf")
                .map(|d| d.count().saturating_sub(1))
                .unwrap_or(0);
            out.push(Check::yes_no(
                s,
                "BTF",
                true,
                format!(
                    "/sys/kernel/btf/vmlinux: {} types, {modules} modules",
                    btf.type_count()
                ),
                "struct fields, casts, sizeof, typed rawtracepoint arguments work without headers",
            ));
        }
        Err(e) => out.push(Check::yes_no(
            s,
            "BTF",
            false,
            format!("/sys/kernel/btf/vmlinux: {e}"),
            "no kernel types: curtask->field, casts to kernel structs and fentry are unavailable",
        )),
    }
    match scry_runtime::tracefs::Tracefs::open() {
        Ok(t) => {
            let events = t.available_events().map(|e| e.lines().count()).unwrap_or(0);
            out.push(Check::yes_no(
                s,
                "tracefs",
                events > 0,
                format!("{}: {events} events", t.root().display()),
                "tracepoint: probes and their argument formats (scry -lv)",
            ));
        }
        Err(e) => out.push(Check::yes_no(
            s,
            "tracefs",
            false,
            e.to_string(),
            "no tracepoint: probes; mount tracefs on /sys/kernel/tracing",
        )),
    }
    let jit = read_trimmed("/proc/sys/net/core/bpf_jit_enable");
    out.push(Check::yes_no(
        s,
        "BPF JIT",
        jit.as_deref().is_some_and(|v| v != "0"),
        jit.map_or("net.core.bpf_jit_enable unreadable".into(), |v| {
            format!("net.core.bpf_jit_enable = {v}")
        }),
        "programs run as native code",
    ));
    let kallsyms = std::fs::read_to_string("/proc/kallsyms").unwrap_or_default();
    let real = kallsyms.lines().take(100).any(|l| {
        l.split_whitespace()
            .next()
            .is_some_and(|a| !a.trim_start_matches('0').is_empty())
    });
    out.push(Check::yes_no(
        s,
        "kallsyms",
        real,
        if real {
            "/proc/kallsyms shows addresses"
        } else {
            "/proc/kallsyms hides addresses (kptr_restrict) or is missing"
        },
        "kernel stacks (kstack) and ksym() are symbolized",
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_parsing() {
        let text = "Name:\tx\nUid:\t1000\t0\t0\t0\nCapEff:\t000001ffffffffff\n";
        assert_eq!(parse_status(text), (Some(0), Some(0x1ff_ffff_ffff)));
        assert_eq!(parse_status("garbage"), (None, None));
    }

    #[test]
    fn privilege_lines_are_all_there() {
        let names: Vec<String> = privileges().into_iter().map(|c| c.name).collect();
        for n in [
            "root",
            "CAP_BPF",
            "CAP_PERFMON",
            "CAP_SYS_ADMIN",
            "kernel.perf_event_paranoid",
        ] {
            assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
        }
    }
}
