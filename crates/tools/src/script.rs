//! Pieces shared by the tools' scripts and command lines.

use std::ffi::OsString;

use clap::Parser;
use scry_sema::KernelInfo;

use crate::ToolError;

/// Options every tool has.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Common {
    /// Print one JSON object per event (NDJSON) instead of columns.
    #[arg(long)]
    pub json: bool,
    /// Print the tool's scry script instead of running it (`scry FILE` runs it too).
    #[arg(long)]
    pub script: bool,
}

/// Parses a tool's command line (clap's `--help` and errors become [`ToolError::Usage`]).
pub fn parse<T: Parser>(name: &str, args: &[OsString]) -> Result<T, ToolError> {
    let argv = std::iter::once(OsString::from(name)).chain(args.iter().cloned());
    Ok(T::try_parse_from(argv)?)
}

/// A conjunction of conditions, rendered as a probe predicate (`/a && b/`) or nothing.
#[derive(Debug, Clone, Default)]
pub struct Predicate(Vec<String>);

impl Predicate {
    pub fn new() -> Predicate {
        Predicate::default()
    }

    /// The predicate every tool starts with: not scry itself (whose own opens, reads and
    /// exits while attaching would otherwise show up).
    pub fn tool() -> Predicate {
        Predicate::new().and(format!("pid != {}", std::process::id()))
    }

    /// Adds a condition.
    pub fn and(mut self, condition: impl Into<String>) -> Predicate {
        self.0.push(condition.into());
        self
    }

    /// Adds `condition` when `value` is set, with `{}` replaced by the value.
    pub fn and_if<V: std::fmt::Display>(self, value: Option<V>, condition: &str) -> Predicate {
        match value {
            Some(v) => self.and(condition.replace("{}", &v.to_string())),
            None => self,
        }
    }

    /// ` /a && b/` (with its leading space), or nothing.
    pub fn slashes(&self) -> String {
        if self.0.is_empty() {
            String::new()
        } else {
            format!(" /{}/", self.0.join(" && "))
        }
    }

    /// `a && b`, or `1`.
    pub fn expr(&self) -> String {
        if self.0.is_empty() {
            "1".into()
        } else {
            self.0.join(" && ")
        }
    }
}

/// A string literal of the language.
pub fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What an approximating tool says about the kernel-function probes it would need.
pub fn kernel_function_probes(kernel: &dyn KernelInfo) -> &'static str {
    if kernel.has_kprobes() {
        "this tool uses no kernel-function probes"
    } else if kernel.has_fentry() {
        "kernel function probes unavailable (no kprobes)"
    } else {
        "kernel function probes unavailable (no kprobes, fentry EPERM)"
    }
}

/// Whether tracepoint `category:name` exists.
pub fn has_tracepoint(kernel: &dyn KernelInfo, category: &str, name: &str) -> bool {
    kernel.tracepoint_format(category, name).is_ok()
}

/// The syscall tracepoints of `names` that exist (`sys_enter_NAME`), or an error naming what
/// is missing when none does.
pub fn syscalls<'a>(kernel: &dyn KernelInfo, names: &[&'a str]) -> Result<Vec<&'a str>, ToolError> {
    let found: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| has_tracepoint(kernel, "syscalls", &format!("sys_enter_{n}")))
        .collect();
    if found.is_empty() {
        return Err(ToolError::Unsupported(format!(
            "this kernel has none of the syscall tracepoints this tool needs \
             (syscalls:sys_enter_{{{}}}); is CONFIG_FTRACE_SYSCALLS set?",
            names.join(",")
        )));
    }
    Ok(found)
}

/// `tracepoint:syscalls:sys_enter_a, tracepoint:syscalls:sys_enter_b` (`which` is `enter` or
/// `exit`).
pub fn syscall_probes(names: &[&str], which: &str) -> String {
    names
        .iter()
        .map(|n| format!("tracepoint:syscalls:sys_{which}_{n}"))
        .collect::<Vec<_>>()
        .join(",\n")
}

/// The cgroup v2 id (inode number) of a cgroup directory, for `--cgroup PATH`.
pub fn cgroup_id(path: &str) -> Result<u64, ToolError> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .map(|m| m.ino())
        .map_err(|e| ToolError::BadArgument(format!("--cgroup {path}: {e}")))
}

/// The probes that print the maps of a histogram or counting tool, as BCC does: every
/// `interval` seconds (`count` times, then exit) and at the end (unless the count ended the
/// run). `print` is the statements that print and clear the maps; `time` prints a blank line
/// and an `HH:MM:SS` line before each report (renderers then add no blank line of their own).
pub fn report_every(interval: Option<u64>, count: Option<u64>, time: bool, print: &str) -> String {
    let stamp = if time {
        "time(\"\\n%H:%M:%S\\n\");\n  "
    } else {
        ""
    };
    let mut s = String::new();
    match (interval, count) {
        (Some(i), Some(c)) => {
            s.push_str(&format!(
                "interval:s:{i}\n{{\n  {stamp}{print}\n  @reports = @reports + 1;\n  \
                 if (@reports >= {c}) {{ exit(); }}\n}}\n\n\
                 END\n{{\n  if (@reports < {c}) {{\n    {stamp}{print}\n  }}\n  clear(@reports);\n}}\n"
            ));
        }
        (Some(i), None) => {
            s.push_str(&format!(
                "interval:s:{i}\n{{\n  {stamp}{print}\n}}\n\nEND\n{{\n  {stamp}{print}\n}}\n"
            ));
        }
        _ => s.push_str(&format!("END\n{{\n  {stamp}{print}\n}}\n")),
    }
    s
}

/// Parses a comma-separated list of numbers (`-P 80,443`).
pub fn number_list(text: &str, what: &str) -> Result<Vec<u64>, ToolError> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .parse()
                .map_err(|_| ToolError::BadArgument(format!("invalid {what} '{s}' in '{text}'")))
        })
        .collect()
}

/// `(x == a || x == b)` for a list.
pub fn any_of(expr: &str, values: &[u64]) -> String {
    let terms: Vec<String> = values.iter().map(|v| format!("{expr} == {v}")).collect();
    format!("({})", terms.join(" || "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates() {
        assert_eq!(Predicate::new().slashes(), "");
        let p = Predicate::new()
            .and_if(Some(42), "pid == {}")
            .and_if(None::<u32>, "tid == {}")
            .and("comm != \"x\"");
        assert_eq!(p.slashes(), " /pid == 42 && comm != \"x\"/");
        assert_eq!(any_of("$p", &[80, 443]), "($p == 80 || $p == 443)");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }

    #[test]
    fn number_lists() {
        assert_eq!(number_list("80, 443", "port").unwrap(), vec![80, 443]);
        assert!(number_list("80,x", "port").is_err());
    }
}
