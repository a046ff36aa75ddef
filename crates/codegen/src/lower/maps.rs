//! Map keys, reads, assignments and aggregation updates.

use scry_diagnostics::{Diagnostic, Span};
use scry_ebpf::insn::*;
use scry_ebpf::{Reg, helper};
use scry_sema::{MapValue, Type};
use scry_syntax::ast::{self, BinaryOp, ExprKind};

use super::{Builder, Result, SCRATCH};

impl Builder<'_, '_> {
    pub(crate) fn map_index(&self, name: &str, span: Span) -> Result<usize> {
        self.shared
            .analysis
            .typed
            .map(name)
            .map(|(index, _)| index)
            .ok_or_else(|| Diagnostic::error(span, format!("Undefined map: @{name}")))
    }

    /// Builds the key of `@name[keys]` in scratch; returns its offset. The region is
    /// `full_key_size` long, zeroed first (hash keys compare padding bytes too).
    pub(crate) fn map_key(&mut self, index: usize, keys: &[ast::Expr], span: Span) -> Result<u32> {
        let layout = self.shared.layouts[index].clone();
        let offset = self.scratch(layout.full_key_size());
        if keys.is_empty() {
            self.zero_scratch(offset, layout.full_key_size());
            return Ok(offset);
        }
        if keys.len() != layout.key_parts.len() {
            return Err(Diagnostic::error(
                span,
                format!("@{}: wrong number of keys", layout.info.name),
            ));
        }
        let needs_zero = layout.key_parts.iter().any(|(t, _)| !t.is_scalar());
        if needs_zero {
            self.zero_scratch(offset, layout.full_key_size());
        }
        for (key, (ty, at)) in keys.iter().zip(&layout.key_parts) {
            self.store(key, offset + at, ty)?;
        }
        Ok(offset)
    }

    /// r0 = map_lookup_elem(map, key at scratch offset).
    fn lookup(&mut self, index: usize, key: u32) {
        let map = self.shared.user_map_ids[index];
        self.asm.load_map(Reg::R1, map);
        self.scratch_ptr(Reg::R2, key);
        self.asm.call(helper::MAP_LOOKUP_ELEM);
    }

    /// map_update_elem(map, key, value), counting failures (a full map) for the driver.
    fn update(&mut self, index: usize, key: u32, value: u32) {
        let map = self.shared.user_map_ids[index];
        self.asm.load_map(Reg::R1, map);
        self.scratch_ptr(Reg::R2, key);
        self.scratch_ptr(Reg::R3, value);
        self.asm.mov_imm(Reg::R4, 0);
        self.asm.call(helper::MAP_UPDATE_ELEM);
        self.count_failure(crate::counters::MAP_FULL + index as u32);
    }

    /// r0 = @name[keys] (0 when absent).
    pub(crate) fn map_read_scalar(
        &mut self,
        name: &str,
        keys: &[ast::Expr],
        span: Span,
    ) -> Result<()> {
        let index = self.map_index(name, span)?;
        let key = self.map_key(index, keys, span)?;
        self.read_at_key(index, key)?;
        Ok(())
    }

    /// r0 = the value of user map `index` at the key already built at scratch `key` (0 when
    /// absent).
    fn read_at_key(&mut self, index: usize, key: u32) -> Result<()> {
        let value_kind = self.shared.layouts[index].info.value.clone();
        if value_kind.is_aggregation() {
            return self.read_aggregation(index, key, &value_kind);
        }
        self.lookup(index, key);
        let missing = self.asm.label();
        let end = self.asm.label();
        self.asm.jump_imm(BPF_JEQ, Reg::R0, 0, missing);
        match value_kind {
            MapValue::Avg { .. } | MapValue::Stats { .. } => {
                // The average of this CPU's values.
                self.asm.load(8, Reg::R1, Reg::R0, 8);
                self.asm.load(8, Reg::R0, Reg::R0, 0);
                let zero = self.asm.label();
                self.asm.jump_imm(BPF_JEQ, Reg::R1, 0, zero);
                self.asm.alu(BPF_DIV, Reg::R0, Reg::R1);
                self.asm.bind(zero);
            }
            _ => self.asm.load(8, Reg::R0, Reg::R0, 0),
        }
        self.asm.goto(end);
        self.asm.bind(missing);
        self.asm.mov_imm(Reg::R0, 0);
        self.asm.bind(end);
        Ok(())
    }

    /// r0 = an aggregation's value over all CPUs (as current bpftrace): the per-CPU values of
    /// the key are combined in a bounded loop with `bpf_map_lookup_percpu_elem`.
    fn read_aggregation(&mut self, index: usize, key: u32, kind: &MapValue) -> Result<()> {
        let map = self.shared.user_map_ids[index];
        let acc = self.scratch(24);
        let (total, count, set) = (acc as i16, acc as i16 + 8, acc as i16 + 16);
        for at in [total, count, set] {
            self.asm.store_imm(8, SCRATCH, at, 0);
        }
        // Unrolled over the possible CPUs (known when compiling on the target): no loop for
        // the verifier to walk, so reads inside user loops stay cheap to verify.
        for cpu in 0..self.shared.n_cpus {
            let next = self.asm.label();
            self.asm.load_map(Reg::R1, map);
            self.scratch_ptr(Reg::R2, key);
            self.asm.mov_imm(Reg::R3, cpu as i32);
            self.asm.call(helper::MAP_LOOKUP_PERCPU_ELEM);
            self.asm.jump_imm(BPF_JEQ, Reg::R0, 0, next);
            match kind {
                MapValue::Min { signed } | MapValue::Max { signed } => {
                    let is_min = matches!(kind, MapValue::Min { .. });
                    let keep = self.asm.label();
                    let take = self.asm.label();
                    self.asm.load(8, Reg::R1, Reg::R0, 8);
                    self.asm.jump_imm(BPF_JEQ, Reg::R1, 0, next);
                    self.asm.load(8, Reg::R1, Reg::R0, 0);
                    self.asm.load(8, Reg::R2, SCRATCH, set);
                    self.asm.jump_imm(BPF_JEQ, Reg::R2, 0, take);
                    self.asm.load(8, Reg::R2, SCRATCH, total);
                    let op = keep_jump(is_min, *signed);
                    self.asm.jump_reg(op, Reg::R1, Reg::R2, keep);
                    self.asm.bind(take);
                    self.asm.store(8, SCRATCH, total, Reg::R1);
                    self.asm.store_imm(8, SCRATCH, set, 1);
                    self.asm.bind(keep);
                }
                MapValue::Avg { .. } | MapValue::Stats { .. } => {
                    self.asm.load(8, Reg::R1, Reg::R0, 0);
                    self.asm.load(8, Reg::R2, SCRATCH, total);
                    self.asm.alu(BPF_ADD, Reg::R2, Reg::R1);
                    self.asm.store(8, SCRATCH, total, Reg::R2);
                    self.asm.load(8, Reg::R1, Reg::R0, 8);
                    self.asm.load(8, Reg::R2, SCRATCH, count);
                    self.asm.alu(BPF_ADD, Reg::R2, Reg::R1);
                    self.asm.store(8, SCRATCH, count, Reg::R2);
                }
                _ => {
                    self.asm.load(8, Reg::R1, Reg::R0, 0);
                    self.asm.load(8, Reg::R2, SCRATCH, total);
                    self.asm.alu(BPF_ADD, Reg::R2, Reg::R1);
                    self.asm.store(8, SCRATCH, total, Reg::R2);
                }
            }
            self.asm.bind(next);
        }
        self.asm.load(8, Reg::R0, SCRATCH, total);
        if matches!(kind, MapValue::Avg { .. } | MapValue::Stats { .. }) {
            let zero = self.asm.label();
            self.asm.load(8, Reg::R1, SCRATCH, count);
            self.asm.jump_imm(BPF_JEQ, Reg::R1, 0, zero);
            let signed = matches!(
                kind,
                MapValue::Avg { signed: true } | MapValue::Stats { signed: true }
            );
            if signed {
                self.asm
                    .insn(Insn::new(BPF_ALU64 | BPF_DIV | BPF_X, 0, 1, 1, 0));
            } else {
                self.asm.alu(BPF_DIV, Reg::R0, Reg::R1);
            }
            self.asm.bind(zero);
        }
        Ok(())
    }

    /// Copies @name[keys] (or zeroes, when absent) to scratch `offset`.
    pub(crate) fn map_read_into(
        &mut self,
        name: &str,
        keys: &[ast::Expr],
        offset: u32,
        dst_ty: &Type,
        span: Span,
    ) -> Result<()> {
        let index = self.map_index(name, span)?;
        let value_size = self.shared.layouts[index].value_size;
        let value_ty = self.shared.layouts[index].info.value.read_type();
        let size = dst_ty.storage_size();
        let key = self.map_key(index, keys, span)?;
        self.zero_scratch(offset, size);
        self.lookup(index, key);
        let missing = self.asm.label();
        self.asm.jump_imm(BPF_JEQ, Reg::R0, 0, missing);
        self.asm.mov(Reg::R3, Reg::R0);
        if &value_ty == dst_ty || !matches!(value_ty, Type::Tuple(_) | Type::Str(_)) {
            self.copy_to_scratch(offset, size.min(value_size), Reg::R3);
        } else {
            // Another layout: copy the value aside, then convert.
            let temp = self.scratch(value_size);
            self.copy_to_scratch(temp, value_size, Reg::R3);
            self.convert_copy(temp, &value_ty, offset, dst_ty);
        }
        self.asm.bind(missing);
        Ok(())
    }

    /// `@name[keys] = value` and `@name[keys] op= value`.
    pub(crate) fn map_assign(
        &mut self,
        name: &str,
        keys: &[ast::Expr],
        op: Option<BinaryOp>,
        value: &ast::Expr,
        span: Span,
    ) -> Result<()> {
        let index = self.map_index(name, span)?;
        let layout = self.shared.layouts[index].clone();
        if let ExprKind::Call { name: f, args, .. } = &value.kind
            && layout.info.value.is_aggregation()
            && op.is_none()
        {
            return self.aggregate(index, keys, f, args, span);
        }
        let MapValue::Plain(value_ty) = layout.info.value.clone() else {
            return Err(Diagnostic::error(
                span,
                format!("@{name} holds an aggregation; assign it with count(), sum(), …"),
            ));
        };
        let value_off = self.scratch(layout.value_size);
        if let Some(op) = op {
            // Read, combine, write back, with the key built once.
            let slot = self.push_slot(span)?;
            self.scalar(value)?;
            self.asm.store(8, Reg::FP, slot, Reg::R0);
            let key = self.map_key(index, keys, span)?;
            self.read_at_key(index, key)?;
            self.asm.load(8, Reg::R1, Reg::FP, slot);
            self.pop_slot();
            let signed = value_ty.is_signed() && self.ty(value).is_signed();
            self.binary_op(op, signed, span)?;
            self.asm.store(8, SCRATCH, value_off as i16, Reg::R0);
            self.update(index, key, value_off);
            return Ok(());
        } else {
            if layout.value_size > value_ty.storage_size() {
                self.zero_scratch(value_off, layout.value_size);
            }
            self.store(value, value_off, &value_ty)?;
        }
        let key = self.map_key(index, keys, span)?;
        self.update(index, key, value_off);
        Ok(())
    }

    /// `@m[k]++` and friends; r0 = the old (postfix) or new (prefix) value.
    pub(crate) fn map_inc_dec(
        &mut self,
        name: &str,
        keys: &[ast::Expr],
        delta: i32,
        prefix: bool,
        span: Span,
    ) -> Result<()> {
        let index = self.map_index(name, span)?;
        let value_size = self.shared.layouts[index].value_size;
        let key = self.map_key(index, keys, span)?;
        self.read_at_key(index, key)?;
        let value_off = self.scratch(value_size);
        self.asm.alu_imm(BPF_ADD, Reg::R0, delta);
        self.asm.store(8, SCRATCH, value_off as i16, Reg::R0);
        self.update(index, key, value_off);
        self.asm.load(8, Reg::R0, SCRATCH, value_off as i16);
        if !prefix {
            self.asm.alu_imm(BPF_SUB, Reg::R0, delta);
        }
        Ok(())
    }

    /// `delete(@m[k])`.
    pub(crate) fn map_delete(&mut self, name: &str, keys: &[ast::Expr], span: Span) -> Result<()> {
        let index = self.map_index(name, span)?;
        let key = self.map_key(index, keys, span)?;
        let map = self.shared.user_map_ids[index];
        self.asm.load_map(Reg::R1, map);
        self.scratch_ptr(Reg::R2, key);
        self.asm.call(helper::MAP_DELETE_ELEM);
        Ok(())
    }

    /// r0 = 1 when `@m[k]` exists.
    pub(crate) fn map_has_key(&mut self, name: &str, keys: &[ast::Expr], span: Span) -> Result<()> {
        let index = self.map_index(name, span)?;
        let key = self.map_key(index, keys, span)?;
        self.lookup(index, key);
        let end = self.asm.label();
        self.asm.jump_imm(BPF_JEQ, Reg::R0, 0, end);
        self.asm.mov_imm(Reg::R0, 1);
        self.asm.bind(end);
        Ok(())
    }

    /// `@m[k] = count()`, `sum(v)`, … on a per-CPU map.
    fn aggregate(
        &mut self,
        index: usize,
        keys: &[ast::Expr],
        function: &str,
        args: &[ast::Expr],
        span: Span,
    ) -> Result<()> {
        let layout = self.shared.layouts[index].clone();
        // The aggregated value, computed before any helper call.
        let slot = self.push_slot(span)?;
        match args.first() {
            Some(arg) => self.scalar(arg)?,
            None => self.asm.mov_imm(Reg::R0, 1),
        }
        self.asm.store(8, Reg::FP, slot, Reg::R0);
        let key = self.map_key(index, keys, span)?;
        if layout.bucketed {
            self.asm.load(8, Reg::R0, Reg::FP, slot);
            match &layout.info.value {
                MapValue::Hist { bits: 0 } => self.log2_bucket(),
                MapValue::Hist { .. } => {
                    self.pop_slot();
                    return Err(Diagnostic::error(
                        span,
                        "hist() with a second argument is not supported by scry yet",
                    ));
                }
                MapValue::Lhist { min, max, step } => self.linear_bucket(*min, *max, *step),
                _ => unreachable!("bucketed maps are hist or lhist"),
            }
            self.asm
                .store(8, SCRATCH, (key + layout.key_size) as i16, Reg::R0);
            self.asm.mov_imm(Reg::R0, 1);
            self.asm.store(8, Reg::FP, slot, Reg::R0);
        }
        let value_kind = if layout.bucketed {
            scry_sema::MapValue::Count
        } else {
            layout.info.value.clone()
        };
        let _ = function;
        self.lookup(index, key);
        let insert = self.asm.label();
        let done = self.asm.label();
        self.asm.jump_imm(BPF_JEQ, Reg::R0, 0, insert);
        self.asm.load(8, Reg::R1, Reg::FP, slot);
        match value_kind {
            MapValue::Count | MapValue::Sum { .. } => {
                self.asm.load(8, Reg::R2, Reg::R0, 0);
                self.asm.alu(BPF_ADD, Reg::R2, Reg::R1);
                self.asm.store(8, Reg::R0, 0, Reg::R2);
            }
            MapValue::Min { signed } | MapValue::Max { signed } => {
                let is_min = matches!(value_kind, MapValue::Min { .. });
                let keep = self.asm.label();
                let replace = self.asm.label();
                self.asm.load(8, Reg::R2, Reg::R0, 8);
                self.asm.jump_imm(BPF_JEQ, Reg::R2, 0, replace);
                self.asm.load(8, Reg::R2, Reg::R0, 0);
                let op = keep_jump(is_min, signed);
                // Keep the stored value when the new one is not better.
                self.asm.jump_reg(op, Reg::R1, Reg::R2, keep);
                self.asm.bind(replace);
                self.asm.store(8, Reg::R0, 0, Reg::R1);
                self.asm.store_imm(8, Reg::R0, 8, 1);
                self.asm.bind(keep);
            }
            MapValue::Avg { .. } | MapValue::Stats { .. } => {
                self.asm.load(8, Reg::R2, Reg::R0, 0);
                self.asm.alu(BPF_ADD, Reg::R2, Reg::R1);
                self.asm.store(8, Reg::R0, 0, Reg::R2);
                self.asm.load(8, Reg::R2, Reg::R0, 8);
                self.asm.alu_imm(BPF_ADD, Reg::R2, 1);
                self.asm.store(8, Reg::R0, 8, Reg::R2);
            }
            _ => unreachable!("aggregations only"),
        }
        self.asm.goto(done);
        self.asm.bind(insert);
        let value_off = self.scratch(layout.value_size);
        self.asm.load(8, Reg::R1, Reg::FP, slot);
        self.asm.store(8, SCRATCH, value_off as i16, Reg::R1);
        if layout.value_size == 16 {
            // min/max: the "set" flag; avg/stats: the count.
            self.asm.store_imm(8, SCRATCH, value_off as i16 + 8, 1);
        }
        self.update(index, key, value_off);
        self.asm.bind(done);
        self.pop_slot();
        Ok(())
    }

    /// r0 = hist bucket of the signed value in r0: 0 negative, 1 zero, 2 + floor(log2 v) otherwise.
    fn log2_bucket(&mut self) {
        let positive = self.asm.label();
        let end = self.asm.label();
        let not_zero = self.asm.label();
        self.asm.jump_imm(BPF_JSGT, Reg::R0, 0, positive);
        self.asm.jump_imm(BPF_JNE, Reg::R0, 0, not_zero);
        self.asm.mov_imm(Reg::R0, 1);
        self.asm.goto(end);
        self.asm.bind(not_zero);
        self.asm.mov_imm(Reg::R0, 0);
        self.asm.goto(end);
        self.asm.bind(positive);
        // r1 = floor(log2(r0)) by binary search.
        self.asm.mov_imm(Reg::R1, 0);
        for shift in [32, 16, 8, 4, 2, 1] {
            let skip = self.asm.label();
            self.asm.mov(Reg::R2, Reg::R0);
            self.asm.alu_imm(BPF_RSH, Reg::R2, shift);
            self.asm.jump_imm(BPF_JEQ, Reg::R2, 0, skip);
            self.asm.mov(Reg::R0, Reg::R2);
            self.asm.alu_imm(BPF_ADD, Reg::R1, shift);
            self.asm.bind(skip);
        }
        self.asm.mov(Reg::R0, Reg::R1);
        self.asm.alu_imm(BPF_ADD, Reg::R0, 2);
        self.asm.bind(end);
    }

    /// r0 = lhist bucket of the signed value in r0.
    fn linear_bucket(&mut self, min: i64, max: i64, step: i64) {
        let last = ((max - min) / step + 1) as i32;
        let below = self.asm.label();
        let above = self.asm.label();
        let end = self.asm.label();
        self.asm.load_const(Reg::R1, min as u64);
        self.asm.jump_reg(BPF_JSLT, Reg::R0, Reg::R1, below);
        self.asm.load_const(Reg::R1, max as u64);
        self.asm.jump_reg(BPF_JSGE, Reg::R0, Reg::R1, above);
        self.asm.load_const(Reg::R1, min as u64);
        self.asm.alu(BPF_SUB, Reg::R0, Reg::R1);
        self.asm.load_const(Reg::R1, step as u64);
        self.asm.alu(BPF_DIV, Reg::R0, Reg::R1);
        self.asm.alu_imm(BPF_ADD, Reg::R0, 1);
        self.asm.jump_imm(BPF_JGT, Reg::R0, last, above);
        self.asm.goto(end);
        self.asm.bind(below);
        self.asm.mov_imm(Reg::R0, 0);
        self.asm.goto(end);
        self.asm.bind(above);
        self.asm.mov_imm(Reg::R0, last);
        self.asm.bind(end);
    }
}

/// The jump that keeps a stored min (max) when the new value r1 is not below (above) it.
fn keep_jump(is_min: bool, signed: bool) -> u8 {
    match (is_min, signed) {
        (true, true) => BPF_JSGE,
        (true, false) => BPF_JGE,
        (false, true) => BPF_JSLE,
        (false, false) => BPF_JLE,
    }
}
