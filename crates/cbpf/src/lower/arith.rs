//! Lowering of arithmetic relations (`proto[expr:size] op expr`): constant
//! folding, the implied protocol checks of accessors, and straight-line code
//! computing both sides with A, X and scratch memory.

use super::{ETH_ARP, ETH_IP, ETH_IP6, ETH_RARP, Lower};
use crate::ast::{ArOp, Arith, Proto, RelOp};
use crate::error::FilterError;
use crate::insn::{Insn, op};
use crate::ir::{Pred, Src};

fn alu_code(o: ArOp) -> u16 {
    match o {
        ArOp::Add => op::ADD,
        ArOp::Sub => op::SUB,
        ArOp::Mul => op::MUL,
        ArOp::Div => op::DIV,
        ArOp::Mod => op::MOD,
        ArOp::And => op::AND,
        ArOp::Or => op::OR,
        ArOp::Xor => op::XOR,
        ArOp::Lsh => op::LSH,
        ArOp::Rsh => op::RSH,
    }
}

/// Evaluates `a o b` on constants like the BPF machine (unsigned 32-bit).
pub(crate) fn eval_alu(o: ArOp, a: u32, b: u32) -> Option<u32> {
    Some(match o {
        ArOp::Add => a.wrapping_add(b),
        ArOp::Sub => a.wrapping_sub(b),
        ArOp::Mul => a.wrapping_mul(b),
        ArOp::Div => a.checked_div(b)?,
        ArOp::Mod => a.checked_rem(b)?,
        ArOp::And => a & b,
        ArOp::Or => a | b,
        ArOp::Xor => a ^ b,
        ArOp::Lsh => a.checked_shl(b).unwrap_or(0),
        ArOp::Rsh => a.checked_shr(b).unwrap_or(0),
    })
}

fn fold(e: &Arith) -> Result<Arith, FilterError> {
    Ok(match e {
        Arith::Num(_) | Arith::Len => e.clone(),
        Arith::Neg(a) => match fold(a)? {
            Arith::Num(n) => Arith::Num(n.wrapping_neg()),
            a => Arith::Neg(Box::new(a)),
        },
        Arith::Load {
            proto,
            idx,
            size,
            col,
        } => Arith::Load {
            proto: *proto,
            idx: Box::new(fold(idx)?),
            size: *size,
            col: *col,
        },
        Arith::Radio { idx, size, col } => Arith::Radio {
            idx: Box::new(fold(idx)?),
            size: *size,
            col: *col,
        },
        Arith::Bin(o, a, b, col) => {
            let (a, b) = (fold(a)?, fold(b)?);
            if let Arith::Num(k) = b {
                match o {
                    ArOp::Div if k == 0 => {
                        return Err(FilterError::at(*col, "division by zero"));
                    }
                    ArOp::Mod if k == 0 => {
                        return Err(FilterError::at(*col, "modulus by zero"));
                    }
                    ArOp::Lsh | ArOp::Rsh if k > 31 => {
                        return Err(FilterError::at(
                            *col,
                            format!("shift by {k} is more than 31 bits"),
                        ));
                    }
                    _ => {}
                }
                if let Arith::Num(j) = a
                    && let Some(v) = eval_alu(*o, j, k)
                {
                    return Ok(Arith::Num(v));
                }
            }
            Arith::Bin(*o, Box::new(a), Box::new(b), *col)
        }
    })
}

fn transport(p: Proto) -> bool {
    !matches!(
        p,
        Proto::Link | Proto::Ip | Proto::Ip6 | Proto::Arp | Proto::Rarp | Proto::Icmp6
    )
}

struct Gen<'a> {
    lower: &'a Lower,
    checks: Vec<Pred>,
    depth: u32,
}

impl Gen<'_> {
    /// Whether computing `e` clobbers X.
    fn uses_x(&self, e: &Arith) -> bool {
        match e {
            Arith::Num(_) | Arith::Len => false,
            Arith::Neg(a) => self.uses_x(a),
            Arith::Load { proto, idx, .. } => {
                !matches!(**idx, Arith::Num(_)) || self.x_base(*proto).is_some()
            }
            Arith::Radio { idx, .. } => !matches!(**idx, Arith::Num(_)),
            Arith::Bin(_, a, b, _) => !matches!(**b, Arith::Num(_)) || self.uses_x(a),
        }
    }

    /// The instruction loading X with the run-time base of `proto[...]`:
    /// the IPv4 header length for transport headers, the radiotap length for
    /// the link header after radiotap.
    fn x_base(&self, p: Proto) -> Option<Insn> {
        if transport(p) {
            Some(Insn::stmt(op::LDX | op::MSH | op::B, self.lower.nl))
        } else if p == Proto::Link && self.lower.ll_var() {
            Some(Insn::stmt(op::LDX | op::MEM, super::wlan::LL_MEM))
        } else {
            None
        }
    }

    fn scratch(&mut self, col: usize) -> Result<u32, FilterError> {
        // (The words from GENEVE_LL up hold run-time offsets.)
        if self.depth >= super::geneve::GENEVE_LL {
            return Err(FilterError::at(
                col,
                "too many registers needed to evaluate expression",
            ));
        }
        self.depth += 1;
        Ok(self.depth - 1)
    }

    fn code(&mut self, e: &Arith, out: &mut Vec<Insn>) -> Result<(), FilterError> {
        match e {
            Arith::Num(n) => out.push(Insn::stmt(op::LD | op::IMM, *n)),
            Arith::Len => out.push(Insn::stmt(op::LD | op::W | op::LEN, 0)),
            Arith::Neg(a) => {
                self.code(a, out)?;
                out.push(Insn::stmt(op::ALU | op::NEG, 0));
            }
            Arith::Bin(o, a, b, col) => {
                if let Arith::Num(k) = **b {
                    self.code(a, out)?;
                    out.push(Insn::stmt(op::ALU | alu_code(*o) | op::K, k));
                } else if !self.uses_x(a) {
                    self.code(b, out)?;
                    out.push(Insn::stmt(op::MISC | op::TAX, 0));
                    self.code(a, out)?;
                    out.push(Insn::stmt(op::ALU | alu_code(*o) | op::X, 0));
                } else {
                    self.code(b, out)?;
                    let m = self.scratch(*col)?;
                    out.push(Insn::stmt(op::ST, m));
                    self.code(a, out)?;
                    self.depth -= 1;
                    out.push(Insn::stmt(op::LDX | op::MEM, m));
                    out.push(Insn::stmt(op::ALU | alu_code(*o) | op::X, 0));
                }
            }
            Arith::Load {
                proto,
                idx,
                size,
                col,
            } => {
                let l = self.lower;
                let nl = l.nl;
                let (check, base) = match proto {
                    Proto::Link => (Pred::Const(true), l.ll_base),
                    Proto::Ip => (l.linktype(ETH_IP, *col)?, nl),
                    Proto::Ip6 => (l.linktype(ETH_IP6, *col)?, nl),
                    Proto::Arp => (l.linktype(ETH_ARP, *col)?, nl),
                    Proto::Rarp => (l.linktype(ETH_RARP, *col)?, nl),
                    Proto::Icmp6 => (
                        Pred::and(l.linktype(ETH_IP6, *col)?, Pred::eq(nl + 6, op::B, 58)),
                        nl + 40,
                    ),
                    p => {
                        let ipp = p.ip_proto().unwrap_or(0);
                        let c = Pred::all([
                            l.linktype(ETH_IP, *col)?,
                            Pred::eq(nl + 9, op::B, ipp),
                            l.not_frag(),
                        ]);
                        (c, nl)
                    }
                };
                let sz = match size {
                    1 => op::B,
                    2 => op::H,
                    _ => op::W,
                };
                self.load(idx, sz, base, self.x_base(*proto), *col, out)?;
                self.checks.push(check);
            }
            Arith::Radio { idx, size, col } => {
                if !self.lower.ll_var() {
                    return Err(FilterError::at(
                        *col,
                        "'radio' accessor needs link type IEEE802_11_RADIO",
                    ));
                }
                let sz = match size {
                    1 => op::B,
                    2 => op::H,
                    _ => op::W,
                };
                self.load(idx, sz, 0, None, *col, out)?;
            }
        }
        Ok(())
    }
}

impl Gen<'_> {
    /// `ld{sz} [base + idx]`, plus X's run-time base when there is one.
    fn load(
        &mut self,
        idx: &Arith,
        sz: u16,
        base: u32,
        x_base: Option<Insn>,
        col: usize,
        out: &mut Vec<Insn>,
    ) -> Result<(), FilterError> {
        if let Arith::Num(c) = *idx {
            match x_base {
                Some(x) => {
                    out.push(x);
                    out.push(Insn::stmt(op::LD | sz | op::IND, base.wrapping_add(c)));
                }
                None => out.push(Insn::stmt(op::LD | sz | op::ABS, base.wrapping_add(c))),
            }
            return Ok(());
        }
        self.code(idx, out)?;
        if let Some(x) = x_base {
            let m = self.scratch(col)?;
            self.depth -= 1;
            out.push(Insn::stmt(op::ST, m));
            out.push(x);
            out.push(Insn::stmt(op::LD | op::MEM, m));
            out.push(Insn::stmt(op::ALU | op::ADD | op::X, 0));
        }
        out.push(Insn::stmt(op::MISC | op::TAX, 0));
        out.push(Insn::stmt(op::LD | sz | op::IND, base));
        Ok(())
    }
}

fn and_mask(m: &Arith) -> Option<u32> {
    match m {
        Arith::Num(k) => Some(*k),
        _ => None,
    }
}

fn swap(o: RelOp) -> RelOp {
    match o {
        RelOp::Gt => RelOp::Lt,
        RelOp::Lt => RelOp::Gt,
        RelOp::Ge => RelOp::Le,
        RelOp::Le => RelOp::Ge,
        o => o,
    }
}

fn compare(o: RelOp, a: u32, b: u32) -> bool {
    match o {
        RelOp::Gt => a > b,
        RelOp::Ge => a >= b,
        RelOp::Lt => a < b,
        RelOp::Le => a <= b,
        RelOp::Eq => a == b,
        RelOp::Ne => a != b,
    }
}

impl Lower {
    pub(super) fn relation(
        &self,
        lhs: &Arith,
        o: RelOp,
        rhs: &Arith,
        col: usize,
    ) -> Result<Pred, FilterError> {
        let (mut lhs, mut rhs, mut o) = (fold(lhs)?, fold(rhs)?, o);
        if let (Arith::Num(a), Arith::Num(b)) = (&lhs, &rhs) {
            return Ok(Pred::Const(compare(o, *a, *b)));
        }
        if matches!(lhs, Arith::Num(_)) {
            std::mem::swap(&mut lhs, &mut rhs);
            o = swap(o);
        }
        // `a - b == 0` is `a == b`.
        if matches!(rhs, Arith::Num(0))
            && matches!(o, RelOp::Eq | RelOp::Ne)
            && let Arith::Bin(ArOp::Sub, a, b, _) = lhs
        {
            lhs = *a;
            rhs = *b;
        }
        let (jop, negate) = match o {
            RelOp::Gt => (op::JGT, false),
            RelOp::Ge => (op::JGE, false),
            RelOp::Eq => (op::JEQ, false),
            RelOp::Ne => (op::JEQ, true),
            RelOp::Lt => (op::JGE, true),
            RelOp::Le => (op::JGT, true),
        };
        let mut g = Gen {
            lower: self,
            checks: Vec::new(),
            depth: 0,
        };
        let mut code = Vec::new();
        let test = match (&lhs, &rhs) {
            (Arith::Bin(ArOp::And, a, m, _), Arith::Num(0))
                if matches!(o, RelOp::Eq | RelOp::Ne) && and_mask(m).is_some() =>
            {
                let m = and_mask(m).unwrap_or(0);
                g.code(a, &mut code)?;
                let t = Pred::test(code, op::JSET, Src::K(m));
                if o == RelOp::Eq { Pred::not(t) } else { t }
            }
            (_, Arith::Num(k)) => {
                g.code(&lhs, &mut code)?;
                let t = Pred::test(code, jop, Src::K(*k));
                if negate { Pred::not(t) } else { t }
            }
            _ => {
                g.code(&rhs, &mut code)?;
                if !g.uses_x(&lhs) {
                    code.push(Insn::stmt(op::MISC | op::TAX, 0));
                    g.code(&lhs, &mut code)?;
                } else {
                    let m = g.scratch(col)?;
                    code.push(Insn::stmt(op::ST, m));
                    g.code(&lhs, &mut code)?;
                    code.push(Insn::stmt(op::LDX | op::MEM, m));
                }
                let t = Pred::test(code, jop, Src::X);
                if negate { Pred::not(t) } else { t }
            }
        };
        Ok(Pred::and(Pred::all(g.checks), test))
    }
}
