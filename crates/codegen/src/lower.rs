//! The lowering pass: typed AST → eBPF programs.
//!
//! One [`Builder`] produces one program. Its conventions:
//! - r6 = context, r7 = this CPU's scratch area, r8 = tracepoint record (`args`);
//! - scalar expressions leave their value in r0 (`expr.rs`); aggregates (strings, tuples…)
//!   are written into scratch memory at an offset chosen by the caller (`store`);
//! - temporaries are 8-byte stack slots (LIFO) and scratch regions, both released at the end
//!   of each statement; variables keep theirs for the whole program.
//!
//! Map operations are in `maps.rs`, builtin calls and output records in `calls.rs`.

mod calls;
mod expr;
mod maps;
mod stmt;

use std::collections::HashMap;

use scry_diagnostics::{Diagnostic, Span};
use scry_ebpf::insn::*;
use scry_ebpf::{Asm, Label, Reg, helper};
use scry_sema::{Analysis, Target, Type};
use scry_syntax::ast;

use crate::layout::MapLayout;
use crate::{
    Compiled, EventDef, InternalMaps, MapDef, MapKind, Options, ProgKind, ProgramSpec, config,
};

/// A compile error at a source location.
pub(crate) type Result<T> = std::result::Result<T, Diagnostic>;

/// State shared by every program of one compile.
pub(crate) struct Shared<'a> {
    pub analysis: &'a Analysis,
    pub events: Vec<EventDef>,
    pub probe_names: Vec<String>,
    pub strftime_formats: Vec<String>,
    pub layouts: Vec<MapLayout>,
    pub user_map_ids: Vec<u32>,
    pub internal: InternalMaps,
    pub zeros_size: u32,
    pub uses_stacks: bool,
    pub uses_user_stacks: bool,
    /// Possible CPUs of the target machine.
    pub n_cpus: u32,
}

impl Shared<'_> {
    pub fn event(&mut self, def: EventDef) -> u64 {
        if let Some(index) = self.events.iter().position(|e| *e == def) {
            return index as u64;
        }
        self.events.push(def);
        self.events.len() as u64 - 1
    }

    pub fn probe_name(&mut self, name: String) -> u64 {
        if let Some(index) = self.probe_names.iter().position(|n| *n == name) {
            return index as u64;
        }
        self.probe_names.push(name);
        self.probe_names.len() as u64 - 1
    }
}

/// Where a variable lives.
#[derive(Clone, Copy, Debug)]
pub(crate) enum VarLoc {
    Stack(i16),
    Scratch(u32),
}

/// How the `probe` builtin is computed.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ProbeValue {
    Const(u64),
    /// The attach cookie: the driver attaches each target with its probe name's index.
    Cookie,
    /// Stored in a stack slot by the prologue (syscall dispatch).
    Slot(i16),
}

/// Stack slots available for temporaries and variables (the last 8 bytes stay free).
const MAX_SLOTS: i16 = 60;

pub(crate) struct Builder<'s, 'a> {
    pub shared: &'s mut Shared<'a>,
    pub asm: Asm,
    pub spans: Vec<Span>,
    pub probe: usize,
    /// Which tracepoint target's fields `args` refers to (per-target programs).
    pub args_target: Option<usize>,
    pub probe_value: ProbeValue,
    pub slots: i16,
    pub max_slots: i16,
    pub scratch_top: u32,
    pub scratch_max: u32,
    pub vars: HashMap<String, VarLoc>,
    pub loops: Vec<(Label, Label)>,
    pub exit_label: Label,
    /// This program's scratch map.
    pub scratch_map: u32,
    /// A `bpf_for_each_map_elem` callback that returns 0 ("continue"), emitted after the
    /// program when used.
    pub continue_callback: Option<Label>,
    pub raw_args: bool,
    /// Bytes read per element by `join()`.
    pub join_size: u32,
    /// `arg0..`/`retval` come from `pt_regs` (uprobes).
    pub regs_args: bool,
    /// fexit: the context slot of the return value (after the arguments).
    pub fexit_retval: Option<u32>,
    /// For a USDT site: where its arguments are.
    pub usdt_args: Option<Vec<scry_sema::UsdtArg>>,
}

pub(crate) const CTX: Reg = Reg::R6;
pub(crate) const SCRATCH: Reg = Reg::R7;
pub(crate) const ARGS: Reg = Reg::R8;

impl<'s, 'a> Builder<'s, 'a> {
    fn new(shared: &'s mut Shared<'a>, probe: usize) -> Self {
        let mut asm = Asm::new();
        let exit_label = asm.label();
        Builder {
            shared,
            asm,
            spans: vec![Span::default()],
            probe,
            args_target: None,
            probe_value: ProbeValue::Const(0),
            // fp-8 is reserved for the 4-byte keys of internal map lookups.
            slots: 1,
            max_slots: 1,
            scratch_top: 0,
            scratch_max: 0,
            vars: HashMap::new(),
            loops: Vec::new(),
            exit_label,
            scratch_map: 0,
            continue_callback: None,
            raw_args: false,
            join_size: 256,
            regs_args: false,
            usdt_args: None,
            fexit_retval: None,
        }
    }

    pub fn ty(&self, expr: &ast::Expr) -> &'a Type {
        &self.shared.analysis.typed.exprs[expr.id.index()]
    }

    /// Records `span` as the origin of the instructions emitted next.
    pub fn origin(&mut self, span: Span) {
        self.spans.push(span);
        self.asm.set_origin(self.spans.len() as u32 - 1);
    }

    /// A fresh 8-byte stack slot; released with [`Builder::pop_slot`] in LIFO order.
    pub fn push_slot(&mut self, span: Span) -> Result<i16> {
        if self.slots >= MAX_SLOTS {
            return Err(Diagnostic::error(
                span,
                "expression too complex: out of BPF stack slots (512 bytes)",
            ));
        }
        self.slots += 1;
        self.max_slots = self.max_slots.max(self.slots);
        Ok(-8 * self.slots)
    }

    pub fn pop_slot(&mut self) {
        self.slots -= 1;
    }

    /// A scratch region of `size` bytes (8-byte aligned).
    pub fn scratch(&mut self, size: u32) -> u32 {
        let offset = self.scratch_top;
        self.scratch_top += size.div_ceil(8) * 8;
        self.scratch_max = self.scratch_max.max(self.scratch_top);
        offset
    }

    /// `dst = r7 + offset`.
    pub fn scratch_ptr(&mut self, dst: Reg, offset: u32) {
        self.asm.mov(dst, SCRATCH);
        if offset != 0 {
            self.asm.alu_imm(BPF_ADD, dst, offset as i32);
        }
    }

    /// Zeroes `size` bytes of scratch at `offset`.
    pub fn zero_scratch(&mut self, offset: u32, size: u32) {
        if size == 0 {
            return;
        }
        if size <= 128 && offset.is_multiple_of(8) {
            let mut at = 0;
            while at + 8 <= size {
                self.asm.store_imm(8, SCRATCH, (offset + at) as i16, 0);
                at += 8;
            }
            while at < size {
                self.asm.store_imm(1, SCRATCH, (offset + at) as i16, 0);
                at += 1;
            }
            return;
        }
        self.shared.zeros_size = self.shared.zeros_size.max(size);
        self.scratch_ptr(Reg::R1, offset);
        self.asm.mov_imm(Reg::R2, size as i32);
        self.asm
            .load_map_value(Reg::R3, self.shared.internal.zeros, 0);
        self.asm.call(helper::PROBE_READ_KERNEL);
    }

    /// Copies `size` bytes from the pointer in `src` (a map value, or other kernel memory)
    /// to scratch at `offset`.
    pub fn copy_to_scratch(&mut self, offset: u32, size: u32, src: Reg) {
        if size <= 64 && size.is_multiple_of(8) && src != Reg::R1 {
            let mut at = 0;
            while at < size {
                self.asm.load(8, Reg::R1, src, at as i16);
                self.asm.store(8, SCRATCH, (offset + at) as i16, Reg::R1);
                at += 8;
            }
            return;
        }
        if src != Reg::R3 {
            self.asm.mov(Reg::R3, src);
        }
        self.scratch_ptr(Reg::R1, offset);
        self.asm.mov_imm(Reg::R2, size as i32);
        self.asm.call(helper::PROBE_READ_KERNEL);
    }

    /// Emits a ring-buffer record of `size` bytes at scratch `offset`, counting it as lost
    /// when the buffer is full.
    pub fn output(&mut self, offset: u32, size: u32) {
        self.asm.load_map(Reg::R1, self.shared.internal.ringbuf);
        self.scratch_ptr(Reg::R2, offset);
        self.asm.mov_imm(Reg::R3, size as i32);
        self.asm.mov_imm(Reg::R4, 0);
        self.asm.call(helper::RINGBUF_OUTPUT);
        self.count_failure(crate::counters::LOST);
    }

    /// Adds one to counter `slot` of the `counters` map when r0 is negative (a helper call
    /// failed). Branch-free, so that the verifier has no extra path to explore per call: in
    /// loops, branches that rejoin with distinct states multiply the work.
    pub fn count_failure(&mut self, slot: u32) {
        self.asm.alu_imm(BPF_RSH, Reg::R0, 63);
        self.asm
            .load_map_value(Reg::R1, self.shared.internal.counters, 8 * slot);
        self.asm.atomic_add64(Reg::R1, 0, Reg::R0);
    }

    /// Emits a record that holds only an event id.
    pub fn output_event(&mut self, event: u64) {
        let record = self.scratch(8);
        self.asm.store_imm(8, SCRATCH, record as i16, event as i32);
        self.output(record, 8);
    }

    /// The prologue: save the context, find the scratch area, point r8 at the record.
    fn prologue(&mut self) {
        self.asm.mov(CTX, Reg::R1);
        self.asm.call(helper::GET_SMP_PROCESSOR_ID);
        self.asm.store(4, Reg::FP, -4, Reg::R0);
        self.asm.load_map(Reg::R1, self.scratch_map);
        self.asm.mov(Reg::R2, Reg::FP);
        self.asm.alu_imm(BPF_ADD, Reg::R2, -4);
        self.asm.call(helper::MAP_LOOKUP_ELEM);
        let found = self.asm.label();
        self.asm.jump_imm(BPF_JNE, Reg::R0, 0, found);
        self.asm.mov_imm(Reg::R0, 0);
        self.asm.exit();
        self.asm.bind(found);
        self.asm.mov(SCRATCH, Reg::R0);
        self.asm.mov(ARGS, CTX);
    }

    /// The prologue of a syscall dispatch program (a raw tracepoint on `sys_enter` or
    /// `sys_exit`): looks the syscall number up in the `map` of traced syscalls (value: probe
    /// name index + 1), and builds the record the `syscalls:sys_{enter,exit}_*` tracepoints
    /// would have had: `__syscall_nr` at 8, then the six arguments (or `ret`) from 16.
    fn dispatch_prologue(&mut self, exit: bool, map: u32, span: Span) -> Result<()> {
        // x86_64 `struct pt_regs` offsets: di, si, dx, r10, r8, r9 and orig_ax.
        const ARG_OFFSETS: [u32; 6] = [112, 104, 96, 56, 72, 64];
        const ORIG_AX: u32 = 120;
        const PT_REGS_SIZE: u32 = 168;
        let regs = self.scratch(PT_REGS_SIZE);
        let record = self.scratch(64);
        // Keep these regions for the whole program.
        let probe_slot = self.push_slot(span)?;
        self.probe_value = ProbeValue::Slot(probe_slot);
        self.asm.load(8, Reg::R3, CTX, 0);
        self.scratch_ptr(Reg::R1, regs);
        self.asm.mov_imm(Reg::R2, PT_REGS_SIZE as i32);
        self.asm.call(helper::PROBE_READ_KERNEL);
        if exit {
            self.asm.load(8, Reg::R1, SCRATCH, (regs + ORIG_AX) as i16);
        } else {
            self.asm.load(8, Reg::R1, CTX, 8);
        }
        self.asm.jump_imm(
            BPF_JGT,
            Reg::R1,
            crate::SYSCALL_MAX as i32 - 1,
            self.exit_label,
        );
        self.asm.store(8, SCRATCH, (record + 8) as i16, Reg::R1);
        self.asm.store(4, Reg::FP, -4, Reg::R1);
        self.asm.load_map(Reg::R1, map);
        self.asm.mov(Reg::R2, Reg::FP);
        self.asm.alu_imm(BPF_ADD, Reg::R2, -4);
        self.asm.call(helper::MAP_LOOKUP_ELEM);
        self.asm.jump_imm(BPF_JEQ, Reg::R0, 0, self.exit_label);
        self.asm.load(8, Reg::R1, Reg::R0, 0);
        self.asm.jump_imm(BPF_JEQ, Reg::R1, 0, self.exit_label);
        self.asm.alu_imm(BPF_SUB, Reg::R1, 1);
        self.asm.store(8, Reg::FP, probe_slot, Reg::R1);
        if exit {
            self.asm.load(8, Reg::R1, CTX, 8);
            self.asm.store(8, SCRATCH, (record + 16) as i16, Reg::R1);
        } else {
            for (i, offset) in ARG_OFFSETS.iter().enumerate() {
                self.asm.load(8, Reg::R1, SCRATCH, (regs + offset) as i16);
                self.asm
                    .store(8, SCRATCH, (record + 16 + 8 * i as u32) as i16, Reg::R1);
            }
        }
        self.scratch_ptr(ARGS, record);
        Ok(())
    }

    fn epilogue(&mut self) {
        self.asm.bind(self.exit_label);
        self.asm.mov_imm(Reg::R0, 0);
        self.asm.exit();
        // Subprograms follow the main program.
        if let Some(callback) = self.continue_callback {
            self.asm.bind(callback);
            self.asm.mov_imm(Reg::R0, 0);
            self.asm.exit();
        }
    }
}

/// Every expression of a probe (predicate and body).
fn probe_exprs(probe: &ast::Probe) -> Vec<&ast::Expr> {
    let mut exprs = Vec::new();
    if let Some(predicate) = &probe.predicate {
        predicate.walk(&mut |e| exprs.push(e));
    }
    scry_syntax::visit::walk_block(&probe.body, &mut |e| exprs.push(e));
    exprs
}

/// Wide syscall wildcards with at least this many events use one raw-tracepoint program.
const DISPATCH_MIN: usize = 8;

/// True when every `args->f` of the probe has the same layout in all `targets`.
fn uniform_args(analysis: &Analysis, exprs: &[&ast::Expr], targets: &[usize]) -> bool {
    exprs
        .iter()
        .all(|e| match analysis.typed.args_fields.get(&e.id.0) {
            None => true,
            Some(fields) => {
                let first = &fields[targets[0]];
                targets.iter().all(|&t| {
                    fields[t].offset == first.offset
                        && fields[t].size == first.size
                        && fields[t].kind == first.kind
                })
            }
        })
}

/// Splits a probe's targets into programs: (kind, targets, index of the tracepoint target
/// whose `args` layout the program uses).
fn groups(
    analysis: &Analysis,
    probe: &ast::Probe,
    targets: &[Target],
) -> Vec<(ProgKind, Vec<Target>, Option<usize>)> {
    let mut groups = Vec::new();
    let exprs = probe_exprs(probe);
    let args = exprs
        .iter()
        .any(|e| matches!(&e.kind, ast::ExprKind::Ident(name) if name == "args"));
    // Tracepoint targets by their index among the probe's tracepoints (the index args_fields uses).
    let tracepoints: Vec<(usize, &scry_sema::TracepointFormat)> = targets
        .iter()
        .filter_map(|t| match t {
            Target::Tracepoint(f) => Some(f),
            _ => None,
        })
        .enumerate()
        .collect();
    let mut rest: Vec<(usize, &scry_sema::TracepointFormat)> = Vec::new();
    for exit in [false, true] {
        let prefix = if exit { "sys_exit_" } else { "sys_enter_" };
        let (syscalls, others): (Vec<_>, Vec<_>) = tracepoints
            .iter()
            .filter(|(_, f)| f.category == "syscalls" && f.name.starts_with(prefix))
            .partition(|(_, f)| f.syscall_nr.is_some());
        rest.extend(others);
        let indexes: Vec<usize> = syscalls.iter().map(|(i, _)| *i).collect();
        if syscalls.len() >= DISPATCH_MIN
            && cfg!(target_arch = "x86_64")
            && uniform_args(analysis, &exprs, &indexes)
        {
            let dispatched = syscalls
                .iter()
                .map(|(_, f)| Target::Tracepoint((*f).clone()))
                .collect();
            groups.push((
                ProgKind::SyscallDispatch { exit },
                dispatched,
                Some(indexes[0]),
            ));
        } else {
            rest.extend(syscalls);
        }
    }
    rest.extend(tracepoints.iter().filter(|(_, f)| {
        !(f.category == "syscalls"
            && (f.name.starts_with("sys_enter_") || f.name.starts_with("sys_exit_")))
    }));
    rest.sort_by_key(|(i, _)| *i);
    if !rest.is_empty() {
        if args {
            for (index, format) in rest {
                groups.push((
                    ProgKind::Tracepoint,
                    vec![Target::Tracepoint(format.clone())],
                    Some(index),
                ));
            }
        } else {
            groups.push((
                ProgKind::Tracepoint,
                rest.iter()
                    .map(|(_, f)| Target::Tracepoint((*f).clone()))
                    .collect(),
                None,
            ));
        }
    }
    let uprobes: Vec<Target> = targets
        .iter()
        .filter(|t| matches!(t, Target::Uprobe { .. }))
        .cloned()
        .collect();
    for ret in [false, true] {
        let group: Vec<Target> = uprobes
            .iter()
            .filter(|t| matches!(t, Target::Uprobe { ret: r, .. } if *r == ret))
            .cloned()
            .collect();
        if !group.is_empty() {
            groups.push((ProgKind::Uprobe, group, None));
        }
    }
    for target in targets {
        let kind = match target {
            Target::Uprobe { .. } => continue,
            // Each USDT site has its own argument locations: a program each.
            Target::Usdt(_) => ProgKind::Uprobe,
            Target::Begin => ProgKind::Begin,
            Target::End => ProgKind::End,
            Target::Tracepoint(_) => continue,
            Target::Interval { .. }
            | Target::Profile { .. }
            | Target::Software { .. }
            | Target::Hardware { .. } => ProgKind::PerfEvent,
            // kprobes run on pt_regs like uprobes.
            Target::Kprobe { .. } => ProgKind::Uprobe,
            Target::Fentry { ret, btf_id, .. } => ProgKind::Fentry {
                ret: *ret,
                btf_id: *btf_id,
            },
            Target::RawTracepoint { .. } => ProgKind::RawTracepoint,
        };
        groups.push((kind, vec![target.clone()], None));
    }
    groups
}

/// Runs the pass.
pub(crate) fn compile(
    program: &ast::Program,
    analysis: &Analysis,
    options: &Options,
) -> std::result::Result<Compiled, Vec<Diagnostic>> {
    let layouts: Vec<MapLayout> = analysis.typed.maps.iter().map(MapLayout::new).collect();
    // Map ids: user maps first, then the internal ones.
    let n_user = layouts.len() as u32;
    let internal = InternalMaps {
        ringbuf: n_user,
        counters: n_user + 1,
        config: n_user + 2,
        zeros: n_user + 3,
        stacks: n_user + 4,
    };
    let mut shared = Shared {
        analysis,
        events: Vec::new(),
        probe_names: Vec::new(),
        strftime_formats: Vec::new(),
        layouts: layouts.clone(),
        user_map_ids: (0..n_user).collect(),
        internal,
        zeros_size: 8,
        uses_stacks: false,
        uses_user_stacks: false,
        n_cpus: options.n_cpus.max(1),
    };
    let mut programs = Vec::new();
    let mut errors = Vec::new();
    // Maps created per program (scratch areas, syscall dispatch tables), ids from n_user + 5.
    let mut extra_maps: Vec<MapDef> = Vec::new();
    let extra_base = n_user + 5;
    for (index, probe) in program.probes.iter().enumerate() {
        for (kind, targets, args_target) in groups(analysis, probe, &analysis.probes[index].targets)
        {
            let mut builder = Builder::new(&mut shared, index);
            // Each program has its own scratch area: raw tracepoint programs can interrupt other
            // programs on the same CPU, so a shared area could be overwritten mid-use. One slot
            // per possible CPU (max_entries 0: the driver sets it); sized after lowering.
            let scratch_index = extra_maps.len();
            builder.scratch_map = extra_base + scratch_index as u32;
            extra_maps.push(MapDef {
                name: "scratch".into(),
                kind: MapKind::Array,
                key_size: 4,
                value_size: 8,
                max_entries: 0,
                user: None,
            });
            builder.args_target = args_target;
            builder.raw_args = matches!(kind, ProgKind::RawTracepoint | ProgKind::Fentry { .. });
            if let Some(Target::Fentry {
                ret: true, nargs, ..
            }) = targets.first()
            {
                builder.fexit_retval = Some(*nargs);
            }
            builder.regs_args = kind == ProgKind::Uprobe;
            if let Some(Target::Usdt(probe)) = targets.first() {
                builder.usdt_args = Some(probe.args.clone());
            }
            let ids: Vec<u64> = targets
                .iter()
                .map(|t| builder.shared.probe_name(t.probe_name()))
                .collect();
            builder.probe_value = if ids.len() == 1 {
                ProbeValue::Const(ids[0])
            } else {
                ProbeValue::Cookie
            };
            builder.prologue();
            let mut dispatch = None;
            if let ProgKind::SyscallDispatch { exit } = kind {
                let map = extra_base + extra_maps.len() as u32;
                extra_maps.push(MapDef {
                    name: "syscalls".into(),
                    kind: MapKind::Array,
                    key_size: 4,
                    value_size: 8,
                    max_entries: crate::SYSCALL_MAX,
                    user: None,
                });
                dispatch = Some(map);
                if let Err(err) = builder.dispatch_prologue(exit, map, probe.span) {
                    errors.push(err);
                    continue;
                }
            }
            if let (Some(pid), false) = (
                options.pid_filter,
                matches!(kind, ProgKind::Begin | ProgKind::End),
            ) {
                builder.asm.call(helper::GET_CURRENT_PID_TGID);
                builder.asm.alu_imm(BPF_RSH, Reg::R0, 32);
                builder
                    .asm
                    .jump_imm(BPF_JNE, Reg::R0, pid as i32, builder.exit_label);
            }
            let result = builder.probe_body(probe);
            if let Err(err) = result {
                if !errors.contains(&err) {
                    errors.push(err);
                }
                continue;
            }
            builder.epilogue();
            let scratch = builder.scratch_max;
            // Scratch accesses use 16-bit signed offsets from r7.
            if scratch > i16::MAX as u32 {
                errors.push(Diagnostic::error(
                    probe.span,
                    format!(
                        "this probe needs {scratch} bytes of scratch memory for its strings and records, more than the 32 KiB scry can address; use fewer string temporaries or a smaller BPFTRACE_MAX_STRLEN"
                    ),
                ));
                continue;
            }
            let spans = std::mem::take(&mut builder.spans);
            let asm = std::mem::take(&mut builder.asm);
            extra_maps[scratch_index].value_size = scratch.max(8).div_ceil(8) * 8;
            let code = match asm.finish() {
                Ok(code) => code,
                Err(err) => {
                    errors.push(Diagnostic::error(
                        probe.span,
                        format!("code generation failed: {err}"),
                    ));
                    continue;
                }
            };
            let name = program_name(&targets);
            programs.push(ProgramSpec {
                name,
                kind,
                targets,
                code,
                spans,
                dispatch,
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut maps: Vec<MapDef> = layouts
        .iter()
        .enumerate()
        .map(|(index, layout)| MapDef {
            name: if layout.info.name.is_empty() {
                "AT_".into()
            } else {
                format!("AT_{}", layout.info.name)
            },
            kind: layout.kind,
            key_size: layout.full_key_size(),
            value_size: layout.value_size,
            max_entries: options.map_keys_max * if layout.bucketed { 8 } else { 1 },
            user: Some(index),
        })
        .collect();
    let internal_def = |name: &str, kind, key_size, value_size, max_entries| MapDef {
        name: name.into(),
        kind,
        key_size,
        value_size,
        max_entries,
        user: None,
    };
    maps.push(internal_def(
        "ringbuf",
        MapKind::RingBuf,
        0,
        0,
        options.ringbuf_size,
    ));

    let n_counters = crate::counters::MAP_FULL + n_user;
    maps.push(internal_def(
        "counters",
        MapKind::Array,
        4,
        8 * n_counters,
        1,
    ));
    maps.push(internal_def("config", MapKind::Array, 4, config::SIZE, 1));
    maps.push(internal_def(
        "zeros",
        MapKind::Array,
        4,
        shared.zeros_size.div_ceil(8) * 8,
        1,
    ));
    let stack_entries = if shared.uses_stacks {
        options.map_keys_max
    } else {
        1
    };
    maps.push(internal_def(
        "stacks",
        MapKind::StackTrace,
        4,
        8 * crate::STACK_DEPTH,
        stack_entries,
    ));
    maps.extend(extra_maps);
    Ok(Compiled {
        programs,
        maps,
        internal,
        user_maps: layouts,
        user_map_ids: shared.user_map_ids,
        events: shared.events,
        probe_names: shared.probe_names,
        strftime_formats: shared.strftime_formats,
        uses_user_stacks: shared.uses_user_stacks,
    })
}

fn program_name(targets: &[Target]) -> String {
    match targets.first() {
        Some(Target::Tracepoint(f)) if targets.len() == 1 => f.name.clone(),
        Some(Target::Tracepoint(f))
            if f.category == "syscalls" && f.name.starts_with("sys_exit") =>
        {
            "sys_exit_multi".into()
        }
        Some(Target::Tracepoint(f)) if f.category == "syscalls" => "sys_enter_multi".into(),
        Some(Target::Tracepoint(f)) => format!("{}_multi", f.category),
        Some(Target::Begin) => "BEGIN".into(),
        Some(Target::End) => "END".into(),
        Some(Target::Interval { .. }) => "interval".into(),
        Some(Target::Profile { .. }) => "profile".into(),
        Some(Target::Software { .. }) => "software".into(),
        Some(Target::RawTracepoint { name }) => name.clone(),
        Some(Target::Uprobe { symbol, .. }) if targets.len() == 1 => symbol.clone(),
        Some(Target::Usdt(probe)) => probe.name.clone(),
        Some(Target::Kprobe { function, .. }) | Some(Target::Fentry { function, .. }) => {
            function.clone()
        }
        Some(Target::Hardware { .. }) => "hardware".into(),
        Some(Target::Uprobe { .. }) => "uprobe_multi".into(),
        None => "probe".into(),
    }
}
