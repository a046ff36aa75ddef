//! Expressions (Pratt parser with C precedence), casts and type names.

use super::{PResult, Parser};
use crate::ast::{BaseType, BinaryOp, Expr, ExprKind, IncDecOp, SizeofArg, TypeName, UnaryOp};
use crate::token::TokenKind;
use scry_diagnostics::Span;

/// Words that start a C-style type spelling in casts (`(unsigned long)x`).
const C_TYPE_WORDS: &[&str] = &[
    "unsigned", "signed", "char", "short", "int", "long", "float", "double", "const", "volatile",
];

/// Statement keywords that can never start an expression.
const STMT_KEYWORDS: &[&str] = &[
    "if", "else", "while", "for", "unroll", "return", "break", "continue", "let",
];

fn binary_op(kind: &TokenKind) -> Option<(BinaryOp, u8)> {
    use TokenKind as T;
    Some(match kind {
        T::OrOr => (BinaryOp::LogOr, 1),
        T::AndAnd => (BinaryOp::LogAnd, 2),
        T::Pipe => (BinaryOp::BitOr, 3),
        T::Caret => (BinaryOp::BitXor, 4),
        T::Amp => (BinaryOp::BitAnd, 5),
        T::EqEq => (BinaryOp::Eq, 6),
        T::Ne => (BinaryOp::Ne, 6),
        T::Lt => (BinaryOp::Lt, 7),
        T::Le => (BinaryOp::Le, 7),
        T::Gt => (BinaryOp::Gt, 7),
        T::Ge => (BinaryOp::Ge, 7),
        T::Shl => (BinaryOp::Shl, 8),
        T::Shr => (BinaryOp::Shr, 8),
        T::Plus => (BinaryOp::Add, 9),
        T::Minus => (BinaryOp::Sub, 9),
        T::Star => (BinaryOp::Mul, 10),
        T::Slash => (BinaryOp::Div, 10),
        T::Percent => (BinaryOp::Mod, 10),
        _ => return None,
    })
}

impl Parser<'_> {
    /// Parses a full expression (including the ternary operator).
    pub(crate) fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let result = self.ternary();
        self.leave();
        result
    }

    fn ternary(&mut self) -> PResult<Expr> {
        let cond = self.binary(1)?;
        if !self.eat(&TokenKind::Question) {
            return Ok(cond);
        }
        let then = if self.eat(&TokenKind::Colon) {
            None
        } else {
            let t = self.expr()?;
            self.expect(&TokenKind::Colon, ":")?;
            Some(Box::new(t))
        };
        let otherwise = self.expr()?;
        let span = cond.span.to(otherwise.span);
        Ok(self.mk(
            ExprKind::Ternary {
                cond: Box::new(cond),
                then,
                otherwise: Box::new(otherwise),
            },
            span,
        ))
    }

    fn binary(&mut self, min_prec: u8) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        while let Some((op, prec)) = binary_op(self.peek_kind()) {
            if prec < min_prec {
                break;
            }
            self.bump();
            let rhs = self.binary(prec + 1)?;
            let span = lhs.span.to(rhs.span);
            lhs = self.mk(
                ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            );
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> PResult<Expr> {
        self.enter()?;
        let result = self.unary_inner();
        self.leave();
        result
    }

    fn unary_inner(&mut self) -> PResult<Expr> {
        use TokenKind as T;
        let op = match self.peek_kind() {
            T::Bang => Some(UnaryOp::Not),
            T::Tilde => Some(UnaryOp::BitNot),
            T::Minus => Some(UnaryOp::Neg),
            T::Plus => Some(UnaryOp::Plus),
            T::Star => Some(UnaryOp::Deref),
            T::Amp => Some(UnaryOp::AddrOf),
            _ => None,
        };
        if let Some(op) = op {
            let start = self.bump().span;
            let operand = self.unary()?;
            let span = start.to(operand.span);
            return Ok(self.mk(
                ExprKind::Unary {
                    op,
                    expr: Box::new(operand),
                },
                span,
            ));
        }
        if matches!(self.peek_kind(), T::PlusPlus | T::MinusMinus) {
            let tok = self.bump();
            let op = if tok.kind == T::PlusPlus {
                IncDecOp::Inc
            } else {
                IncDecOp::Dec
            };
            let target = self.unary()?;
            self.check_incdec_target(&target, &tok.kind);
            let span = tok.span.to(target.span);
            return Ok(self.mk(
                ExprKind::IncDec {
                    op,
                    prefix: true,
                    target: Box::new(target),
                },
                span,
            ));
        }
        if self.at(&T::LParen) && self.is_cast_start() {
            let start = self.bump().span;
            let ty = self.type_name()?;
            self.expect(&T::RParen, ")")?;
            let operand = self.unary()?;
            let span = start.to(operand.span);
            return Ok(self.mk(
                ExprKind::Cast {
                    ty,
                    expr: Box::new(operand),
                },
                span,
            ));
        }
        let primary = self.primary()?;
        self.postfix(primary)
    }

    fn check_incdec_target(&mut self, target: &Expr, tok: &TokenKind) {
        if !target.is_lvalue() {
            self.error(
                target.span,
                format!("The {tok} operator must be applied to a map or variable"),
            );
        }
    }

    /// True if the `(` at the cursor starts a cast (decided by lookahead).
    fn is_cast_start(&mut self) -> bool {
        let TokenKind::Ident(word) = self.peek_nth(1).kind.clone() else {
            return false;
        };
        if matches!(word.as_str(), "struct" | "union" | "enum")
            || C_TYPE_WORDS.contains(&word.as_str())
        {
            return true;
        }
        let known = BaseType::from_keyword(&word).is_some() || self.typedefs.contains(&word);
        let mut n = 2;
        let mut stars = 0;
        while self.peek_nth(n).kind == TokenKind::Star {
            n += 1;
            stars += 1;
        }
        match self.peek_nth(n).kind {
            TokenKind::RParen if known || stars > 0 => true,
            // `(name)` followed by something that can only start an operand: a cast to
            // a (typedef) type name, e.g. `(mytype)arg0`. `(x) - 1` stays a subtraction.
            TokenKind::RParen => {
                !STMT_KEYWORDS.contains(&word.as_str())
                    && !matches!(word.as_str(), "sizeof" | "offsetof" | "true" | "false")
                    && matches!(
                        self.peek_nth(n + 1).kind,
                        TokenKind::Ident(_)
                            | TokenKind::Var(_)
                            | TokenKind::Map(_)
                            | TokenKind::Int { .. }
                            | TokenKind::Str(_)
                            | TokenKind::Char(_)
                            | TokenKind::Positional(_)
                            | TokenKind::PositionalCount
                            | TokenKind::LParen
                    )
            }
            TokenKind::LBracket => known && stars == 0,
            _ => false,
        }
    }

    /// Parses a type: `uint32`, `struct x **`, `int8[4]`, `unsigned long`, `pid_t *`.
    pub(crate) fn type_name(&mut self) -> PResult<TypeName> {
        let start = self.peek_span();
        let TokenKind::Ident(word) = self.peek_kind().clone() else {
            return Err(self.unexpected(Some("type name")));
        };
        self.bump();
        let base = match word.as_str() {
            "struct" | "union" | "enum" => {
                let TokenKind::Ident(name) = self.peek_kind().clone() else {
                    return Err(self.unexpected(Some("identifier")));
                };
                self.bump();
                match word.as_str() {
                    "struct" => BaseType::Struct(name),
                    "union" => BaseType::Union(name),
                    _ => BaseType::Enum(name),
                }
            }
            w if C_TYPE_WORDS.contains(&w) => {
                let mut words = vec![word.clone()];
                while let TokenKind::Ident(next) = self.peek_kind().clone() {
                    if !C_TYPE_WORDS.contains(&next.as_str()) {
                        break;
                    }
                    self.bump();
                    words.push(next);
                }
                BaseType::Named(words.join(" "))
            }
            w => BaseType::from_keyword(w).unwrap_or_else(|| BaseType::Named(word.clone())),
        };
        let mut pointer_depth = 0;
        while self.eat(&TokenKind::Star) {
            pointer_depth += 1;
        }
        let mut array_len = None;
        if self.eat(&TokenKind::LBracket) {
            match self.peek_kind().clone() {
                TokenKind::Int { value, .. } => {
                    self.bump();
                    array_len = Some(value);
                }
                _ => return Err(self.unexpected(Some("integer"))),
            }
            self.expect(&TokenKind::RBracket, "]")?;
        }
        let span = start.to(Span::point(self.last_end));
        Ok(TypeName {
            base,
            pointer_depth,
            array_len,
            span,
        })
    }

    fn primary(&mut self) -> PResult<Expr> {
        use TokenKind as T;
        let tok = self.peek().clone();
        let span = tok.span;
        let kind = match tok.kind {
            T::Int { value, suffix } => ExprKind::Int { value, suffix },
            T::Char(c) => ExprKind::Char(c),
            T::Str(s) => ExprKind::Str(s),
            T::Var(name) => ExprKind::Var(name),
            T::Positional(n) => ExprKind::Positional(n),
            T::PositionalCount => ExprKind::PositionalCount,
            T::Map(name) => {
                self.bump();
                return self.map_access(name, span);
            }
            T::LParen => return self.paren_or_tuple(),
            T::Ident(word) => return self.ident_expr(word, span),
            _ => return Err(self.unexpected(None)),
        };
        self.bump();
        Ok(self.mk(kind, span))
    }

    fn map_access(&mut self, name: String, span: Span) -> PResult<Expr> {
        let mut keys = Vec::new();
        let mut end = span;
        if self.eat(&TokenKind::LBracket) {
            if self.at(&TokenKind::RBracket) {
                return Err(self.unexpected(Some("map key")));
            }
            keys = self.expr_list(&TokenKind::RBracket, "] or \",\"", false)?;
            end = Span::point(self.last_end);
        }
        Ok(self.mk(ExprKind::Map { name, keys }, span.to(end)))
    }

    /// Parses `e, e, ...` up to and including `close`; a trailing comma is accepted
    /// only when `trailing_comma` is set (tuples).
    fn expr_list(
        &mut self,
        close: &TokenKind,
        expecting: &str,
        trailing_comma: bool,
    ) -> PResult<Vec<Expr>> {
        let mut items = Vec::new();
        if self.eat(close) {
            return Ok(items);
        }
        loop {
            items.push(self.expr()?);
            if self.eat(&TokenKind::Comma) {
                if trailing_comma && self.eat(close) {
                    return Ok(items);
                }
                continue;
            }
            if self.eat(close) {
                return Ok(items);
            }
            return Err(self.unexpected(Some(expecting)));
        }
    }

    fn paren_or_tuple(&mut self) -> PResult<Expr> {
        let open = self.bump().span;
        self.paren_inner(open)
    }

    fn paren_inner(&mut self, open: Span) -> PResult<Expr> {
        if self.eat(&TokenKind::RParen) {
            let span = open.to(Span::point(self.last_end));
            return Ok(self.mk(ExprKind::Tuple(Vec::new()), span));
        }
        let first = self.expr()?;
        if self.eat(&TokenKind::RParen) {
            let mut e = first;
            e.span = open.to(Span::point(self.last_end));
            return Ok(e);
        }
        if !self.eat(&TokenKind::Comma) {
            return Err(self.unexpected(Some(") or \",\"")));
        }
        let mut items = vec![first];
        items.extend(self.expr_list(&TokenKind::RParen, ") or \",\"", true)?);
        let span = open.to(Span::point(self.last_end));
        Ok(self.mk(ExprKind::Tuple(items), span))
    }

    fn ident_expr(&mut self, word: String, span: Span) -> PResult<Expr> {
        if STMT_KEYWORDS.contains(&word.as_str()) {
            return Err(self.unexpected(None));
        }
        self.bump();
        match word.as_str() {
            "true" => return Ok(self.mk(ExprKind::Bool(true), span)),
            "false" => return Ok(self.mk(ExprKind::Bool(false), span)),
            _ => {}
        }
        if !self.at(&TokenKind::LParen) {
            return Ok(self.mk(ExprKind::Ident(word), span));
        }
        match word.as_str() {
            "sizeof" => self.sizeof(span),
            "offsetof" => self.offsetof(span),
            _ => {
                self.bump();
                let args = self.expr_list(&TokenKind::RParen, ") or \",\"", false)?;
                let full = span.to(Span::point(self.last_end));
                Ok(self.mk(
                    ExprKind::Call {
                        name: word,
                        name_span: span,
                        args,
                    },
                    full,
                ))
            }
        }
    }

    fn sizeof(&mut self, start: Span) -> PResult<Expr> {
        self.expect(&TokenKind::LParen, "(")?;
        let is_type = match self.peek_kind().clone() {
            TokenKind::Ident(w) => {
                matches!(w.as_str(), "struct" | "union" | "enum")
                    || C_TYPE_WORDS.contains(&w.as_str())
                    || BaseType::from_keyword(&w).is_some()
                    || self.typedefs.contains(&w)
                    || matches!(self.peek_nth(1).kind, TokenKind::Star)
            }
            _ => false,
        };
        let arg = if is_type {
            SizeofArg::Type(self.type_name()?)
        } else {
            SizeofArg::Expr(Box::new(self.expr()?))
        };
        self.expect(&TokenKind::RParen, ")")?;
        let span = start.to(Span::point(self.last_end));
        Ok(self.mk(ExprKind::Sizeof(arg), span))
    }

    fn offsetof(&mut self, start: Span) -> PResult<Expr> {
        self.expect(&TokenKind::LParen, "(")?;
        let ty = self.type_name()?;
        self.expect(&TokenKind::Comma, "\",\"")?;
        let mut fields = Vec::new();
        loop {
            match self.peek_kind().clone() {
                TokenKind::Ident(f) => {
                    self.bump();
                    fields.push(f);
                }
                _ => return Err(self.unexpected(Some("identifier"))),
            }
            if !self.eat(&TokenKind::Dot) {
                break;
            }
        }
        self.expect(&TokenKind::RParen, ")")?;
        let span = start.to(Span::point(self.last_end));
        Ok(self.mk(ExprKind::Offsetof { ty, fields }, span))
    }

    fn postfix(&mut self, mut expr: Expr) -> PResult<Expr> {
        use TokenKind as T;
        loop {
            match self.peek_kind().clone() {
                T::Dot | T::Arrow => {
                    let arrow = self.bump().kind == T::Arrow;
                    let tok = self.peek().clone();
                    let span = expr.span.to(tok.span);
                    let kind = match tok.kind {
                        T::Ident(field) => ExprKind::Field {
                            expr: Box::new(expr),
                            field,
                            field_span: tok.span,
                            arrow,
                        },
                        T::Int { value, .. } if !arrow => match u32::try_from(value) {
                            Ok(index) => ExprKind::TupleIndex {
                                expr: Box::new(expr),
                                index,
                            },
                            Err(_) => return Err(self.error(tok.span, "tuple index too large")),
                        },
                        _ => return Err(self.unexpected(Some("identifier"))),
                    };
                    self.bump();
                    expr = self.mk(kind, span);
                }
                T::LBracket => {
                    self.bump();
                    let index = self.expr()?;
                    self.expect(&T::RBracket, "]")?;
                    let span = expr.span.to(Span::point(self.last_end));
                    expr = self.mk(
                        ExprKind::Index {
                            expr: Box::new(expr),
                            index: Box::new(index),
                        },
                        span,
                    );
                }
                T::PlusPlus | T::MinusMinus => {
                    let tok = self.bump();
                    self.check_incdec_target(&expr, &tok.kind);
                    let op = if tok.kind == T::PlusPlus {
                        IncDecOp::Inc
                    } else {
                        IncDecOp::Dec
                    };
                    let span = expr.span.to(tok.span);
                    expr = self.mk(
                        ExprKind::IncDec {
                            op,
                            prefix: false,
                            target: Box::new(expr),
                        },
                        span,
                    );
                }
                _ => return Ok(expr),
            }
        }
    }
}
