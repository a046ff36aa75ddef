//! Just enough of the `bpf(2)` syscall to tell whether a BPF object still exists, and
//! `/proc/PID/fdinfo` parsing to learn which objects a process holds. Used to prove that scry
//! leaves no program, map or link behind, however it exits.

#![allow(unsafe_code)] // The bpf(2) syscall has no safe wrapper in std.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
const BPF_MAP_GET_FD_BY_ID: libc::c_long = 14;
const BPF_LINK_GET_FD_BY_ID: libc::c_long = 30;

/// The kind of a BPF kernel object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Prog,
    Map,
    Link,
}

/// The BPF objects a process holds file descriptors for, by kernel id.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Held(pub BTreeSet<(Kind, u32)>);

impl Held {
    /// Reads `/proc/PID/fdinfo/*` of a live process.
    pub fn of(pid: u32) -> Self {
        let mut held = BTreeSet::new();
        let dir = format!("/proc/{pid}/fdinfo");
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("read {dir}: {e}"));
        for entry in entries.flatten() {
            // A descriptor may close between listing and reading: ignore it then.
            let Ok(info) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            held.extend(parse_fdinfo(&info));
        }
        Self(held)
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.0.iter().filter(|(k, _)| *k == kind).count()
    }

    /// The objects that still exist in the kernel.
    pub fn still_alive(&self) -> Vec<(Kind, u32)> {
        self.0
            .iter()
            .copied()
            .filter(|&(k, id)| exists(k, id))
            .collect()
    }

    /// Waits (the kernel frees objects asynchronously, after an RCU grace period) until none of
    /// the objects exists; returns those still alive at the deadline.
    pub fn wait_gone(&self, timeout: Duration) -> Vec<(Kind, u32)> {
        let deadline = Instant::now() + timeout;
        loop {
            let alive = self.still_alive();
            if alive.is_empty() || Instant::now() > deadline {
                return alive;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The BPF object ids named in one fdinfo file (a link names its program too).
pub fn parse_fdinfo(info: &str) -> Vec<(Kind, u32)> {
    info.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(':')?;
            let kind = match key {
                "prog_id" => Kind::Prog,
                "map_id" => Kind::Map,
                "link_id" => Kind::Link,
                _ => return None,
            };
            Some((kind, value.trim().parse().ok()?))
        })
        .collect()
}

/// Whether the kernel still has the object `id` of `kind` (opening it by id succeeds).
pub fn exists(kind: Kind, id: u32) -> bool {
    let cmd = match kind {
        Kind::Prog => BPF_PROG_GET_FD_BY_ID,
        Kind::Map => BPF_MAP_GET_FD_BY_ID,
        Kind::Link => BPF_LINK_GET_FD_BY_ID,
    };
    // union bpf_attr for the *_GET_FD_BY_ID commands: { u32 id; u32 next_id; u32 open_flags; }
    let mut attr = [0u32; 4];
    attr[0] = id;
    // SAFETY: `attr` is a live, properly aligned buffer of the size passed, the kernel only
    // reads it for these commands, and a returned descriptor is closed right away.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr.as_mut_ptr(),
            std::mem::size_of_val(&attr),
        )
    };
    if fd >= 0 {
        // SAFETY: `fd` is a descriptor this function just received and owns.
        unsafe { libc::close(fd as libc::c_int) };
        return true;
    }
    let err = std::io::Error::last_os_error();
    assert_eq!(
        err.raw_os_error(),
        Some(libc::ENOENT),
        "bpf(GET_FD_BY_ID {kind:?} {id}) failed unexpectedly: {err}"
    );
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prog_link_and_map_ids() {
        let link = "pos:\t0\nflags:\t02000000\nlink_type:\tperf\nlink_id:\t1181\nprog_tag:\t716f\nprog_id:\t530\n";
        assert_eq!(
            parse_fdinfo(link),
            vec![(Kind::Link, 1181), (Kind::Prog, 530)]
        );
        assert_eq!(
            parse_fdinfo("map_type:\t2\nmap_id:\t404\n"),
            vec![(Kind::Map, 404)]
        );
        assert!(parse_fdinfo("pos:\t0\nflags:\t0100002\n").is_empty());
    }
}
