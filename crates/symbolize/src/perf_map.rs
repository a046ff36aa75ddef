//! Perf map files (`/tmp/perf-PID.map`) written by JIT runtimes.
//!
//! Each line is `START SIZE NAME` with hexadecimal start and size (an optional `0x`
//! prefix is accepted). When code is re-generated at the same start address, the later
//! line wins.

use crate::Sym;

/// How far back a lookup walks past a non-containing entry (overlapping regions).
const MAX_BACKTRACK: usize = 16;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    start: u64,
    size: u64,
    name: String,
}

/// A parsed perf map.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PerfMap {
    entries: Vec<Entry>,
    module: String,
}

impl PerfMap {
    /// Parse perf map text; `module` is reported as [`Sym::module`] (usually the file path).
    pub fn parse(text: &str, module: &str) -> PerfMap {
        let mut entries: Vec<Entry> = text.lines().filter_map(parse_line).collect();
        // Stable: among equal starts the later line stays last, and `dedup_by` keeps
        // the first of a run, so reverse the runs' order first.
        entries.reverse();
        entries.sort_by_key(|e| e.start);
        entries.dedup_by_key(|e| e.start);
        PerfMap {
            entries,
            module: module.to_owned(),
        }
    }

    /// Number of (distinct-start) entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry containing `addr`.
    pub fn lookup(&self, addr: u64) -> Option<Sym> {
        let idx = self.entries.partition_point(|e| e.start <= addr);
        self.entries[..idx]
            .iter()
            .rev()
            .take(MAX_BACKTRACK)
            .find(|e| addr - e.start < e.size.max(1))
            .map(|e| Sym {
                name: e.name.clone(),
                offset: addr - e.start,
                module: Some(self.module.clone()),
            })
    }
}

fn parse_line(line: &str) -> Option<Entry> {
    let mut parts = line.trim_start().splitn(3, ' ');
    let start = hex(parts.next()?)?;
    let size = hex(parts.next()?)?;
    let name = parts.next()?.trim_end();
    (!name.is_empty()).then(|| Entry {
        start,
        size,
        name: name.to_owned(),
    })
}

fn hex(s: &str) -> Option<u64> {
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    u64::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_lookup() {
        let m = PerfMap::parse(
            "7f0000001000 100 LazyCompile:~foo app.js:1\n\
             0x7f0000002000 0x20 Interpreter\n\
             junk\n\
             7f0000001000 80 replaced_foo\n",
            "/tmp/perf-42.map",
        );
        assert_eq!(m.len(), 2);
        let s = m.lookup(0x7f0000001010).unwrap();
        assert_eq!(s.name, "replaced_foo");
        assert_eq!(s.offset, 0x10);
        assert_eq!(s.module.as_deref(), Some("/tmp/perf-42.map"));
        // Past the replaced (shorter) entry's end.
        assert_eq!(m.lookup(0x7f0000001090), None);
        assert_eq!(m.lookup(0x7f000000201f).unwrap().name, "Interpreter");
        assert_eq!(m.lookup(0x7f0000002020), None);
        assert_eq!(m.lookup(0x10), None);
    }

    #[test]
    fn names_with_spaces_and_overlap() {
        let m = PerfMap::parse("1000 1000 outer fn with spaces\n1100 10 inner\n", "m");
        assert_eq!(m.lookup(0x1105).unwrap().name, "inner");
        let s = m.lookup(0x1200).unwrap();
        assert_eq!(s.name, "outer fn with spaces");
        assert_eq!(s.offset, 0x200);
        assert!(PerfMap::parse("", "m").is_empty());
    }
}
