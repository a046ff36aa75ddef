//! Maps of stacks and counts (`@[kstack(perf), ustack(perf), comm, pid] = count()`), read
//! back for profile and stackcount.

use scry_output::{AggValue, MapDump, Value};

use crate::printer::as_u64;

/// One frame of a perf-style stack (`ADDR sym+off (module)`): its address and BCC's name
/// (`sym`, `sym+0xoff` with `offset`, `[unknown]` when unresolved).
pub fn frame(text: &str, offset: bool) -> (u64, String) {
    let text = text.trim();
    let (addr, rest) = text.split_once(' ').unwrap_or((text, ""));
    let addr = u64::from_str_radix(addr.trim_start_matches("0x"), 16).unwrap_or(0);
    let symbol = match rest.rsplit_once(" (") {
        Some((sym, module)) if module.ends_with(')') => sym,
        _ => rest,
    }
    .trim();
    if symbol.is_empty() || symbol.starts_with("0x") || symbol.starts_with('[') {
        return (addr, "[unknown]".into());
    }
    let name = match symbol.rsplit_once('+') {
        Some((name, off)) if !name.is_empty() => match off.parse::<u64>() {
            Ok(n) if offset => format!("{name}+{n:#x}"),
            Ok(_) => name.to_string(),
            Err(_) => symbol.to_string(),
        },
        _ => symbol.to_string(),
    };
    (addr, name)
}

pub fn frames(value: Option<&Value>, offset: bool) -> Vec<(u64, String)> {
    match value {
        Some(Value::Stack(stack)) => stack.frames.iter().map(|f| frame(f, offset)).collect(),
        _ => Vec::new(),
    }
}

/// A frame: its address and name.
pub type Frame = (u64, String);

/// One counted stack.
pub struct Counted {
    pub kernel: Vec<Frame>,
    pub user: Vec<Frame>,
    pub comm: String,
    pub pid: u64,
    pub count: u64,
}

impl Counted {
    /// BCC's folded line: `[comm;]user outer..inner;[-;]kernel outer..inner count`, with
    /// `kernel_name` applied to kernel frames (profile's `_[k]` annotations).
    pub fn folded(
        &self,
        comm: bool,
        delimited: bool,
        kernel_name: impl Fn(&str) -> String,
    ) -> String {
        let mut parts = Vec::new();
        if comm {
            parts.push(self.comm.replace(';', "_"));
        }
        parts.extend(self.user.iter().rev().map(|(_, n)| n.clone()));
        if delimited {
            parts.push("-".into());
        }
        parts.extend(self.kernel.iter().rev().map(|(_, n)| kernel_name(n)));
        format!("{} {}\n", parts.join(";"), self.count)
    }
}

/// The stacks of a map keyed by `[kstack?, ustack?, comm?, pid?]` (the stacks that `kernel`
/// and `user` say are there), with their counts, fewest first as BCC prints them.
pub fn counted(dump: &MapDump, kernel: bool, user: bool, offset: bool) -> Vec<Counted> {
    let mut stacks: Vec<Counted> = dump
        .entries
        .iter()
        .map(|e| {
            let mut key = e.key.iter();
            let kernel = if kernel {
                frames(key.next(), offset)
            } else {
                Vec::new()
            };
            let user = if user {
                frames(key.next(), offset)
            } else {
                Vec::new()
            };
            let comm = match key.next() {
                Some(Value::Str(s)) => s.clone(),
                _ => String::new(),
            };
            let pid = key.next().map(as_u64).unwrap_or(0);
            let count = match e.value {
                AggValue::Int(i) => i.max(0) as u64,
                AggValue::UInt(u) => u,
                _ => 0,
            };
            Counted {
                kernel,
                user,
                comm,
                pid,
                count,
            }
        })
        .filter(|c| c.count > 0)
        .collect();
    stacks.sort_by_key(|c| c.count);
    stacks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse() {
        assert_eq!(
            frame("ffffffff814b2b2d perf_syscall_enter+397", false),
            (0xffffffff814b2b2d, "perf_syscall_enter".into())
        );
        assert_eq!(
            frame("7efd491ea503 clock_nanosleep+35 (/usr/lib/libc.so.6)", true).1,
            "clock_nanosleep+0x23"
        );
        assert_eq!(frame("55d975c81169 ", false).1, "[unknown]");
        assert_eq!(
            frame("0x55d975c81169", false),
            (0x55d975c81169, "[unknown]".into())
        );
    }
}
