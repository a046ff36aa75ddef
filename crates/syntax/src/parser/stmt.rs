//! Blocks and statements.

use super::{PResult, Parser};
use crate::ast::{BinaryOp, Block, ExprKind, ForIter, Stmt, StmtKind};
use crate::token::TokenKind;
use scry_diagnostics::Span;

fn assign_op(kind: &TokenKind) -> Option<Option<BinaryOp>> {
    use TokenKind as T;
    Some(match kind {
        T::Assign => None,
        T::PlusEq => Some(BinaryOp::Add),
        T::MinusEq => Some(BinaryOp::Sub),
        T::StarEq => Some(BinaryOp::Mul),
        T::SlashEq => Some(BinaryOp::Div),
        T::PercentEq => Some(BinaryOp::Mod),
        T::AmpEq => Some(BinaryOp::BitAnd),
        T::PipeEq => Some(BinaryOp::BitOr),
        T::CaretEq => Some(BinaryOp::BitXor),
        T::ShlEq => Some(BinaryOp::Shl),
        T::ShrEq => Some(BinaryOp::Shr),
        _ => return None,
    })
}

/// Statements that end with a block and need no `;` separator.
fn ends_with_block(kind: &StmtKind) -> bool {
    matches!(
        kind,
        StmtKind::If { .. }
            | StmtKind::Unroll { .. }
            | StmtKind::While { .. }
            | StmtKind::For { .. }
            | StmtKind::Block(_)
    )
}

impl Parser<'_> {
    /// Parses `{ stmts }`. Errors inside are recovered; only a missing `{` fails.
    pub(crate) fn block(&mut self) -> PResult<Block> {
        let open = self.expect(&TokenKind::LBrace, "{")?.span;
        self.enter()?;
        let stmts = self.block_body();
        self.leave();
        Ok(Block {
            stmts,
            span: open.to(Span::point(self.last_end)),
        })
    }

    fn block_body(&mut self) -> Vec<Stmt> {
        let mut stmts = Vec::new();
        let mut has_value = false;
        loop {
            match self.peek_kind() {
                TokenKind::RBrace => {
                    self.bump();
                    self.block_has_value = has_value;
                    return stmts;
                }
                TokenKind::Eof => {
                    self.unexpected(Some("}"));
                    return stmts;
                }
                TokenKind::Semi => {
                    self.bump();
                    has_value = false;
                    continue;
                }
                _ => {}
            }
            has_value = false;
            match self.stmt() {
                Ok(stmt) => {
                    let needs_sep = !ends_with_block(&stmt.kind);
                    has_value =
                        matches!(stmt.kind, StmtKind::Expr(_)) && self.at(&TokenKind::RBrace);
                    stmts.push(stmt);
                    if needs_sep
                        && !self.eat(&TokenKind::Semi)
                        && !matches!(self.peek_kind(), TokenKind::RBrace | TokenKind::Eof)
                    {
                        self.unexpected(Some("; or }"));
                        self.recover_stmt();
                    }
                }
                Err(_) => self.recover_stmt(),
            }
        }
    }

    fn stmt(&mut self) -> PResult<Stmt> {
        let start = self.peek_span();
        let word = match self.peek_kind() {
            TokenKind::Ident(w) => Some(w.clone()),
            TokenKind::LBrace => {
                let b = self.block()?;
                let span = b.span;
                return Ok(Stmt {
                    kind: StmtKind::Block(b),
                    span,
                });
            }
            _ => None,
        };
        let kind = match word.as_deref() {
            Some("if") => self.if_stmt()?,
            Some("unroll") => {
                self.bump();
                let count = self.expr()?;
                let body = self.block()?;
                StmtKind::Unroll { count, body }
            }
            Some("while") => {
                self.bump();
                let cond = self.expr()?;
                let body = self.block()?;
                StmtKind::While { cond, body }
            }
            Some("for") => self.for_stmt()?,
            Some("break") => {
                self.bump();
                StmtKind::Break
            }
            Some("continue") => {
                self.bump();
                StmtKind::Continue
            }
            Some("return") => {
                self.bump();
                if matches!(self.peek_kind(), TokenKind::Semi | TokenKind::RBrace) {
                    StmtKind::Return(None)
                } else {
                    StmtKind::Return(Some(self.expr()?))
                }
            }
            Some("let") => self.let_stmt()?,
            _ => self.expr_or_assign()?,
        };
        Ok(Stmt {
            kind,
            span: start.to(Span::point(self.last_end)),
        })
    }

    fn if_stmt(&mut self) -> PResult<StmtKind> {
        self.bump();
        let cond = self.expr()?;
        let then_block = self.block()?;
        let mut else_block = None;
        if self.at_word("else") {
            self.bump();
            if self.at_word("if") {
                let start = self.peek_span();
                self.enter()?;
                let nested = self.if_stmt();
                self.leave();
                let span = start.to(Span::point(self.last_end));
                else_block = Some(Block {
                    stmts: vec![Stmt {
                        kind: nested?,
                        span,
                    }],
                    span,
                });
            } else if self.at(&TokenKind::LBrace) {
                else_block = Some(self.block()?);
            } else {
                return Err(self.unexpected(Some("{ or if")));
            }
        }
        Ok(StmtKind::If {
            cond,
            then_block,
            else_block,
        })
    }

    fn for_stmt(&mut self) -> PResult<StmtKind> {
        self.bump();
        let paren = self.eat(&TokenKind::LParen);
        let tok = self.peek().clone();
        let TokenKind::Var(var) = tok.kind else {
            return Err(self.unexpected(Some("variable")));
        };
        self.bump();
        self.expect(&TokenKind::Colon, ":")?;
        let first = self.expr()?;
        let iter = if self.eat(&TokenKind::DotDot) {
            let end = self.expr()?;
            ForIter::Range { start: first, end }
        } else {
            if !matches!(&first.kind, ExprKind::Map { keys, .. } if keys.is_empty()) {
                self.error(
                    first.span,
                    "for loop expects a map (@name) or a range (a..b)",
                );
            }
            ForIter::Map(first)
        };
        if paren {
            self.expect(&TokenKind::RParen, ")")?;
        }
        let body = self.block()?;
        Ok(StmtKind::For {
            var,
            var_span: tok.span,
            iter,
            body,
        })
    }

    fn let_stmt(&mut self) -> PResult<StmtKind> {
        self.bump();
        let tok = self.peek().clone();
        let name = match tok.kind {
            TokenKind::Var(name) => name,
            TokenKind::Map(_) => {
                self.error(
                    tok.span,
                    "map declarations are only allowed at the top level of the program",
                );
                self.bump();
                if self.eat(&TokenKind::Assign) {
                    self.expr()?;
                }
                return Err(super::Reported);
            }
            _ => return Err(self.unexpected(Some("variable"))),
        };
        self.bump();
        let ty = if self.eat(&TokenKind::Colon) {
            Some(self.type_name()?)
        } else {
            None
        };
        let value = if self.eat(&TokenKind::Assign) {
            Some(self.expr()?)
        } else {
            None
        };
        Ok(StmtKind::Let {
            name,
            name_span: tok.span,
            ty,
            value,
        })
    }

    fn expr_or_assign(&mut self) -> PResult<StmtKind> {
        let target = self.expr()?;
        let Some(op) = assign_op(self.peek_kind()) else {
            return Ok(StmtKind::Expr(target));
        };
        let op_tok = self.bump();
        if !target.is_lvalue() {
            self.error(
                target.span,
                format!(
                    "syntax error, unexpected {}, only variables and maps can be assigned to",
                    op_tok.kind
                ),
            );
        }
        let value = self.expr()?;
        Ok(StmtKind::Assign { target, op, value })
    }
}
