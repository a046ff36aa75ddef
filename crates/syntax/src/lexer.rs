//! Hand-written, on-demand lexer.
//!
//! The parser pulls tokens one at a time with [`Lexer::next_token`]. Because attach
//! points use a different lexical grammar (paths, wildcards, `:` separators), the
//! parser can also ask for raw text with [`Lexer::lex_attach_point`] and inspect the
//! input directly at top level ([`Lexer::rest`], [`Lexer::skip_trivia`]).

mod number;
mod string;

use crate::ast::IntSuffix;
use crate::token::{Token, TokenKind};
use scry_diagnostics::{Diagnostic, Diagnostics, Span};

/// Lexer state over one source text.
pub struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Diagnostics found while lexing.
    pub diagnostics: Diagnostics,
}

pub(crate) fn span(start: usize, end: usize) -> Span {
    Span::from(start..end)
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `src`; a leading `#!` line is skipped.
    pub fn new(src: &'a str) -> Self {
        let mut lexer = Self {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            diagnostics: Diagnostics::new(),
        };
        if src.starts_with("#!") {
            lexer.pos = src.find('\n').unwrap_or(src.len());
        }
        lexer
    }

    /// Current byte offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Moves to byte offset `pos` (clamped to the input, snapped to a char boundary).
    pub fn set_pos(&mut self, pos: usize) {
        let mut pos = pos.min(self.src.len());
        while !self.src.is_char_boundary(pos) {
            pos += 1;
        }
        self.pos = pos;
    }

    /// The unread input.
    pub fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    /// The whole input.
    pub fn source(&self) -> &'a str {
        self.src
    }

    fn peek_byte(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn byte_at(&self, pos: usize) -> Option<u8> {
        self.bytes.get(pos).copied()
    }

    fn error(&mut self, start: usize, end: usize, msg: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::error(span(start, end), msg));
    }

    /// Skips whitespace and comments. Returns true if a newline was skipped.
    pub fn skip_trivia(&mut self) -> bool {
        let (next, newline, unterminated) = self.scan_trivia(self.pos);
        if let Some(at) = unterminated {
            self.error(at, at + 2, "unterminated comment");
        }
        self.pos = next;
        newline
    }

    /// Offset of the next significant byte at or after the current position.
    pub fn next_significant(&self) -> usize {
        self.scan_trivia(self.pos).0
    }

    /// Scans trivia from `pos`: (end offset, saw newline, unterminated `/*` offset).
    fn scan_trivia(&self, mut pos: usize) -> (usize, bool, Option<usize>) {
        let mut newline = false;
        loop {
            match self.byte_at(pos) {
                Some(b'\n') => {
                    newline = true;
                    pos += 1;
                }
                Some(b) if b.is_ascii_whitespace() => pos += 1,
                Some(b'/') if self.byte_at(pos + 1) == Some(b'/') => {
                    pos = self.src[pos..]
                        .find('\n')
                        .map_or(self.src.len(), |i| pos + i);
                }
                Some(b'/') if self.byte_at(pos + 1) == Some(b'*') => {
                    match self.src[pos + 2..].find("*/") {
                        Some(i) => {
                            newline |= self.src[pos..pos + 2 + i].contains('\n');
                            pos += 2 + i + 2;
                        }
                        None => return (self.src.len(), newline, Some(pos)),
                    }
                }
                _ => return (pos, newline, None),
            }
        }
    }

    /// Lexes one attach point as raw text starting at the current position (after
    /// trivia). It ends at whitespace, `,`, `{`, `}`, `;`, a `//` comment or end of
    /// input; `"..."` segments may contain anything except a newline.
    pub fn lex_attach_point(&mut self) -> (String, Span) {
        self.skip_trivia();
        let start = self.pos;
        while let Some(b) = self.peek_byte() {
            match b {
                b'"' => {
                    let qstart = self.pos;
                    self.pos += 1;
                    loop {
                        match self.peek_byte() {
                            None | Some(b'\n') => {
                                self.error(qstart, self.pos, "unterminated string");
                                break;
                            }
                            Some(b'"') => {
                                self.pos += 1;
                                break;
                            }
                            Some(b'\\') => self.pos = (self.pos + 2).min(self.src.len()),
                            Some(_) => self.pos += 1,
                        }
                    }
                    self.set_pos(self.pos);
                }
                b',' | b'{' | b'}' | b';' => break,
                // `//` starts a comment unless it follows `:` (`uprobe://x`); `/*` is a
                // path wildcard (`usdt:/my/*prog:p`), as in bpftrace.
                b'/' if self.byte_at(self.pos + 1) == Some(b'/')
                    && self.pos > start
                    && self.bytes[self.pos - 1] != b':' =>
                {
                    break;
                }
                b if b.is_ascii_whitespace() => break,
                _ => {
                    self.pos += self.src[self.pos..]
                        .chars()
                        .next()
                        .map_or(1, char::len_utf8)
                }
            }
        }
        (self.src[start..self.pos].to_string(), span(start, self.pos))
    }

    /// Lexes the next token (skipping trivia).
    pub fn next_token(&mut self) -> Token {
        self.skip_trivia();
        let start = self.pos;
        let Some(b) = self.peek_byte() else {
            return Token {
                kind: TokenKind::Eof,
                span: span(start, start),
            };
        };
        let kind = self.lex_kind(b, start);
        Token {
            kind,
            span: span(start, self.pos),
        }
    }

    fn lex_kind(&mut self, b: u8, start: usize) -> TokenKind {
        use TokenKind::*;
        if is_ident_start(b) {
            return Ident(self.take_ident().to_string());
        }
        if b.is_ascii_digit() {
            return self.lex_number(start);
        }
        match b {
            b'"' => return self.lex_string(start),
            b'\'' => return self.lex_char(start),
            b'$' => return self.lex_dollar(start),
            b'@' => {
                self.pos += 1;
                return Map(self.take_ident().to_string());
            }
            _ => {}
        }
        let next = self.byte_at(start + 1);
        let next2 = self.byte_at(start + 2);
        let (kind, len) = match (b, next, next2) {
            (b'<', Some(b'<'), Some(b'=')) => (ShlEq, 3),
            (b'>', Some(b'>'), Some(b'=')) => (ShrEq, 3),
            (b'<', Some(b'<'), _) => (Shl, 2),
            (b'>', Some(b'>'), _) => (Shr, 2),
            (b'<', Some(b'='), _) => (Le, 2),
            (b'>', Some(b'='), _) => (Ge, 2),
            (b'=', Some(b'='), _) => (EqEq, 2),
            (b'!', Some(b'='), _) => (Ne, 2),
            (b'&', Some(b'&'), _) => (AndAnd, 2),
            (b'|', Some(b'|'), _) => (OrOr, 2),
            (b'+', Some(b'+'), _) => (PlusPlus, 2),
            (b'-', Some(b'-'), _) => (MinusMinus, 2),
            (b'-', Some(b'>'), _) => (Arrow, 2),
            (b'+', Some(b'='), _) => (PlusEq, 2),
            (b'-', Some(b'='), _) => (MinusEq, 2),
            (b'*', Some(b'='), _) => (StarEq, 2),
            (b'/', Some(b'='), _) => (SlashEq, 2),
            (b'%', Some(b'='), _) => (PercentEq, 2),
            (b'&', Some(b'='), _) => (AmpEq, 2),
            (b'|', Some(b'='), _) => (PipeEq, 2),
            (b'^', Some(b'='), _) => (CaretEq, 2),
            (b'.', Some(b'.'), _) => (DotDot, 2),
            (b'(', ..) => (LParen, 1),
            (b')', ..) => (RParen, 1),
            (b'{', ..) => (LBrace, 1),
            (b'}', ..) => (RBrace, 1),
            (b'[', ..) => (LBracket, 1),
            (b']', ..) => (RBracket, 1),
            (b',', ..) => (Comma, 1),
            (b';', ..) => (Semi, 1),
            (b':', ..) => (Colon, 1),
            (b'?', ..) => (Question, 1),
            (b'.', ..) => (Dot, 1),
            (b'+', ..) => (Plus, 1),
            (b'-', ..) => (Minus, 1),
            (b'*', ..) => (Star, 1),
            (b'/', ..) => (Slash, 1),
            (b'%', ..) => (Percent, 1),
            (b'&', ..) => (Amp, 1),
            (b'|', ..) => (Pipe, 1),
            (b'^', ..) => (Caret, 1),
            (b'~', ..) => (Tilde, 1),
            (b'!', ..) => (Bang, 1),
            (b'<', ..) => (Lt, 1),
            (b'>', ..) => (Gt, 1),
            (b'=', ..) => (Assign, 1),
            _ => {
                let c = self.src[start..].chars().next().unwrap_or('\u{fffd}');
                self.pos += c.len_utf8();
                self.error(start, self.pos, format!("invalid character '{c}'"));
                return Unknown(c);
            }
        };
        self.pos += len;
        if kind == Slash {
            let after = self.next_significant();
            if self.byte_at(after) == Some(b'{') {
                return EndPred;
            }
        }
        kind
    }

    fn take_ident(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek_byte().is_some_and(is_ident_char) {
            self.pos += 1;
        }
        &self.src[start..self.pos]
    }

    fn lex_dollar(&mut self, start: usize) -> TokenKind {
        self.pos += 1;
        match self.peek_byte() {
            Some(b'#') => {
                self.pos += 1;
                TokenKind::PositionalCount
            }
            Some(b) if b.is_ascii_digit() => {
                while self.peek_byte().is_some_and(|b| b.is_ascii_digit()) {
                    self.pos += 1;
                }
                match self.src[start + 1..self.pos].parse::<u32>() {
                    Ok(n) => TokenKind::Positional(n),
                    Err(_) => {
                        self.error(start, self.pos, "positional parameter number too large");
                        TokenKind::Positional(0)
                    }
                }
            }
            Some(b) if is_ident_start(b) => TokenKind::Var(self.take_ident().to_string()),
            _ => {
                self.error(start, self.pos, "invalid variable name: '$'");
                TokenKind::Var(String::new())
            }
        }
    }

    fn lex_number(&mut self, start: usize) -> TokenKind {
        while self.peek_byte().is_some_and(is_ident_char) {
            self.pos += 1;
        }
        let text = &self.src[start..self.pos];
        match number::parse_int(text) {
            Ok((value, suffix)) => TokenKind::Int { value, suffix },
            Err(msg) => {
                self.error(start, self.pos, msg);
                TokenKind::Int {
                    value: 0,
                    suffix: IntSuffix::None,
                }
            }
        }
    }

    fn lex_string(&mut self, start: usize) -> TokenKind {
        let (bytes, end, err) = string::lex_quoted(self.bytes, start, b'"');
        self.pos = end;
        self.set_pos(end);
        if let Some((s, e, msg)) = err {
            self.error(s, e, msg);
        }
        match String::from_utf8(bytes) {
            Ok(s) => TokenKind::Str(s),
            Err(e) => {
                self.error(start, self.pos, "string literal is not valid UTF-8");
                TokenKind::Str(String::from_utf8_lossy(e.as_bytes()).into_owned())
            }
        }
    }

    fn lex_char(&mut self, start: usize) -> TokenKind {
        let (bytes, end, err) = string::lex_quoted(self.bytes, start, b'\'');
        self.set_pos(end);
        if let Some((s, e, msg)) = err {
            self.error(s, e, msg);
            return TokenKind::Char(0);
        }
        match bytes.as_slice() {
            [b] => TokenKind::Char(*b),
            _ => {
                self.error(
                    start,
                    self.pos,
                    "character literal must contain exactly one character",
                );
                TokenKind::Char(bytes.first().copied().unwrap_or(0))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenKind::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        let mut l = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = l.next_token();
            if t.kind == Eof {
                break;
            }
            out.push(t.kind);
        }
        assert!(l.diagnostics.is_empty(), "{:?}", l.diagnostics);
        out
    }

    #[test]
    fn operators_and_names() {
        assert_eq!(
            kinds("@a[$b] <<= $1 + $# -> x.y .. ++ /* c */ // d\n != @"),
            vec![
                Map("a".into()),
                LBracket,
                Var("b".into()),
                RBracket,
                ShlEq,
                Positional(1),
                Plus,
                PositionalCount,
                Arrow,
                Ident("x".into()),
                Dot,
                Ident("y".into()),
                DotDot,
                PlusPlus,
                Ne,
                Map(String::new()),
            ]
        );
    }

    #[test]
    fn end_predicate_slash() {
        assert_eq!(
            kinds("/ pid / {"),
            vec![Slash, Ident("pid".into()), EndPred, LBrace]
        );
        assert_eq!(
            kinds("a / b"),
            vec![Ident("a".into()), Slash, Ident("b".into())]
        );
    }

    #[test]
    fn literals() {
        assert_eq!(
            kinds(r#"0x10 'a' "x\n""#),
            vec![
                Int {
                    value: 16,
                    suffix: IntSuffix::None
                },
                Char(b'a'),
                Str("x\n".into())
            ]
        );
    }

    #[test]
    fn attach_point_raw() {
        let mut l = Lexer::new("  uprobe:/bin/bash:readline /pid/ {");
        let (raw, sp) = l.lex_attach_point();
        assert_eq!(raw, "uprobe:/bin/bash:readline");
        assert_eq!(sp, Span::new(2, 27));
        let mut l = Lexer::new("kprobe:a,kprobe:b{");
        assert_eq!(l.lex_attach_point().0, "kprobe:a");
        let mut l = Lexer::new("BEGIN// c\n{");
        assert_eq!(l.lex_attach_point().0, "BEGIN");
        let mut l = Lexer::new("uprobe:\"/a b\":f {");
        assert_eq!(l.lex_attach_point().0, "uprobe:\"/a b\":f");
    }

    #[test]
    fn shebang_and_errors() {
        let mut l = Lexer::new("#!/usr/bin/bpftrace\nBEGIN");
        assert_eq!(l.next_token().kind, Ident("BEGIN".into()));
        let mut l = Lexer::new("` /* x");
        assert_eq!(l.next_token().kind, Unknown('`'));
        assert_eq!(l.next_token().kind, Eof);
        assert_eq!(l.diagnostics.len(), 2);
    }
}
