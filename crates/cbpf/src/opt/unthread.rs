//! Undoing jump threading where it costs instructions. Threading an edge
//! past a test whose outcome is known can leave two blocks that differ only
//! in that edge (or a block whose two edges differ only that way), which
//! then cannot be merged: `tcp[13] & 0x10 = 0x10 or ...` keeps two copies of
//! the `tcp` test, one of them skipping the fragment test. Pointing the edge
//! back at the skipped test is equivalent on every whole packet (the test
//! decides the same way there) and lets the blocks merge.

use super::{Fact, Keys};
use crate::cfg::{Graph, Node, NodeId};
use crate::insn::Insn;
use crate::ir::Src;
use std::collections::{BTreeSet, HashMap};

/// Redirects one edge whose target is reached anyway by a longer path, when
/// that makes two blocks identical or a block's branches agree (the caller
/// then merges them). Returns whether it changed the graph.
pub(super) fn unthread(g: &mut Graph, strict: bool) -> bool {
    let order = g.order();
    let keys = Keys::new(g, &order);
    // Facts on entry to each node (the intersection over its edges).
    let mut facts: Vec<Option<BTreeSet<Fact>>> = vec![None; g.nodes.len()];
    facts[g.root] = Some(BTreeSet::new());
    let mut same_test: HashMap<(&[Insn], u16, Src), Vec<NodeId>> = HashMap::new();
    for &n in &order {
        let Node::Block {
            stmts, jop, src, ..
        } = &g.nodes[n]
        else {
            continue;
        };
        same_test.entry((stmts, *jop, *src)).or_default().push(n);
        let (Some(fin), Some((jt, jf))) = (facts[n].clone(), g.succs(n)) else {
            continue;
        };
        for (t, outcome) in [(jt, true), (jf, false)] {
            let e = keys.edge(g, n, &fin, outcome);
            facts[t] = Some(match facts[t].take() {
                None => e,
                Some(prev) => prev.intersection(&e).copied().collect(),
            });
        }
    }
    let mut change = None;
    'search: for &a in &order {
        let (
            Node::Block {
                stmts, jop, src, ..
            },
            Some(fin),
            Some((jt, jf)),
        ) = (&g.nodes[a], &facts[a], g.succs(a))
        else {
            continue;
        };
        for outcome in [true, false] {
            let (x, z) = if outcome { (jt, jf) } else { (jf, jt) };
            // Candidates: the other branch (the block then needs no test),
            // or this branch of an identical block with the same other branch.
            // (Strict merging keeps a loading block whose branches agree.)
            let bypass = !super::has_store(stmts)
                && (!strict || z == crate::cfg::REJECT || !super::has_packet_load(stmts));
            let mut cands = if bypass { vec![z] } else { Vec::new() };
            for &b in &same_test[&(stmts.as_slice(), *jop, *src)] {
                if let Some((bt, bf)) = g.succs(b) {
                    let (bx, bz) = if outcome { (bt, bf) } else { (bf, bt) };
                    if b != a && bz == z && bx != x {
                        cands.push(bx);
                    }
                }
            }
            let e = keys.edge(g, a, fin, outcome);
            for y in cands {
                // (The graph stays acyclic: `y` must not lead back to `a`.)
                if y != x && leads_to(g, &keys, e.clone(), y, x, strict) && !reaches(g, y, a) {
                    change = Some((a, outcome, y));
                    break 'search;
                }
            }
        }
    }
    let Some((a, outcome, y)) = change else {
        return false;
    };
    if let Node::Block { jt, jf, .. } = &mut g.nodes[a] {
        if outcome {
            *jt = y;
        } else {
            *jf = y;
        }
    }
    true
}

/// Whether every packet arriving at `from` with facts `e` goes on to `to`
/// through tests whose outcomes `e` decides.
fn leads_to(
    g: &Graph,
    keys: &Keys,
    mut e: BTreeSet<Fact>,
    from: NodeId,
    to: NodeId,
    strict: bool,
) -> bool {
    let mut t = from;
    while t != to {
        match keys.step(g, &mut e, t, strict) {
            Some(next) => t = next,
            None => return false,
        }
    }
    true
}

/// Whether some path goes from `from` to `to`.
fn reaches(g: &Graph, from: NodeId, to: NodeId) -> bool {
    let mut seen = vec![false; g.nodes.len()];
    let mut stack = vec![from];
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        if std::mem::replace(&mut seen[n], true) {
            continue;
        }
        if let Some((t, f)) = g.succs(n) {
            stack.extend([t, f]);
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use crate::{LinkType, Options, compile, interp};

    fn count(expr: &str, linktype: LinkType) -> usize {
        let opts = Options {
            linktype,
            ..Options::default()
        };
        compile(expr, &opts).expect("compiles").len()
    }

    /// An IPv4/TCP frame with the given TCP flags.
    fn tcp_frame(flags: u8, frag: u16) -> Vec<u8> {
        let mut f = vec![0u8; 54];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[14] = 0x45;
        f[16..18].copy_from_slice(&40u16.to_be_bytes());
        f[20..22].copy_from_slice(&frag.to_be_bytes());
        f[22] = 64;
        f[23] = 6;
        f[26..30].copy_from_slice(&[10, 0, 0, 1]);
        f[47] = flags;
        f
    }

    #[test]
    fn duplicated_protocol_test_merges() {
        // libpcap 1.10.3: 22 instructions; without un-threading scry had 24.
        let e = "(net 10.0.0.0/8 and ip[8] < 64) and (not ip[6:2] & 0x1fff != 0 \
                 and tcp[13] & 0x10 = 0x10) or tcp[13] & 0x10 = 0x10";
        assert_eq!(count(e, LinkType::En10mb), 12);
        let prog = compile(e, &Options::default()).expect("compiles");
        let plain = compile(
            e,
            &Options {
                optimize: false,
                ..Options::default()
            },
        )
        .expect("compiles");
        for (flags, frag) in [(0x10, 0), (0x02, 0), (0x12, 0), (0x10, 5), (0x10, 0x4000)] {
            let f = tcp_frame(flags, frag);
            let n = f.len() as u32;
            assert_eq!(
                interp::run(&prog, &f, n),
                interp::run(&plain, &f, n),
                "flags {flags:#x} frag {frag:#x}"
            );
        }
    }

    #[test]
    fn unneeded_range_test_disappears() {
        // libpcap 1.10.3: 46 instructions; without un-threading scry had 50.
        let e = "(ip[8] < 64 or (portrange 1000-2000) and (udp[8:2] = 0x6865)) or (port 53)";
        assert_eq!(count(e, LinkType::Null), 42);
    }

    #[test]
    fn strict_mode_keeps_loading_blocks() {
        let e = "(net 10.0.0.0/8 and ip[8] < 64) and (not ip[6:2] & 0x1fff != 0 \
                 and tcp[13] & 0x10 = 0x10) or tcp[13] & 0x10 = 0x10";
        let strict = Options {
            strict: true,
            ..Options::default()
        };
        let prog = compile(e, &strict).expect("compiles");
        // A frame cut inside the IPv4 header keeps the unoptimized verdict.
        let f = tcp_frame(0x10, 0);
        assert_eq!(interp::run(&prog, &f[..30], 54), 0);
        assert_ne!(interp::run(&prog, &f, 54), 0);
    }
}
