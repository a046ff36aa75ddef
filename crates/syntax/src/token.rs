//! Token kinds produced by the lexer.

use crate::ast::IntSuffix;
use scry_diagnostics::Span;
use std::fmt;

/// A lexed token with its source span.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// What was lexed.
    pub kind: TokenKind,
    /// Where.
    pub span: Span,
}

/// Token kinds. Keywords are lexed as [`TokenKind::Ident`] and recognised by the parser.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    /// Integer literal.
    Int {
        value: u64,
        suffix: IntSuffix,
    },
    /// Character literal.
    Char(u8),
    /// String literal (escapes decoded).
    Str(String),
    /// Identifier or keyword.
    Ident(String),
    /// `$name`.
    Var(String),
    /// `$N`.
    Positional(u32),
    /// `$#`.
    PositionalCount,
    /// `@name` or `@`.
    Map(String),
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Semi,
    Colon,
    Question,
    Dot,
    DotDot,
    Arrow,
    Plus,
    Minus,
    Star,
    Slash,
    /// A `/` followed (after whitespace/comments) by `{`: the end of a predicate.
    EndPred,
    Percent,
    Amp,
    Pipe,
    Caret,
    Tilde,
    Bang,
    Lt,
    Gt,
    Le,
    Ge,
    EqEq,
    Ne,
    Shl,
    Shr,
    AndAnd,
    OrOr,
    Assign,
    PlusEq,
    MinusEq,
    StarEq,
    SlashEq,
    PercentEq,
    AmpEq,
    PipeEq,
    CaretEq,
    ShlEq,
    ShrEq,
    PlusPlus,
    MinusMinus,
    /// An unexpected character (already reported).
    Unknown(char),
    /// End of input.
    Eof,
}

impl TokenKind {
    /// The fixed spelling of punctuation tokens.
    pub fn punct(&self) -> Option<&'static str> {
        use TokenKind::*;
        Some(match self {
            LParen => "(",
            RParen => ")",
            LBrace => "{",
            RBrace => "}",
            LBracket => "[",
            RBracket => "]",
            Comma => ",",
            Semi => ";",
            Colon => ":",
            Question => "?",
            Dot => ".",
            DotDot => "..",
            Arrow => "->",
            Plus => "+",
            Minus => "-",
            Star => "*",
            Slash | EndPred => "/",
            Percent => "%",
            Amp => "&",
            Pipe => "|",
            Caret => "^",
            Tilde => "~",
            Bang => "!",
            Lt => "<",
            Gt => ">",
            Le => "<=",
            Ge => ">=",
            EqEq => "==",
            Ne => "!=",
            Shl => "<<",
            Shr => ">>",
            AndAnd => "&&",
            OrOr => "||",
            Assign => "=",
            PlusEq => "+=",
            MinusEq => "-=",
            StarEq => "*=",
            SlashEq => "/=",
            PercentEq => "%=",
            AmpEq => "&=",
            PipeEq => "|=",
            CaretEq => "^=",
            ShlEq => "<<=",
            ShrEq => ">>=",
            PlusPlus => "++",
            MinusMinus => "--",
            _ => return None,
        })
    }
}

impl fmt::Display for TokenKind {
    /// Describes the token the way bison-generated bpftrace messages do.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.punct() {
            return f.write_str(p);
        }
        match self {
            TokenKind::Int { .. } => f.write_str("integer"),
            TokenKind::Char(_) => f.write_str("character"),
            TokenKind::Str(_) => f.write_str("string"),
            TokenKind::Ident(_) => f.write_str("identifier"),
            TokenKind::Var(_) => f.write_str("variable"),
            TokenKind::Positional(_) | TokenKind::PositionalCount => {
                f.write_str("positional parameter")
            }
            TokenKind::Map(_) => f.write_str("map"),
            TokenKind::Unknown(c) => write!(f, "{c}"),
            TokenKind::Eof => f.write_str("end of file"),
            _ => f.write_str("token"),
        }
    }
}
