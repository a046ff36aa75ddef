//! An assembler with symbolic labels, map references and source origins.
//!
//! Code generators append instructions through [`Asm`]'s methods; jumps name a [`Label`]
//! that may be bound later. [`Asm::finish`] resolves labels into relative offsets and
//! returns a [`Program`] whose map loads still carry map *ids*: the runtime patches in
//! file descriptors with [`Program::relocated`] once maps exist.
//!
//! Every instruction records an *origin*, an opaque `u32` set with [`Asm::set_origin`]
//! (scry uses it as an index into a table of source spans), so verifier messages about
//! instruction N can be mapped back to the script.

use crate::insn::*;

/// A jump target, bound to a position with [`Asm::bind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Label(u32);

#[derive(Clone, Copy, Debug)]
enum Item {
    Insn(Insn),
    Jump {
        insn: Insn,
        target: Label,
    },
    LdImm64 {
        dst: Reg,
        imm: u64,
    },
    LdMap {
        dst: Reg,
        map: u32,
    },
    LdMapValue {
        dst: Reg,
        map: u32,
        off: u32,
    },
    /// `dst = &subprogram` (a callback for helpers such as `bpf_for_each_map_elem`).
    LdFunc {
        dst: Reg,
        target: Label,
    },
    Bind(Label),
}

impl Item {
    fn width(&self) -> usize {
        match self {
            Item::Bind(_) => 0,
            Item::LdImm64 { .. }
            | Item::LdMap { .. }
            | Item::LdMapValue { .. }
            | Item::LdFunc { .. } => 2,
            Item::Insn(_) | Item::Jump { .. } => 1,
        }
    }
}

/// Errors from resolving a program.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AsmError {
    #[error("jump to a label that was never bound")]
    UnboundLabel,
    #[error("jump distance {0} does not fit in 16 bits")]
    JumpTooFar(i64),
    #[error("program has {0} instructions, more than the kernel's limit of 1,000,000")]
    TooLong(usize),
}

/// A reference from an `ld_imm64` to a map, patched with the map's fd at load time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapRef {
    /// Index of the first half of the `ld_imm64`.
    pub insn: usize,
    /// The code generator's map id.
    pub map: u32,
}

/// A resolved program: raw instructions, the map references in them, and each
/// instruction's origin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Program {
    pub insns: Vec<Insn>,
    pub map_refs: Vec<MapRef>,
    pub origins: Vec<u32>,
    /// First instructions of subprograms (callbacks), in order; the kernel wants a BTF
    /// function record for each, besides the main program at 0.
    pub subprograms: Vec<usize>,
}

impl Program {
    /// The instructions with every map reference replaced by the fd `fd_of(map)` returns.
    pub fn relocated(&self, mut fd_of: impl FnMut(u32) -> i32) -> Vec<Insn> {
        let mut insns = self.insns.clone();
        for reference in &self.map_refs {
            insns[reference.insn].imm = fd_of(reference.map);
        }
        insns
    }
}

/// The assembler.
#[derive(Debug, Default)]
pub struct Asm {
    items: Vec<(Item, u32)>,
    n_labels: u32,
    origin: u32,
}

impl Asm {
    pub fn new() -> Asm {
        Asm::default()
    }

    /// Sets the origin recorded for the instructions appended from now on.
    pub fn set_origin(&mut self, origin: u32) {
        self.origin = origin;
    }

    /// The current origin.
    pub fn origin(&self) -> u32 {
        self.origin
    }

    /// A fresh, unbound label.
    pub fn label(&mut self) -> Label {
        self.n_labels += 1;
        Label(self.n_labels - 1)
    }

    /// Binds `label` to the position of the next instruction.
    pub fn bind(&mut self, label: Label) {
        self.push(Item::Bind(label));
    }

    /// Number of instruction slots emitted so far.
    pub fn len(&self) -> usize {
        self.items.iter().map(|(item, _)| item.width()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn push(&mut self, item: Item) {
        self.items.push((item, self.origin));
    }

    /// Appends a raw instruction.
    pub fn insn(&mut self, insn: Insn) {
        self.push(Item::Insn(insn));
    }

    pub fn mov_imm(&mut self, dst: Reg, imm: i32) {
        self.insn(Insn::new(BPF_ALU64 | BPF_MOV | BPF_K, dst.0, 0, 0, imm));
    }

    pub fn mov(&mut self, dst: Reg, src: Reg) {
        self.insn(Insn::new(BPF_ALU64 | BPF_MOV | BPF_X, dst.0, src.0, 0, 0));
    }

    /// Loads any 64-bit constant, using the short form when it fits.
    pub fn load_const(&mut self, dst: Reg, value: u64) {
        let as_signed = value as i64;
        if as_signed >= i32::MIN as i64 && as_signed <= i32::MAX as i64 {
            self.mov_imm(dst, as_signed as i32);
        } else {
            self.push(Item::LdImm64 { dst, imm: value });
        }
    }

    /// `dst op= imm` in 64 bits (`op` is one of the `BPF_ADD`… constants).
    pub fn alu_imm(&mut self, op: u8, dst: Reg, imm: i32) {
        self.insn(Insn::new(BPF_ALU64 | op | BPF_K, dst.0, 0, 0, imm));
    }

    /// `dst op= src` in 64 bits.
    pub fn alu(&mut self, op: u8, dst: Reg, src: Reg) {
        self.insn(Insn::new(BPF_ALU64 | op | BPF_X, dst.0, src.0, 0, 0));
    }

    /// `dst op= imm` in 32 bits (upper half zeroed).
    pub fn alu32_imm(&mut self, op: u8, dst: Reg, imm: i32) {
        self.insn(Insn::new(BPF_ALU | op | BPF_K, dst.0, 0, 0, imm));
    }

    /// `dst = -dst`.
    pub fn neg(&mut self, dst: Reg) {
        self.insn(Insn::new(BPF_ALU64 | BPF_NEG, dst.0, 0, 0, 0));
    }

    /// `dst = *(size *)(src + off)`; `size` is 1, 2, 4 or 8.
    pub fn load(&mut self, size: u32, dst: Reg, src: Reg, off: i16) {
        self.insn(Insn::new(
            BPF_LDX | BPF_MEM | size_bits(size),
            dst.0,
            src.0,
            off,
            0,
        ));
    }

    /// `*(size *)(dst + off) = src`.
    pub fn store(&mut self, size: u32, dst: Reg, off: i16, src: Reg) {
        self.insn(Insn::new(
            BPF_STX | BPF_MEM | size_bits(size),
            dst.0,
            src.0,
            off,
            0,
        ));
    }

    /// `*(size *)(dst + off) = imm`.
    pub fn store_imm(&mut self, size: u32, dst: Reg, off: i16, imm: i32) {
        self.insn(Insn::new(
            BPF_ST | BPF_MEM | size_bits(size),
            dst.0,
            0,
            off,
            imm,
        ));
    }

    /// `lock *(u64 *)(dst + off) += src`.
    pub fn atomic_add64(&mut self, dst: Reg, off: i16, src: Reg) {
        self.insn(Insn::new(
            BPF_STX | BPF_ATOMIC | BPF_DW,
            dst.0,
            src.0,
            off,
            BPF_ADD as i32,
        ));
    }

    /// `if dst op imm goto target`.
    pub fn jump_imm(&mut self, op: u8, dst: Reg, imm: i32, target: Label) {
        let insn = Insn::new(BPF_JMP | op | BPF_K, dst.0, 0, 0, imm);
        self.push(Item::Jump { insn, target });
    }

    /// `if dst op src goto target`.
    pub fn jump_reg(&mut self, op: u8, dst: Reg, src: Reg, target: Label) {
        let insn = Insn::new(BPF_JMP | op | BPF_X, dst.0, src.0, 0, 0);
        self.push(Item::Jump { insn, target });
    }

    /// `goto target`.
    pub fn goto(&mut self, target: Label) {
        let insn = Insn::new(BPF_JMP | BPF_JA, 0, 0, 0, 0);
        self.push(Item::Jump { insn, target });
    }

    /// `call helper`.
    pub fn call(&mut self, helper: i32) {
        self.insn(Insn::new(BPF_JMP | BPF_CALL, 0, 0, 0, helper));
    }

    pub fn exit(&mut self) {
        self.insn(Insn::new(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    }

    /// `dst = map` (a pointer to the map, for helper calls).
    pub fn load_map(&mut self, dst: Reg, map: u32) {
        self.push(Item::LdMap { dst, map });
    }

    /// `dst = &map.value[off]` (direct access to an array map's first value).
    pub fn load_map_value(&mut self, dst: Reg, map: u32, off: u32) {
        self.push(Item::LdMapValue { dst, map, off });
    }

    /// Drops instructions no path from the entry reaches (the verifier refuses unreachable
    /// code, and code generators naturally leave some behind, e.g. the `goto end` after a
    /// branch that ends in `exit`).
    fn drop_unreachable(&mut self) -> Result<(), AsmError> {
        let mut label_items = vec![None; self.n_labels as usize];
        for (index, (item, _)) in self.items.iter().enumerate() {
            if let Item::Bind(label) = item {
                label_items[label.0 as usize] = Some(index);
            }
        }
        let mut reachable = vec![false; self.items.len()];
        let mut work = vec![0usize];
        while let Some(index) = work.pop() {
            if index >= self.items.len() || reachable[index] {
                continue;
            }
            reachable[index] = true;
            let falls_through = match &self.items[index].0 {
                Item::Jump { insn, target } => {
                    let to = label_items[target.0 as usize].ok_or(AsmError::UnboundLabel)?;
                    work.push(to);
                    insn.code & 0xf0 != BPF_JA
                }
                Item::Insn(insn) => !(insn.class() == BPF_JMP && insn.code & 0xf0 == BPF_EXIT),
                Item::LdFunc { target, .. } => {
                    work.push(label_items[target.0 as usize].ok_or(AsmError::UnboundLabel)?);
                    true
                }
                _ => true,
            };
            if falls_through {
                work.push(index + 1);
            }
        }
        let mut index = 0;
        self.items.retain(|(item, _)| {
            let keep = reachable[index] || matches!(item, Item::Bind(_));
            index += 1;
            keep
        });
        Ok(())
    }

    /// `dst = address of the subprogram starting at `target`` (for callback helpers). The
    /// subprogram is code after the main program's `exit`, reached only through this.
    pub fn load_func(&mut self, dst: Reg, target: Label) {
        self.push(Item::LdFunc { dst, target });
    }

    /// Resolves labels and returns the flat program.
    pub fn finish(mut self) -> Result<Program, AsmError> {
        self.drop_unreachable()?;
        // Jumps whose distance does not fit in 16 bits are widened to `gotol` (32-bit
        // offset, kernels >= 6.4): a conditional jump becomes "if not cond skip; gotol".
        // Widening moves code, so lay out again until nothing more needs widening.
        let mut wide = vec![false; self.items.len()];
        let positions = loop {
            let mut positions = vec![None; self.n_labels as usize];
            let mut starts = Vec::with_capacity(self.items.len());
            let mut pc = 0usize;
            for (index, (item, _)) in self.items.iter().enumerate() {
                starts.push(pc);
                if let Item::Bind(label) = item {
                    positions[label.0 as usize] = Some(pc);
                }
                pc += match item {
                    Item::Jump { insn, .. } if wide[index] => wide_width(*insn),
                    other => other.width(),
                };
            }
            if pc > 1_000_000 {
                return Err(AsmError::TooLong(pc));
            }
            let mut changed = false;
            for (index, (item, _)) in self.items.iter().enumerate() {
                if let Item::Jump { target, .. } = item {
                    let to = positions[target.0 as usize].ok_or(AsmError::UnboundLabel)?;
                    let delta = to as i64 - starts[index] as i64 - 1;
                    if !wide[index] && i16::try_from(delta).is_err() {
                        wide[index] = true;
                        changed = true;
                    }
                }
            }
            if !changed {
                break positions;
            }
        };
        let mut program = Program::default();
        for (index, (item, origin)) in self.items.into_iter().enumerate() {
            let here = program.insns.len();
            match item {
                Item::Bind(_) => continue,
                Item::Insn(insn) => program.insns.push(insn),
                Item::Jump { insn, target } if wide[index] => {
                    let to = positions[target.0 as usize].ok_or(AsmError::UnboundLabel)?;
                    let gotol_at = here + wide_width(insn) - 1;
                    let delta = to as i64 - gotol_at as i64 - 1;
                    let delta = i32::try_from(delta).map_err(|_| AsmError::JumpTooFar(delta))?;
                    if insn.code & 0xf0 != BPF_JA {
                        match invert_condition(insn.code & 0xf0) {
                            // if !cond goto +1 (over the gotol)
                            Some(op) => program.insns.push(Insn {
                                code: (insn.code & 0x0f) | op,
                                off: 1,
                                ..insn
                            }),
                            // if cond goto +1 (to the gotol); goto +1 (past it)
                            None => {
                                program.insns.push(Insn { off: 1, ..insn });
                                program.insns.push(Insn::new(BPF_JMP | BPF_JA, 0, 0, 1, 0));
                            }
                        }
                    }
                    program
                        .insns
                        .push(Insn::new(BPF_JMP32 | BPF_JA, 0, 0, 0, delta));
                }
                Item::Jump { mut insn, target } => {
                    let to = positions[target.0 as usize].ok_or(AsmError::UnboundLabel)?;
                    let delta = to as i64 - here as i64 - 1;
                    insn.off = i16::try_from(delta).map_err(|_| AsmError::JumpTooFar(delta))?;
                    program.insns.push(insn);
                }
                Item::LdImm64 { dst, imm } => {
                    program.insns.push(Insn::new(
                        BPF_LD | BPF_DW | BPF_IMM,
                        dst.0,
                        0,
                        0,
                        imm as u32 as i32,
                    ));
                    program
                        .insns
                        .push(Insn::new(0, 0, 0, 0, (imm >> 32) as u32 as i32));
                }
                Item::LdMap { dst, map } => {
                    program.map_refs.push(MapRef { insn: here, map });
                    program.insns.push(Insn::new(
                        BPF_LD | BPF_DW | BPF_IMM,
                        dst.0,
                        BPF_PSEUDO_MAP_FD,
                        0,
                        0,
                    ));
                    program.insns.push(Insn::default());
                }
                Item::LdFunc { dst, target } => {
                    let to = positions[target.0 as usize].ok_or(AsmError::UnboundLabel)?;
                    if !program.subprograms.contains(&to) {
                        program.subprograms.push(to);
                        program.subprograms.sort();
                    }
                    // BPF_PSEUDO_FUNC: the offset is relative to the next instruction.
                    let delta = to as i64 - here as i64 - 1;
                    program.insns.push(Insn::new(
                        BPF_LD | BPF_DW | BPF_IMM,
                        dst.0,
                        BPF_PSEUDO_FUNC,
                        0,
                        delta as i32,
                    ));
                    program.insns.push(Insn::default());
                }
                Item::LdMapValue { dst, map, off } => {
                    program.map_refs.push(MapRef { insn: here, map });
                    program.insns.push(Insn::new(
                        BPF_LD | BPF_DW | BPF_IMM,
                        dst.0,
                        BPF_PSEUDO_MAP_VALUE,
                        0,
                        0,
                    ));
                    program.insns.push(Insn::new(0, 0, 0, 0, off as i32));
                }
            }
            while program.origins.len() < program.insns.len() {
                program.origins.push(origin);
            }
        }
        Ok(program)
    }
}

/// Slots a widened jump takes: `gotol` alone, or an inverted condition and `gotol`, or (for
/// `jset`, which has no inverse) the condition, a skip and `gotol`.
fn wide_width(insn: Insn) -> usize {
    match insn.code & 0xf0 {
        BPF_JA => 1,
        op if invert_condition(op).is_some() => 2,
        _ => 3,
    }
}

fn size_bits(size: u32) -> u8 {
    match size {
        1 => BPF_B,
        2 => BPF_H,
        4 => BPF_W,
        8 => BPF_DW,
        _ => panic!("invalid memory access size {size}: code generator bug"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_backward_jumps_resolve() {
        let mut asm = Asm::new();
        let top = asm.label();
        let out = asm.label();
        asm.bind(top);
        asm.mov_imm(Reg::R0, 0); // 0
        asm.jump_imm(BPF_JEQ, Reg::R0, 1, out); // 1 -> 4
        asm.load_const(Reg::R1, (1u64 << 40) + 3); // 2,3 (ld_imm64)
        asm.goto(top); // 4? no: index 4 is this goto
        asm.bind(out);
        asm.exit(); // 5
        let program = asm.finish().unwrap();
        assert_eq!(program.insns.len(), 6);
        assert_eq!(program.insns[1].off, 3, "1 + 1 + 3 = 5, the exit");
        assert_eq!(program.insns[4].off, -5, "4 + 1 - 5 = 0, the top");
        assert!(program.insns[2].is_ld_imm64());
        assert_eq!(program.insns[2].imm as u32, ((1u64 << 40) + 3) as u32);
        assert_eq!(
            program.insns[3].imm as u32,
            (((1u64 << 40) + 3) >> 32) as u32
        );
    }

    #[test]
    fn map_references_are_relocated_and_origins_kept() {
        let mut asm = Asm::new();
        asm.set_origin(7);
        asm.load_map(Reg::R1, 3);
        asm.set_origin(9);
        asm.exit();
        let program = asm.finish().unwrap();
        assert_eq!(program.map_refs, vec![MapRef { insn: 0, map: 3 }]);
        assert_eq!(program.origins, vec![7, 7, 9]);
        let insns = program.relocated(|map| 100 + map as i32);
        assert_eq!(insns[0].imm, 103);
        assert_eq!(insns[0].src, BPF_PSEUDO_MAP_FD);
    }

    #[test]
    fn far_jumps_are_widened_to_gotol() {
        let mut asm = Asm::new();
        let far = asm.label();
        asm.mov_imm(Reg::R0, 0);
        asm.jump_imm(BPF_JEQ, Reg::R0, 0, far);
        for _ in 0..40_000 {
            asm.mov_imm(Reg::R1, 1);
        }
        asm.bind(far);
        asm.exit();
        let program = asm.finish().unwrap();
        // mov, jne +1, gotol, 40000 movs, exit
        assert_eq!(program.insns.len(), 40_004);
        assert_eq!(program.insns[1].code, BPF_JMP | BPF_JNE | BPF_K);
        assert_eq!(program.insns[1].off, 1);
        assert_eq!(program.insns[2].code, BPF_JMP32 | BPF_JA);
        assert_eq!(program.insns[2].imm, 40_000);
        assert_eq!(program.origins.len(), program.insns.len());
    }

    #[test]
    fn unreachable_code_is_dropped() {
        let mut asm = Asm::new();
        let end = asm.label();
        asm.mov_imm(Reg::R0, 0);
        asm.exit();
        asm.goto(end); // dead
        asm.mov_imm(Reg::R0, 1); // dead
        asm.bind(end);
        asm.exit(); // dead: nothing jumps here from live code
        let program = asm.finish().unwrap();
        assert_eq!(program.insns.len(), 2);
        assert_eq!(program.origins.len(), 2);
    }

    #[test]
    fn unbound_label_is_an_error() {
        let mut asm = Asm::new();
        let nowhere = asm.label();
        asm.goto(nowhere);
        assert_eq!(asm.finish(), Err(AsmError::UnboundLabel));
    }

    #[test]
    fn small_constants_use_mov() {
        let mut asm = Asm::new();
        asm.load_const(Reg::R2, (-1i64) as u64);
        assert_eq!(asm.len(), 1);
        asm.load_const(Reg::R2, 1 << 40);
        assert_eq!(asm.len(), 3);
    }
}
