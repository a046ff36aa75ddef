//! Snapshots of process address spaces that outlive the processes.
//!
//! When the runtime first sees a pid in a `ustack`/`usym` event it calls
//! [`ProcessCache::snapshot`]: the executable mappings of `/proc/PID/maps` are
//! recorded and every mapped file is opened (through `/proc/PID/map_files/…`, which
//! also reaches deleted files, else `/proc/PID/root/PATH`, else `PATH`). The open
//! handles are shared by (device, inode) across processes, so `libc.so.6` is opened
//! once. Symbolization later reads the files through `/proc/self/fd/N`, which works
//! after the process exited and after the file was deleted or replaced.

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::maps::{MapEntry, parse_maps};
use crate::{Error, Result};

/// Default cap on file handles held by a [`ProcessCache`].
pub const DEFAULT_MAX_OPEN_FILES: usize = 1024;

/// What backs a [`Mapping`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MappingKind {
    /// A file (ELF executable or shared library).
    File,
    /// The kernel-provided vDSO.
    Vdso,
    /// Anonymous executable memory (JIT code), or another pseudo mapping.
    Anon,
}

/// An open file kept for later symbolization.
#[derive(Debug)]
pub(crate) struct HeldFile {
    _file: File,
    fd_path: PathBuf,
}

/// One executable mapping of a snapshot.
#[derive(Clone, Debug)]
pub struct Mapping {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// File offset of `start`.
    pub offset: u64,
    /// Path (or pseudo name such as `[vdso]`) as shown in `/proc/PID/maps`.
    pub path: Option<String>,
    /// What backs the mapping.
    pub kind: MappingKind,
    /// Device (major, minor) and inode of the file, `None` for non-file mappings.
    pub file_id: Option<FileId>,
    file: Option<Arc<HeldFile>>,
}

/// Identity of a mapped file: device major, device minor, inode.
pub type FileId = (u32, u32, u64);

impl Mapping {
    /// Whether `addr` lies in the mapping.
    pub fn contains(&self, addr: u64) -> bool {
        (self.start..self.end).contains(&addr)
    }

    /// File offset of `addr` (which must lie in the mapping).
    pub fn file_offset(&self, addr: u64) -> u64 {
        addr - self.start + self.offset
    }

    /// Whether a handle on the file is held (symbolization survives exit and deletion).
    pub fn is_held(&self) -> bool {
        self.file.is_some()
    }

    /// The path through which the file's contents can be read now.
    pub(crate) fn read_path(&self) -> Option<PathBuf> {
        match (&self.file, &self.path) {
            (Some(held), _) => Some(held.fd_path.clone()),
            (None, Some(p)) if self.kind == MappingKind::File => Some(PathBuf::from(p)),
            _ => None,
        }
    }
}

/// The executable mappings of one process at snapshot time.
#[derive(Clone, Debug)]
pub struct ProcessSnapshot {
    pid: u32,
    start_time: Option<u64>,
    exe: Option<String>,
    mappings: Vec<Mapping>,
}

impl ProcessSnapshot {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Executable mappings, sorted by address.
    pub fn mappings(&self) -> &[Mapping] {
        &self.mappings
    }

    /// The mapping containing `addr`.
    pub fn find(&self, addr: u64) -> Option<&Mapping> {
        let idx = self.mappings.partition_point(|m| m.start <= addr);
        self.mappings[..idx].last().filter(|m| m.contains(addr))
    }

    /// Path of the main executable (`/proc/PID/exe` at snapshot time).
    pub fn exe_path(&self) -> Option<&str> {
        self.exe.as_deref()
    }
}

/// Snapshots of processes, keyed by pid. `Send + Sync`; symbolize with
/// [`UserSymbolizer`](crate::UserSymbolizer).
#[derive(Debug)]
pub struct ProcessCache {
    procs: HashMap<u32, ProcessSnapshot>,
    files: HashMap<FileId, Arc<HeldFile>>,
    max_open_files: usize,
    proc_root: PathBuf,
}

impl Default for ProcessCache {
    fn default() -> Self {
        Self::new()
    }
}

impl ProcessCache {
    /// An empty cache holding at most [`DEFAULT_MAX_OPEN_FILES`] file handles.
    pub fn new() -> Self {
        Self::with_max_open_files(DEFAULT_MAX_OPEN_FILES)
    }

    /// An empty cache holding at most `max` file handles; past that, mappings only
    /// record their path (symbolization then needs the file to still be there).
    pub fn with_max_open_files(max: usize) -> Self {
        ProcessCache {
            procs: HashMap::new(),
            files: HashMap::new(),
            max_open_files: max,
            proc_root: PathBuf::from("/proc"),
        }
    }

    /// Snapshot `pid` unless it already has a snapshot.
    pub fn snapshot(&mut self, pid: u32) -> Result<()> {
        if self.procs.contains_key(&pid) {
            return Ok(());
        }
        let snap = self.read(pid)?;
        self.procs.insert(pid, snap);
        Ok(())
    }

    /// Snapshot every running process not yet known (kernel threads, which map
    /// nothing, are skipped); returns how many were added. For system-wide profiles
    /// whose stacks reach user space only at print time, call it at start and
    /// periodically so short-lived processes are caught.
    pub fn snapshot_all(&mut self) -> usize {
        let Ok(dir) = std::fs::read_dir(&self.proc_root) else {
            return 0;
        };
        let pids: Vec<u32> = dir
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .filter(|pid| !self.procs.contains_key(pid))
            .collect();
        let mut added = 0;
        for pid in pids {
            if let Ok(snap) = self.read(pid)
                && !snap.mappings.is_empty()
            {
                self.procs.insert(pid, snap);
                added += 1;
            }
        }
        added
    }

    /// Re-read the maps of a live `pid` (new libraries, exec) and merge them into its
    /// snapshot: new mappings replace overlapping old ones. A different process that
    /// reused the pid (other start time) replaces the snapshot.
    pub fn refresh(&mut self, pid: u32) -> Result<()> {
        let fresh = self.read(pid)?;
        let merged = match self.procs.remove(&pid) {
            Some(old) if old.start_time == fresh.start_time => merge(old, fresh),
            _ => fresh,
        };
        self.procs.insert(pid, merged);
        Ok(())
    }

    /// The snapshot of `pid`.
    pub fn get(&self, pid: u32) -> Option<&ProcessSnapshot> {
        self.procs.get(&pid)
    }

    /// Drop the snapshot of `pid` and close files no other snapshot uses.
    pub fn forget(&mut self, pid: u32) {
        if self.procs.remove(&pid).is_some() {
            self.files.retain(|_, f| Arc::strong_count(f) > 1);
        }
    }

    /// Number of snapshots.
    pub fn len(&self) -> usize {
        self.procs.len()
    }

    /// Whether there is no snapshot.
    pub fn is_empty(&self) -> bool {
        self.procs.is_empty()
    }

    /// Number of file handles held.
    pub fn open_files(&self) -> usize {
        self.files.len()
    }

    /// Whether `pid` is currently running with the same start time as its snapshot
    /// (or is running, when there is no snapshot).
    pub fn is_alive(&self, pid: u32) -> bool {
        let Some(now) = self.start_time(pid) else {
            return false;
        };
        self.procs
            .get(&pid)
            .is_none_or(|s| s.start_time.is_none_or(|t| t == now))
    }

    fn proc_path(&self, pid: u32, rest: &str) -> PathBuf {
        self.proc_root.join(pid.to_string()).join(rest)
    }

    fn start_time(&self, pid: u32) -> Option<u64> {
        let stat = std::fs::read_to_string(self.proc_path(pid, "stat")).ok()?;
        // Field 22; the comm (field 2) may contain spaces and parentheses.
        let after_comm = &stat[stat.rfind(')')? + 1..];
        after_comm.split_whitespace().nth(19)?.parse().ok()
    }

    fn read(&mut self, pid: u32) -> Result<ProcessSnapshot> {
        let text = std::fs::read_to_string(self.proc_path(pid, "maps"))
            .map_err(|_| Error::NoSuchProcess(pid))?;
        let start_time = self.start_time(pid);
        let exe = std::fs::read_link(self.proc_path(pid, "exe"))
            .ok()
            .map(|p| strip_deleted(&p.to_string_lossy()).to_owned());
        let mut mappings: Vec<Mapping> = parse_maps(&text)
            .into_iter()
            .filter(MapEntry::is_exec)
            .map(|e| {
                let kind = if e.is_file() {
                    MappingKind::File
                } else if e.path.as_deref() == Some("[vdso]") {
                    MappingKind::Vdso
                } else {
                    MappingKind::Anon
                };
                let file = (kind == MappingKind::File)
                    .then(|| self.hold(pid, &e))
                    .flatten();
                Mapping {
                    start: e.start,
                    end: e.end,
                    offset: e.offset,
                    path: e.path,
                    kind,
                    file_id: (kind == MappingKind::File).then_some((e.dev.0, e.dev.1, e.inode)),
                    file,
                }
            })
            .collect();
        mappings.sort_by_key(|m| m.start);
        Ok(ProcessSnapshot {
            pid,
            start_time,
            exe,
            mappings,
        })
    }

    fn hold(&mut self, pid: u32, e: &MapEntry) -> Option<Arc<HeldFile>> {
        let key = (e.dev.0, e.dev.1, e.inode);
        if let Some(f) = self.files.get(&key) {
            return Some(Arc::clone(f));
        }
        if self.files.len() >= self.max_open_files {
            return None;
        }
        let file = self.open_mapped(pid, e)?;
        let fd_path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        let held = Arc::new(HeldFile {
            _file: file,
            fd_path,
        });
        self.files.insert(key, Arc::clone(&held));
        Some(held)
    }

    fn open_mapped(&self, pid: u32, e: &MapEntry) -> Option<File> {
        let map_file = self.proc_path(pid, &format!("map_files/{:x}-{:x}", e.start, e.end));
        if let Ok(f) = File::open(map_file) {
            return Some(f);
        }
        let path = e.path.as_deref()?;
        let in_root = self
            .proc_path(pid, "root")
            .join(path.trim_start_matches('/'));
        [in_root.as_path(), Path::new(path)]
            .into_iter()
            .filter_map(|p| File::open(p).ok())
            .find(|f| f.metadata().is_ok_and(|m| m.ino() == e.inode))
    }
}

fn strip_deleted(p: &str) -> &str {
    p.strip_suffix(" (deleted)").unwrap_or(p)
}

fn merge(old: ProcessSnapshot, fresh: ProcessSnapshot) -> ProcessSnapshot {
    let mut mappings = fresh.mappings;
    let kept: Vec<Mapping> = old
        .mappings
        .into_iter()
        .filter(|o| !mappings.iter().any(|n| o.start < n.end && n.start < o.end))
        .collect();
    mappings.extend(kept);
    mappings.sort_by_key(|m| m.start);
    ProcessSnapshot {
        mappings,
        exe: fresh.exe.or(old.exe),
        ..fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(start: u64, end: u64, path: &str) -> Mapping {
        Mapping {
            start,
            end,
            offset: 0,
            path: Some(path.to_owned()),
            kind: MappingKind::File,
            file_id: Some((8, 1, start)),
            file: None,
        }
    }

    fn snap(mappings: Vec<Mapping>) -> ProcessSnapshot {
        ProcessSnapshot {
            pid: 1,
            start_time: Some(5),
            exe: None,
            mappings,
        }
    }

    #[test]
    fn find_and_offsets() {
        let mut m = mapping(0x1000, 0x2000, "/a");
        m.offset = 0x3000;
        let s = snap(vec![m, mapping(0x5000, 0x6000, "/b")]);
        assert_eq!(s.find(0x1800).unwrap().path.as_deref(), Some("/a"));
        assert_eq!(s.find(0x1800).unwrap().file_offset(0x1800), 0x3800);
        assert!(s.find(0x2000).is_none());
        assert!(s.find(0xfff).is_none());
        assert_eq!(s.find(0x5fff).unwrap().path.as_deref(), Some("/b"));
        assert_eq!(
            s.find(0x5000).unwrap().read_path(),
            Some(PathBuf::from("/b"))
        );
    }

    #[test]
    fn merge_prefers_fresh_mappings() {
        let old = snap(vec![
            mapping(0x1000, 0x2000, "/old"),
            mapping(0x8000, 0x9000, "/kept"),
        ]);
        let fresh = snap(vec![
            mapping(0x1800, 0x2800, "/new"),
            mapping(0x3000, 0x4000, "/lib"),
        ]);
        let m = merge(old, fresh);
        let paths: Vec<_> = m.mappings.iter().map(|m| m.path.clone().unwrap()).collect();
        assert_eq!(paths, ["/new", "/lib", "/kept"]);
    }

    #[test]
    fn snapshot_of_self_holds_files() {
        let mut cache = ProcessCache::new();
        let pid = std::process::id();
        cache.snapshot(pid).unwrap();
        let s = cache.get(pid).unwrap();
        assert!(s.exe_path().is_some());
        let exec_files: Vec<_> = s
            .mappings()
            .iter()
            .filter(|m| m.kind == MappingKind::File)
            .collect();
        assert!(!exec_files.is_empty());
        assert!(exec_files.iter().all(|m| m.is_held()));
        assert!(cache.open_files() >= 1);
        assert!(cache.is_alive(pid));
        cache.refresh(pid).unwrap();
        assert_eq!(cache.len(), 1);
        cache.forget(pid);
        assert!(cache.is_empty());
        assert_eq!(cache.open_files(), 0);
    }

    #[test]
    fn missing_process_is_an_error() {
        let mut cache = ProcessCache::new();
        // pid_max is at most 2^22.
        assert!(matches!(
            cache.snapshot(u32::MAX - 1),
            Err(Error::NoSuchProcess(_))
        ));
        assert!(!cache.is_alive(u32::MAX - 1));
    }

    #[test]
    fn cache_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<ProcessCache>();
    }

    #[test]
    fn snapshot_all_finds_self() {
        let mut cache = ProcessCache::new();
        let added = cache.snapshot_all();
        assert!(added >= 1);
        assert!(cache.get(std::process::id()).is_some());
        // Kernel threads (pid 2 is kthreadd) map nothing and are skipped.
        assert!(cache.get(2).is_none());
    }

    #[test]
    fn file_cap_is_respected() {
        let mut cache = ProcessCache::with_max_open_files(0);
        let pid = std::process::id();
        cache.snapshot(pid).unwrap();
        assert_eq!(cache.open_files(), 0);
        let s = cache.get(pid).unwrap();
        assert!(s.mappings().iter().all(|m| !m.is_held()));
    }
}
