//! The optimizer: jump threading over known test outcomes, merging of
//! identical blocks, and removal of loads whose value a register already
//! holds. Every transformation keeps the verdict of the unoptimized program
//! on every packet, truncated ones included: a test is only skipped when the
//! very same loads were already performed on every path to it. Threading is
//! undone where it keeps blocks from merging (`unthread`), and blocks that
//! store `geneve` offsets for later blocks are never skipped or moved.

use crate::cfg::{Graph, Node, NodeId};
use crate::insn::{Insn, op};
use crate::ir::Src;
use std::collections::{BTreeSet, HashMap};

mod unthread;

/// A known outcome: (value key, jop, operand, outcome).
type Fact = (usize, u16, Option<u32>, bool);

/// Optimizes `g` in place. With `strict`, every packet keeps the verdict of
/// the unoptimized program, truncated ones included; otherwise, like
/// libpcap's optimizer, tests may be reordered and unneeded loads dropped,
/// which can change the verdict on a packet too short for those loads.
pub fn optimize(g: &mut Graph, strict: bool) {
    peephole(g);
    for _ in 0..100 {
        let p = !strict && pullup(g);
        let a = thread(g, strict) || p;
        let b = merge(g, strict);
        if !a && !b {
            break;
        }
    }
    // Undo threading where it keeps blocks from merging.
    for _ in 0..200 {
        if !unthread::unthread(g, strict) {
            break;
        }
        merge(g, strict);
    }
    eliminate_loads(g);
    remove_dead_stores(g);
    merge(g, strict);
}

/// Whether a block writes scratch memory that later blocks read (`geneve`
/// offsets): such a block always runs where the unoptimized program runs it.
fn has_store(stmts: &[Insn]) -> bool {
    stmts
        .iter()
        .any(|i| matches!(i.class(), op::ST | op::STX) && crate::lower::GENEVE_SLOTS.contains(&i.k))
}

fn has_packet_load(stmts: &[Insn]) -> bool {
    stmts.iter().any(|i| {
        let class = i.class();
        (class == op::LD && matches!(i.code & 0xe0, op::ABS | op::IND))
            || (class == op::LDX && i.code & 0xe0 == op::MSH)
            || (class == op::ALU
                && matches!(i.code & 0xf0, op::DIV | op::MOD)
                && i.code & op::X != 0)
    })
}

/// Block-local rewrites on self-contained blocks: `and #k; jeq #0` becomes
/// `jset #k` with the branches swapped.
fn peephole(g: &mut Graph) {
    for n in &mut g.nodes {
        if let Node::Block {
            stmts,
            jop,
            src,
            jt,
            jf,
        } = n
        {
            let and_k = match stmts.last() {
                Some(l) if l.code == op::ALU | op::AND | op::K && stmts.len() > 1 => Some(l.k),
                _ => None,
            };
            if let (Some(k), op::JEQ, Src::K(0)) = (and_k, *jop, *src) {
                stmts.pop();
                *jop = op::JSET;
                *src = Src::K(k);
                std::mem::swap(jt, jf);
            }
        }
    }
}

/// Cleans up after code was prepended to the root block: drops loads made
/// redundant by it, turns `st M[k]; ldx M[k]` into `st M[k]; tax`, and
/// removes stores nothing reads.
pub fn tidy(g: &mut Graph) {
    eliminate_loads(g);
    for n in &mut g.nodes {
        if let Node::Block { stmts, .. } = n {
            for i in 1..stmts.len() {
                let (prev, cur) = (stmts[i - 1], stmts[i]);
                if prev.code == op::ST && cur.code == op::LDX | op::MEM && prev.k == cur.k {
                    stmts[i] = Insn::stmt(op::MISC | op::TAX, 0);
                }
            }
        }
    }
    remove_dead_stores(g);
}

/// Removes stores to scratch words that no instruction reads.
fn remove_dead_stores(g: &mut Graph) {
    let mut read = [false; 16];
    for n in &g.nodes {
        if let Node::Block { stmts, .. } = n {
            for i in stmts {
                if matches!(i.class(), op::LD | op::LDX) && i.code & 0xe0 == op::MEM {
                    read[i.k as usize & 15] = true;
                }
            }
        }
    }
    for n in &mut g.nodes {
        if let Node::Block { stmts, .. } = n {
            stmts.retain(|i| !matches!(i.class(), op::ST | op::STX) || read[i.k as usize & 15]);
        }
    }
}

/// Regroups chains of tests sharing one exit (or-chains: same true target,
/// and-chains: same false target) so that tests of the same value become
/// adjacent and can share one load, as libpcap's or/and pull-ups do. Only
/// the order of pure tests changes; like libpcap's, this can only change a
/// verdict on a packet truncated in the middle of the chain.
fn pullup(g: &mut Graph) -> bool {
    let order = g.order();
    let mut preds = vec![0usize; g.nodes.len()];
    let mut pred_list: Vec<Vec<NodeId>> = vec![Vec::new(); g.nodes.len()];
    for &n in &order {
        if let Some((t, f)) = g.succs(n) {
            preds[t] += 1;
            preds[f] += 1;
            pred_list[t].push(n);
            if f != t {
                pred_list[f].push(n);
            }
        }
    }
    let key = |g: &Graph, n: NodeId| match &g.nodes[n] {
        Node::Block { stmts, src, .. } => Some((stmts.clone(), *src == Src::X)),
        Node::Ret(_) | Node::Raw { .. } => None,
    };
    let mut changed = false;
    // Blocks that store stay where they are, and nothing moves across them.
    let mut done: Vec<bool> = g
        .nodes
        .iter()
        .map(|n| matches!(n, Node::Block { stmts, .. } if has_store(stmts)))
        .collect();
    for &head in &order {
        for or_chain in [true, false] {
            if done[head] || g.succs(head).is_none() {
                continue;
            }
            // Follow the chain.
            let Some((t0, f0)) = g.succs(head) else {
                continue;
            };
            let exit = if or_chain { t0 } else { f0 };
            let mut chain = vec![head];
            let mut cur = head;
            while let Some((t, f)) = g.succs(cur) {
                let next = if or_chain { f } else { t };
                let Some((nt, nf)) = g.succs(next) else { break };
                let same_exit = if or_chain { nt == exit } else { nf == exit };
                // (A DAG: following successors never comes back to the chain.)
                if preds[next] != 1 || !same_exit || done[next] {
                    break;
                }
                chain.push(next);
                cur = next;
            }
            // The value A holds on entry, if every predecessor leaves the same.
            let entry_key = {
                let ks: Vec<_> = pred_list[head].iter().map(|&p| key(g, p)).collect();
                match ks.first() {
                    Some(k) if g.root != head && ks.iter().all(|x| x == k) => k.clone(),
                    _ => None,
                }
            };
            if chain.len() < 2 || (chain.len() < 3 && entry_key.is_none()) {
                continue;
            }
            let keys: Vec<_> = chain.iter().map(|&n| key(g, n)).collect();
            let mut first_at: HashMap<&Option<(Vec<Insn>, bool)>, usize> = HashMap::new();
            for (i, k) in keys.iter().enumerate() {
                first_at.entry(k).or_insert(i);
            }
            let mut idx: Vec<usize> = (0..chain.len()).collect();
            let first = |i: usize| {
                if entry_key.is_some() && keys[i] == entry_key {
                    return 0;
                }
                1 + first_at.get(&keys[i]).copied().unwrap_or(i)
            };
            idx.sort_by_key(|&i| (first(i), i));
            if idx.iter().enumerate().all(|(a, b)| a == *b) {
                continue;
            }
            let tail_next = match g.succs(*chain.last().unwrap_or(&head)) {
                Some((t, f)) => {
                    if or_chain {
                        f
                    } else {
                        t
                    }
                }
                None => continue,
            };
            let new: Vec<NodeId> = idx.iter().map(|&i| chain[i]).collect();
            if new[0] != head {
                for &p in &pred_list[head] {
                    if let Node::Block { jt, jf, .. } = &mut g.nodes[p] {
                        if *jt == head {
                            *jt = new[0];
                        }
                        if *jf == head {
                            *jf = new[0];
                        }
                    }
                }
            }
            for (pos, &n) in new.iter().enumerate() {
                let next = new.get(pos + 1).copied().unwrap_or(tail_next);
                if let Node::Block { jt, jf, .. } = &mut g.nodes[n] {
                    if or_chain {
                        *jf = next;
                    } else {
                        *jt = next;
                    }
                }
                done[n] = true;
            }
            changed = true;
        }
    }
    changed
}

/// The outcome of a test whose A is a compile-time constant (`ld #k`, or
/// anything followed by `and #0`), as libpcap's constant folding finds it.
fn static_outcome(stmts: &[Insn], jop: u16, src: Src) -> Option<bool> {
    let Src::K(k) = src else { return None };
    if jop == op::JSET && k == 0 {
        return Some(false);
    }
    let a = match stmts {
        [.., last] if last.code == op::ALU | op::AND | op::K && last.k == 0 => 0,
        [only] if only.code == op::LD | op::IMM => only.k,
        _ => return None,
    };
    Some(match jop {
        op::JEQ => a == k,
        op::JGT => a > k,
        op::JGE => a >= k,
        _ => a & k != 0,
    })
}

fn decide(facts: &BTreeSet<Fact>, key: usize, jop: u16, src: Src) -> Option<bool> {
    let k = match src {
        Src::K(k) => Some(k),
        Src::X => None,
    };
    let (mut lo, mut hi) = (0u32, u32::MAX);
    let mut excluded = Vec::new();
    for &(fk, fj, fv, out) in
        facts.range((key, 0, None, false)..=(key, u16::MAX, Some(u32::MAX), true))
    {
        if fk != key {
            continue;
        }
        if fj == jop && fv == k {
            return Some(out);
        }
        let Some(v) = fv else { continue };
        match (fj, out) {
            (op::JEQ, true) => {
                lo = lo.max(v);
                hi = hi.min(v);
            }
            (op::JEQ, false) => excluded.push(v),
            (op::JGT, true) => lo = lo.max(v.saturating_add(1)),
            (op::JGT, false) => hi = hi.min(v),
            (op::JGE, true) => lo = lo.max(v),
            (op::JGE, false) => hi = hi.min(v.saturating_sub(1)),
            (op::JSET, true)
                if Some(v) == k.map(|k| k & v)
                // v is a subset of the tested mask: some bit of it is set.
                && jop == op::JSET =>
            {
                return Some(true);
            }
            (op::JSET, false) if k.is_some_and(|k| k & v == k) && jop == op::JSET => {
                return Some(false);
            }
            _ => {}
        }
    }
    let k = k?;
    if lo == hi {
        let v = lo;
        return Some(match jop {
            op::JEQ => v == k,
            op::JGT => v > k,
            op::JGE => v >= k,
            _ => v & k != 0,
        });
    }
    match jop {
        op::JEQ if k < lo || k > hi || excluded.contains(&k) => Some(false),
        op::JGT if lo > k => Some(true),
        op::JGT if hi <= k => Some(false),
        op::JGE if lo >= k => Some(true),
        op::JGE if hi < k => Some(false),
        _ => None,
    }
}

/// Value keys of the tests (blocks with equal statements and operand kind
/// compute the same value) and which facts are worth carrying.
struct Keys {
    key_of: Vec<usize>,
    per_key: Vec<usize>,
    per_test: HashMap<(usize, u16, Option<u32>), usize>,
}

impl Keys {
    fn new(g: &Graph, order: &[NodeId]) -> Keys {
        let mut keys: HashMap<(Vec<Insn>, bool), usize> = HashMap::new();
        let mut key_of = vec![usize::MAX; g.nodes.len()];
        for &n in order {
            if let Node::Block { stmts, src, .. } = &g.nodes[n] {
                let next = keys.len();
                key_of[n] = *keys.entry((stmts.clone(), *src == Src::X)).or_insert(next);
            }
        }
        let mut per_key = vec![0usize; keys.len()];
        let mut per_test: HashMap<(usize, u16, Option<u32>), usize> = HashMap::new();
        for &n in order {
            if let Node::Block { jop, src, .. } = &g.nodes[n] {
                per_key[key_of[n]] += 1;
                *per_test
                    .entry((key_of[n], *jop, operand(*src)))
                    .or_default() += 1;
            }
        }
        Keys {
            key_of,
            per_key,
            per_test,
        }
    }

    /// A fact is only worth carrying if another block could use it: its
    /// value is tested more than once, and an exclusion (`!= k`) only helps
    /// a block testing the same constant.
    fn useful(&self, f: &Fact) -> bool {
        self.per_key[f.0] > 1
            && (f.1 != op::JEQ
                || f.3
                || self.per_test.get(&(f.0, f.1, f.2)).is_some_and(|c| *c > 1))
    }

    /// The facts on the `outcome` edge of block `n` entered with `fin`.
    fn edge(&self, g: &Graph, n: NodeId, fin: &BTreeSet<Fact>, outcome: bool) -> BTreeSet<Fact> {
        let mut e = fin.clone();
        if let Node::Block { jop, src, .. } = &g.nodes[n] {
            let fact = (self.key_of[n], *jop, operand(*src), outcome);
            if self.useful(&fact) {
                e.insert(fact);
            }
        }
        e
    }

    /// The outcome of the test of `t` given facts `e` (`None`: unknown).
    fn outcome(&self, g: &Graph, e: &BTreeSet<Fact>, t: NodeId, strict: bool) -> Option<bool> {
        let Node::Block {
            stmts, jop, src, ..
        } = &g.nodes[t]
        else {
            return None;
        };
        if has_store(stmts) {
            return None;
        }
        decide(e, self.key_of[t], *jop, *src).or_else(|| {
            if strict && has_packet_load(stmts) {
                None
            } else {
                static_outcome(stmts, *jop, *src)
            }
        })
    }

    /// One step from `t` whose outcome is known under `e`: its successor,
    /// with `e` extended by the outcome.
    fn step(&self, g: &Graph, e: &mut BTreeSet<Fact>, t: NodeId, strict: bool) -> Option<NodeId> {
        let out = self.outcome(g, e, t, strict)?;
        let next = g.succs(t).map(|(jt, jf)| if out { jt } else { jf })?;
        *e = self.edge(g, t, e, out);
        Some(next)
    }
}

fn operand(src: Src) -> Option<u32> {
    match src {
        Src::K(k) => Some(k),
        Src::X => None,
    }
}

/// Redirects edges whose target's outcome is already known. Returns whether
/// anything changed.
fn thread(g: &mut Graph, strict: bool) -> bool {
    let order = g.order();
    let keys = Keys::new(g, &order);
    let mut facts: Vec<Option<BTreeSet<Fact>>> = vec![None; g.nodes.len()];
    facts[g.root] = Some(BTreeSet::new());
    let mut changed = false;
    for &n in &order {
        let Some(fin) = facts[n].take() else { continue };
        let Some((jt, jf)) = g.succs(n) else { continue };
        if !matches!(g.nodes[n], Node::Block { .. }) {
            continue;
        }
        let mut new_targets = [jt, jf];
        for (i, outcome) in [true, false].into_iter().enumerate() {
            let mut e = keys.edge(g, n, &fin, outcome);
            let mut t = new_targets[i];
            while let Some(next) = keys.step(g, &mut e, t, strict) {
                t = next;
                changed = true;
            }
            new_targets[i] = t;
            facts[t] = Some(match facts[t].take() {
                None => e,
                Some(prev) => prev.intersection(&e).copied().collect(),
            });
        }
        if let Node::Block { jt, jf, .. } = &mut g.nodes[n] {
            *jt = new_targets[0];
            *jf = new_targets[1];
        }
        facts[n] = Some(fin);
    }
    changed
}

/// Merges identical blocks and bypasses blocks whose two branches agree. In
/// strict mode only when that cannot change a verdict: no packet loads, or
/// both branches reject (a failing load rejects too). Returns whether
/// anything changed.
fn merge(g: &mut Graph, strict: bool) -> bool {
    merge_with(g, strict, true)
}

/// Merges identical nodes only: safe even where blocks hand registers to
/// each other (`protochain` walks), for filters the optimizer leaves alone.
pub fn dedupe(g: &mut Graph) {
    merge_with(g, true, false);
}

fn merge_with(g: &mut Graph, strict: bool, bypass: bool) -> bool {
    let mut order = g.order();
    order.reverse(); // leaves first
    let mut canon: Vec<NodeId> = (0..g.nodes.len()).collect();
    let mut seen: HashMap<Node, NodeId> = HashMap::new();
    let mut changed = false;
    for n in order {
        let mut node = g.nodes[n].clone();
        if let Node::Block { jt, jf, stmts, .. } = &mut node {
            *jt = canon[*jt];
            *jf = canon[*jf];
            if jt == jf
                && bypass
                && !has_store(stmts)
                && (!strict || *jt == crate::cfg::REJECT || !has_packet_load(stmts))
            {
                canon[n] = *jt;
                changed = true;
                continue;
            }
        }
        g.nodes[n] = node.clone();
        match seen.get(&node) {
            Some(&m) if m != n => {
                canon[n] = m;
                changed = true;
            }
            _ => {
                seen.insert(node, n);
            }
        }
    }
    g.root = canon[g.root];
    changed
}

/// Symbolic register values for load elimination.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Val {
    Const(u32),
    Len,
    Load(u16, u32, Option<u32>),
    Msh(u32),
    Alu(u16, u32, u32),
    Neg(u32),
}

#[derive(Default)]
struct Values {
    ids: HashMap<Val, u32>,
    next: u32,
}

impl Values {
    fn id(&mut self, v: Val) -> u32 {
        if let Some(&i) = self.ids.get(&v) {
            return i;
        }
        self.next += 1;
        self.ids.insert(v, self.next);
        self.next
    }
    fn fresh(&mut self) -> u32 {
        self.next += 1;
        self.next
    }
}

/// Register state: A, X, M[0..16]; 0 = unknown.
type State = [u32; 18];

fn meet(a: &State, b: &State) -> State {
    let mut r = [0; 18];
    for i in 0..18 {
        r[i] = if a[i] == b[i] { a[i] } else { 0 };
    }
    r
}

/// Removes statements that load a value the target register already holds.
fn eliminate_loads(g: &mut Graph) {
    let order = g.order();
    let mut vals = Values::default();
    let mut entry: Vec<Option<State>> = vec![None; g.nodes.len()];
    entry[g.root] = Some([0; 18]);
    for n in order {
        let Some(mut st) = entry[n] else { continue };
        let Node::Block { stmts, jt, jf, .. } = &mut g.nodes[n] else {
            continue;
        };
        // Unknown (0) values are fresh: never equal to anything.
        for v in st.iter_mut() {
            if *v == 0 {
                *v = vals.fresh();
            }
        }
        // A block recomputing exactly what the registers already hold (the
        // same loads and operations on every path) needs none of its code.
        let mut sim = st;
        for ins in stmts.iter() {
            let (reg, val) = step(ins, &sim, &mut vals);
            sim[reg] = val;
        }
        if sim == st {
            stmts.clear();
        }
        let mut kept = Vec::with_capacity(stmts.len());
        for ins in stmts.iter() {
            let (reg, val) = step(ins, &st, &mut vals);
            if st[reg] == val && is_load(ins) {
                continue;
            }
            st[reg] = val;
            kept.push(*ins);
        }
        *stmts = kept;
        for t in [*jt, *jf] {
            entry[t] = Some(match entry[t] {
                None => st,
                Some(prev) => meet(&prev, &st),
            });
        }
    }
}

fn is_load(i: &Insn) -> bool {
    matches!(i.class(), op::LD | op::LDX | op::ST | op::STX) || (i.class() == op::MISC)
}

/// The register an instruction writes (0 = A, 1 = X, 2+i = M[i]) and its new value.
fn step(i: &Insn, st: &State, vals: &mut Values) -> (usize, u32) {
    let (a, x) = (st[0], st[1]);
    let mem = |k: u32| 2 + (k as usize & 15);
    match i.class() {
        op::LD => {
            let v = match i.code & 0xe0 {
                op::IMM => Val::Const(i.k),
                op::LEN => Val::Len,
                op::ABS => Val::Load(i.code, i.k, None),
                op::IND => Val::Load(i.code, i.k, Some(x)),
                op::MEM => return (0, st[mem(i.k)]),
                _ => return (0, vals.fresh()),
            };
            (0, vals.id(v))
        }
        op::LDX => {
            let v = match i.code & 0xe0 {
                op::IMM => Val::Const(i.k),
                op::LEN => Val::Len,
                op::MSH => Val::Msh(i.k),
                op::MEM => return (1, st[mem(i.k)]),
                _ => return (1, vals.fresh()),
            };
            (1, vals.id(v))
        }
        op::ST => (mem(i.k), a),
        op::STX => (mem(i.k), x),
        op::ALU => {
            if i.code & 0xf0 == op::NEG {
                return (0, vals.id(Val::Neg(a)));
            }
            let b = if i.code & op::X != 0 {
                x
            } else {
                vals.id(Val::Const(i.k))
            };
            (0, vals.id(Val::Alu(i.code & 0xf0, a, b)))
        }
        op::MISC => {
            if i.code & op::TXA != 0 {
                (0, x)
            } else {
                (1, a)
            }
        }
        _ => (0, vals.fresh()),
    }
}
