//! The intermediate form between the syntax tree and basic blocks: a boolean
//! tree whose leaves are self-contained tests (statements computing A, then
//! one conditional jump).

use crate::insn::{Insn, op};

/// The second operand of a conditional jump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Src {
    K(u32),
    X,
}

/// A self-contained test: `stmts` compute A (and X if `src` is X) from the
/// packet alone, then `A <jop> src` decides.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Test {
    pub stmts: Vec<Insn>,
    /// One of `op::JEQ`, `op::JGT`, `op::JGE`, `op::JSET`.
    pub jop: u16,
    pub src: Src,
}

/// A boolean predicate over packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pred {
    Const(bool),
    Test(Test),
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
    Not(Box<Pred>),
    /// `ip[6] protochain N`: walk the header chain of the IPv4 (`v6` false)
    /// or IPv6 packet whose network header is at `nl`, looking for `proto`.
    Protochain {
        v6: bool,
        nl: u32,
        proto: u32,
    },
}

impl Pred {
    /// Whether the predicate walks header chains (which, as in libpcap,
    /// switches the optimizer off).
    pub fn has_protochain(&self) -> bool {
        let mut stack = vec![self];
        while let Some(p) = stack.pop() {
            match p {
                Pred::Protochain { .. } => return true,
                Pred::And(a, b) | Pred::Or(a, b) => {
                    stack.push(a);
                    stack.push(b);
                }
                Pred::Not(a) => stack.push(a),
                Pred::Const(_) | Pred::Test(_) => {}
            }
        }
        false
    }

    /// `a and b` (folding constants).
    pub fn and(a: Pred, b: Pred) -> Pred {
        match (a, b) {
            (Pred::Const(true), b) => b,
            (a, Pred::Const(true)) => a,
            (Pred::Const(false), _) => Pred::Const(false),
            (a, b) => Pred::And(Box::new(a), Box::new(b)),
        }
    }
    /// `a or b` (folding constants).
    pub fn or(a: Pred, b: Pred) -> Pred {
        match (a, b) {
            (Pred::Const(false), b) => b,
            (a, Pred::Const(false)) => a,
            (Pred::Const(true), _) => Pred::Const(true),
            (a, b) => Pred::Or(Box::new(a), Box::new(b)),
        }
    }
    /// `not a`.
    #[allow(clippy::should_implement_trait)]
    pub fn not(a: Pred) -> Pred {
        match a {
            Pred::Const(b) => Pred::Const(!b),
            Pred::Not(inner) => *inner,
            a => Pred::Not(Box::new(a)),
        }
    }
    /// Conjunction of a list, left to right.
    pub fn all(items: impl IntoIterator<Item = Pred>) -> Pred {
        items.into_iter().fold(Pred::Const(true), Pred::and)
    }
    /// Disjunction of a list, left to right.
    pub fn any(items: impl IntoIterator<Item = Pred>) -> Pred {
        items.into_iter().fold(Pred::Const(false), Pred::or)
    }
    /// A test block.
    pub fn test(stmts: Vec<Insn>, jop: u16, src: Src) -> Pred {
        Pred::Test(Test { stmts, jop, src })
    }
    /// `load(off, size) [& mask] <jop> #v`.
    pub fn cmp(off: u32, size: u16, mask: Option<u32>, jop: u16, v: u32) -> Pred {
        let mut stmts = vec![Insn::stmt(op::LD | size | op::ABS, off)];
        if let Some(m) = mask {
            stmts.push(Insn::stmt(op::ALU | op::AND | op::K, m));
        }
        Pred::test(stmts, jop, Src::K(v))
    }
    /// `load(off, size) == v`.
    pub fn eq(off: u32, size: u16, v: u32) -> Pred {
        Pred::cmp(off, size, None, op::JEQ, v)
    }
}
