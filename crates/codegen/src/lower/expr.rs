//! Expressions: scalars into r0, aggregates into scratch memory.

use scry_diagnostics::{Diagnostic, Span};
use scry_ebpf::insn::*;
use scry_ebpf::{Reg, helper};
use scry_sema::{FieldKind, Type};
use scry_syntax::ast::{self, BinaryOp, ExprKind, IncDecOp, UnaryOp};

use super::{ARGS, Builder, CTX, ProbeValue, Result, SCRATCH, VarLoc};
use crate::config;

/// x86_64 `struct pt_regs` offsets of the first six integer arguments (di, si, dx, cx, r8, r9).
const PT_REGS_ARGS: [i16; 6] = [112, 104, 96, 88, 72, 64];
/// x86_64 `struct pt_regs` offset of ax (the return value).
const PT_REGS_AX: i16 = 80;

/// The jump operation of an integer comparison.
fn comparison_jump(op: BinaryOp, signed: bool) -> u8 {
    match (op, signed) {
        (BinaryOp::Eq, _) => BPF_JEQ,
        (BinaryOp::Ne, _) => BPF_JNE,
        (BinaryOp::Lt, false) => BPF_JLT,
        (BinaryOp::Lt, true) => BPF_JSLT,
        (BinaryOp::Le, false) => BPF_JLE,
        (BinaryOp::Le, true) => BPF_JSLE,
        (BinaryOp::Gt, false) => BPF_JGT,
        (BinaryOp::Gt, true) => BPF_JSGT,
        (BinaryOp::Ge, false) => BPF_JGE,
        (BinaryOp::Ge, true) => BPF_JSGE,
        _ => unreachable!("comparison operators only"),
    }
}

/// x86_64 `struct pt_regs` offset of a 64-bit register.
pub(crate) fn pt_regs_offset(register: &str) -> Option<i16> {
    Some(match register {
        "r15" => 0,
        "r14" => 8,
        "r13" => 16,
        "r12" => 24,
        "rbp" => 32,
        "rbx" => 40,
        "r11" => 48,
        "r10" => 56,
        "r9" => 64,
        "r8" => 72,
        "rax" => 80,
        "rcx" => 88,
        "rdx" => 96,
        "rsi" => 104,
        "rdi" => 112,
        "rip" => 128,
        "rsp" => 152,
        _ => return None,
    })
}

fn unsupported(span: Span, what: impl Into<String>) -> Diagnostic {
    Diagnostic::error(
        span,
        format!("{} is not supported by scry yet", what.into()),
    )
}

impl Builder<'_, '_> {
    /// Evaluates a scalar expression into r0 (64 bits, extended by its type's signedness).
    pub(crate) fn scalar(&mut self, expr: &ast::Expr) -> Result<()> {
        let ty = self.ty(expr);
        match &expr.kind {
            ExprKind::Int { value, .. } => self.asm.load_const(Reg::R0, *value),
            ExprKind::Char(c) => self.asm.mov_imm(Reg::R0, *c as i8 as i32),
            ExprKind::Bool(b) => self.asm.mov_imm(Reg::R0, *b as i32),
            ExprKind::Positional(n) => {
                let text = self.positional(*n);
                let value = parse_int(&text).unwrap_or(0);
                self.asm.load_const(Reg::R0, value as u64);
            }
            ExprKind::PositionalCount => {
                let count = self.shared.analysis.positional_count as u64;
                self.asm.load_const(Reg::R0, count);
            }
            ExprKind::Var(name) => match self.var_loc(name, expr.span)? {
                VarLoc::Stack(slot) => self.asm.load(8, Reg::R0, Reg::FP, slot),
                VarLoc::Scratch(_) => {
                    return Err(Diagnostic::error(
                        expr.span,
                        "string variable used as a number",
                    ));
                }
            },
            ExprKind::Map { name, keys } => self.map_read_scalar(name, keys, expr.span)?,
            ExprKind::Ident(_)
                if self
                    .shared
                    .analysis
                    .typed
                    .constants
                    .contains_key(&expr.id.0) =>
            {
                let value = self.shared.analysis.typed.constants[&expr.id.0];
                self.asm.load_const(Reg::R0, value);
            }
            ExprKind::Ident(name) => self.builtin(name, expr.span)?,
            ExprKind::Call { .. } => self.call_scalar(expr)?,
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, expr.span)?,
            ExprKind::Unary { op, expr: inner } => match op {
                UnaryOp::Not => {
                    self.scalar(inner)?;
                    self.bool_from(BPF_JEQ, 0);
                }
                UnaryOp::BitNot => {
                    self.scalar(inner)?;
                    self.asm.alu_imm(BPF_XOR, Reg::R0, -1);
                }
                UnaryOp::Neg => {
                    self.scalar(inner)?;
                    self.asm.neg(Reg::R0);
                }
                UnaryOp::Plus => self.scalar(inner)?,
                UnaryOp::Deref => {
                    self.scalar(inner)?;
                    // A record stands for its address: `*p` of a struct pointer is `p`.
                    if !matches!(ty, Type::Record(_)) {
                        let user = matches!(self.ty(inner), Type::Ptr { user: true, .. });
                        self.read_scalar_at_r0(ty, user, expr.span)?;
                    }
                }
                UnaryOp::AddrOf => return Err(unsupported(expr.span, "The address-of operator")),
            },
            ExprKind::IncDec { op, prefix, target } => self.inc_dec(*op, *prefix, target)?,
            // A char array member cast to a pointer (`(struct tcp_skb_cb *)skb->cb`): its
            // address, as in C.
            ExprKind::Cast { expr: inner, .. }
                if matches!(self.ty(inner), Type::Str(_))
                    && matches!(ty, Type::Ptr { .. } | Type::Record(_))
                    && self.member_offset(inner).is_some() =>
            {
                self.member_address(inner)?;
            }
            ExprKind::Cast { expr: inner, .. } => {
                self.scalar(inner)?;
                self.convert(ty);
            }
            ExprKind::Field { .. }
                if self.shared.analysis.typed.raw_args.contains_key(&expr.id.0) =>
            {
                // A raw tracepoint argument: the context is an array of u64 arguments.
                let index = self.shared.analysis.typed.raw_args[&expr.id.0];
                self.asm.load(8, Reg::R0, CTX, (index * 8) as i16);
                if !matches!(ty, Type::Record(_) | Type::Ptr { .. }) {
                    self.convert(ty);
                }
            }
            ExprKind::Field { .. } if self.member_offset(expr).is_some() => {
                self.member_address(expr)?;
                // Records and arrays of numbers stand for their address.
                let inline = self
                    .shared
                    .analysis
                    .typed
                    .inline_arrays
                    .contains(&expr.id.0);
                if !matches!(ty, Type::Record(_)) && !inline {
                    let user = self.in_user_memory(expr);
                    self.read_scalar_at_r0(ty, user, expr.span)?;
                }
            }
            ExprKind::Field { .. } => {
                let field = self.args_field(expr)?;
                let (offset, size) = (field.offset, field.size);
                match field.kind {
                    FieldKind::Int { signed } | FieldKind::IntArray { signed, .. } => {
                        self.load_ctx_int(offset, size, signed)
                    }
                    FieldKind::Pointer { .. } | FieldKind::Other => {
                        self.load_ctx_int(offset, size.min(8), false)
                    }
                    FieldKind::CharArray | FieldKind::DataLocString => {
                        return Err(Diagnostic::error(
                            expr.span,
                            "string field used as a number",
                        ));
                    }
                }
            }
            ExprKind::Index { expr: base, index } => {
                if let Ok(field) = self.args_field(base) {
                    let FieldKind::IntArray {
                        elem_size, signed, ..
                    } = field.kind
                    else {
                        return Err(Diagnostic::error(
                            expr.span,
                            "only integer array fields can be indexed",
                        ));
                    };
                    let i = index.as_int().ok_or_else(|| {
                        Diagnostic::error(index.span, "Array index must be a constant")
                    })?;
                    self.load_ctx_int(field.offset + i as u32 * elem_size, elem_size, signed);
                } else {
                    // ptr[i]; for records, the i-th record's address.
                    let stride = self.shared.analysis.typed.strides.get(&expr.id.0).copied();
                    let elem = ty.storage_size().max(1);
                    self.scalar(index)?;
                    self.asm.alu_imm(
                        BPF_MUL,
                        Reg::R0,
                        stride.unwrap_or_else(|| elem_size_of(ty)) as i32,
                    );
                    let slot = self.push_slot(expr.span)?;
                    self.asm.store(8, Reg::FP, slot, Reg::R0);
                    self.scalar(base)?;
                    self.asm.load(8, Reg::R1, Reg::FP, slot);
                    self.pop_slot();
                    self.asm.alu(BPF_ADD, Reg::R0, Reg::R1);
                    let _ = elem;
                    if !matches!(ty, Type::Record(_)) {
                        let user = matches!(self.ty(base), Type::Ptr { user: true, .. });
                        self.read_scalar_at_r0(ty, user, expr.span)?;
                    }
                }
            }
            ExprKind::TupleIndex { expr: base, index } => {
                let Type::Tuple(elems) = self.ty(base).clone() else {
                    return Err(Diagnostic::error(expr.span, "not a tuple"));
                };
                let size = Type::Tuple(elems.clone()).storage_size();
                let offset = self.scratch(size);
                self.store(base, offset, &Type::Tuple(elems.clone()))?;
                let at = Type::tuple_offsets(&elems)[*index as usize];
                self.asm.load(8, Reg::R0, SCRATCH, (offset + at) as i16);
            }
            ExprKind::Ternary {
                cond,
                then,
                otherwise,
            } => {
                let other = self.asm.label();
                let end = self.asm.label();
                match then {
                    Some(then) => {
                        self.branch_unless(cond, other)?;
                        self.scalar(then)?;
                    }
                    None => {
                        self.scalar(cond)?;
                        self.asm.jump_imm(BPF_JEQ, Reg::R0, 0, other);
                    }
                }
                self.asm.goto(end);
                self.asm.bind(other);
                self.scalar(otherwise)?;
                self.asm.bind(end);
            }
            ExprKind::Sizeof(_) | ExprKind::Offsetof { .. } => {
                let value = self
                    .shared
                    .analysis
                    .typed
                    .constants
                    .get(&expr.id.0)
                    .copied();
                let value = value.ok_or_else(|| Diagnostic::error(expr.span, "size unknown"))?;
                self.asm.load_const(Reg::R0, value);
            }
            ExprKind::Str(_) | ExprKind::Tuple(_) => {
                return Err(Diagnostic::error(
                    expr.span,
                    format!("a value of type {ty} cannot be used as a number"),
                ));
            }
        }
        Ok(())
    }

    /// The value of positional parameter `n` as text.
    pub(crate) fn positional(&self, n: u32) -> String {
        self.shared
            .analysis
            .positional
            .get((n as usize).wrapping_sub(1))
            .cloned()
            .unwrap_or_default()
    }

    /// Jumps to `target` when `cond` is false. Comparisons and `&&` become conditional jumps
    /// directly (no 0/1 value in between: fewer instructions and fewer verifier paths).
    pub(crate) fn branch_unless(
        &mut self,
        cond: &ast::Expr,
        target: scry_ebpf::Label,
    ) -> Result<()> {
        if let ExprKind::Binary { op, lhs, rhs } = &cond.kind {
            let scalars = self.ty(lhs).is_scalar() && self.ty(rhs).is_scalar();
            if *op == BinaryOp::LogAnd {
                self.branch_unless(lhs, target)?;
                return self.branch_unless(rhs, target);
            }
            if op.is_comparison() && scalars {
                let signed = self.ty(lhs).is_signed() && self.ty(rhs).is_signed();
                let inverse =
                    invert_condition(comparison_jump(*op, signed)).expect("comparisons invert");
                // A small constant on the right compares against an immediate.
                if let Some(value) = rhs.as_int().filter(|v| *v <= i32::MAX as u64) {
                    self.scalar(lhs)?;
                    self.asm.jump_imm(inverse, Reg::R0, value as i32, target);
                    return Ok(());
                }
                self.scalar(lhs)?;
                let slot = self.push_slot(cond.span)?;
                self.asm.store(8, Reg::FP, slot, Reg::R0);
                self.scalar(rhs)?;
                self.asm.mov(Reg::R1, Reg::R0);
                self.asm.load(8, Reg::R0, Reg::FP, slot);
                self.pop_slot();
                self.asm.jump_reg(inverse, Reg::R0, Reg::R1, target);
                return Ok(());
            }
        }
        self.scalar(cond)?;
        self.asm.jump_imm(BPF_JEQ, Reg::R0, 0, target);
        Ok(())
    }

    /// r0 = (r0 OP imm) ? 1 : 0.
    fn bool_from(&mut self, op: u8, imm: i32) {
        let yes = self.asm.label();
        let end = self.asm.label();
        self.asm.jump_imm(op, Reg::R0, imm, yes);
        self.asm.mov_imm(Reg::R0, 0);
        self.asm.goto(end);
        self.asm.bind(yes);
        self.asm.mov_imm(Reg::R0, 1);
        self.asm.bind(end);
    }

    /// Truncates and re-extends r0 to an integer type's width.
    pub(crate) fn convert(&mut self, ty: &Type) {
        match ty {
            Type::Int { bytes, signed } if *bytes < 8 => {
                let shift = 64 - *bytes as i32 * 8;
                self.asm.alu_imm(BPF_LSH, Reg::R0, shift);
                self.asm
                    .alu_imm(if *signed { BPF_ARSH } else { BPF_RSH }, Reg::R0, shift);
            }
            Type::Bool => self.bool_from(BPF_JNE, 0),
            _ => {}
        }
    }

    /// r0 = the integer of `size` bytes at `offset` in the tracepoint record.
    fn load_ctx_int(&mut self, offset: u32, size: u32, signed: bool) {
        let size = match size {
            1 | 2 | 4 | 8 => size,
            _ => 8,
        };
        self.asm.load(size, Reg::R0, ARGS, offset as i16);
        if signed && size < 8 {
            self.convert(&Type::Int {
                bytes: size as u8,
                signed: true,
            });
        }
    }

    /// r0 = *(ty *)r0, read with probe_read_{user,kernel}.
    fn read_scalar_at_r0(&mut self, ty: &Type, user: bool, span: Span) -> Result<()> {
        let size = match ty {
            Type::Int { bytes, .. } => *bytes as u32,
            _ => 8,
        };
        let slot = self.push_slot(span)?;
        self.asm.store_imm(8, Reg::FP, slot, 0);
        self.asm.mov(Reg::R3, Reg::R0);
        self.asm.mov(Reg::R1, Reg::FP);
        self.asm.alu_imm(BPF_ADD, Reg::R1, slot as i32);
        self.asm.mov_imm(Reg::R2, size as i32);
        self.asm.call(if user {
            helper::PROBE_READ_USER
        } else {
            helper::PROBE_READ_KERNEL
        });
        self.asm.load(size, Reg::R0, Reg::FP, slot);
        self.pop_slot();
        if ty.is_signed() {
            self.convert(ty);
        }
        Ok(())
    }

    /// r0 = a stack id (`bpf_get_stackid`), with the pid in the upper half for user stacks.
    pub(crate) fn stack(&mut self, user: bool) {
        const BPF_F_USER_STACK: i32 = 1 << 8;
        self.shared.uses_stacks = true;
        self.shared.uses_user_stacks |= user;
        let stacks = self.shared.internal.stacks;
        self.asm.mov(Reg::R1, CTX);
        self.asm.load_map(Reg::R2, stacks);
        self.asm
            .mov_imm(Reg::R3, if user { BPF_F_USER_STACK } else { 0 });
        self.asm.call(helper::GET_STACKID);
        // A failed lookup (negative) becomes an id no stack has.
        self.asm
            .insn(Insn::new(BPF_ALU | BPF_MOV | BPF_X, 0, 0, 0, 0));
        if user {
            self.asm.store(8, Reg::FP, -8, Reg::R0);
            self.asm.call(helper::GET_CURRENT_PID_TGID);
            self.asm.alu_imm(BPF_RSH, Reg::R0, 32);
            self.asm.alu_imm(BPF_LSH, Reg::R0, 32);
            self.asm.load(8, Reg::R1, Reg::FP, -8);
            self.asm.alu(BPF_OR, Reg::R0, Reg::R1);
        }
    }

    /// r0 = USDT argument `n` of this program's probe site.
    fn usdt_arg(&mut self, n: usize, span: Span) -> Result<()> {
        let args = self.usdt_args.clone().unwrap_or_default();
        let Some(arg) = args.get(n) else {
            return Err(Diagnostic::error(
                span,
                format!(
                    "this USDT probe has {} arguments: arg{n} does not exist",
                    args.len()
                ),
            ));
        };
        let register = |name: &str| {
            pt_regs_offset(name).ok_or_else(|| {
                Diagnostic::error(span, format!("USDT register {name} is not supported"))
            })
        };
        let ty = Type::Int {
            bytes: arg.size,
            signed: arg.signed,
        };
        match &arg.location {
            scry_sema::UsdtLocation::Constant(value) => self.asm.load_const(Reg::R0, *value as u64),
            scry_sema::UsdtLocation::Register(name) => {
                let offset = register(name)?;
                self.asm.load(8, Reg::R0, CTX, offset);
                self.convert(&ty);
            }
            scry_sema::UsdtLocation::Memory { base, offset } => {
                let at = register(base)?;
                self.asm.load(8, Reg::R0, CTX, at);
                self.asm.load_const(Reg::R1, *offset as u64);
                self.asm.alu(BPF_ADD, Reg::R0, Reg::R1);
                self.read_scalar_at_r0(&ty, true, span)?;
            }
        }
        Ok(())
    }

    fn builtin(&mut self, name: &str, span: Span) -> Result<()> {
        match name {
            "kstack" => self.stack(false),
            "ustack" => self.stack(true),
            "pid" => {
                self.asm.call(helper::GET_CURRENT_PID_TGID);
                self.asm.alu_imm(BPF_RSH, Reg::R0, 32);
            }
            "tid" => {
                self.asm.call(helper::GET_CURRENT_PID_TGID);
                self.asm
                    .insn(Insn::new(BPF_ALU | BPF_MOV | BPF_X, 0, 0, 0, 0));
            }
            "uid" | "username" => {
                self.asm.call(helper::GET_CURRENT_UID_GID);
                self.asm
                    .insn(Insn::new(BPF_ALU | BPF_MOV | BPF_X, 0, 0, 0, 0));
            }
            "gid" => {
                self.asm.call(helper::GET_CURRENT_UID_GID);
                self.asm.alu_imm(BPF_RSH, Reg::R0, 32);
            }
            "nsecs" => self.asm.call(helper::KTIME_GET_BOOT_NS),
            "elapsed" => {
                self.asm.call(helper::KTIME_GET_BOOT_NS);
                self.asm
                    .load_map_value(Reg::R1, self.shared.internal.config, 0);
                self.asm.load(8, Reg::R1, Reg::R1, config::START_NS as i16);
                self.asm.alu(BPF_SUB, Reg::R0, Reg::R1);
            }
            "ncpus" => {
                self.asm
                    .load_map_value(Reg::R1, self.shared.internal.config, 0);
                self.asm.load(8, Reg::R0, Reg::R1, config::NCPUS as i16);
            }
            "cpid" => {
                self.asm
                    .load_map_value(Reg::R1, self.shared.internal.config, 0);
                self.asm.load(8, Reg::R0, Reg::R1, config::CPID as i16);
            }
            "cpu" => self.asm.call(helper::GET_SMP_PROCESSOR_ID),
            "numaid" => self.asm.call(helper::GET_NUMA_NODE_ID),
            "cgroup" => self.asm.call(helper::GET_CURRENT_CGROUP_ID),
            "rand" => self.asm.call(helper::GET_PRANDOM_U32),
            "curtask" => self.asm.call(helper::GET_CURRENT_TASK),
            "jiffies" => self.asm.call(helper::JIFFIES64),
            "retval" if self.regs_args => self.asm.load(8, Reg::R0, CTX, PT_REGS_AX),
            "retval" if self.fexit_retval.is_some() => {
                let slot = self.fexit_retval.unwrap_or(0);
                self.asm.load(8, Reg::R0, CTX, (slot * 8) as i16);
            }
            "probe" | "func" => match self.probe_value {
                ProbeValue::Const(id) => self.asm.load_const(Reg::R0, id),
                ProbeValue::Slot(slot) => self.asm.load(8, Reg::R0, Reg::FP, slot),
                ProbeValue::Cookie => {
                    self.asm.mov(Reg::R1, CTX);
                    self.asm.call(helper::GET_ATTACH_COOKIE);
                }
            },
            other => match other
                .strip_prefix("arg")
                .and_then(|n| n.parse::<i16>().ok())
            {
                Some(n) if self.usdt_args.is_some() => self.usdt_arg(n as usize, span)?,
                Some(n) if self.raw_args => self.asm.load(8, Reg::R0, CTX, n * 8),
                Some(n) if self.regs_args && (n as usize) < PT_REGS_ARGS.len() => {
                    self.asm.load(8, Reg::R0, CTX, PT_REGS_ARGS[n as usize])
                }
                _ => {
                    return Err(Diagnostic::error(
                        span,
                        format!("The {other} builtin can not be used here"),
                    ));
                }
            },
        }
        Ok(())
    }

    fn binary(&mut self, op: BinaryOp, lhs: &ast::Expr, rhs: &ast::Expr, span: Span) -> Result<()> {
        if let (Type::Str(_), Type::Str(_)) = (self.ty(lhs), self.ty(rhs)) {
            self.string_compare(lhs, rhs, None, span)?;
            // r0 = 0 when equal.
            if op == BinaryOp::Eq {
                self.bool_from(BPF_JEQ, 0);
            } else {
                self.bool_from(BPF_JNE, 0);
            }
            return Ok(());
        }
        if op.is_logical() {
            let short = self.asm.label();
            let end = self.asm.label();
            self.scalar(lhs)?;
            match op {
                BinaryOp::LogAnd => self.asm.jump_imm(BPF_JEQ, Reg::R0, 0, short),
                _ => self.asm.jump_imm(BPF_JNE, Reg::R0, 0, short),
            }
            self.scalar(rhs)?;
            self.bool_from(BPF_JNE, 0);
            self.asm.goto(end);
            self.asm.bind(short);
            self.asm
                .mov_imm(Reg::R0, if op == BinaryOp::LogAnd { 0 } else { 1 });
            self.asm.bind(end);
            return Ok(());
        }
        let signed = self.ty(lhs).is_signed() && self.ty(rhs).is_signed();
        self.scalar(lhs)?;
        let slot = self.push_slot(span)?;
        self.asm.store(8, Reg::FP, slot, Reg::R0);
        self.scalar(rhs)?;
        self.asm.mov(Reg::R1, Reg::R0);
        // Pointer arithmetic moves by whole elements, as in C: `argv + 1` is the next pointer.
        if let (Type::Ptr { pointee, .. }, BinaryOp::Add | BinaryOp::Sub) = (self.ty(lhs), op)
            && !matches!(**pointee, Type::Record(_))
            && self.ty(rhs).is_integer()
        {
            let size = elem_size_of(pointee);
            if size > 1 {
                self.asm.alu_imm(BPF_MUL, Reg::R1, size as i32);
            }
        }
        self.asm.load(8, Reg::R0, Reg::FP, slot);
        self.pop_slot();
        self.binary_op(op, signed, span)
    }

    /// r0 = r0 OP r1.
    pub(crate) fn binary_op(&mut self, op: BinaryOp, signed: bool, _span: Span) -> Result<()> {
        let alu = match op {
            BinaryOp::Add => Some(BPF_ADD),
            BinaryOp::Sub => Some(BPF_SUB),
            BinaryOp::Mul => Some(BPF_MUL),
            BinaryOp::Div => Some(BPF_DIV),
            BinaryOp::Mod => Some(BPF_MOD),
            BinaryOp::BitAnd => Some(BPF_AND),
            BinaryOp::BitOr => Some(BPF_OR),
            BinaryOp::BitXor => Some(BPF_XOR),
            BinaryOp::Shl => Some(BPF_LSH),
            BinaryOp::Shr => Some(if signed { BPF_ARSH } else { BPF_RSH }),
            _ => None,
        };
        if let Some(alu) = alu {
            if matches!(op, BinaryOp::Div | BinaryOp::Mod) && signed {
                // Signed division (kernels >= 6.6: the `off = 1` form of div/mod).
                self.asm
                    .insn(Insn::new(BPF_ALU64 | alu | BPF_X, 0, 1, 1, 0));
            } else {
                self.asm.alu(alu, Reg::R0, Reg::R1);
            }
            return Ok(());
        }
        let jump = comparison_jump(op, signed);
        let yes = self.asm.label();
        let end = self.asm.label();
        self.asm.jump_reg(jump, Reg::R0, Reg::R1, yes);
        self.asm.mov_imm(Reg::R0, 0);
        self.asm.goto(end);
        self.asm.bind(yes);
        self.asm.mov_imm(Reg::R0, 1);
        self.asm.bind(end);
        Ok(())
    }

    fn inc_dec(&mut self, op: IncDecOp, prefix: bool, target: &ast::Expr) -> Result<()> {
        let delta = if op == IncDecOp::Inc { 1 } else { -1 };
        match &target.kind {
            ExprKind::Var(name) => {
                let VarLoc::Stack(slot) = self.var_loc(name, target.span)? else {
                    return Err(Diagnostic::error(
                        target.span,
                        "++/-- needs an integer variable",
                    ));
                };
                self.asm.load(8, Reg::R0, Reg::FP, slot);
                self.asm.alu_imm(BPF_ADD, Reg::R0, delta);
                self.asm.store(8, Reg::FP, slot, Reg::R0);
                if !prefix {
                    self.asm.alu_imm(BPF_SUB, Reg::R0, delta);
                }
                Ok(())
            }
            ExprKind::Map { name, keys } => {
                self.map_inc_dec(name, keys, delta, prefix, target.span)
            }
            _ => Err(Diagnostic::error(
                target.span,
                "++ and -- apply to variables and maps only",
            )),
        }
    }

    /// Compares two strings; r0 = 0 when equal. `limit` caps the bytes compared (strncmp).
    pub(crate) fn string_compare(
        &mut self,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        limit: Option<u32>,
        _span: Span,
    ) -> Result<()> {
        let (a_ty, b_ty) = (self.ty(lhs).clone(), self.ty(rhs).clone());
        let (a_size, b_size) = (a_ty.storage_size(), b_ty.storage_size());
        let mut n = a_size.min(b_size);
        if let Some(limit) = limit {
            n = n.min(limit);
        }
        // A literal side is compared against immediates.
        let (literal, other, other_ty) = match (&lhs.kind, &rhs.kind) {
            (_, ExprKind::Str(s)) => (Some(s.clone()), lhs, a_ty.clone()),
            (ExprKind::Str(s), _) => (Some(s.clone()), rhs, b_ty.clone()),
            _ => (None, lhs, a_ty.clone()),
        };
        let differ = self.asm.label();
        let same = self.asm.label();
        let end = self.asm.label();
        if let Some(literal) = literal {
            let a = self.scratch(other_ty.storage_size());
            self.store(other, a, &other_ty)?;
            let mut bytes = literal.into_bytes();
            bytes.push(0);
            for (i, byte) in bytes.iter().enumerate().take(n as usize) {
                self.asm.load(1, Reg::R1, SCRATCH, (a + i as u32) as i16);
                self.asm.jump_imm(BPF_JNE, Reg::R1, *byte as i32, differ);
                if *byte == 0 {
                    self.asm.goto(same);
                    break;
                }
            }
        } else {
            let a = self.scratch(a_size);
            self.store(lhs, a, &a_ty)?;
            let b = self.scratch(b_size);
            self.store(rhs, b, &b_ty)?;
            // Eight bytes at a time: the strings are equal up to their first NUL. With
            // z = (v - 0x01..01) & !v & 0x80..80, the lowest set bit of z marks v's first zero
            // byte, and z ^ (z - 1) masks the bytes up to and including it. One or two
            // branches per word instead of two per byte keeps the verifier's work small.
            const ONES: u64 = 0x0101_0101_0101_0101;
            let words = n / 8;
            if words > 0 {
                self.asm.load_const(Reg::R9, ONES);
            }
            for w in 0..words {
                let next = self.asm.label();
                let at = 8 * w;
                self.asm.load(8, Reg::R1, SCRATCH, (a + at) as i16);
                self.asm.load(8, Reg::R2, SCRATCH, (b + at) as i16);
                self.asm.alu(BPF_XOR, Reg::R2, Reg::R1);
                self.asm.mov(Reg::R3, Reg::R1);
                self.asm.alu(BPF_SUB, Reg::R3, Reg::R9);
                self.asm.alu_imm(BPF_XOR, Reg::R1, -1);
                self.asm.alu(BPF_AND, Reg::R3, Reg::R1);
                self.asm.mov(Reg::R4, Reg::R9);
                self.asm.alu_imm(BPF_LSH, Reg::R4, 7);
                self.asm.alu(BPF_AND, Reg::R3, Reg::R4);
                self.asm.jump_imm(BPF_JEQ, Reg::R3, 0, next);
                // A NUL in this word: compare up to it, and stop.
                self.asm.mov(Reg::R4, Reg::R3);
                self.asm.alu_imm(BPF_SUB, Reg::R4, 1);
                self.asm.alu(BPF_XOR, Reg::R4, Reg::R3);
                self.asm.alu(BPF_AND, Reg::R2, Reg::R4);
                self.asm.jump_imm(BPF_JEQ, Reg::R2, 0, same);
                self.asm.goto(differ);
                self.asm.bind(next);
                self.asm.jump_imm(BPF_JNE, Reg::R2, 0, differ);
            }
            for i in 8 * words..n {
                self.asm.load(1, Reg::R1, SCRATCH, (a + i) as i16);
                self.asm.load(1, Reg::R2, SCRATCH, (b + i) as i16);
                self.asm.jump_reg(BPF_JNE, Reg::R1, Reg::R2, differ);
                self.asm.jump_imm(BPF_JEQ, Reg::R1, 0, same);
            }
        }
        self.asm.bind(same);
        self.asm.mov_imm(Reg::R0, 0);
        self.asm.goto(end);
        self.asm.bind(differ);
        self.asm.mov_imm(Reg::R0, 1);
        self.asm.bind(end);
        Ok(())
    }

    /// Writes `expr`'s value, converted to `dst_ty`, at scratch `offset`.
    pub(crate) fn store(&mut self, expr: &ast::Expr, offset: u32, dst_ty: &Type) -> Result<()> {
        let src_ty = self.ty(expr).clone();
        let size = dst_ty.storage_size();
        if let (Type::Record(_), Type::RecordValue { size: bytes, .. }) = (&src_ty, dst_ty) {
            // A whole record by value (a map key): one read of its bytes.
            let user = self.record_in_user_memory(expr);
            if size > *bytes {
                // The padding up to 8 bytes, which the read leaves alone, is part of the key.
                self.zero_scratch(offset + size - 8, 8);
            }
            self.scalar(expr)?;
            self.asm.mov(Reg::R3, Reg::R0);
            self.scratch_ptr(Reg::R1, offset);
            self.asm.mov_imm(Reg::R2, *bytes as i32);
            self.asm.call(if user {
                helper::PROBE_READ_USER
            } else {
                helper::PROBE_READ_KERNEL
            });
            return Ok(());
        }
        if src_ty.is_scalar() || dst_ty.is_scalar() {
            self.scalar(expr)?;
            self.asm.store(8, SCRATCH, offset as i16, Reg::R0);
            return Ok(());
        }
        match &expr.kind {
            ExprKind::Str(text) => {
                let mut bytes = text.as_bytes().to_vec();
                bytes.truncate(size.saturating_sub(1) as usize);
                bytes.resize(size as usize, 0);
                self.store_bytes(offset, &bytes);
            }
            ExprKind::Positional(n) => {
                let mut bytes = self.positional(*n).into_bytes();
                bytes.truncate(size.saturating_sub(1) as usize);
                bytes.resize(size as usize, 0);
                self.store_bytes(offset, &bytes);
            }
            ExprKind::Var(name) => {
                let VarLoc::Scratch(from) = self.var_loc(name, expr.span)? else {
                    return Err(Diagnostic::error(expr.span, "number used as a string"));
                };
                self.zero_scratch(offset, size);
                self.convert_copy(from, &src_ty, offset, dst_ty);
            }
            ExprKind::Ident(name) if name == "comm" => {
                self.zero_scratch(offset, size);
                self.scratch_ptr(Reg::R1, offset);
                self.asm.mov_imm(Reg::R2, size.min(16) as i32);
                self.asm.call(helper::GET_CURRENT_COMM);
            }
            ExprKind::Map { name, keys } => {
                self.map_read_into(name, keys, offset, dst_ty, expr.span)?
            }
            ExprKind::Call { .. } => self.call_into(expr, offset, dst_ty)?,
            ExprKind::Field { .. } if self.member_offset(expr).is_some() => {
                // A char array in a kernel (or script-defined, user-space) struct.
                let n = src_ty.storage_size().min(size);
                let user = self.in_user_memory(expr);
                self.zero_scratch(offset, size);
                self.member_address(expr)?;
                self.asm.mov(Reg::R3, Reg::R0);
                self.scratch_ptr(Reg::R1, offset);
                self.asm.mov_imm(Reg::R2, n as i32);
                self.asm.call(if user {
                    helper::PROBE_READ_USER
                } else {
                    helper::PROBE_READ_KERNEL
                });
            }
            ExprKind::Field { .. } => {
                let field = self.args_field(expr)?;
                match field.kind {
                    FieldKind::CharArray => {
                        self.zero_scratch(offset, size);
                        self.asm.mov(Reg::R3, ARGS);
                        self.asm.alu_imm(BPF_ADD, Reg::R3, field.offset as i32);
                        self.scratch_ptr(Reg::R1, offset);
                        self.asm.mov_imm(Reg::R2, field.size.min(size) as i32);
                        self.asm.call(helper::PROBE_READ_KERNEL);
                    }
                    FieldKind::DataLocString => {
                        self.zero_scratch(offset, size);
                        self.asm.load(4, Reg::R3, ARGS, field.offset as i16);
                        self.asm.alu_imm(BPF_AND, Reg::R3, 0xffff);
                        self.asm.mov(Reg::R0, ARGS);
                        self.asm.alu(BPF_ADD, Reg::R0, Reg::R3);
                        self.asm.mov(Reg::R3, Reg::R0);
                        self.scratch_ptr(Reg::R1, offset);
                        self.asm.mov_imm(Reg::R2, size as i32);
                        self.asm.call(helper::PROBE_READ_KERNEL_STR);
                    }
                    _ => return Err(Diagnostic::error(expr.span, "this field is not a string")),
                }
            }
            ExprKind::Tuple(elems) => {
                let Type::Tuple(dst_elems) = dst_ty else {
                    return Err(Diagnostic::error(
                        expr.span,
                        "tuple stored into a non-tuple",
                    ));
                };
                let offsets = Type::tuple_offsets(dst_elems);
                self.zero_scratch(offset, size);
                for ((elem, elem_ty), at) in elems.iter().zip(dst_elems).zip(offsets) {
                    self.store(elem, offset + at, elem_ty)?;
                }
            }
            ExprKind::Ternary {
                cond,
                then,
                otherwise,
            } => {
                let other = self.asm.label();
                let end = self.asm.label();
                self.branch_unless(cond, other)?;
                match then {
                    Some(then) => self.store(then, offset, dst_ty)?,
                    None => {
                        return Err(unsupported(
                            expr.span,
                            "?: without a middle operand on strings",
                        ));
                    }
                }
                self.asm.goto(end);
                self.asm.bind(other);
                self.store(otherwise, offset, dst_ty)?;
                self.asm.bind(end);
            }
            ExprKind::TupleIndex { expr: base, index } => {
                let Type::Tuple(elems) = self.ty(base).clone() else {
                    return Err(Diagnostic::error(expr.span, "not a tuple"));
                };
                let tuple = self.scratch(Type::Tuple(elems.clone()).storage_size());
                self.store(base, tuple, &Type::Tuple(elems.clone()))?;
                let at = Type::tuple_offsets(&elems)[*index as usize];
                let n = elems[*index as usize].storage_size().min(size);
                self.zero_scratch(offset, size);
                self.scratch_ptr(Reg::R3, tuple + at);
                self.copy_to_scratch(offset, n, Reg::R3);
            }
            _ => {
                return Err(Diagnostic::error(
                    expr.span,
                    format!("cannot store a value of type {src_ty} here"),
                ));
            }
        }
        Ok(())
    }

    /// Copies a value of type `src_ty` at scratch `from` into a zeroed destination of type
    /// `dst_ty` at `to`: element by element for tuples (a wider string element moves the
    /// elements after it), truncating strings with a NUL kept at the end.
    pub(crate) fn convert_copy(&mut self, from: u32, src_ty: &Type, to: u32, dst_ty: &Type) {
        match (src_ty, dst_ty) {
            (Type::Tuple(src), Type::Tuple(dst)) if src != dst && src.len() == dst.len() => {
                let src_offsets = Type::tuple_offsets(src);
                let dst_offsets = Type::tuple_offsets(dst);
                for i in 0..src.len() {
                    self.convert_copy(from + src_offsets[i], &src[i], to + dst_offsets[i], &dst[i]);
                }
            }
            (Type::Str(a), Type::Str(b)) if a > b => {
                // Truncated: keep the last byte as the NUL of the zeroed destination.
                self.scratch_ptr(Reg::R3, from);
                self.copy_to_scratch(to, b - 1, Reg::R3);
            }
            _ => {
                let n = src_ty.storage_size().min(dst_ty.storage_size());
                self.scratch_ptr(Reg::R3, from);
                self.copy_to_scratch(to, n, Reg::R3);
            }
        }
    }

    /// Writes constant bytes (length a multiple of 1) at scratch `offset`.
    pub(crate) fn store_bytes(&mut self, offset: u32, bytes: &[u8]) {
        let mut at = 0;
        while at + 4 <= bytes.len() {
            let word = i32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
            self.asm
                .store_imm(4, SCRATCH, (offset as usize + at) as i16, word);
            at += 4;
        }
        while at < bytes.len() {
            self.asm
                .store_imm(1, SCRATCH, (offset as usize + at) as i16, bytes[at] as i32);
            at += 1;
        }
    }

    /// The byte offset of a kernel struct member access, if `expr` is one.
    pub(crate) fn member_offset(&self, expr: &ast::Expr) -> Option<u32> {
        self.shared
            .analysis
            .typed
            .member_offsets
            .get(&expr.id.0)
            .copied()
    }

    /// True when the struct member `expr` lies in user memory: it is reached through a user
    /// pointer (`uptr()`, a script-defined struct), possibly via embedded structs.
    fn in_user_memory(&self, expr: &ast::Expr) -> bool {
        let ExprKind::Field { expr: base, .. } = &expr.kind else {
            return false;
        };
        match self.ty(base) {
            Type::Ptr { user, .. } => *user,
            Type::Record(_) => self.in_user_memory(base),
            _ => false,
        }
    }

    /// True when the record `expr` (`*p`, `p->f`, `r.f`) lies in user memory.
    pub(crate) fn record_in_user_memory(&self, expr: &ast::Expr) -> bool {
        match &expr.kind {
            ExprKind::Unary {
                op: UnaryOp::Deref,
                expr: inner,
            } => matches!(self.ty(inner), Type::Ptr { user: true, .. }),
            ExprKind::Field { .. } => self.in_user_memory(expr),
            _ => false,
        }
    }

    /// r0 = the address of the struct member `expr` (`p->f` or `r.f`).
    pub(crate) fn member_address(&mut self, expr: &ast::Expr) -> Result<()> {
        let ExprKind::Field { expr: base, .. } = &expr.kind else {
            return Err(Diagnostic::error(expr.span, "not a struct member"));
        };
        let offset = self.member_offset(expr).unwrap_or(0);
        // Both a struct pointer and a record (an address) evaluate to the struct's address.
        self.scalar(base)?;
        if offset != 0 {
            self.asm.alu_imm(BPF_ADD, Reg::R0, offset as i32);
        }
        Ok(())
    }

    /// The tracepoint field an `args->f` expression reads, for this program's target.
    pub(crate) fn args_field(&self, expr: &ast::Expr) -> Result<scry_sema::Field> {
        let fields = self
            .shared
            .analysis
            .typed
            .args_fields
            .get(&expr.id.0)
            .ok_or_else(|| Diagnostic::error(expr.span, "not a tracepoint argument"))?;
        let index = self.args_target.unwrap_or(0);
        fields
            .get(index)
            .cloned()
            .ok_or_else(|| Diagnostic::error(expr.span, "tracepoint argument missing"))
    }
}

fn elem_size_of(ty: &Type) -> u32 {
    match ty {
        Type::Int { bytes, .. } => *bytes as u32,
        _ => 8,
    }
}

/// Parses a positional parameter as bpftrace does (decimal, hex, octal).
pub(crate) fn parse_int(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let value = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse().ok()?
    };
    Some(if negative { -value } else { value })
}
