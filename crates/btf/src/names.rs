//! Open-addressing name tables built lazily over one blob's local types.
//!
//! Slots store a 32-bit hash and two payload words, so building the table allocates
//! once and never copies names; lookups compare the actual string only on hash hits.

use crate::blob::Btf;
use crate::types::{Kind, TypeId};

/// Raw `BTF_KIND_FUNC`: functions get their own table since they are most named types.
const FUNC: u32 = 12;

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    hash: u32,
    /// Payload + 1; 0 marks an empty slot.
    a: u32,
    b: u32,
}

/// A multimap from names (by hash) to `(a, b)` payloads.
#[derive(Debug, Default)]
pub(crate) struct NameTable {
    slots: Vec<Slot>,
    mask: usize,
}

const K: u64 = 0x517c_c1b7_2722_0a95;

fn mix(h: u64, w: u64) -> u64 {
    (h.rotate_left(5) ^ w).wrapping_mul(K)
}

fn finish(h: u64, len: usize) -> u32 {
    let h = mix(h, len as u64);
    (h ^ (h >> 32)) as u32
}

/// Fx-style hash of a byte string: 8-byte little-endian chunks, the zero-padded tail
/// (always mixed, even when empty) and finally the length.
pub(crate) fn hash(bytes: &[u8]) -> u32 {
    let mut h = 0u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = mix(
            h,
            u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        );
    }
    let mut tail = [0u8; 8];
    let rest = chunks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    finish(mix(h, u64::from_le_bytes(tail)), bytes.len())
}

/// [`hash`] of the NUL-terminated string starting at `start`, reading a word at a time.
/// Returns `(hash, length)`; a missing terminator ends the string at the slice end.
pub(crate) fn hash_cstr(section: &[u8], start: usize) -> (u32, usize) {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut h = 0u64;
    let mut pos = start;
    loop {
        let w = match section.get(pos..pos + 8) {
            Some(b) => u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
            None => {
                let mut buf = [0u8; 8];
                let rest = section.get(pos..).unwrap_or(&[]);
                buf[..rest.len()].copy_from_slice(rest);
                u64::from_le_bytes(buf)
            }
        };
        let zero = w.wrapping_sub(LO) & !w & HI;
        if zero == 0 {
            h = mix(h, w);
            pos += 8;
            continue;
        }
        let n = (zero.trailing_zeros() / 8) as usize;
        let tail = if n == 0 {
            0
        } else {
            w & (u64::MAX >> (64 - 8 * n))
        };
        let len = pos + n - start;
        return (finish(mix(h, tail), len), len);
    }
}

impl NameTable {
    fn with_capacity(n: usize) -> NameTable {
        let cap = (n * 2).next_power_of_two().max(16);
        NameTable {
            slots: vec![Slot::default(); cap],
            mask: cap - 1,
        }
    }

    #[cfg(test)]
    fn insert(&mut self, name: &[u8], a: u32, b: u32) {
        self.insert_hashed(hash(name), a, b);
    }

    fn insert_hashed(&mut self, h: u32, a: u32, b: u32) {
        let mut i = h as usize & self.mask;
        while self.slots[i].a != 0 {
            i = (i + 1) & self.mask;
        }
        self.slots[i] = Slot {
            hash: h,
            a: a + 1,
            b,
        };
    }

    /// Calls `f(a, b)` for every entry whose name might be `name` (hash match).
    fn candidates(&self, name: &[u8], mut f: impl FnMut(u32, u32)) {
        if self.slots.is_empty() {
            return;
        }
        let h = hash(name);
        let mut i = h as usize & self.mask;
        while self.slots[i].a != 0 {
            let s = self.slots[i];
            if s.hash == h {
                f(s.a - 1, s.b);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Table of named local types whose raw kind satisfies `want`: payload `a` is the id.
    pub(crate) fn build_types(btf: &Btf, want: impl Fn(u32) -> bool) -> NameTable {
        let first = btf.first_local_id();
        let picked: Vec<u32> = (0..btf.local_len())
            .filter(|&i| {
                let (name_off, info) = btf.local_head(i);
                name_off != 0 && want((info >> 24) & 0x1f)
            })
            .map(|i| i as u32)
            .collect();
        let mut t = NameTable::with_capacity(picked.len());
        for i in picked {
            let (name_off, _) = btf.local_head(i as usize);
            if let Some((h, len)) = btf.hash_str_at(name_off)
                && len > 0
            {
                t.insert_hashed(h, first + i, 0);
            }
        }
        t
    }

    /// Table of enumerators: payload `a` is the enum's type id, `b` the enumerator index.
    pub(crate) fn build_enumerators(btf: &Btf) -> NameTable {
        let first = btf.first_local_id();
        let enums: Vec<(u32, u32)> = (0..btf.local_len())
            .map(|i| (first + i as u32, btf.local_head(i).1))
            .filter(|&(_, info)| matches!((info >> 24) & 0x1f, 6 | 19))
            .collect();
        let total = enums
            .iter()
            .map(|&(_, info)| (info & 0xffff) as usize)
            .sum();
        let mut t = NameTable::with_capacity(total);
        for (id, _) in enums {
            if let Ok(crate::Type::Enum(e)) = btf.get(TypeId(id)) {
                for (idx, name_off) in e.name_offs().enumerate() {
                    if let Some((h, len)) = btf.hash_str_at(name_off)
                        && len > 0
                    {
                        t.insert_hashed(h, id, idx as u32);
                    }
                }
            }
        }
        t
    }
}

impl Btf {
    fn name_table(&self, funcs: bool) -> &NameTable {
        if funcs {
            self.func_names
                .get_or_init(|| NameTable::build_types(self, |k| k == FUNC))
        } else {
            self.names
                .get_or_init(|| NameTable::build_types(self, |k| k != FUNC))
        }
    }

    /// Builds the name indexes now instead of on the first lookups.
    pub fn build_name_index(&self) {
        if let Some(b) = self.base() {
            b.build_name_index();
        }
        self.name_table(false);
        self.name_table(true);
    }

    /// Calls `f` with every id named `name` (functions only when `funcs`, everything else
    /// otherwise), base types first, in no particular order per blob.
    pub(crate) fn for_each_named(&self, name: &str, funcs: bool, f: &mut dyn FnMut(TypeId)) {
        if let Some(b) = self.base() {
            b.for_each_named(name, funcs, f);
        }
        self.name_table(funcs).candidates(name.as_bytes(), |a, _| {
            let id = TypeId(a);
            if self.get(id).is_ok_and(|t| t.name() == name) {
                f(id);
            }
        });
    }

    /// Calls `f(enum id, value index)` for every enumerator named `name`.
    pub(crate) fn for_each_enumerator(&self, name: &str, f: &mut dyn FnMut(TypeId, usize)) {
        if let Some(b) = self.base() {
            b.for_each_enumerator(name, f);
        }
        let table = self
            .enumerators
            .get_or_init(|| NameTable::build_enumerators(self));
        table.candidates(name.as_bytes(), |a, b| f(TypeId(a), b as usize));
    }

    /// The lowest id named `name` with kind `kind`.
    pub fn find(&self, name: &str, kind: Kind) -> Option<TypeId> {
        let mut best: Option<TypeId> = None;
        self.for_each_named(name, kind == Kind::Func, &mut |id| {
            if self.kind(id).is_ok_and(|k| k == kind) && best.is_none_or(|b| id < b) {
                best = Some(id);
            }
        });
        best
    }

    /// All ids named `name`, sorted.
    pub fn find_all(&self, name: &str) -> Vec<TypeId> {
        let mut out = Vec::new();
        self.for_each_named(name, false, &mut |id| out.push(id));
        self.for_each_named(name, true, &mut |id| out.push(id));
        out.sort_unstable();
        out
    }

    /// The best type named `name`: a complete type (struct, union, typedef, enum, int,
    /// float) is preferred over a forward declaration, function, variable or tag.
    pub fn find_any(&self, name: &str) -> Option<TypeId> {
        let rank = |k: Kind| match k {
            Kind::Struct | Kind::Union | Kind::Typedef => 0,
            Kind::Enum | Kind::Enum64 | Kind::Int | Kind::Float => 1,
            Kind::Fwd => 2,
            Kind::Func | Kind::Var | Kind::Datasec => 3,
            _ => 4,
        };
        let mut best: Option<(u8, TypeId)> = None;
        for funcs in [false, true] {
            self.for_each_named(name, funcs, &mut |id| {
                if let Ok(k) = self.kind(id) {
                    let cand = (rank(k), id);
                    if best.is_none_or(|b| cand < b) {
                        best = Some(cand);
                    }
                }
            });
            if best.is_some() {
                break;
            }
        }
        best.map(|(_, id)| id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_distinguishes_lengths_and_content() {
        assert_ne!(hash(b"a"), hash(b"a\0"));
        assert_ne!(hash(b"task_struct"), hash(b"task_structs"));
        assert_eq!(hash(b"sched_switch"), hash(b"sched_switch"));
    }

    #[test]
    fn cstr_hash_matches_slice_hash() {
        let section = b"\0a\0task_struct\0exactly8\0sixteen_chars_ab\0unterminated";
        let mut start = 0;
        while start < section.len() {
            let end = section[start..]
                .iter()
                .position(|&b| b == 0)
                .map_or(section.len(), |p| start + p);
            let (h, len) = hash_cstr(section, start);
            assert_eq!(len, end - start);
            assert_eq!(h, hash(&section[start..end]), "at {start}");
            start = end + 1;
        }
    }

    #[test]
    fn table_keeps_duplicates() {
        let mut t = NameTable::with_capacity(4);
        t.insert(b"x", 1, 0);
        t.insert(b"x", 2, 0);
        t.insert(b"y", 3, 0);
        let mut got = Vec::new();
        t.candidates(b"x", |a, _| got.push(a));
        got.sort();
        assert_eq!(got, vec![1, 2]);
    }
}
