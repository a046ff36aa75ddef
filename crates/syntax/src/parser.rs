//! Recursive-descent / Pratt parser producing the [`crate::ast`] tree.
//!
//! Submodules: `toplevel` (program items: config, directives, C definitions, map
//! declarations, probes), `attach` (attach-point splitting), `cdef` (C definition
//! members), `stmt` (statements and blocks), `expr` (expressions and types).
//!
//! Errors are reported into the parser's diagnostics and signalled with
//! [`Reported`]; callers recover by skipping to a synchronisation token.

mod attach;
mod cdef;
mod expr;
mod stmt;
mod toplevel;

pub use attach::{canonical_provider, split_attach_point};

use crate::ast::{Expr, ExprId, ExprKind};
use crate::lexer::Lexer;
use crate::token::{Token, TokenKind};
use scry_diagnostics::{Diagnostic, Diagnostics, Span};
use std::collections::{HashSet, VecDeque};

/// Marker: an error was reported; the caller must recover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reported;

pub(crate) type PResult<T> = Result<T, Reported>;

/// Maximum nesting of expressions/blocks before we give up (prevents stack overflow).
const MAX_DEPTH: u32 = 256;

pub(crate) struct Parser<'a> {
    lexer: Lexer<'a>,
    buf: VecDeque<Token>,
    diags: Diagnostics,
    next_id: u32,
    depth: u32,
    /// Type names introduced by script `typedef`s (recognised in casts).
    typedefs: HashSet<String>,
    /// End offset of the last consumed token.
    last_end: u32,
    /// Whether the most recently parsed block ended with a `;`-less expression statement.
    block_has_value: bool,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Self {
            lexer: Lexer::new(src),
            buf: VecDeque::new(),
            diags: Diagnostics::new(),
            next_id: 0,
            depth: 0,
            typedefs: HashSet::new(),
            last_end: 0,
            block_has_value: false,
        }
    }

    /// Merges lexer diagnostics (ordered by position) with parser diagnostics.
    pub(crate) fn finish_diagnostics(&mut self) -> Diagnostics {
        let mut all: Vec<Diagnostic> = std::mem::take(&mut self.lexer.diagnostics).into_vec();
        all.extend(std::mem::take(&mut self.diags));
        all.sort_by_key(|d| d.span.map(|s| s.start));
        all.into_iter().collect()
    }

    fn peek_nth(&mut self, n: usize) -> &Token {
        while self.buf.len() <= n {
            let t = self.lexer.next_token();
            self.buf.push_back(t);
        }
        &self.buf[n]
    }

    fn peek(&mut self) -> &Token {
        self.peek_nth(0)
    }

    fn peek_kind(&mut self) -> &TokenKind {
        &self.peek().kind
    }

    fn peek_span(&mut self) -> Span {
        self.peek().span
    }

    fn bump(&mut self) -> Token {
        self.peek();
        let t = self.buf.pop_front().unwrap_or(Token {
            kind: TokenKind::Eof,
            span: Span::point(self.last_end),
        });
        self.last_end = t.span.end;
        t
    }

    fn at(&mut self, kind: &TokenKind) -> bool {
        self.peek_kind() == kind
    }

    fn at_word(&mut self, word: &str) -> bool {
        matches!(self.peek_kind(), TokenKind::Ident(w) if w == word)
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        if self.at(kind) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, kind: &TokenKind, expecting: &str) -> PResult<Token> {
        if self.at(kind) {
            Ok(self.bump())
        } else {
            Err(self.unexpected(Some(expecting)))
        }
    }

    /// Reports `syntax error, unexpected X[, expecting Y]` at the next token.
    fn unexpected(&mut self, expecting: Option<&str>) -> Reported {
        let tok = self.peek().clone();
        if let TokenKind::Unknown(_) = tok.kind {
            // The lexer already reported the invalid character.
            return Reported;
        }
        let mut msg = format!("syntax error, unexpected {}", tok.kind);
        if let Some(e) = expecting {
            msg.push_str(", expecting ");
            msg.push_str(e);
        }
        self.error(tok.span, msg)
    }

    fn error(&mut self, span: Span, msg: impl Into<String>) -> Reported {
        self.diags.push(Diagnostic::error(span, msg));
        Reported
    }

    fn mk(&mut self, kind: ExprKind, span: Span) -> Expr {
        let id = ExprId(self.next_id);
        self.next_id += 1;
        Expr { id, span, kind }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let span = self.peek_span();
            self.depth -= 1;
            return Err(self.error(span, "program is nested too deeply"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Drops buffered tokens and moves the lexer back to the first unconsumed byte,
    /// so raw (character-level) lexing can resume.
    fn sync_raw(&mut self) {
        if let Some(t) = self.buf.front() {
            let pos = t.span.start as usize;
            self.buf.clear();
            self.lexer.set_pos(pos);
        }
    }

    /// Skips tokens until a `;` (consumed) or an unmatched `}` (not consumed) or EOF.
    fn recover_stmt(&mut self) {
        let mut depth = 0u32;
        loop {
            match self.peek_kind() {
                TokenKind::Eof => return,
                TokenKind::Semi if depth == 0 => {
                    self.bump();
                    return;
                }
                TokenKind::RBrace if depth == 0 => return,
                TokenKind::RBrace => depth -= 1,
                TokenKind::LBrace => depth += 1,
                _ => {}
            }
            self.bump();
        }
    }
}

#[cfg(test)]
mod tests;
