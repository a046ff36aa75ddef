//! Basic-block graphs: construction from predicates (by continuation, so the
//! result is a DAG with two leaves), and linearization to classic BPF with
//! `ja` trampolines for branches longer than 255 instructions.

use crate::error::FilterError;
use crate::insn::{Insn, op};
use crate::ir::{Pred, Src};

/// Index of a node in a [`Graph`].
pub type NodeId = usize;

/// A node: a return, or statements followed by a conditional branch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Node {
    Ret(u32),
    /// Straight code with internal jumps (possibly backward), leaving through
    /// two exits: `code.len()` goes to `exits[0]`, `code.len() + 1` to
    /// `exits[1]` (emitted as `ja` trampolines).
    Raw {
        code: Vec<Insn>,
        exits: [NodeId; 2],
    },
    Block {
        stmts: Vec<Insn>,
        jop: u16,
        src: Src,
        jt: NodeId,
        jf: NodeId,
    },
}

/// A control-flow DAG; node 0 rejects, node 1 accepts.
#[derive(Debug, Clone)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub root: NodeId,
    /// Unroll loops (see [`Graph::build`]).
    pub forward_only: bool,
}

/// How many headers `protochain` follows.
pub const PROTOCHAIN_DEPTH: usize = 8;

/// The rejecting leaf.
pub const REJECT: NodeId = 0;
/// The accepting leaf.
pub const ACCEPT: NodeId = 1;

impl Graph {
    /// Builds the graph of `p`; accepted packets return `snaplen` bytes.
    /// With `forward_only`, loops (`protochain`) are unrolled so that the
    /// kernel accepts the program.
    pub fn build(p: &Pred, snaplen: u32, forward_only: bool) -> Graph {
        let mut g = Graph {
            nodes: vec![Node::Ret(0), Node::Ret(snaplen)],
            root: REJECT,
            forward_only,
        };
        g.root = g.emit_pred(p, ACCEPT, REJECT);
        g
    }

    fn emit_pred(&mut self, p: &Pred, t: NodeId, f: NodeId) -> NodeId {
        match p {
            Pred::Const(true) => t,
            Pred::Const(false) => f,
            Pred::Not(a) => self.emit_pred(a, f, t),
            // Chains are left-deep: build them right to left without recursing
            // down the spine.
            Pred::And(..) | Pred::Or(..) => {
                let is_and = matches!(p, Pred::And(..));
                let mut cur = p;
                let (mut t, mut f) = (t, f);
                loop {
                    match (cur, is_and) {
                        (Pred::And(a, b), true) => {
                            t = self.emit_pred(b, t, f);
                            cur = a;
                        }
                        (Pred::Or(a, b), false) => {
                            f = self.emit_pred(b, t, f);
                            cur = a;
                        }
                        _ => return self.emit_pred(cur, t, f),
                    }
                }
            }
            Pred::Protochain { v6, nl, proto } if self.forward_only => {
                self.protochain(*v6, *nl, *proto, t, f)
            }
            Pred::Protochain { v6, nl, proto } => self.protochain_loop(*v6, *nl, *proto, t, f),
            Pred::Test(test) => {
                self.nodes.push(Node::Block {
                    stmts: test.stmts.clone(),
                    jop: test.jop,
                    src: test.src,
                    jt: t,
                    jf: f,
                });
                self.nodes.len() - 1
            }
        }
    }

    fn block(&mut self, stmts: Vec<Insn>, k: u32, jt: NodeId, jf: NodeId) -> NodeId {
        self.nodes.push(Node::Block {
            stmts,
            jop: op::JEQ,
            src: Src::K(k),
            jt,
            jf,
        });
        self.nodes.len() - 1
    }

    /// The header-chain walk of `protochain`, unrolled to
    /// [`PROTOCHAIN_DEPTH`] headers so that every jump goes forward (the
    /// kernel refuses libpcap's loop). A = next-header value, X = offset of
    /// the current header from `nl`. Unlike libpcap, the AH length is added
    /// to the current offset.
    fn protochain(&mut self, v6: bool, nl: u32, proto: u32, t: NodeId, f: NodeId) -> NodeId {
        let advance = |add: u32, mul: u32| protochain_advance(nl, add, mul).to_vec();
        let mut rest = f;
        for _ in 0..PROTOCHAIN_DEPTH {
            let ah = self.block(advance(2, 4), proto, t, rest);
            let mut d = self.block(Vec::new(), 51, ah, f);
            if v6 {
                let ext = self.block(advance(1, 8), proto, t, rest);
                for h in [44, 43, 60, 0] {
                    d = self.block(Vec::new(), h, ext, d);
                }
            }
            rest = self.block(Vec::new(), 59, f, d);
        }
        let start = if v6 {
            vec![
                Insn::stmt(op::LD | op::B | op::ABS, nl + 6),
                Insn::stmt(op::LDX | op::IMM, 40),
            ]
        } else {
            vec![
                Insn::stmt(op::LD | op::B | op::ABS, nl + 9),
                Insn::stmt(op::LDX | op::MSH | op::B, nl),
            ]
        };
        self.block(start, proto, t, rest)
    }

    /// The header-chain walk as libpcap lays it out: one loop with backward
    /// `ja`s (the kernel refuses those; userspace runs them with a step
    /// budget). The AH length is added to the current offset, unlike libpcap.
    fn protochain_loop(&mut self, v6: bool, nl: u32, proto: u32, t: NodeId, f: NodeId) -> NodeId {
        let mut c = if v6 {
            vec![
                Insn::stmt(op::LD | op::B | op::ABS, nl + 6),
                Insn::stmt(op::LDX | op::IMM, 40),
            ]
        } else {
            vec![
                Insn::stmt(op::LD | op::B | op::ABS, nl + 9),
                Insn::stmt(op::LDX | op::MSH | op::B, nl),
            ]
        };
        let head = c.len();
        let exts: &[u32] = if v6 { &[0, 60, 43, 44] } else { &[] };
        let dispatch = 3 + exts.len();
        let ext_at = head + dispatch;
        let ah_at = ext_at + if v6 { 9 } else { 0 };
        let found = ah_at + 9;
        let not_found = found + 1;
        let jeq = |c: &mut Vec<Insn>, k: u32, jt: usize, jf: usize| {
            let i = c.len();
            let rel = |to: usize| (to - i - 1) as u8;
            c.push(Insn::jump(op::JMP | op::JEQ | op::K, k, rel(jt), rel(jf)));
        };
        jeq(&mut c, proto, found, head + 1);
        jeq(&mut c, 59, not_found, head + 2);
        for &h in exts {
            let next = c.len() + 1;
            jeq(&mut c, h, ext_at, next);
        }
        jeq(&mut c, 51, ah_at, not_found);
        let advance = |c: &mut Vec<Insn>, add: u32, mul: u32| {
            c.extend(protochain_advance(nl, add, mul));
            let back = head as i64 - c.len() as i64 - 1;
            c.push(Insn::stmt(op::JMP | op::JA, back as i32 as u32));
        };
        if v6 {
            advance(&mut c, 1, 8);
        }
        advance(&mut c, 2, 4);
        self.nodes.push(Node::Raw {
            code: c,
            exits: [t, f],
        });
        self.nodes.len() - 1
    }

    /// Successors of a node.
    pub fn succs(&self, n: NodeId) -> Option<(NodeId, NodeId)> {
        match &self.nodes[n] {
            Node::Ret(_) => None,
            Node::Block { jt, jf, .. } => Some((*jt, *jf)),
            Node::Raw { exits, .. } => Some((exits[0], exits[1])),
        }
    }

    /// The scratch words among `slots` that some path may read before
    /// storing them.
    pub fn unset_reads(&self, slots: &[u32]) -> Vec<u32> {
        let all: u32 = slots.iter().fold(0, |m, &k| m | 1 << (k & 15));
        // Per node: the words stored on every path to it.
        let mut stored: Vec<Option<u32>> = vec![None; self.nodes.len()];
        stored[self.root] = Some(0);
        let mut unset = 0u32;
        for n in self.order() {
            let Some(mut have) = stored[n] else { continue };
            let code: &[Insn] = match &self.nodes[n] {
                Node::Block { stmts, .. } => stmts,
                Node::Raw { code, .. } => code,
                Node::Ret(_) => &[],
            };
            for i in code {
                let bit = 1u32 << (i.k & 15);
                if matches!(i.class(), op::LD | op::LDX) && i.code & 0xe0 == op::MEM {
                    if bit & all & !have != 0 {
                        unset |= bit;
                    }
                } else if matches!(i.class(), op::ST | op::STX) {
                    have |= bit;
                }
            }
            if let Some((t, f)) = self.succs(n) {
                for s in [t, f] {
                    stored[s] = Some(stored[s].map_or(have, |h| h & have));
                }
            }
        }
        slots
            .iter()
            .copied()
            .filter(|&k| unset & (1 << (k & 15)) != 0)
            .collect()
    }

    /// Reachable nodes in emission order: each block before its true subtree,
    /// then its false subtree; a node shared by several paths is placed once,
    /// after all its predecessors (reverse post-order).
    pub fn order(&self) -> Vec<NodeId> {
        let mut seen = vec![false; self.nodes.len()];
        let mut post = Vec::new();
        // Iterative DFS: visit jf first so that jt ends up right after the block.
        let mut stack: Vec<(NodeId, bool)> = vec![(self.root, false)];
        while let Some((n, expanded)) = stack.pop() {
            if expanded {
                post.push(n);
                continue;
            }
            if seen[n] {
                continue;
            }
            seen[n] = true;
            stack.push((n, true));
            if let Some((jt, jf)) = self.succs(n) {
                stack.push((jt, false));
                stack.push((jf, false));
            }
        }
        post.reverse();
        post
    }

    /// Emits classic BPF (of any length: the kernel's limit of 4096
    /// instructions is checked when attaching, by [`crate::interp::validate`]).
    pub fn emit(&self) -> Result<Vec<Insn>, FilterError> {
        let order = self.order();
        let mut long: Vec<[bool; 2]> = vec![[false; 2]; self.nodes.len()];
        loop {
            // Layout: start position of each node.
            let mut pos = vec![usize::MAX; self.nodes.len()];
            let mut at = 0usize;
            for &n in &order {
                pos[n] = at;
                at += match &self.nodes[n] {
                    Node::Ret(_) => 1,
                    Node::Raw { code, .. } => code.len() + 2,
                    Node::Block { stmts, .. } => {
                        stmts.len() + 1 + usize::from(long[n][0]) + usize::from(long[n][1])
                    }
                };
            }
            let mut changed = false;
            let mut out = Vec::with_capacity(at);
            for &n in &order {
                match &self.nodes[n] {
                    Node::Ret(k) => out.push(Insn::stmt(op::RET | op::K, *k)),
                    Node::Raw { code, exits } => {
                        out.extend_from_slice(code);
                        for target in exits {
                            let ja_at = out.len();
                            out.push(Insn::stmt(
                                op::JMP | op::JA,
                                (pos[*target] - ja_at - 1) as u32,
                            ));
                        }
                    }
                    Node::Block {
                        stmts,
                        jop,
                        src,
                        jt,
                        jf,
                    } => {
                        out.extend_from_slice(stmts);
                        let here = out.len();
                        let code = op::JMP | jop | if *src == Src::X { op::X } else { op::K };
                        let k = if let Src::K(k) = src { *k } else { 0 };
                        let mut tramp = Vec::new();
                        let mut rel = [0u8; 2];
                        for (i, target) in [*jt, *jf].into_iter().enumerate() {
                            if long[n][i] {
                                rel[i] = tramp.len() as u8;
                                let ja_at = here + 1 + tramp.len();
                                tramp.push(Insn::stmt(
                                    op::JMP | op::JA,
                                    (pos[target] - ja_at - 1) as u32,
                                ));
                            } else {
                                let d = pos[target] - here - 1;
                                if d > 255 {
                                    long[n][i] = true;
                                    changed = true;
                                }
                                rel[i] = d.min(255) as u8;
                            }
                        }
                        out.push(Insn::jump(code, k, rel[0], rel[1]));
                        out.extend(tramp);
                    }
                }
            }
            if !changed {
                return Ok(out);
            }
        }
    }
}

/// Steps over one IPv6 extension header in protochain: A = its next-header byte (kept in
/// M[0]), X += (its length byte + `add`) * `mul`.
fn protochain_advance(nl: u32, add: u32, mul: u32) -> [Insn; 8] {
    [
        Insn::stmt(op::LD | op::B | op::IND, nl),
        Insn::stmt(op::ST, 0),
        Insn::stmt(op::LD | op::B | op::IND, nl + 1),
        Insn::stmt(op::ALU | op::ADD | op::K, add),
        Insn::stmt(op::ALU | op::MUL | op::K, mul),
        Insn::stmt(op::ALU | op::ADD | op::X, 0),
        Insn::stmt(op::MISC | op::TAX, 0),
        Insn::stmt(op::LD | op::MEM, 0),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::listing;

    #[test]
    fn builds_and_emits_or_of_tests() {
        let p = Pred::or(Pred::eq(12, op::H, 0x800), Pred::eq(12, op::H, 0x86dd));
        let g = Graph::build(&p, 262144, true);
        assert_eq!(
            listing(&g.emit().unwrap()),
            "(000) ldh      [12]\n(001) jeq      #0x800           jt 4\tjf 2\n\
             (002) ldh      [12]\n(003) jeq      #0x86dd          jt 4\tjf 5\n\
             (004) ret      #262144\n(005) ret      #0\n"
        );
    }

    #[test]
    fn long_branches_get_trampolines() {
        let mut p = Pred::Const(false);
        for i in 0..200u32 {
            p = Pred::or(p, Pred::eq(i, op::B, 1));
        }
        let p = Pred::and(Pred::eq(300, op::B, 7), p);
        let prog = Graph::build(&p, 100, true).emit().unwrap();
        assert_eq!(prog[1].code, op::JMP | op::JEQ);
        assert_eq!(prog[2].code, op::JMP | op::JA);
        crate::interp::validate(&prog).unwrap();
        let mut pkt = [0u8; 400];
        assert_eq!(crate::interp::run(&prog, &pkt, 400), 0);
        pkt[300] = 7;
        assert_eq!(crate::interp::run(&prog, &pkt, 400), 0);
        pkt[3] = 1;
        assert_eq!(crate::interp::run(&prog, &pkt, 400), 100);
        pkt[3] = 0;
        pkt[199] = 1;
        assert_eq!(crate::interp::run(&prog, &pkt, 400), 100);
    }
}
