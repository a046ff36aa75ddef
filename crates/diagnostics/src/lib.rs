//! scry-diagnostics: source spans, diagnostics and bpftrace-style rendering.
//!
//! Every front-end and middle-end pass of scry reports problems as [`Diagnostic`]s
//! carrying an optional byte [`Span`] into a [`SourceFile`]. [`render`] formats a
//! diagnostic exactly like bpftrace 0.17 does:
//!
//! ```text
//! stdin:1:9-12: ERROR: Unknown function: foo
//! BEGIN { foo(); }
//!         ~~~
//! ```

mod render;
mod source;
mod span;

pub use render::{render, render_all};
pub use source::{LineCol, SourceFile};
pub use span::Span;

use std::fmt;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Compilation cannot continue successfully.
    Error,
    /// Suspicious but accepted.
    Warning,
}

impl Severity {
    /// The upper-case label bpftrace prints (`ERROR` / `WARNING`).
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::Warning => "WARNING",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One error or warning, optionally located in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The main message (no trailing newline, no `ERROR:` prefix).
    pub message: String,
    /// Where in the source the problem is, if known.
    pub span: Option<Span>,
    /// Extra advice printed as `HINT: ...` lines after the source excerpt.
    pub hints: Vec<String>,
}

impl Diagnostic {
    /// An error located at `span`.
    pub fn error(span: Span, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, Some(span), message)
    }

    /// A warning located at `span`.
    pub fn warning(span: Span, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, Some(span), message)
    }

    /// An error without a source location.
    pub fn error_global(message: impl Into<String>) -> Self {
        Self::new(Severity::Error, None, message)
    }

    /// A warning without a source location.
    pub fn warning_global(message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, None, message)
    }

    /// A diagnostic with every field given.
    pub fn new(severity: Severity, span: Option<Span>, message: impl Into<String>) -> Self {
        Self {
            severity,
            message: message.into(),
            span,
            hints: Vec::new(),
        }
    }

    /// Adds a `HINT:` line.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// The message line without location: `ERROR: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity, self.message)
    }
}

/// An ordered accumulator of diagnostics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// Shorthand for `push(Diagnostic::error(span, message))`.
    pub fn error(&mut self, span: Span, message: impl Into<String>) {
        self.push(Diagnostic::error(span, message));
    }

    /// Shorthand for `push(Diagnostic::warning(span, message))`.
    pub fn warning(&mut self, span: Span, message: impl Into<String>) {
        self.push(Diagnostic::warning(span, message));
    }

    /// True when at least one error (not warning) was recorded.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    /// All diagnostics in insertion order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }

    /// Number of diagnostics (errors and warnings).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Appends all diagnostics of `other`.
    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(other);
    }

    /// The diagnostics as a vector.
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }

    /// The diagnostics as a slice.
    pub fn as_slice(&self) -> &[Diagnostic] {
        &self.items
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl Extend<Diagnostic> for Diagnostics {
    fn extend<T: IntoIterator<Item = Diagnostic>>(&mut self, iter: T) {
        self.items.extend(iter);
    }
}

impl FromIterator<Diagnostic> for Diagnostics {
    fn from_iter<T: IntoIterator<Item = Diagnostic>>(iter: T) -> Self {
        Self {
            items: iter.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulator_tracks_errors() {
        let mut d = Diagnostics::new();
        assert!(!d.has_errors());
        d.warning(Span::new(0, 1), "w");
        assert!(!d.has_errors());
        assert_eq!(d.len(), 1);
        d.error(Span::new(1, 2), "e");
        assert!(d.has_errors());
        assert_eq!(d.error_count(), 1);
        let mut other = Diagnostics::new();
        other.extend(d.clone());
        assert_eq!(other.into_vec().len(), 2);
    }

    #[test]
    fn builder_adds_hints() {
        let d = Diagnostic::error(Span::new(0, 3), "bad").with_hint("try this");
        assert_eq!(d.hints, vec!["try this".to_string()]);
        assert_eq!(d.to_string(), "ERROR: bad");
        assert_eq!(Diagnostic::warning_global("x").to_string(), "WARNING: x");
    }
}
