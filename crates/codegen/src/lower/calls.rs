//! Builtin function calls and the records they send to user space.

use scry_diagnostics::Diagnostic;
use scry_ebpf::insn::*;
use scry_ebpf::{Reg, helper};
use scry_sema::Type;
use scry_syntax::ast::{self, ExprKind};

use super::{Builder, Result, SCRATCH};
use crate::EventDef;

fn call_parts(expr: &ast::Expr) -> (&str, &[ast::Expr]) {
    match &expr.kind {
        ExprKind::Call { name, args, .. } => (name, args),
        _ => unreachable!("only called on calls"),
    }
}

impl Builder<'_, '_> {
    /// Calls whose result is a scalar; r0 = result.
    pub(crate) fn call_scalar(&mut self, expr: &ast::Expr) -> Result<()> {
        let (name, args) = call_parts(expr);
        match name {
            "ksym" | "kptr" | "uptr" | "cgroup_path" => self.scalar(&args[0]),
            "reg" => {
                let name = args[0].as_str().unwrap_or_default();
                let full = match name {
                    "ip" | "sp" | "bp" | "ax" | "bx" | "cx" | "dx" | "si" | "di" => {
                        format!("r{name}")
                    }
                    other => other.to_string(),
                };
                let offset = super::expr::pt_regs_offset(&full).ok_or_else(|| {
                    Diagnostic::error(args[0].span, format!("reg(): unknown register '{name}'"))
                })?;
                self.asm.load(8, Reg::R0, super::CTX, offset);
                Ok(())
            }
            "kaddr" | "uaddr" => {
                let address = self
                    .shared
                    .analysis
                    .typed
                    .constants
                    .get(&expr.id.0)
                    .copied()
                    .unwrap_or(0);
                self.asm.load_const(Reg::R0, address);
                Ok(())
            }
            "kstack" => {
                self.stack(false);
                Ok(())
            }
            "ustack" => {
                self.stack(true);
                Ok(())
            }
            "bswap" => {
                self.scalar(&args[0])?;
                let bits = match self.ty(&args[0]) {
                    Type::Int { bytes, .. } => *bytes as i32 * 8,
                    _ => 64,
                };
                // BPF_END | BPF_TO_BE swaps on little-endian hosts; one byte needs no swap.
                if bits > 8 {
                    self.asm
                        .insn(Insn::new(BPF_ALU | BPF_END | BPF_X, 0, 0, 0, bits));
                }
                Ok(())
            }
            "len" => match &args[0].kind {
                ExprKind::Map { name, .. } => {
                    // bpf_for_each_map_elem returns how many elements it visited; the
                    // callback only says "continue".
                    let index = self.map_index(name, args[0].span)?;
                    let map = self.shared.user_map_ids[index];
                    let callback = *self
                        .continue_callback
                        .get_or_insert_with(|| self.asm.label());
                    self.asm.load_map(Reg::R1, map);
                    self.asm.load_func(Reg::R2, callback);
                    self.asm.mov_imm(Reg::R3, 0);
                    self.asm.mov_imm(Reg::R4, 0);
                    self.asm.call(helper::FOR_EACH_MAP_ELEM);
                    Ok(())
                }
                _ => Err(Diagnostic::error(args[0].span, "len() expects a map")),
            },
            "has_key" => match &args[0].kind {
                ExprKind::Map { name, .. } => self.map_has_key(name, &args[1..], expr.span),
                _ => Err(Diagnostic::error(args[0].span, "has_key() expects a map")),
            },
            "strcontains" => self.strcontains(&args[0], &args[1]),
            "strncmp" => {
                let n = args[2].as_int().ok_or_else(|| {
                    Diagnostic::error(args[2].span, "strncmp() length must be a literal")
                })?;
                self.string_compare(&args[0], &args[1], Some(n as u32), expr.span)
            }
            _ => Err(Diagnostic::error(
                expr.span,
                format!("{name}() does not return a number"),
            )),
        }
    }

    /// `strcontains(haystack, "needle")`: r0 = 1 when the literal occurs in the string. A
    /// bounded loop over the start positions (stopping at the haystack's NUL) compares the
    /// needle's bytes as immediates.
    fn strcontains(&mut self, haystack: &ast::Expr, needle: &ast::Expr) -> Result<()> {
        let ExprKind::Str(text) = &needle.kind else {
            return Err(Diagnostic::error(
                needle.span,
                "strcontains() needs a string literal as the text to look for",
            ));
        };
        let needle = text.as_bytes().to_vec();
        let ty = self.ty(haystack).clone();
        let size = ty.storage_size();
        if needle.is_empty() {
            self.asm.mov_imm(Reg::R0, 1);
            return Ok(());
        }
        if needle.len() as u32 >= size {
            self.asm.mov_imm(Reg::R0, 0);
            return Ok(());
        }
        let at = self.scratch(size);
        self.store(haystack, at, &ty)?;
        let last_start = (size - needle.len() as u32 - 1) as i32;
        let (top, next, yes, no, end) = (
            self.asm.label(),
            self.asm.label(),
            self.asm.label(),
            self.asm.label(),
            self.asm.label(),
        );
        self.asm.mov(Reg::R4, SCRATCH);
        self.asm.alu_imm(BPF_ADD, Reg::R4, at as i32);
        self.asm.mov_imm(Reg::R5, 0);
        self.asm.bind(top);
        self.asm.jump_imm(BPF_JGT, Reg::R5, last_start, no);
        self.asm.mov(Reg::R3, Reg::R4);
        self.asm.alu(BPF_ADD, Reg::R3, Reg::R5);
        for (j, byte) in needle.iter().enumerate() {
            self.asm.load(1, Reg::R1, Reg::R3, j as i16);
            self.asm.jump_imm(BPF_JNE, Reg::R1, i32::from(*byte), next);
        }
        self.asm.goto(yes);
        self.asm.bind(next);
        self.asm.load(1, Reg::R1, Reg::R3, 0);
        self.asm.jump_imm(BPF_JEQ, Reg::R1, 0, no);
        self.asm.alu_imm(BPF_ADD, Reg::R5, 1);
        self.asm.goto(top);
        self.asm.bind(yes);
        self.asm.mov_imm(Reg::R0, 1);
        self.asm.goto(end);
        self.asm.bind(no);
        self.asm.mov_imm(Reg::R0, 0);
        self.asm.bind(end);
        Ok(())
    }

    /// Calls whose result is an aggregate, written at scratch `offset`.
    pub(crate) fn call_into(&mut self, expr: &ast::Expr, offset: u32, dst_ty: &Type) -> Result<()> {
        let (name, args) = call_parts(expr);
        let size = dst_ty.storage_size();
        match name {
            "str" => {
                if let Type::Str(_) = self.ty(&args[0]) {
                    // str() of a string: cut to str()'s own capacity, then pad.
                    let own = self.ty(expr).clone();
                    self.zero_scratch(offset, size);
                    return self.store(&args[0], offset, &own);
                }
                let user = !matches!(self.ty(&args[0]), Type::Ptr { user: false, .. });
                let capacity = match self.ty(expr) {
                    Type::Str(n) => (*n).min(size),
                    _ => size,
                };
                self.zero_scratch(offset, size);
                if let Some(length) = args.get(1).filter(|a| a.as_int().is_none()) {
                    // A run-time length: str(p, n) reads at most n bytes plus the NUL.
                    let slot = self.push_slot(expr.span)?;
                    // The length counts the terminating NUL, as in current bpftrace.
                    self.scalar(length)?;
                    let ok = self.asm.label();
                    self.asm.jump_imm(BPF_JLE, Reg::R0, capacity as i32, ok);
                    self.asm.mov_imm(Reg::R0, capacity as i32);
                    self.asm.bind(ok);
                    self.asm.store(8, Reg::FP, slot, Reg::R0);
                    self.scalar(&args[0])?;
                    self.asm.mov(Reg::R3, Reg::R0);
                    self.asm.load(8, Reg::R2, Reg::FP, slot);
                    self.pop_slot();
                } else {
                    self.scalar(&args[0])?;
                    self.asm.mov(Reg::R3, Reg::R0);
                    self.asm.mov_imm(Reg::R2, capacity as i32);
                }
                self.scratch_ptr(Reg::R1, offset);
                self.asm.call(if user {
                    helper::PROBE_READ_USER_STR
                } else {
                    helper::PROBE_READ_KERNEL_STR
                });
                Ok(())
            }
            "buf" => {
                let Type::Buf(n) = self.ty(expr).clone() else {
                    unreachable!("buf() is typed Buf")
                };
                let user = !matches!(self.ty(&args[0]), Type::Ptr { user: false, .. });
                self.zero_scratch(offset, size);
                if let Some(text) = args[0].as_str() {
                    // A literal's bytes, without the NUL a string would keep.
                    let mut bytes = text.as_bytes().to_vec();
                    bytes.resize(n as usize, 0);
                    self.store_bytes(offset + 8, &bytes);
                } else if let Type::Str(_) = self.ty(&args[0]) {
                    let temp = self.scratch(n + 1);
                    self.store(&args[0], temp, &Type::Str(n + 1))?;
                    self.scratch_ptr(Reg::R3, temp);
                    self.copy_to_scratch(offset + 8, n, Reg::R3);
                } else {
                    self.scalar(&args[0])?;
                    self.asm.mov(Reg::R3, Reg::R0);
                    self.scratch_ptr(Reg::R1, offset + 8);
                    self.asm.mov_imm(Reg::R2, n as i32);
                    self.asm.call(if user {
                        helper::PROBE_READ_USER
                    } else {
                        helper::PROBE_READ_KERNEL
                    });
                }
                self.asm.store_imm(8, SCRATCH, offset as i16, n as i32);
                Ok(())
            }
            "ntop" => {
                self.zero_scratch(offset, size);
                let (family, addr) = if args.len() == 2 {
                    (Some(&args[0]), &args[1])
                } else {
                    (None, &args[0])
                };
                // Addresses in memory (an array field, a kernel struct's `in6_addr` or its
                // `u8[16]`/`u32[4]` members) are read; integers are IPv4 addresses.
                let in_memory = match self.ty(addr) {
                    Type::Str(n) => Some(*n),
                    Type::Record(_) | Type::Ptr { .. } => Some(16),
                    _ => None,
                };
                let field = self.args_field(addr).ok();
                let bytes = field.as_ref().map(|f| f.size).or(in_memory);
                match family {
                    Some(family) => {
                        self.scalar(family)?;
                        self.asm.store(8, SCRATCH, offset as i16, Reg::R0);
                    }
                    // As bpftrace: 16 bytes are an IPv6 address.
                    None if bytes == Some(16) => {
                        self.asm
                            .store_imm(8, SCRATCH, offset as i16, libc_af_inet6())
                    }
                    None => self
                        .asm
                        .store_imm(8, SCRATCH, offset as i16, libc_af_inet()),
                }
                if field.is_none()
                    && let Some(n) = in_memory
                {
                    if matches!(self.ty(addr), Type::Str(_)) {
                        if self.member_offset(addr).is_none() {
                            return Err(Diagnostic::error(
                                addr.span,
                                "ntop() reads addresses from tracepoint fields and kernel structs, not strings",
                            ));
                        }
                        self.member_address(addr)?;
                    } else {
                        self.scalar(addr)?;
                    }
                    self.asm.mov(Reg::R3, Reg::R0);
                    self.scratch_ptr(Reg::R1, offset + 8);
                    self.asm.mov_imm(Reg::R2, n.min(16) as i32);
                    self.asm.call(helper::PROBE_READ_KERNEL);
                } else if let Ok(field) = self.args_field(addr) {
                    // An address array in the tracepoint record.
                    self.asm.mov(Reg::R3, super::ARGS);
                    self.asm.alu_imm(BPF_ADD, Reg::R3, field.offset as i32);
                    self.scratch_ptr(Reg::R1, offset + 8);
                    self.asm.mov_imm(Reg::R2, field.size.min(16) as i32);
                    self.asm.call(helper::PROBE_READ_KERNEL);
                } else {
                    self.scalar(addr)?;
                    self.asm.store(4, SCRATCH, (offset + 8) as i16, Reg::R0);
                }
                Ok(())
            }
            "usym" => {
                self.scalar(&args[0])?;
                self.asm.store(8, SCRATCH, offset as i16, Reg::R0);
                self.asm.call(helper::GET_CURRENT_PID_TGID);
                self.asm.alu_imm(BPF_RSH, Reg::R0, 32);
                self.asm.store(8, SCRATCH, (offset + 8) as i16, Reg::R0);
                Ok(())
            }
            "strftime" => {
                let format = args[0].as_str().unwrap_or_default().to_string();
                let id = match self
                    .shared
                    .strftime_formats
                    .iter()
                    .position(|f| *f == format)
                {
                    Some(id) => id,
                    None => {
                        self.shared.strftime_formats.push(format);
                        self.shared.strftime_formats.len() - 1
                    }
                };
                self.asm.store_imm(8, SCRATCH, offset as i16, id as i32);
                self.scalar(&args[1])?;
                self.asm.store(8, SCRATCH, (offset + 8) as i16, Reg::R0);
                self.asm.store_imm(8, SCRATCH, (offset + 16) as i16, 0);
                Ok(())
            }
            _ => Err(Diagnostic::error(
                expr.span,
                format!("{name}() cannot be used as a value here"),
            )),
        }
    }

    /// Builds `[event id][args as a tuple]` and sends it.
    fn record(&mut self, event: EventDef, args: &[ast::Expr]) -> Result<()> {
        let types: Vec<Type> = args.iter().map(|a| self.ty(a).clone()).collect();
        let offsets = Type::tuple_offsets(&types);
        let size = 8 + Type::Tuple(types.clone()).storage_size();
        let record = self.scratch(size);
        let id = self.shared.event(event);
        for ((arg, ty), at) in args.iter().zip(&types).zip(offsets) {
            self.store(arg, record + 8 + at, ty)?;
        }
        self.asm.store_imm(8, SCRATCH, record as i16, id as i32);
        self.output(record, size);
        Ok(())
    }

    /// `print()` of a whole struct or union: one read of its bytes (kernel or user memory)
    /// into the output record; user space lays them out.
    fn print_record(&mut self, arg: &ast::Expr) -> Result<()> {
        let Some((layout, size)) = self
            .shared
            .analysis
            .typed
            .record_layouts
            .get(&arg.id.0)
            .cloned()
        else {
            return Err(Diagnostic::error(
                arg.span,
                "print(): unknown record layout",
            ));
        };
        let value = Type::RecordValue {
            name: self.ty(arg).to_string(),
            size,
            layout: Box::new(layout.clone()),
        };
        let bytes = value.storage_size();
        let record = self.scratch(8 + bytes);
        let id = self.shared.event(EventDef::PrintRecord { layout });
        // On a fault the read zeroes the destination: the record prints as zeroes.
        self.store(arg, record + 8, &value)?;
        self.asm.store_imm(8, SCRATCH, record as i16, id as i32);
        self.output(record, 8 + bytes);
        Ok(())
    }

    /// Calls used as statements.
    pub(crate) fn call_statement(&mut self, expr: &ast::Expr) -> Result<()> {
        let (name, args) = call_parts(expr);
        let format = || {
            args.first()
                .and_then(|a| a.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let types = |b: &Self| {
            args.iter()
                .skip(1)
                .map(|a| b.ty(a).clone())
                .collect::<Vec<_>>()
        };
        match name {
            "printf" => {
                let event = EventDef::Printf {
                    format: format(),
                    args: types(self),
                };
                self.record(event, &args[1..])
            }
            "system" => {
                let event = EventDef::System {
                    format: format(),
                    args: types(self),
                };
                self.record(event, &args[1..])
            }
            "cat" => {
                let event = EventDef::Cat {
                    format: format(),
                    args: types(self),
                };
                self.record(event, &args[1..])
            }
            "time" => {
                let event = EventDef::Time {
                    format: args.first().and_then(|a| a.as_str()).map(str::to_string),
                };
                let id = self.shared.event(event);
                self.output_event(id);
                Ok(())
            }
            "join" => {
                let size = self.join_size;
                let delim = args
                    .get(1)
                    .and_then(|a| a.as_str())
                    .unwrap_or(" ")
                    .to_string();
                let id = self.shared.event(EventDef::Join { delim, size });
                let record = self.scratch(16 + crate::JOIN_ARGS * size);
                let pointer = self.scratch(8);
                self.zero_scratch(record, 16 + crate::JOIN_ARGS * size);
                self.asm.store_imm(8, SCRATCH, record as i16, id as i32);
                let slot = self.push_slot(expr.span)?;
                self.scalar(&args[0])?;
                self.asm.store(8, Reg::FP, slot, Reg::R0);
                let done = self.asm.label();
                for i in 0..crate::JOIN_ARGS {
                    // pointer = argv[i]; stop at NULL.
                    self.asm.load(8, Reg::R3, Reg::FP, slot);
                    self.asm.alu_imm(BPF_ADD, Reg::R3, 8 * i as i32);
                    self.scratch_ptr(Reg::R1, pointer);
                    self.asm.mov_imm(Reg::R2, 8);
                    self.asm.call(helper::PROBE_READ_USER);
                    self.asm.load(8, Reg::R3, SCRATCH, pointer as i16);
                    self.asm.jump_imm(BPF_JEQ, Reg::R3, 0, done);
                    self.scratch_ptr(Reg::R1, record + 16 + i * size);
                    self.asm.mov_imm(Reg::R2, size as i32);
                    self.asm.call(helper::PROBE_READ_USER_STR);
                    self.asm
                        .store_imm(8, SCRATCH, (record + 8) as i16, i as i32 + 1);
                }
                self.asm.bind(done);
                self.pop_slot();
                self.output(record, 16 + crate::JOIN_ARGS * size);
                Ok(())
            }
            "exit" => {
                let id = self.shared.event(EventDef::Exit);
                let record = self.scratch(16);
                self.asm.store_imm(8, SCRATCH, record as i16, id as i32);
                match args.first() {
                    Some(code) => self.scalar(code)?,
                    None => self.asm.mov_imm(Reg::R0, 0),
                }
                self.asm.store(8, SCRATCH, (record + 8) as i16, Reg::R0);
                self.output(record, 16);
                self.asm.goto(self.exit_label);
                Ok(())
            }
            "print" => match &args[0].kind {
                ExprKind::Map { name: map, keys } if keys.is_empty() => {
                    let index = self.map_index(map, args[0].span)?;
                    let constant = |b: &Self, i: usize, default: u64| -> Result<u64> {
                        match args.get(i) {
                            None => Ok(default),
                            Some(a) => match &a.kind {
                                ExprKind::Int { value, .. } => Ok(*value),
                                ExprKind::Positional(n) => {
                                    Ok(super::expr::parse_int(&b.positional(*n)).unwrap_or(0)
                                        as u64)
                                }
                                _ => Err(Diagnostic::error(
                                    a.span,
                                    "print(): top and div must be integer literals in scry",
                                )),
                            },
                        }
                    };
                    let top = constant(self, 1, 0)?;
                    let div = constant(self, 2, 0)?;
                    let id = self.shared.event(EventDef::PrintMap {
                        map: index,
                        top,
                        div,
                    });
                    self.output_event(id);
                    Ok(())
                }
                _ if matches!(self.ty(&args[0]), Type::Record(_)) => self.print_record(&args[0]),
                _ => {
                    let event = EventDef::PrintValue {
                        ty: self.ty(&args[0]).clone(),
                    };
                    self.record(event, &args[..1])
                }
            },
            "clear" | "zero" => {
                let ExprKind::Map { name: map, .. } = &args[0].kind else {
                    return Err(Diagnostic::error(
                        args[0].span,
                        format!("{name}() expects a map"),
                    ));
                };
                let index = self.map_index(map, args[0].span)?;
                let event = if name == "clear" {
                    EventDef::Clear { map: index }
                } else {
                    EventDef::Zero { map: index }
                };
                let id = self.shared.event(event);
                self.output_event(id);
                Ok(())
            }
            "delete" => match &args[0].kind {
                ExprKind::Map { name: map, keys } if !keys.is_empty() => {
                    self.map_delete(map, keys, expr.span)
                }
                ExprKind::Map { name: map, .. } if args.len() == 2 => {
                    self.map_delete(map, &args[1..], expr.span)
                }
                ExprKind::Map { name: map, .. } => self.map_delete(map, &[], expr.span),
                _ => Err(Diagnostic::error(
                    args[0].span,
                    "delete() expects a map element",
                )),
            },
            "signal" => {
                match self.shared.analysis.typed.constants.get(&args[0].id.0) {
                    Some(number) => self.asm.load_const(Reg::R0, *number),
                    None => self.scalar(&args[0])?,
                }
                self.asm.mov(Reg::R1, Reg::R0);
                self.asm.call(helper::SEND_SIGNAL);
                Ok(())
            }
            _ => {
                if self.ty(expr).is_scalar() {
                    self.call_scalar(expr)
                } else {
                    // A value computed for nothing (e.g. a bare str()): evaluate for effects.
                    let ty = self.ty(expr).clone();
                    let offset = self.scratch(ty.storage_size());
                    self.call_into(expr, offset, &ty)
                }
            }
        }
    }
}

fn libc_af_inet() -> i32 {
    2
}

fn libc_af_inet6() -> i32 {
    10
}
