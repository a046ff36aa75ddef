//! Stack and symbol text in bpftrace's formats.
//!
//! Observed on bpftrace 0.17: a stack text starts with a newline and every frame
//! ends with one. `bpftrace` mode prints `sym+off` indented (8 spaces in `printf`, 4
//! in map keys); `perf` mode prints `\t<hex addr> sym+off`, user frames followed by
//! ` (module)`; `raw` mode (bpftrace ≥ 0.18) prints the bare hex address. Unknown
//! frames print as `0x<hex>` (user `perf` frames: `0x<hex> ([unknown])`).

use std::fmt::Write as _;

use crate::Sym;

/// bpftrace's stack modes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StackMode {
    /// `sym+off` per line, indented.
    #[default]
    Bpftrace,
    /// `\taddr sym+off (module)` per line, like `perf script`.
    Perf,
    /// Hex addresses only.
    Raw,
}

impl StackMode {
    /// The mode for a name used in scripts (`bpftrace`, `perf`, `raw`).
    pub fn from_name(name: &str) -> Option<StackMode> {
        match name {
            "bpftrace" => Some(StackMode::Bpftrace),
            "perf" => Some(StackMode::Perf),
            "raw" => Some(StackMode::Raw),
            _ => None,
        }
    }

    /// The name used in scripts.
    pub fn name(self) -> &'static str {
        match self {
            StackMode::Bpftrace => "bpftrace",
            StackMode::Perf => "perf",
            StackMode::Raw => "raw",
        }
    }
}

/// Whether a stack holds kernel or user addresses (user `perf` frames show modules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StackSpace {
    /// `kstack`.
    Kernel,
    /// `ustack`.
    User,
}

/// How to print a stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StackFormat {
    /// The mode.
    pub mode: StackMode,
    /// Print at most this many frames.
    pub limit: Option<usize>,
    /// Indentation of `bpftrace`-mode frames.
    pub indent: usize,
}

impl StackFormat {
    /// As printed by `printf("%s", kstack)`: indent 8.
    pub fn printf(mode: StackMode) -> StackFormat {
        StackFormat {
            mode,
            limit: None,
            indent: 8,
        }
    }

    /// As printed in a map key (`@[kstack]`): indent 4.
    pub fn map_key(mode: StackMode) -> StackFormat {
        StackFormat {
            mode,
            limit: None,
            indent: 4,
        }
    }

    /// Print at most `limit` frames.
    pub fn with_limit(self, limit: usize) -> StackFormat {
        StackFormat {
            limit: Some(limit),
            ..self
        }
    }
}

/// Frames up to the first zero address and the limit.
fn live_frames(
    frames: &[(u64, Option<Sym>)],
    limit: Option<usize>,
) -> impl Iterator<Item = &(u64, Option<Sym>)> {
    frames
        .iter()
        .take_while(|(addr, _)| *addr != 0)
        .take(limit.unwrap_or(usize::MAX))
}

/// Format a stack, innermost frame first, as bpftrace prints it. Frames stop at the
/// first zero address (the end of a fixed-size stack buffer) or at `fmt.limit`.
pub fn format_stack(frames: &[(u64, Option<Sym>)], space: StackSpace, fmt: &StackFormat) -> String {
    let mut out = String::from("\n");
    for (addr, sym) in live_frames(frames, fmt.limit) {
        match fmt.mode {
            StackMode::Bpftrace => {
                let _ = writeln!(
                    out,
                    "{:indent$}{}",
                    "",
                    format_sym(*addr, sym.as_ref(), true),
                    indent = fmt.indent
                );
            }
            StackMode::Perf => {
                let _ = write!(out, "\t{addr:x} {}", format_sym(*addr, sym.as_ref(), true));
                if space == StackSpace::User {
                    let module = sym
                        .as_ref()
                        .and_then(|s| s.module.as_deref())
                        .unwrap_or("[unknown]");
                    let _ = write!(out, " ({module})");
                }
                out.push('\n');
            }
            StackMode::Raw => {
                let _ = writeln!(out, "{addr:x}");
            }
        }
    }
    out
}

/// The text of one symbol as `ksym()`/`usym()` (no offset) or a stack frame (with
/// offset) prints it; unknown addresses print as `0x<hex>`.
pub fn format_sym(addr: u64, sym: Option<&Sym>, show_offset: bool) -> String {
    match sym {
        Some(s) if show_offset => format!("{}+{}", s.name, s.offset),
        Some(s) => s.name.clone(),
        None => format!("{addr:#x}"),
    }
}

/// Frame names without offsets (unknown: `0x<hex>`), in input order, up to the first
/// zero address: the frames of a folded stack.
pub fn frame_names(frames: &[(u64, Option<Sym>)]) -> Vec<String> {
    live_frames(frames, None)
        .map(|(addr, sym)| format_sym(*addr, sym.as_ref(), false))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(name: &str, offset: u64, module: Option<&str>) -> Option<Sym> {
        Some(Sym {
            name: name.to_owned(),
            offset,
            module: module.map(str::to_owned),
        })
    }

    fn kernel_frames() -> Vec<(u64, Option<Sym>)> {
        vec![
            (0xffffffff814b2b2d, sym("perf_syscall_enter", 397, None)),
            (0xffffffff81417d70, sym("syscall_trace_enter", 384, None)),
            (0xffffffff821ef81a, sym("do_syscall_64", 506, None)),
            (0, None),
            (0xffffffff81000130, sym("never_printed", 1, None)),
        ]
    }

    fn user_frames() -> Vec<(u64, Option<Sym>)> {
        vec![
            (0x55d5394cc14a, sym("busy_fn", 33, Some("/tmp/busy"))),
            (0x55d5394cc16d, sym("main", 20, Some("/tmp/busy"))),
            (0x7fe8ebc224e7, None),
        ]
    }

    #[test]
    fn bpftrace_mode_printf_and_key() {
        let f = kernel_frames();
        assert_eq!(
            format_stack(
                &f,
                StackSpace::Kernel,
                &StackFormat::printf(StackMode::Bpftrace)
            ),
            "\n        perf_syscall_enter+397\n        syscall_trace_enter+384\n        do_syscall_64+506\n"
        );
        assert_eq!(
            format_stack(
                &f,
                StackSpace::Kernel,
                &StackFormat::map_key(StackMode::Bpftrace).with_limit(2)
            ),
            "\n    perf_syscall_enter+397\n    syscall_trace_enter+384\n"
        );
        assert_eq!(
            format_stack(
                &user_frames(),
                StackSpace::User,
                &StackFormat::map_key(StackMode::Bpftrace)
            ),
            "\n    busy_fn+33\n    main+20\n    0x7fe8ebc224e7\n"
        );
    }

    #[test]
    fn perf_mode() {
        assert_eq!(
            format_stack(
                &kernel_frames(),
                StackSpace::Kernel,
                &StackFormat::printf(StackMode::Perf).with_limit(2)
            ),
            "\n\tffffffff814b2b2d perf_syscall_enter+397\n\tffffffff81417d70 syscall_trace_enter+384\n"
        );
        assert_eq!(
            format_stack(
                &user_frames(),
                StackSpace::User,
                &StackFormat::map_key(StackMode::Perf)
            ),
            "\n\t55d5394cc14a busy_fn+33 (/tmp/busy)\n\t55d5394cc16d main+20 (/tmp/busy)\n\t7fe8ebc224e7 0x7fe8ebc224e7 ([unknown])\n"
        );
    }

    #[test]
    fn raw_mode() {
        assert_eq!(
            format_stack(
                &user_frames(),
                StackSpace::User,
                &StackFormat::printf(StackMode::Raw)
            ),
            "\n55d5394cc14a\n55d5394cc16d\n7fe8ebc224e7\n"
        );
        assert_eq!(
            format_stack(
                &[],
                StackSpace::Kernel,
                &StackFormat::printf(StackMode::Raw)
            ),
            "\n"
        );
    }

    #[test]
    fn symbols_and_names() {
        let s = sym("busy_fn", 33, None);
        assert_eq!(format_sym(1, s.as_ref(), false), "busy_fn");
        assert_eq!(format_sym(1, s.as_ref(), true), "busy_fn+33");
        assert_eq!(format_sym(0xdead, None, true), "0xdead");
        assert_eq!(
            frame_names(&kernel_frames()),
            ["perf_syscall_enter", "syscall_trace_enter", "do_syscall_64"]
        );
        assert_eq!(frame_names(&user_frames())[2], "0x7fe8ebc224e7");
    }

    #[test]
    fn mode_names_round_trip() {
        for m in [StackMode::Bpftrace, StackMode::Perf, StackMode::Raw] {
            assert_eq!(StackMode::from_name(m.name()), Some(m));
        }
        assert_eq!(StackMode::from_name("build_id"), None);
    }
}
