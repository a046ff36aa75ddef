//! `scry doctor`: an honest answer to "what can I trace on this machine?".
//!
//! Every probe kind, program type, map type and helper is checked by really doing it:
//! maps are created, trivial programs loaded (helpers are called from a loaded program, so
//! the verifier decides), and programs attached to a tracepoint, a raw tracepoint, a uprobe
//! on this very executable, a software perf event, a kprobe (through the kprobe PMU) and an
//! fentry trampoline. Facts that cannot be tried are read: privileges from
//! `/proc/self/status`, BTF and tracefs, and the kernel configuration from `/proc/config.gz`
//! or `/boot/config-$(uname -r)`. Each finding says what it means for the user.
//!
//! Everything opened is an owned file descriptor dropped before [`run`] returns.

pub mod config;
pub mod elf;
pub mod probe;
pub mod report;
pub mod system;

pub use report::{Check, Report, Section, Status};

/// Runs every check.
pub fn run() -> Report {
    let mut checks = Vec::new();
    checks.extend(system::privileges());
    checks.extend(system::facilities());
    checks.extend(probe::probe_kinds());
    checks.extend(probe::program_types());
    checks.extend(probe::map_types());
    checks.extend(probe::helpers());
    checks.extend(config::checks(config::read_kernel_config().as_deref()));
    Report { checks }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_section_is_reported() {
        let report = super::run();
        println!("{}", report.to_text());
        for section in [
            super::Section::Privileges,
            super::Section::Facilities,
            super::Section::ProbeKinds,
            super::Section::ProgramTypes,
            super::Section::MapTypes,
            super::Section::Helpers,
            super::Section::KernelConfig,
        ] {
            assert!(
                report.checks.iter().any(|c| c.section == section),
                "{section:?}"
            );
        }
        assert!(report.get("tracepoint").is_some() && report.get("kprobe").is_some());
    }
}
