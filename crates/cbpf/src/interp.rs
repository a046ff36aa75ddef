//! A userspace classic-BPF interpreter with libpcap's `bpf_filter` semantics:
//! loads outside the captured bytes reject the packet, `[x + k]` does not
//! wrap, division by a zero X rejects, `ld #pktlen` is the wire length, and
//! `ja` offsets are signed (libpcap's `protochain` loops backward). Unlike
//! libpcap's, a program that runs too long (a loop on a crafted packet)
//! rejects the packet instead of hanging.

use crate::insn::{Insn, op};

fn load(pkt: &[u8], k: u32, size: usize) -> Option<u32> {
    let k = k as usize;
    let bytes = pkt.get(k..k.checked_add(size)?)?;
    Some(bytes.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
}

/// Instructions executed before a looping program gives up (rejects).
pub const MAX_STEPS: usize = 1 << 20;

/// Runs `prog` on a packet whose captured bytes are `pkt` and whose original
/// length is `wirelen`. Returns the number of bytes to keep (0 = reject).
pub fn run(prog: &[Insn], pkt: &[u8], wirelen: u32) -> u32 {
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; 16];
    let mut pc = 0usize;
    for _ in 0..MAX_STEPS {
        let Some(i) = prog.get(pc) else { return 0 };
        pc += 1;
        let k = i.k;
        let size = match i.code & 0x18 {
            op::W => 4,
            op::H => 2,
            _ => 1,
        };
        match i.class() {
            op::RET => return if i.code & 0x18 == op::A { a } else { k },
            op::LD => {
                a = match i.code & 0xe0 {
                    op::IMM => k,
                    op::LEN => wirelen,
                    op::MEM => mem[k as usize & 15],
                    op::ABS => match load(pkt, k, size) {
                        Some(v) => v,
                        None => return 0,
                    },
                    op::IND => {
                        let Some(off) = x.checked_add(k) else {
                            return 0;
                        };
                        match load(pkt, off, size) {
                            Some(v) => v,
                            None => return 0,
                        }
                    }
                    _ => return 0,
                }
            }
            op::LDX => {
                x = match i.code & 0xe0 {
                    op::IMM => k,
                    op::LEN => wirelen,
                    op::MEM => mem[k as usize & 15],
                    op::MSH => match load(pkt, k, 1) {
                        Some(v) => (v & 0xf) << 2,
                        None => return 0,
                    },
                    _ => return 0,
                }
            }
            op::ST => mem[k as usize & 15] = a,
            op::STX => mem[k as usize & 15] = x,
            op::JMP => {
                let b = if i.code & op::X != 0 { x } else { k };
                let jump = |cond: bool| {
                    if cond {
                        usize::from(i.jt)
                    } else {
                        usize::from(i.jf)
                    }
                };
                pc += match i.code & 0xf0 {
                    op::JA => {
                        pc = pc.wrapping_add(k as i32 as isize as usize);
                        continue;
                    }
                    op::JEQ => jump(a == b),
                    op::JGT => jump(a > b),
                    op::JGE => jump(a >= b),
                    op::JSET => jump(a & b != 0),
                    _ => return 0,
                };
            }
            op::ALU => {
                let b = if i.code & op::X != 0 { x } else { k };
                a = match i.code & 0xf0 {
                    op::ADD => a.wrapping_add(b),
                    op::SUB => a.wrapping_sub(b),
                    op::MUL => a.wrapping_mul(b),
                    op::DIV => match a.checked_div(b) {
                        Some(v) => v,
                        None => return 0,
                    },
                    op::MOD => match a.checked_rem(b) {
                        Some(v) => v,
                        None => return 0,
                    },
                    op::AND => a & b,
                    op::OR => a | b,
                    op::XOR => a ^ b,
                    op::LSH => a.checked_shl(b).unwrap_or(0),
                    op::RSH => a.checked_shr(b).unwrap_or(0),
                    op::NEG => a.wrapping_neg(),
                    _ => return 0,
                };
            }
            _ => {
                if i.code & op::TXA != 0 {
                    a = x;
                } else {
                    x = a;
                }
            }
        }
    }
    0
}

/// Checks what the kernel's classic-BPF checker checks: size, forward
/// in-range jumps, valid opcodes and scratch indices, a final `ret`.
pub fn validate(prog: &[Insn]) -> Result<(), String> {
    if prog.is_empty() || prog.len() > 4096 {
        return Err(format!("program length {} not in 1..=4096", prog.len()));
    }
    for (n, i) in prog.iter().enumerate() {
        let rest = prog.len() - n - 1;
        match i.class() {
            op::JMP => {
                let far = if i.code & 0xf0 == op::JA {
                    i.k as usize
                } else {
                    usize::from(i.jt.max(i.jf))
                };
                if far >= rest {
                    return Err(format!("jump out of range at instruction {n}"));
                }
            }
            op::ST | op::STX if i.k >= 16 => {
                return Err(format!("bad scratch index at instruction {n}"));
            }
            op::LD | op::LDX if i.code & 0xe0 == op::MEM && i.k >= 16 => {
                return Err(format!("bad scratch index at instruction {n}"));
            }
            op::ALU
                if matches!(i.code & 0xf0, op::DIV | op::MOD)
                    && i.code & op::X == 0
                    && i.k == 0 =>
            {
                return Err(format!("division by constant zero at instruction {n}"));
            }
            _ => {}
        }
    }
    match prog.last() {
        Some(l) if l.class() == op::RET => Ok(()),
        _ => Err("last instruction is not a return".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_loads_reject() {
        let p = [
            Insn::stmt(op::LD | op::H | op::ABS, 12),
            Insn::stmt(op::RET | op::K, 9),
        ];
        assert_eq!(run(&p, &[0; 14], 14), 9);
        assert_eq!(run(&p, &[0; 13], 60), 0);
        let ind = [
            Insn::stmt(op::LDX | op::IMM, u32::MAX),
            Insn::stmt(op::LD | op::B | op::IND, 14),
            Insn::stmt(op::RET | op::K, 1),
        ];
        assert_eq!(run(&ind, &[0; 40], 40), 0, "x + k must not wrap");
        let div = [
            Insn::stmt(op::ALU | op::DIV | op::X, 0),
            Insn::stmt(op::RET | op::K, 1),
        ];
        assert_eq!(run(&div, &[], 0), 0);
        assert!(validate(&div).is_ok());
        assert!(validate(&[Insn::jump(op::JMP | op::JEQ, 0, 1, 0)]).is_err());
        // A backward loop runs (libpcap's protochain), bounded by MAX_STEPS.
        let spin = [
            Insn::stmt(op::JMP | op::JA, u32::MAX),
            Insn::stmt(op::RET | op::K, 1),
        ];
        assert_eq!(run(&spin, &[], 0), 0);
        assert!(
            validate(&spin).is_err(),
            "the kernel refuses backward jumps"
        );
    }
}
