//! The eBPF instruction encoding (`struct bpf_insn`) and opcode constants.

/// A machine register. `R10` is the read-only frame pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(pub u8);

impl Reg {
    pub const R0: Reg = Reg(0);
    pub const R1: Reg = Reg(1);
    pub const R2: Reg = Reg(2);
    pub const R3: Reg = Reg(3);
    pub const R4: Reg = Reg(4);
    pub const R5: Reg = Reg(5);
    pub const R6: Reg = Reg(6);
    pub const R7: Reg = Reg(7);
    pub const R8: Reg = Reg(8);
    pub const R9: Reg = Reg(9);
    pub const FP: Reg = Reg(10);
}

// Instruction classes.
pub const BPF_LD: u8 = 0x00;
pub const BPF_LDX: u8 = 0x01;
pub const BPF_ST: u8 = 0x02;
pub const BPF_STX: u8 = 0x03;
pub const BPF_ALU: u8 = 0x04;
pub const BPF_JMP: u8 = 0x05;
pub const BPF_JMP32: u8 = 0x06;
pub const BPF_ALU64: u8 = 0x07;

// Sizes.
pub const BPF_W: u8 = 0x00;
pub const BPF_H: u8 = 0x08;
pub const BPF_B: u8 = 0x10;
pub const BPF_DW: u8 = 0x18;

// Modes.
pub const BPF_IMM: u8 = 0x00;
pub const BPF_MEM: u8 = 0x60;
pub const BPF_ATOMIC: u8 = 0xc0;

// Sources.
pub const BPF_K: u8 = 0x00;
pub const BPF_X: u8 = 0x08;

// ALU operations.
pub const BPF_ADD: u8 = 0x00;
pub const BPF_SUB: u8 = 0x10;
pub const BPF_MUL: u8 = 0x20;
pub const BPF_DIV: u8 = 0x30;
pub const BPF_OR: u8 = 0x40;
pub const BPF_AND: u8 = 0x50;
pub const BPF_LSH: u8 = 0x60;
pub const BPF_RSH: u8 = 0x70;
pub const BPF_NEG: u8 = 0x80;
pub const BPF_MOD: u8 = 0x90;
pub const BPF_XOR: u8 = 0xa0;
pub const BPF_MOV: u8 = 0xb0;
pub const BPF_ARSH: u8 = 0xc0;
pub const BPF_END: u8 = 0xd0;

// Jump operations.
pub const BPF_JA: u8 = 0x00;
pub const BPF_JEQ: u8 = 0x10;
pub const BPF_JGT: u8 = 0x20;
pub const BPF_JGE: u8 = 0x30;
pub const BPF_JSET: u8 = 0x40;
pub const BPF_JNE: u8 = 0x50;
pub const BPF_JSGT: u8 = 0x60;
pub const BPF_JSGE: u8 = 0x70;
pub const BPF_CALL: u8 = 0x80;
pub const BPF_EXIT: u8 = 0x90;
pub const BPF_JLT: u8 = 0xa0;
pub const BPF_JLE: u8 = 0xb0;
pub const BPF_JSLT: u8 = 0xc0;
pub const BPF_JSLE: u8 = 0xd0;

/// `src_reg` of an `ld_imm64` whose immediate is a map file descriptor.
pub const BPF_PSEUDO_MAP_FD: u8 = 1;
/// `src_reg` of an `ld_imm64` whose immediate is the offset of a subprogram (a callback).
pub const BPF_PSEUDO_FUNC: u8 = 4;
/// `src_reg` of an `ld_imm64` whose immediate is a map fd and whose second word is an offset
/// into the map's value (direct value access, used for global data).
pub const BPF_PSEUDO_MAP_VALUE: u8 = 2;

/// The opposite condition of a conditional jump operation (`BPF_JEQ` → `BPF_JNE`); None
/// for `BPF_JSET`, which has no inverse.
pub fn invert_condition(op: u8) -> Option<u8> {
    Some(match op {
        BPF_JEQ => BPF_JNE,
        BPF_JNE => BPF_JEQ,
        BPF_JGT => BPF_JLE,
        BPF_JLE => BPF_JGT,
        BPF_JGE => BPF_JLT,
        BPF_JLT => BPF_JGE,
        BPF_JSGT => BPF_JSLE,
        BPF_JSLE => BPF_JSGT,
        BPF_JSGE => BPF_JSLT,
        BPF_JSLT => BPF_JSGE,
        _ => return None,
    })
}

/// One raw `struct bpf_insn`. An `ld_imm64` occupies two of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Insn {
    pub code: u8,
    pub dst: u8,
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

impl Insn {
    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            dst,
            src,
            off,
            imm,
        }
    }

    /// The instruction class (low three bits of the opcode).
    pub const fn class(self) -> u8 {
        self.code & 0x07
    }

    /// True for the first half of a 16-byte `ld_imm64`.
    pub const fn is_ld_imm64(self) -> bool {
        self.code == BPF_LD | BPF_DW | BPF_IMM
    }

    /// Encodes the instruction the way the kernel reads it (little-endian host).
    pub fn encode(self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out[0] = self.code;
        out[1] = (self.src << 4) | (self.dst & 0x0f);
        out[2..4].copy_from_slice(&self.off.to_le_bytes());
        out[4..8].copy_from_slice(&self.imm.to_le_bytes());
        out
    }

    /// Decodes 8 bytes produced by [`Insn::encode`].
    pub fn decode(bytes: [u8; 8]) -> Insn {
        Insn {
            code: bytes[0],
            dst: bytes[1] & 0x0f,
            src: bytes[1] >> 4,
            off: i16::from_le_bytes([bytes[2], bytes[3]]),
            imm: i32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
        }
    }
}

/// Encodes a whole program into the byte layout `BPF_PROG_LOAD` takes.
pub fn encode_all(insns: &[Insn]) -> Vec<u8> {
    insns.iter().flat_map(|insn| insn.encode()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        let cases = [
            Insn::new(BPF_ALU64 | BPF_MOV | BPF_X, 1, 10, 0, 0),
            Insn::new(BPF_STX | BPF_MEM | BPF_DW, 10, 1, -8, 0),
            Insn::new(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 7, -1),
            Insn::new(BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_MAP_FD, 0, 42),
        ];
        for insn in cases {
            assert_eq!(Insn::decode(insn.encode()), insn);
        }
    }

    #[test]
    fn encoding_matches_kernel_layout() {
        // r1 = r10 is 0xbf with dst 1, src 10.
        let bytes = Insn::new(BPF_ALU64 | BPF_MOV | BPF_X, 1, 10, 0, 0).encode();
        assert_eq!(bytes, [0xbf, 0xa1, 0, 0, 0, 0, 0, 0]);
        // *(u64 *)(r10 - 8) = r1
        let bytes = Insn::new(BPF_STX | BPF_MEM | BPF_DW, 10, 1, -8, 0).encode();
        assert_eq!(bytes, [0x7b, 0x1a, 0xf8, 0xff, 0, 0, 0, 0]);
    }
}
