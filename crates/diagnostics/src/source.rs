//! Source files and byte-offset to line/column conversion.

use crate::Span;

/// A 1-based line and column (columns count bytes, like bpftrace).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LineCol {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column (byte offset in the line + 1).
    pub col: u32,
}

/// A named program text (`stdin` for `-e` programs, else the file path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// Name printed in front of locations.
    pub name: String,
    /// The full program text.
    pub text: String,
    line_starts: Vec<u32>,
}

impl SourceFile {
    /// Creates a source file and indexes its line starts.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut line_starts = vec![0u32];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
            }
        }
        Self {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// Number of lines (a trailing newline starts an empty last line).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Line and column of byte offset `offset` (clamped to the text length).
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = offset.min(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
        let idx = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        LineCol {
            line: u32::try_from(idx + 1).unwrap_or(u32::MAX),
            col: offset - self.line_starts[idx] + 1,
        }
    }

    /// Text of 1-based line `line` without its newline; empty if out of range.
    pub fn line_text(&self, line: u32) -> &str {
        let Some(idx) = (line as usize).checked_sub(1) else {
            return "";
        };
        let Some(&start) = self.line_starts.get(idx) else {
            return "";
        };
        let end = self
            .line_starts
            .get(idx + 1)
            .map_or(self.text.len(), |&next| next as usize - 1);
        let line = self.text.get(start as usize..end).unwrap_or("");
        line.strip_suffix('\r').unwrap_or(line)
    }

    /// The source text covered by `span` (empty if out of range or not on char boundaries).
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_and_line_text() {
        let f = SourceFile::new("stdin", "ab\ncd\n\nef");
        assert_eq!(f.line_count(), 4);
        assert_eq!(f.line_col(0), LineCol { line: 1, col: 1 });
        assert_eq!(f.line_col(2), LineCol { line: 1, col: 3 });
        assert_eq!(f.line_col(3), LineCol { line: 2, col: 1 });
        assert_eq!(f.line_col(7), LineCol { line: 4, col: 1 });
        assert_eq!(f.line_col(100), LineCol { line: 4, col: 3 });
        assert_eq!(f.line_text(1), "ab");
        assert_eq!(f.line_text(3), "");
        assert_eq!(f.line_text(4), "ef");
        assert_eq!(f.line_text(0), "");
        assert_eq!(f.line_text(9), "");
        assert_eq!(f.slice(Span::new(3, 5)), "cd");
    }
}
