//! User-space symbolization through blazesym over [`ProcessCache`] snapshots.
//!
//! Addresses in file mappings become file offsets into the held file and are
//! resolved with blazesym's ELF source (`.symtab`/`.dynsym`, DWARF with the `dwarf`
//! feature and `with_debug_syms(true)`), demangling C++ and Rust names. vDSO
//! addresses are resolved through this process's own vDSO (the kernel maps the same
//! image into every process). Anything else is looked up in `/tmp/perf-PID.map`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use blazesym::symbolize::source::{Elf, Process, Source};
use blazesym::symbolize::{Input, Symbolized, Symbolizer as Blazesym};

use crate::Sym;
use crate::debug_file::{LoadSegments, debug_file_for};
use crate::maps::parse_maps;
use crate::perf_map::PerfMap;
use crate::process::{FileId, MappingKind, ProcessCache};

#[derive(Debug)]
struct CachedPerfMap {
    len: u64,
    modified: Option<SystemTime>,
    map: PerfMap,
}

/// Symbolizes user-space addresses of snapshotted processes.
///
/// Not `Send`: it wraps blazesym's symbolizer, which caches parsed files.
pub struct UserSymbolizer {
    inner: Blazesym,
    debug_syms: bool,
    perf_maps: HashMap<u32, CachedPerfMap>,
    own_vdso: Option<Option<u64>>,
    unreadable: HashSet<PathBuf>,
    debug_files: HashMap<PathBuf, Option<DebugFile>>,
    memo: HashMap<FileId, HashMap<u64, Option<(String, u64)>>>,
    memo_len: usize,
    refreshed: HashMap<u32, Instant>,
}

/// Minimum time between two refreshes of one process's maps.
const REFRESH_INTERVAL: Duration = Duration::from_millis(500);

/// Results remembered per (file, offset) before the memo is emptied.
const MEMO_CAP: usize = 1 << 20;

/// A file's symbol lookups: the file, its path in reports, (output index, offset).
type FileBatch = (PathBuf, String, Vec<(usize, u64)>);

/// A build-id debug file for a stripped binary.
#[derive(Debug)]
struct DebugFile {
    path: PathBuf,
    segments: LoadSegments,
}

impl std::fmt::Debug for UserSymbolizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserSymbolizer")
            .field("debug_syms", &self.debug_syms)
            .field("perf_maps", &self.perf_maps.len())
            .finish_non_exhaustive()
    }
}

impl Default for UserSymbolizer {
    fn default() -> Self {
        Self::new()
    }
}

impl UserSymbolizer {
    /// A symbolizer using ELF symbol tables (like bpftrace).
    pub fn new() -> Self {
        UserSymbolizer {
            inner: Blazesym::builder()
                .enable_code_info(false)
                .enable_inlined_fns(false)
                .enable_demangling(true)
                .build(),
            debug_syms: false,
            perf_maps: HashMap::new(),
            own_vdso: None,
            unreadable: HashSet::new(),
            debug_files: HashMap::new(),
            memo: HashMap::new(),
            memo_len: 0,
            refreshed: HashMap::new(),
        }
    }

    /// Also consult DWARF debug information (needs the crate feature `dwarf`).
    pub fn with_debug_syms(mut self, enable: bool) -> Self {
        self.debug_syms = enable;
        self
    }

    /// Symbolize `addrs` of process `pid`; `None` for addresses that did not resolve.
    ///
    /// Snapshots `pid` if the cache does not know it yet, and refreshes the snapshot
    /// once if an address lies outside every known mapping while the process lives.
    pub fn symbolize(
        &mut self,
        cache: &mut ProcessCache,
        pid: u32,
        addrs: &[u64],
    ) -> Vec<Option<Sym>> {
        let mut out = vec![None; addrs.len()];
        if cache.get(pid).is_none() {
            // A process we never saw and that is gone: only a perf map can help.
            let _ = cache.snapshot(pid);
        }
        let unmapped = |cache: &ProcessCache| {
            let snap = cache.get(pid);
            addrs
                .iter()
                .any(|&a| a != 0 && snap.is_none_or(|s| s.find(a).is_none()))
        };
        if unmapped(cache) && self.may_refresh(pid) && cache.is_alive(pid) {
            let _ = cache.refresh(pid);
        }

        // Group file offsets by the file they are read through.
        let mut by_file: HashMap<FileId, FileBatch> = HashMap::new();
        let mut vdso: Vec<(usize, u64)> = Vec::new();
        let mut others: Vec<usize> = Vec::new();
        let snap = cache.get(pid);
        for (i, &addr) in addrs.iter().enumerate() {
            match snap.and_then(|s| s.find(addr)) {
                Some(m) if m.kind == MappingKind::File => match (m.file_id, m.read_path()) {
                    (Some(id), Some(path)) => {
                        let module = || m.path.clone().unwrap_or_default();
                        by_file
                            .entry(id)
                            .or_insert_with(|| (path, module(), Vec::new()))
                            .2
                            .push((i, m.file_offset(addr)));
                    }
                    _ => others.push(i),
                },
                Some(m) if m.kind == MappingKind::Vdso => vdso.push((i, addr - m.start)),
                _ => others.push(i),
            }
        }

        for (id, (path, module, items)) in by_file {
            for (i, sym) in self.file_syms(id, &path, &items) {
                out[i] = sym.map(|(name, offset)| Sym {
                    name,
                    offset,
                    module: Some(module.clone()),
                });
            }
        }
        if !vdso.is_empty() {
            self.resolve_vdso(&vdso, &mut out);
        }
        if !others.is_empty()
            && let Some(map) = self.perf_map(pid)
        {
            for i in others {
                out[i] = map.lookup(addrs[i]);
            }
        }
        out
    }

    /// Rate-limits re-reading a process's maps: a stack with a bogus frame would
    /// otherwise re-read them on every call.
    fn may_refresh(&mut self, pid: u32) -> bool {
        let now = Instant::now();
        match self.refreshed.get(&pid) {
            Some(last) if now.duration_since(*last) < REFRESH_INTERVAL => false,
            _ => {
                self.refreshed.insert(pid, now);
                true
            }
        }
    }

    /// Symbols of `(output index, file offset)` items of one file, memoized.
    fn file_syms(
        &mut self,
        id: FileId,
        path: &Path,
        items: &[(usize, u64)],
    ) -> Vec<(usize, Option<(String, u64)>)> {
        let memo = self.memo.get(&id);
        let misses: Vec<u64> = items
            .iter()
            .map(|&(_, off)| off)
            .filter(|off| memo.is_none_or(|m| !m.contains_key(off)))
            .collect();
        if !misses.is_empty() {
            let found = self.elf(path, &misses);
            if self.memo_len + misses.len() > MEMO_CAP {
                self.memo.clear();
                self.memo_len = 0;
            }
            let memo = self.memo.entry(id).or_default();
            for (off, sym) in misses.into_iter().zip(found) {
                if memo.insert(off, sym).is_none() {
                    self.memo_len += 1;
                }
            }
        }
        let memo = self.memo.get(&id);
        items
            .iter()
            .map(|&(i, off)| (i, memo.and_then(|m| m.get(&off)).cloned().flatten()))
            .collect()
    }

    fn elf(&mut self, path: &Path, offsets: &[u64]) -> Vec<Option<(String, u64)>> {
        if self.unreadable.contains(path) {
            return vec![None; offsets.len()];
        }
        let mut src = Elf::new(path);
        src.debug_syms = self.debug_syms;
        let mut out: Vec<Option<(String, u64)>> = match self
            .inner
            .symbolize(&Source::Elf(src), Input::FileOffset(offsets))
        {
            Ok(syms) => syms.into_iter().map(convert).collect(),
            Err(_) => {
                self.unreadable.insert(path.to_path_buf());
                return vec![None; offsets.len()];
            }
        };
        if out.iter().any(Option::is_none) {
            self.resolve_in_debug_file(path, offsets, &mut out);
        }
        out
    }

    /// Resolve what the binary's own symbol tables missed through its build-id debug
    /// file (stripped distribution libraries).
    fn resolve_in_debug_file(
        &mut self,
        path: &Path,
        offsets: &[u64],
        out: &mut [Option<(String, u64)>],
    ) {
        let debug = self
            .debug_files
            .entry(path.to_path_buf())
            .or_insert_with(|| {
                Some(DebugFile {
                    path: debug_file_for(path)?,
                    segments: LoadSegments::read(path)?,
                })
            });
        let Some(debug) = debug else {
            return;
        };
        let (idx, vaddrs): (Vec<usize>, Vec<u64>) = offsets
            .iter()
            .enumerate()
            .filter(|(i, _)| out[*i].is_none())
            .filter_map(|(i, &off)| Some((i, debug.segments.vaddr(off)?)))
            .unzip();
        let mut src = Elf::new(debug.path.clone());
        src.debug_syms = self.debug_syms;
        if let Ok(syms) = self
            .inner
            .symbolize(&Source::Elf(src), Input::VirtOffset(&vaddrs))
        {
            for (i, sym) in idx.into_iter().zip(syms) {
                out[i] = convert(sym);
            }
        }
    }

    fn resolve_vdso(&mut self, items: &[(usize, u64)], out: &mut [Option<Sym>]) {
        let base = *self.own_vdso.get_or_insert_with(own_vdso_start);
        let Some(base) = base else {
            return;
        };
        let addrs: Vec<u64> = items.iter().map(|&(_, off)| base + off).collect();
        let mut src = Process::new(blazesym::Pid::Slf);
        src.debug_syms = false;
        src.perf_map = false;
        src.map_files = false;
        src.vdso = true;
        let Ok(syms) = self
            .inner
            .symbolize(&Source::Process(src), Input::AbsAddr(&addrs))
        else {
            return;
        };
        for (&(i, _), sym) in items.iter().zip(syms) {
            out[i] = convert(sym).map(|(name, offset)| Sym {
                name,
                offset,
                module: Some("[vdso]".to_owned()),
            });
        }
    }

    fn perf_map(&mut self, pid: u32) -> Option<&PerfMap> {
        let path = format!("/tmp/perf-{pid}.map");
        let Ok(meta) = std::fs::metadata(&path) else {
            self.perf_maps.remove(&pid);
            return None;
        };
        let modified = meta.modified().ok();
        let stale = self
            .perf_maps
            .get(&pid)
            .is_none_or(|c| c.len != meta.len() || c.modified != modified);
        if stale {
            let text = std::fs::read(&path).ok()?;
            let map = PerfMap::parse(&String::from_utf8_lossy(&text), &path);
            self.perf_maps.insert(
                pid,
                CachedPerfMap {
                    len: meta.len(),
                    modified,
                    map,
                },
            );
        }
        self.perf_maps.get(&pid).map(|c| &c.map)
    }
}

fn convert(sym: Symbolized<'_>) -> Option<(String, u64)> {
    let s = sym.into_sym()?;
    Some((s.name.into_owned(), s.offset as u64))
}

fn own_vdso_start() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/maps").ok()?;
    parse_maps(&text)
        .into_iter()
        .find(|e| e.path.as_deref() == Some("[vdso]"))
        .map(|e| e.start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{ChildCopy, cpp_marker_addr, marker_addr, rust_marker_addr};

    #[test]
    fn symbolizes_function_in_own_binary() {
        let f = marker_addr();
        let mut cache = ProcessCache::new();
        let mut s = UserSymbolizer::new();
        let pid = std::process::id();
        let out = s.symbolize(&mut cache, pid, &[f, f + 3, 0, 1]);
        let sym = out[0].as_ref().expect("marker symbolized");
        assert_eq!(sym.name, "scry_symbolize_support_marker");
        assert_eq!(sym.offset, 0);
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        assert_eq!(sym.module.as_deref(), exe.to_str());
        assert_eq!(out[1].as_ref().unwrap().offset, 3);
        assert_eq!(out[2], None);
        assert_eq!(out[3], None);
    }

    #[test]
    fn demangles_rust_names() {
        let f = rust_marker_addr();
        let mut cache = ProcessCache::new();
        let mut s = UserSymbolizer::new();
        let out = s.symbolize(&mut cache, std::process::id(), &[f]);
        let name = &out[0].as_ref().expect("rust fn symbolized").name;
        assert!(name.ends_with("test_support::rust_marker_fn"), "{name}");
    }

    #[test]
    fn demangles_cpp_names() {
        let f = cpp_marker_addr();
        let mut cache = ProcessCache::new();
        let mut s = UserSymbolizer::new();
        let out = s.symbolize(&mut cache, std::process::id(), &[f + 1]);
        let sym = out[0].as_ref().expect("C++ symbol resolved");
        assert_eq!(sym.name, "scry_cpp_function(char const*, int)");
        assert_eq!(sym.offset, 1);
    }

    #[test]
    fn debug_syms_option_still_resolves() {
        let f = marker_addr();
        let mut cache = ProcessCache::new();
        let mut s = UserSymbolizer::new().with_debug_syms(true);
        let out = s.symbolize(&mut cache, std::process::id(), &[f]);
        assert_eq!(
            out[0].as_ref().map(|s| s.name.as_str()),
            Some("scry_symbolize_support_marker")
        );
    }

    #[test]
    fn exited_and_deleted_child_still_symbolizes() {
        // Our own address of the marker, as a file offset of our executable.
        let me = std::process::id();
        let mut cache = ProcessCache::new();
        cache.snapshot(me).unwrap();
        let ours = cache.get(me).unwrap().find(marker_addr()).unwrap();
        let file_off = ours.file_offset(marker_addr());

        let child = ChildCopy::spawn();
        let pid = child.child.id();
        cache.snapshot(pid).unwrap();
        let snap = cache.get(pid).unwrap();
        assert_eq!(snap.exe_path(), child.path.to_str());
        // The same file offset in the child's (identical) executable.
        let m = snap
            .mappings()
            .iter()
            .find(|m| {
                m.path.as_deref() == child.path.to_str()
                    && (m.offset..m.offset + (m.end - m.start)).contains(&file_off)
            })
            .expect("child text mapping");
        let addr = m.start + (file_off - m.offset);
        let path = child.path.clone();
        child.finish();
        assert!(!path.exists());
        assert!(!cache.is_alive(pid));

        let mut s = UserSymbolizer::new();
        let out = s.symbolize(&mut cache, pid, &[addr + 2]);
        let sym = out[0].as_ref().expect("symbolized after exit");
        assert_eq!(sym.name, "scry_symbolize_support_marker");
        assert_eq!(sym.offset, 2);
        assert_eq!(sym.module.as_deref(), path.to_str());
    }

    #[test]
    fn vdso_addresses_resolve_through_own_vdso() {
        let pid = std::process::id();
        let mut cache = ProcessCache::new();
        cache.snapshot(pid).unwrap();
        let Some(vdso) = cache
            .get(pid)
            .unwrap()
            .mappings()
            .iter()
            .find(|m| m.kind == MappingKind::Vdso)
            .cloned()
        else {
            return;
        };
        let mut s = UserSymbolizer::new();
        let addrs: Vec<u64> = (vdso.start..vdso.end).step_by(64).collect();
        let out = s.symbolize(&mut cache, pid, &addrs);
        let found: Vec<&Sym> = out.iter().flatten().collect();
        assert!(!found.is_empty(), "no vDSO symbol found");
        assert!(found.iter().all(|s| s.module.as_deref() == Some("[vdso]")));
        assert!(
            found
                .iter()
                .any(|s| s.name.contains("clock_gettime") || s.name.contains("time"))
        );
    }

    /// Value of symbol `name` in `path`'s symbol tables, through binutils' readelf.
    fn readelf_symbol(path: &std::path::Path, name: &str) -> Option<u64> {
        let out = std::process::Command::new("readelf")
            .arg("-Ws")
            .arg(path)
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 8 && f[3] == "FUNC" && f[7] == name)
                .then(|| u64::from_str_radix(f[1], 16).ok())
                .flatten()
        })
    }

    #[test]
    fn stripped_library_local_symbol_through_debug_file() {
        let pid = std::process::id();
        let mut cache = ProcessCache::new();
        cache.snapshot(pid).unwrap();
        let Some(libc) = cache
            .get(pid)
            .unwrap()
            .mappings()
            .iter()
            .find(|m| m.path.as_deref().is_some_and(|p| p.ends_with("/libc.so.6")))
            .cloned()
        else {
            eprintln!("skipping: no libc.so.6 mapped");
            return;
        };
        let lib = PathBuf::from(libc.path.clone().unwrap());
        let Some(debug) = debug_file_for(&lib) else {
            eprintln!("skipping: no debug file for {}", lib.display());
            return;
        };
        // A local function only the debug file's .symtab has.
        let name = "__libc_start_call_main";
        let Some(vaddr) = readelf_symbol(&debug, name) else {
            eprintln!(
                "skipping: readelf cannot find {name} in {}",
                debug.display()
            );
            return;
        };
        let segs = LoadSegments::read(&lib).unwrap();
        let off = segs.file_offset(vaddr).unwrap();
        let m = cache
            .get(pid)
            .unwrap()
            .mappings()
            .iter()
            .find(|m| {
                m.path == libc.path && (m.offset..m.offset + (m.end - m.start)).contains(&off)
            })
            .cloned()
            .expect("text mapping of libc");
        let addr = m.start + (off - m.offset) + 5;
        let mut s = UserSymbolizer::new();
        let out = s.symbolize(&mut cache, pid, &[addr]);
        let sym = out[0].as_ref().expect("resolved through the debug file");
        assert_eq!(sym.name, name);
        assert_eq!(sym.offset, 5);
        assert_eq!(sym.module.as_deref(), libc.path.as_deref());
    }

    #[test]
    fn perf_map_for_jit_addresses() {
        // A pid above pid_max (2^22): no snapshot, only the perf map.
        let pid = 4_200_000 + (std::process::id() % 100_000);
        let path = format!("/tmp/perf-{pid}.map");
        std::fs::write(&path, "7f0000001000 100 jitted_fn\n").unwrap();
        let mut cache = ProcessCache::new();
        let mut s = UserSymbolizer::new();
        let out = s.symbolize(&mut cache, pid, &[0x7f0000001010, 0x7f0000002000]);
        // A grown map is reloaded.
        std::fs::write(
            &path,
            "7f0000001000 100 jitted_fn\n7f0000002000 10 later_fn\n",
        )
        .unwrap();
        let later = s.symbolize(&mut cache, pid, &[0x7f0000002004]);
        std::fs::remove_file(&path).unwrap();
        let sym = out[0].as_ref().expect("perf map symbol");
        assert_eq!(sym.name, "jitted_fn");
        assert_eq!(sym.offset, 0x10);
        assert_eq!(sym.module.as_deref(), Some(path.as_str()));
        assert_eq!(out[1], None);
        assert_eq!(later[0].as_ref().map(|s| s.name.as_str()), Some("later_fn"));
    }
}
