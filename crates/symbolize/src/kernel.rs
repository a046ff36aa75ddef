//! Kernel symbols from `/proc/kallsyms`.
//!
//! The file is read line by line; only the names are kept, in one buffer, and the table
//! holds offsets into it, sorted by address, so a lookup is a binary search. Loading costs
//! one pass over the text plus a (nearly linear, the file is mostly sorted) stable sort, and
//! about half the file's size in memory (120k symbols: 5.4 MB of text, 2.5 MB of names).

use std::io::BufRead;
use std::path::Path;

use crate::{Error, Result, Sym};

/// Path of the kernel symbol table.
pub const KALLSYMS: &str = "/proc/kallsyms";

const NO_MODULE: u16 = u16::MAX;

#[derive(Clone, Copy, Debug)]
struct Entry {
    addr: u64,
    name_start: u32,
    name_len: u32,
    /// Line number in the kallsyms text, for "first in file order" answers.
    line: u32,
    module: u16,
    /// 0 for text symbols (`T`/`t`), 1 for weak (`W`/`w`), 2 otherwise: the
    /// preferred name among aliases at one address.
    rank: u8,
}

/// A sorted kernel symbol table.
#[derive(Debug)]
pub struct KernelSymbols {
    /// Every symbol's name, one after the other.
    names: String,
    entries: Vec<Entry>,
    modules: Vec<String>,
}

/// Builds a table one kallsyms line at a time.
#[derive(Default)]
struct Builder {
    names: String,
    entries: Vec<Entry>,
    modules: Vec<String>,
    any_nonzero: bool,
    line_no: u32,
}

impl Builder {
    fn line(&mut self, line: &[u8]) {
        if let Some(parsed) = parse_line(line)
            && let Ok(name) = std::str::from_utf8(&line[parsed.name.0..parsed.name.1])
        {
            self.any_nonzero |= parsed.addr != 0;
            let module = match parsed.module {
                None => NO_MODULE,
                Some(m) => match std::str::from_utf8(&line[m.0..m.1]) {
                    Ok(m) => intern(&mut self.modules, m),
                    Err(_) => NO_MODULE,
                },
            };
            self.entries.push(Entry {
                addr: parsed.addr,
                name_start: to_u32(self.names.len()),
                name_len: to_u32(name.len()),
                line: self.line_no,
                module,
                rank: rank(parsed.kind),
            });
            self.names.push_str(name);
        }
        self.line_no = self.line_no.saturating_add(1);
    }

    fn finish(mut self) -> Result<KernelSymbols> {
        if self.entries.is_empty() {
            return Err(Error::KallsymsEmpty);
        }
        if !self.any_nonzero {
            return Err(Error::KallsymsRestricted);
        }
        // Unstable (no scratch buffer of half the table), with the line as the tie-break.
        self.entries
            .sort_unstable_by_key(|e| (e.addr, e.rank, e.line));
        self.entries.shrink_to_fit();
        self.names.shrink_to_fit();
        Ok(KernelSymbols {
            names: self.names,
            entries: self.entries,
            modules: self.modules,
        })
    }
}

impl KernelSymbols {
    /// Load `/proc/kallsyms`.
    pub fn load() -> Result<Self> {
        Self::load_from(Path::new(KALLSYMS))
    }

    /// Load a kallsyms-format file, one line at a time.
    pub fn load_from(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut reader = std::io::BufReader::with_capacity(64 * 1024, file);
        let mut builder = Builder {
            names: String::with_capacity(4 << 20),
            entries: Vec::with_capacity(160_000),
            ..Builder::default()
        };
        let mut line = Vec::with_capacity(256);
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::io(path, e))?;
            if n == 0 {
                break;
            }
            let end = if line.last() == Some(&b'\n') {
                line.len() - 1
            } else {
                line.len()
            };
            builder.line(&line[..end]);
        }
        builder.finish()
    }

    /// Parse kallsyms text (`ADDR TYPE NAME` or `ADDR TYPE NAME\t[MODULE]` per line).
    /// Malformed lines are skipped.
    pub fn parse(text: &str) -> Result<Self> {
        let mut builder = Builder::default();
        for line in text.split('\n') {
            builder.line(line.as_bytes());
        }
        builder.finish()
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty (never true for a successfully parsed table).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn name(&self, e: &Entry) -> &str {
        let start = e.name_start as usize;
        &self.names[start..start + e.name_len as usize]
    }

    /// The symbol containing `addr`: the greatest symbol start not above it.
    pub fn ksym(&self, addr: u64) -> Option<Sym> {
        let idx = self.entries.partition_point(|e| e.addr <= addr);
        let mut i = idx.checked_sub(1)?;
        let start = self.entries[i].addr;
        while i > 0 && self.entries[i - 1].addr == start {
            i -= 1;
        }
        let e = &self.entries[i];
        Some(Sym {
            name: self.name(e).to_owned(),
            offset: addr - e.addr,
            module: (e.module != NO_MODULE).then(|| self.modules[e.module as usize].clone()),
        })
    }

    /// Address of the first symbol called `name` in kallsyms order.
    ///
    /// A linear scan (about 0.2 ms over 120k symbols): `kaddr` names are constants
    /// resolved a few times per script, which does not pay for an index.
    pub fn kaddr(&self, name: &str) -> Option<u64> {
        let len = u32::try_from(name.len()).ok()?;
        self.entries
            .iter()
            .filter(|e| e.name_len == len && self.name(e) == name)
            .min_by_key(|e| e.line)
            .map(|e| e.addr)
    }
}

struct ParsedLine {
    addr: u64,
    kind: u8,
    /// Byte ranges within the line.
    name: (usize, usize),
    module: Option<(usize, usize)>,
}

fn parse_line(line: &[u8]) -> Option<ParsedLine> {
    let sp = line.iter().position(|&b| b == b' ')?;
    let addr = parse_hex(&line[..sp])?;
    let kind = *line.get(sp + 1)?;
    if line.get(sp + 2) != Some(&b' ') {
        return None;
    }
    let name_start = sp + 3;
    let rest = &line[name_start..];
    let (name_end, module) = match rest.iter().position(|&b| b == b'\t') {
        None => (line.len(), None),
        Some(t) => {
            let m = &line[name_start + t + 1..];
            let module = (m.len() >= 2 && m[0] == b'[' && m[m.len() - 1] == b']')
                .then(|| (name_start + t + 2, line.len() - 1));
            (name_start + t, module)
        }
    };
    let name_end = trim_end(line, name_start, name_end);
    (name_end > name_start).then_some(ParsedLine {
        addr,
        kind,
        name: (name_start, name_end),
        module,
    })
}

fn trim_end(line: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && line[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    end
}

fn parse_hex(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    let mut v = 0u64;
    for &b in s {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return None,
        };
        v = (v << 4) | u64::from(d);
    }
    Some(v)
}

fn rank(kind: u8) -> u8 {
    match kind {
        b'T' | b't' => 0,
        b'W' | b'w' => 1,
        _ => 2,
    }
}

fn intern(modules: &mut Vec<String>, name: &str) -> u16 {
    // Module symbols come in runs: the last module is the usual hit.
    if let Some(i) = modules.iter().rposition(|m| m == name) {
        return i as u16;
    }
    if modules.len() >= usize::from(NO_MODULE) {
        return NO_MODULE;
    }
    modules.push(name.to_owned());
    (modules.len() - 1) as u16
}

fn to_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
ffffffff81000000 T srso_alias_untrain_ret
ffffffff81000000 T _stext
ffffffff81000000 T _text
ffffffff81001000 t helper_a
ffffffff81001040 T do_work
ffffffff81002000 D some_data
ffffffff81001040 W do_work_alias
garbage line
ffffffffc0201000 t ext4_thing\t[ext4]
ffffffffc0201100 T ext4_other\t[ext4]
ffffffffc0300000 t xfs_thing\t[xfs]
ffffffff81003000 t helper_a
";

    #[test]
    fn parses_and_sorts() {
        let k = KernelSymbols::parse(SAMPLE).unwrap();
        assert_eq!(k.len(), 11);
        assert!(!k.is_empty());
        let addrs: Vec<u64> = k.entries.iter().map(|e| e.addr).collect();
        assert!(addrs.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn ksym_finds_containing_symbol() {
        let k = KernelSymbols::parse(SAMPLE).unwrap();
        let s = k.ksym(0xffffffff81001050).unwrap();
        assert_eq!(s.name, "do_work");
        assert_eq!(s.offset, 0x10);
        assert_eq!(s.module, None);
        let s = k.ksym(0xffffffff81001000).unwrap();
        assert_eq!((s.name.as_str(), s.offset), ("helper_a", 0));
        // Aliases: first text symbol in file order.
        assert_eq!(
            k.ksym(0xffffffff81000010).unwrap().name,
            "srso_alias_untrain_ret"
        );
        // Module symbols carry the module name.
        let s = k.ksym(0xffffffffc0201104).unwrap();
        assert_eq!(s.name, "ext4_other");
        assert_eq!(s.offset, 4);
        assert_eq!(s.module.as_deref(), Some("ext4"));
        assert_eq!(
            k.ksym(0xffffffffc0300001).unwrap().module.as_deref(),
            Some("xfs")
        );
        // Below the first symbol: unknown.
        assert_eq!(k.ksym(0x1000), None);
        assert_eq!(k.ksym(0), None);
    }

    #[test]
    fn text_symbols_win_over_weak_at_same_address() {
        let k = KernelSymbols::parse(
            "ffffffff81000000 W weak_first\nffffffff81000000 T strong_second\n",
        )
        .unwrap();
        assert_eq!(k.ksym(0xffffffff81000008).unwrap().name, "strong_second");
    }

    #[test]
    fn kaddr_reverse_lookup_in_file_order() {
        let k = KernelSymbols::parse(SAMPLE).unwrap();
        assert_eq!(k.kaddr("do_work"), Some(0xffffffff81001040));
        assert_eq!(k.kaddr("some_data"), Some(0xffffffff81002000));
        assert_eq!(k.kaddr("ext4_thing"), Some(0xffffffffc0201000));
        // Duplicate static name: first in file order, not lowest address.
        assert_eq!(k.kaddr("helper_a"), Some(0xffffffff81001000));
        assert_eq!(k.kaddr("nope"), None);
        assert_eq!(k.kaddr(""), None);
        assert_eq!(k.kaddr("zzzz"), None);
    }

    #[test]
    fn restricted_and_empty() {
        assert!(matches!(
            KernelSymbols::parse("0000000000000000 T a\n0000000000000000 t b\n"),
            Err(Error::KallsymsRestricted)
        ));
        assert!(matches!(
            KernelSymbols::parse("not kallsyms\n\n"),
            Err(Error::KallsymsEmpty)
        ));
        assert!(matches!(
            KernelSymbols::parse(""),
            Err(Error::KallsymsEmpty)
        ));
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let k = KernelSymbols::parse(
            "zz T bad\nffffffff81000000 T\nffffffff81000000Tx\n11111111111111111 T toolong\nffffffff81000100 T ok\n",
        )
        .unwrap();
        assert_eq!(k.len(), 1);
        assert_eq!(k.kaddr("ok"), Some(0xffffffff81000100));
    }

    #[test]
    fn real_kallsyms_lookup() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        let k = match KernelSymbols::load() {
            Ok(k) => k,
            Err(e) if !ci => {
                eprintln!("skipping: {e}");
                return;
            }
            Err(e) => panic!("kallsyms must be readable in CI: {e}"),
        };
        let addr = k.kaddr("do_syscall_64").expect("do_syscall_64 in kallsyms");
        let s = k.ksym(addr + 4).unwrap();
        assert_eq!(s.name, "do_syscall_64");
        assert_eq!(s.offset, 4);
        assert!(k.len() > 10_000);
    }
}
