//! bpftrace-compatible text rendering of diagnostics.
//!
//! Format (bpftrace 0.17, checked against the installed binary):
//! * located on one line: `NAME:LINE:COL1-COL2: ERROR: msg`, then the source line with
//!   tabs expanded to four spaces, then spaces up to the span and one `~` per byte of
//!   the span (clamped at the end of the line; an empty span gets no `~`);
//! * spanning several lines: `NAME:LINE1-LINE2: ERROR: msg` and no excerpt;
//! * without location: `ERROR: msg`;
//! * each hint follows as `HINT: text`.
//!
//! Columns are 1-based byte columns; `COL2` is one past the last byte.

use crate::{Diagnostic, SourceFile};
use std::fmt::Write;

const TAB_WIDTH: usize = 4;

/// Renders one diagnostic; the result ends with a newline.
pub fn render(diagnostic: &Diagnostic, file: &SourceFile) -> String {
    let mut out = String::new();
    let label = diagnostic.severity.label();
    match diagnostic.span {
        None => {
            let _ = writeln!(out, "{label}: {}", diagnostic.message);
        }
        Some(span) => {
            let start = file.line_col(span.start);
            let end = file.line_col(span.end);
            if start.line != end.line {
                let _ = writeln!(
                    out,
                    "{}:{}-{}: {label}: {}",
                    file.name, start.line, end.line, diagnostic.message
                );
            } else {
                let _ = writeln!(
                    out,
                    "{}:{}:{}-{}: {label}: {}",
                    file.name, start.line, start.col, end.col, diagnostic.message
                );
                let line = file.line_text(start.line);
                out.push_str(&expand_tabs(line));
                out.push('\n');
                out.push_str(&underline(
                    line,
                    start.col as usize - 1,
                    end.col as usize - 1,
                ));
                out.push('\n');
            }
        }
    }
    for hint in &diagnostic.hints {
        let _ = writeln!(out, "HINT: {hint}");
    }
    out
}

/// Renders several diagnostics one after the other.
pub fn render_all<'a>(
    diagnostics: impl IntoIterator<Item = &'a Diagnostic>,
    file: &SourceFile,
) -> String {
    diagnostics.into_iter().map(|d| render(d, file)).collect()
}

fn expand_tabs(line: &str) -> String {
    line.replace('\t', &" ".repeat(TAB_WIDTH))
}

/// Spaces under bytes `..from`, tildes under bytes `from..to` (clamped to the line).
fn underline(line: &str, from: usize, to: usize) -> String {
    let bytes = line.as_bytes();
    let mut out = String::new();
    let width = |b: u8| if b == b'\t' { TAB_WIDTH } else { 1 };
    for (i, &b) in bytes.iter().enumerate() {
        // Continuation bytes of multi-byte UTF-8 characters take no column of their own.
        if b & 0xC0 == 0x80 {
            continue;
        }
        if i < from {
            out.push_str(&" ".repeat(width(b)));
        } else if i < to {
            out.push_str(&"~".repeat(width(b)));
        } else {
            break;
        }
    }
    if from > bytes.len() {
        out.push_str(&" ".repeat(from - bytes.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Span;

    fn file(text: &str) -> SourceFile {
        SourceFile::new("stdin", text)
    }

    #[test]
    fn single_line_error() {
        let f = file("BEGIN { foo(); }");
        let d = Diagnostic::error(Span::new(8, 11), "Unknown function: foo");
        assert_eq!(
            render(&d, &f),
            "stdin:1:9-12: ERROR: Unknown function: foo\nBEGIN { foo(); }\n        ~~~\n"
        );
    }

    #[test]
    fn single_column_and_warning() {
        let f = file("BEGIN { $a = 1; $a = $a / 0 }");
        let d = Diagnostic::warning(Span::new(24, 25), "signed operands");
        assert_eq!(
            render(&d, &f),
            "stdin:1:25-26: WARNING: signed operands\nBEGIN { $a = 1; $a = $a / 0 }\n                        ~\n"
        );
    }

    #[test]
    fn empty_span_at_end_of_file() {
        let f = file("BEGIN { @x = 1; ");
        let d = Diagnostic::error(Span::point(16), "syntax error, unexpected end of file");
        assert_eq!(
            render(&d, &f),
            "stdin:1:17-17: ERROR: syntax error, unexpected end of file\nBEGIN { @x = 1; \n                \n"
        );
    }

    #[test]
    fn multi_line_span_has_no_excerpt() {
        let f = file("BEGIN { printf(\"%d\",\n 1); }");
        let d = Diagnostic::error(Span::new(8, 25), "printf: too many");
        assert_eq!(render(&d, &f), "stdin:1-2: ERROR: printf: too many\n");
    }

    #[test]
    fn tabs_are_expanded() {
        let f = SourceFile::new("t.bt", "BEGIN {\n\tfoo();\n}\n");
        let d = Diagnostic::error(Span::new(9, 12), "Unknown function: foo");
        assert_eq!(
            render(&d, &f),
            "t.bt:2:2-5: ERROR: Unknown function: foo\n    foo();\n    ~~~\n"
        );
    }

    #[test]
    fn span_past_line_end_is_clamped() {
        let f = file("printf(\"%s\nx\");");
        // Span ends on the same line as far as the renderer is concerned only if it
        // stays on that line; here it ends at the newline byte.
        let d = Diagnostic::error(Span::new(7, 10), "unterminated string");
        assert_eq!(
            render(&d, &f),
            "stdin:1:8-11: ERROR: unterminated string\nprintf(\"%s\n       ~~~\n"
        );
    }

    #[test]
    fn hints_and_unlocated() {
        let f = file("");
        let d = Diagnostic::error_global("No probes").with_hint("add one");
        assert_eq!(render(&d, &f), "ERROR: No probes\nHINT: add one\n");
        let d2 = Diagnostic::warning_global("careful");
        assert_eq!(
            render_all([&d, &d2], &f),
            "ERROR: No probes\nHINT: add one\nWARNING: careful\n"
        );
    }

    #[test]
    fn underline_clamps_to_line() {
        assert_eq!(underline("abc", 1, 10), " ~~");
        assert_eq!(underline("abc", 5, 6), "     ");
        assert_eq!(underline("a\tb", 2, 3), "     ~");
    }
}
