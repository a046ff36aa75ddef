//! Statements: assignments, control flow, loops.

use scry_diagnostics::Diagnostic;
use scry_ebpf::Reg;
use scry_ebpf::insn::*;
use scry_sema::Type;
use scry_syntax::ast::{self, ExprKind, StmtKind};

use super::{Builder, Result, VarLoc};

impl Builder<'_, '_> {
    /// The whole probe: predicate, then the body.
    pub(crate) fn probe_body(&mut self, probe: &ast::Probe) -> Result<()> {
        // Every variable gets its storage up front, below all temporaries, so that it lives
        // for the whole program whichever statement assigns it first.
        let mut names: Vec<&String> = self.shared.analysis.typed.vars[self.probe].keys().collect();
        names.sort();
        for name in names {
            self.var_loc(name, probe.span)?;
        }
        if let Some(predicate) = &probe.predicate {
            self.origin(predicate.span);
            let mark = self.scratch_top;
            let exit = self.exit_label;
            self.branch_unless(predicate, exit)?;
            self.scratch_top = mark;
        }
        self.block(&probe.body)
    }

    pub(crate) fn block(&mut self, block: &ast::Block) -> Result<()> {
        for stmt in &block.stmts {
            self.stmt(stmt)?;
            // Statements after one that leaves the block are dead code, which the verifier
            // refuses ("unreachable insn"): bpftrace drops them too.
            if leaves_block(stmt) {
                break;
            }
        }
        Ok(())
    }

    /// The variable's location, allocating it on first use.
    pub(crate) fn var_loc(&mut self, name: &str, span: scry_diagnostics::Span) -> Result<VarLoc> {
        if let Some(loc) = self.vars.get(name) {
            return Ok(*loc);
        }
        let ty = self.shared.analysis.typed.vars[self.probe]
            .get(name)
            .cloned()
            .unwrap_or(Type::I64);
        let loc = if ty.is_scalar() {
            let slot = self.push_slot(span)?;
            // Variables are zero until assigned, as in bpftrace.
            self.asm.store_imm(8, Reg::FP, slot, 0);
            VarLoc::Stack(slot)
        } else {
            let size = ty.storage_size();
            let offset = self.scratch(size);
            self.zero_scratch(offset, size);
            VarLoc::Scratch(offset)
        };
        self.vars.insert(name.to_string(), loc);
        Ok(loc)
    }

    fn stmt(&mut self, stmt: &ast::Stmt) -> Result<()> {
        self.origin(stmt.span);
        let mark = self.scratch_top;
        let scalar_slots = self.slots;
        match &stmt.kind {
            StmtKind::Expr(expr) => self.effect(expr)?,
            StmtKind::Assign { target, op, value } => self.assign(target, *op, value)?,
            StmtKind::Let { name, value, .. } => {
                if let Some(value) = value {
                    self.assign_var(name, value, stmt.span)?;
                }
            }
            StmtKind::If {
                cond,
                then_block,
                else_block,
            } => {
                let otherwise = self.asm.label();
                let end = self.asm.label();
                self.branch_unless(cond, otherwise)?;
                self.block(then_block)?;
                self.asm.goto(end);
                self.asm.bind(otherwise);
                if let Some(else_block) = else_block {
                    self.block(else_block)?;
                }
                self.asm.bind(end);
            }
            StmtKind::Unroll { count, body } => {
                let n = count.as_int().unwrap_or(1);
                for _ in 0..n {
                    self.block(body)?;
                }
            }
            StmtKind::While { cond, body } => {
                let top = self.asm.label();
                let end = self.asm.label();
                self.asm.bind(top);
                self.branch_unless(cond, end)?;
                self.loops.push((top, end));
                self.block(body)?;
                self.loops.pop();
                self.asm.goto(top);
                self.asm.bind(end);
            }
            StmtKind::For {
                var,
                var_span,
                iter: ast::ForIter::Range { start, end },
                body,
            } => {
                let VarLoc::Stack(slot) = self.var_loc(var, *var_span)? else {
                    return Err(Diagnostic::error(
                        *var_span,
                        "loop variable must be an integer",
                    ));
                };
                let limit = self.push_slot(end.span)?;
                self.scalar(start)?;
                self.asm.store(8, Reg::FP, slot, Reg::R0);
                self.scalar(end)?;
                self.asm.store(8, Reg::FP, limit, Reg::R0);
                let top = self.asm.label();
                let next = self.asm.label();
                let done = self.asm.label();
                self.asm.bind(top);
                self.asm.load(8, Reg::R0, Reg::FP, slot);
                self.asm.load(8, Reg::R1, Reg::FP, limit);
                self.asm.jump_reg(BPF_JSGE, Reg::R0, Reg::R1, done);
                self.loops.push((next, done));
                self.block(body)?;
                self.loops.pop();
                self.asm.bind(next);
                self.asm.load(8, Reg::R0, Reg::FP, slot);
                self.asm.alu_imm(BPF_ADD, Reg::R0, 1);
                self.asm.store(8, Reg::FP, slot, Reg::R0);
                self.asm.goto(top);
                self.asm.bind(done);
                self.pop_slot();
            }
            StmtKind::For { .. } => {
                return Err(Diagnostic::error(
                    stmt.span,
                    "for loops over maps are not supported by scry yet",
                ));
            }
            StmtKind::Break | StmtKind::Continue => {
                let Some(&(next, end)) = self.loops.last() else {
                    return Err(Diagnostic::error(
                        stmt.span,
                        "break/continue outside of a loop",
                    ));
                };
                self.asm.goto(if matches!(stmt.kind, StmtKind::Break) {
                    end
                } else {
                    next
                });
            }
            StmtKind::Return(_) => self.asm.goto(self.exit_label),
            StmtKind::Block(block) => self.block(block)?,
        }
        debug_assert_eq!(
            self.slots, scalar_slots,
            "temporaries are released by the end of a statement"
        );
        self.scratch_top = mark;
        Ok(())
    }

    /// An expression evaluated for its effect.
    fn effect(&mut self, expr: &ast::Expr) -> Result<()> {
        match &expr.kind {
            ExprKind::Call { .. } | ExprKind::IncDec { .. } => {
                if self.ty(expr).is_scalar() {
                    self.scalar(expr)
                } else {
                    self.call_statement(expr)
                }
            }
            _ => {
                // Other expressions have no effect, but evaluate scalars for their side effects.
                if self.ty(expr).is_scalar() {
                    self.scalar(expr)
                } else {
                    Ok(())
                }
            }
        }
    }

    fn assign(
        &mut self,
        target: &ast::Expr,
        op: Option<ast::BinaryOp>,
        value: &ast::Expr,
    ) -> Result<()> {
        match &target.kind {
            ExprKind::Var(name) => match op {
                None => self.assign_var(name, value, target.span),
                Some(op) => {
                    let VarLoc::Stack(slot) = self.var_loc(name, target.span)? else {
                        return Err(Diagnostic::error(
                            target.span,
                            "compound assignment needs an integer variable",
                        ));
                    };
                    self.scalar(value)?;
                    self.asm.mov(Reg::R1, Reg::R0);
                    self.asm.load(8, Reg::R0, Reg::FP, slot);
                    let signed = self.ty(value).is_signed() && self.ty(target).is_signed();
                    self.binary_op(op, signed, target.span)?;
                    self.asm.store(8, Reg::FP, slot, Reg::R0);
                    Ok(())
                }
            },
            ExprKind::Map { name, keys } => self.map_assign(name, keys, op, value, target.span),
            _ => Err(Diagnostic::error(
                target.span,
                "Only variables and maps can be assigned to",
            )),
        }
    }

    pub(crate) fn assign_var(
        &mut self,
        name: &str,
        value: &ast::Expr,
        span: scry_diagnostics::Span,
    ) -> Result<()> {
        let var_ty = self.shared.analysis.typed.vars[self.probe]
            .get(name)
            .cloned()
            .unwrap_or(Type::I64);
        match self.var_loc(name, span)? {
            VarLoc::Stack(slot) => {
                self.scalar(value)?;
                self.asm.store(8, Reg::FP, slot, Reg::R0);
            }
            VarLoc::Scratch(offset) => {
                // `$s = f($s)`: build the new value aside, since storing clears the variable
                // before the value is computed.
                let mut reads_itself = false;
                value.walk(&mut |e| {
                    reads_itself |= matches!(&e.kind, ExprKind::Var(v) if v == name)
                });
                if reads_itself {
                    let size = var_ty.storage_size();
                    let temp = self.scratch(size);
                    self.store(value, temp, &var_ty)?;
                    self.scratch_ptr(Reg::R3, temp);
                    self.copy_to_scratch(offset, size, Reg::R3);
                } else {
                    self.store(value, offset, &var_ty)?;
                }
            }
        }
        Ok(())
    }
}

/// True for statements after which the rest of a block never runs.
fn leaves_block(stmt: &ast::Stmt) -> bool {
    match &stmt.kind {
        StmtKind::Return(_) | StmtKind::Break | StmtKind::Continue => true,
        StmtKind::Expr(expr) => matches!(&expr.kind, ExprKind::Call { name, .. } if name == "exit"),
        _ => false,
    }
}
