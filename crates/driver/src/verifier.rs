//! Verifier rejections, mapped back to the script.
//!
//! The verifier log ends with the failing instruction's state and the reason. The last
//! instruction index the log mentions is looked up in the program's origin table, which
//! gives the statement the instruction was generated for.

use scry_codegen::ProgramSpec;
use scry_diagnostics::{Diagnostic, SourceFile};

/// The last instruction index mentioned at the start of a log line (`12: (85) call ...`).
fn last_instruction(log: &str) -> Option<usize> {
    log.lines().rev().find_map(|line| {
        let (number, rest) = line.split_once(':')?;
        if rest.starts_with(" (") || rest.starts_with(" R") {
            number.trim().parse().ok()
        } else {
            None
        }
    })
}

/// Renders a rejection: the script location, the last lines of the log, and a hint.
pub fn render(spec: &ProgramSpec, log: &str, source: &SourceFile) -> String {
    let tail: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    let keep = &tail[tail.len().saturating_sub(6)..];
    let span = last_instruction(log)
        .and_then(|insn| spec.code.origins.get(insn))
        .and_then(|&origin| spec.spans.get(origin as usize))
        .copied()
        .filter(|span| span.end > span.start);
    let message = format!("the BPF verifier rejected the program for {}", spec.name);
    let mut diagnostic = match span {
        Some(span) => Diagnostic::error(span, message),
        None => Diagnostic::error_global(message),
    };
    for line in keep {
        diagnostic = diagnostic.with_hint(format!("verifier: {line}"));
    }
    scry_diagnostics::render(&diagnostic, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_last_instruction() {
        let log = "0: R1=ctx() R10=fp0\n0: (b7) r0 = 0\n1: (95) exit\nR0 !read_ok\n";
        assert_eq!(last_instruction(log), Some(1));
        assert_eq!(last_instruction("nothing here"), None);
    }
}
