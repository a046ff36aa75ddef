//! A readable listing of eBPF instructions in the kernel verifier's notation
//! (`r1 = *(u64 *)(r10 -8)`, `if r0 == 0x0 goto pc+3`), used by `--emit asm`.

use crate::helper;
use crate::insn::*;

fn size_name(code: u8) -> &'static str {
    match code & 0x18 {
        BPF_B => "u8",
        BPF_H => "u16",
        BPF_W => "u32",
        _ => "u64",
    }
}

fn alu_op(op: u8) -> &'static str {
    match op {
        BPF_ADD => "+=",
        BPF_SUB => "-=",
        BPF_MUL => "*=",
        BPF_DIV => "/=",
        BPF_OR => "|=",
        BPF_AND => "&=",
        BPF_LSH => "<<=",
        BPF_RSH => ">>=",
        BPF_MOD => "%=",
        BPF_XOR => "^=",
        BPF_MOV => "=",
        BPF_ARSH => "s>>=",
        _ => "?=",
    }
}

fn jump_op(op: u8) -> &'static str {
    match op {
        BPF_JEQ => "==",
        BPF_JGT => ">",
        BPF_JGE => ">=",
        BPF_JSET => "&",
        BPF_JNE => "!=",
        BPF_JSGT => "s>",
        BPF_JSGE => "s>=",
        BPF_JLT => "<",
        BPF_JLE => "<=",
        BPF_JSLT => "s<",
        BPF_JSLE => "s<=",
        _ => "?",
    }
}

fn offset(off: i16) -> String {
    if off < 0 {
        format!("{off}")
    } else {
        format!("+{off}")
    }
}

/// Formats one instruction. `next` is the following slot, needed for `ld_imm64`.
pub fn format_insn(insn: Insn, next: Option<Insn>) -> String {
    let class = insn.class();
    let op = insn.code & 0xf0;
    let (dst, src) = (insn.dst, insn.src);
    match class {
        BPF_ALU64 | BPF_ALU => {
            let reg = if class == BPF_ALU64 { "r" } else { "w" };
            if op == BPF_NEG {
                return format!("{reg}{dst} = -{reg}{dst}");
            }
            if op == BPF_END {
                return format!("{reg}{dst} = bswap{}({reg}{dst})", insn.imm);
            }
            let operand = if insn.code & BPF_X != 0 {
                format!("{reg}{src}")
            } else {
                format!("{:#x}", insn.imm)
            };
            format!("{reg}{dst} {} {operand}", alu_op(op))
        }
        BPF_LDX => format!(
            "r{dst} = *({} *)(r{src} {})",
            size_name(insn.code),
            offset(insn.off)
        ),
        BPF_STX if insn.code & 0xe0 == BPF_ATOMIC => {
            format!(
                "lock *({} *)(r{dst} {}) += r{src}",
                size_name(insn.code),
                offset(insn.off)
            )
        }
        BPF_STX => format!(
            "*({} *)(r{dst} {}) = r{src}",
            size_name(insn.code),
            offset(insn.off)
        ),
        BPF_ST => format!(
            "*({} *)(r{dst} {}) = {:#x}",
            size_name(insn.code),
            offset(insn.off),
            insn.imm
        ),
        BPF_LD if insn.is_ld_imm64() => {
            let high = next.map(|n| n.imm as u32 as u64).unwrap_or(0);
            match src {
                BPF_PSEUDO_MAP_FD => format!("r{dst} = map[id:{}]", insn.imm),
                BPF_PSEUDO_FUNC => format!("r{dst} = subprog pc{:+}", insn.imm),
                BPF_PSEUDO_MAP_VALUE => format!("r{dst} = map[id:{}][0]+{}", insn.imm, high),
                _ => format!("r{dst} = {:#x} ll", (high << 32) | insn.imm as u32 as u64),
            }
        }
        BPF_JMP | BPF_JMP32 => match op {
            BPF_JA if class == BPF_JMP32 => format!("gotol pc{:+}", insn.imm),
            BPF_JA => format!("goto pc{}", offset(insn.off)),
            BPF_CALL => match helper::name(insn.imm) {
                Some(name) => format!("call bpf_{name}#{}", insn.imm),
                None => format!("call #{}", insn.imm),
            },
            BPF_EXIT => "exit".to_string(),
            _ => {
                let reg = if class == BPF_JMP { "r" } else { "w" };
                let operand = if insn.code & BPF_X != 0 {
                    format!("{reg}{src}")
                } else {
                    format!("{:#x}", insn.imm)
                };
                format!(
                    "if {reg}{dst} {} {operand} goto pc{}",
                    jump_op(op),
                    offset(insn.off)
                )
            }
        },
        _ => format!("(unknown opcode {:#04x})", insn.code),
    }
}

/// Formats a whole program, one numbered instruction per line.
pub fn listing(insns: &[Insn]) -> String {
    let mut out = String::new();
    let mut index = 0;
    while index < insns.len() {
        let insn = insns[index];
        let text = format_insn(insn, insns.get(index + 1).copied());
        out.push_str(&format!("{index:4}: {text}\n"));
        index += if insn.is_ld_imm64() { 2 } else { 1 };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Asm, Reg};

    #[test]
    fn listing_uses_verifier_notation() {
        let mut asm = Asm::new();
        let out = asm.label();
        asm.mov(Reg::R6, Reg::R1);
        asm.call(helper::GET_CURRENT_PID_TGID);
        asm.alu_imm(BPF_RSH, Reg::R0, 32);
        asm.store(4, Reg::FP, -4, Reg::R0);
        asm.store_imm(8, Reg::FP, -16, 1);
        asm.load_map(Reg::R1, 0);
        asm.jump_imm(BPF_JEQ, Reg::R0, 0, out);
        asm.atomic_add64(Reg::R0, 0, Reg::R1);
        asm.load(8, Reg::R2, Reg::FP, -16);
        asm.load_const(Reg::R3, 1 << 40);
        asm.bind(out);
        asm.exit();
        let program = asm.finish().unwrap();
        let expected = "   0: r6 = r1
   1: call bpf_get_current_pid_tgid#14
   2: r0 >>= 0x20
   3: *(u32 *)(r10 -4) = r0
   4: *(u64 *)(r10 -16) = 0x1
   5: r1 = map[id:0]
   7: if r0 == 0x0 goto pc+4
   8: lock *(u64 *)(r0 +0) += r1
   9: r2 = *(u64 *)(r10 -16)
  10: r3 = 0x10000000000 ll
  12: exit
";
        assert_eq!(listing(&program.insns), expected);
    }
}
