//! Read-only traversal helpers over the AST.
//!
//! [`walk_program`] calls a closure for every expression in source order (pre-order:
//! parents before children), covering map declarations, predicates and statements.

use crate::ast::{Block, Expr, ExprKind, ForIter, Program, SizeofArg, Stmt, StmtKind};

impl Expr {
    /// Calls `f` on each direct child expression, left to right.
    pub fn for_each_child<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        match &self.kind {
            ExprKind::Int { .. }
            | ExprKind::Char(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Var(_)
            | ExprKind::Ident(_)
            | ExprKind::Positional(_)
            | ExprKind::PositionalCount
            | ExprKind::Offsetof { .. }
            | ExprKind::Sizeof(SizeofArg::Type(_)) => {}
            ExprKind::Map { keys: items, .. }
            | ExprKind::Call { args: items, .. }
            | ExprKind::Tuple(items) => items.iter().for_each(f),
            ExprKind::Binary { lhs, rhs, .. } => {
                f(lhs);
                f(rhs);
            }
            ExprKind::Unary { expr, .. }
            | ExprKind::Cast { expr, .. }
            | ExprKind::Field { expr, .. }
            | ExprKind::TupleIndex { expr, .. }
            | ExprKind::IncDec { target: expr, .. }
            | ExprKind::Sizeof(SizeofArg::Expr(expr)) => f(expr),
            ExprKind::Index { expr, index } => {
                f(expr);
                f(index);
            }
            ExprKind::Ternary {
                cond,
                then,
                otherwise,
            } => {
                f(cond);
                if let Some(t) = then {
                    f(t);
                }
                f(otherwise);
            }
        }
    }

    /// Calls `f` on this expression and all descendants (pre-order).
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        self.for_each_child(&mut |child| child.walk(f));
    }
}

/// Calls `f` on every expression of `block` (pre-order, source order).
pub fn walk_block<'a>(block: &'a Block, f: &mut impl FnMut(&'a Expr)) {
    for stmt in &block.stmts {
        walk_stmt(stmt, f);
    }
}

/// Calls `f` on every expression of `stmt` (pre-order, source order).
pub fn walk_stmt<'a>(stmt: &'a Stmt, f: &mut impl FnMut(&'a Expr)) {
    match &stmt.kind {
        StmtKind::Expr(e) => e.walk(f),
        StmtKind::Assign { target, value, .. } => {
            target.walk(f);
            value.walk(f);
        }
        StmtKind::Let { value, .. } => {
            if let Some(v) = value {
                v.walk(f);
            }
        }
        StmtKind::If {
            cond,
            then_block,
            else_block,
        } => {
            cond.walk(f);
            walk_block(then_block, f);
            if let Some(e) = else_block {
                walk_block(e, f);
            }
        }
        StmtKind::Unroll { count: e, body } | StmtKind::While { cond: e, body } => {
            e.walk(f);
            walk_block(body, f);
        }
        StmtKind::For { iter, body, .. } => {
            match iter {
                ForIter::Map(m) => m.walk(f),
                ForIter::Range { start, end } => {
                    start.walk(f);
                    end.walk(f);
                }
            }
            walk_block(body, f);
        }
        StmtKind::Return(v) => {
            if let Some(v) = v {
                v.walk(f);
            }
        }
        StmtKind::Block(b) => walk_block(b, f),
        StmtKind::Break | StmtKind::Continue => {}
    }
}

/// Calls `f` on every expression of the program (map declarations, macro bodies, then
/// each probe's predicate and body).
pub fn walk_program<'a>(program: &'a Program, f: &mut impl FnMut(&'a Expr)) {
    for decl in &program.map_decls {
        decl.value.walk(f);
    }
    for m in &program.macros {
        walk_block(&m.body, f);
    }
    for probe in &program.probes {
        if let Some(p) = &probe.predicate {
            p.walk(f);
        }
        walk_block(&probe.body, f);
    }
}
