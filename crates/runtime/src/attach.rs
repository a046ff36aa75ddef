//! Attaching loaded programs: tracepoints, perf events and raw tracepoints.
//!
//! Each attachment owns file descriptors; dropping it detaches. Detaching a perf-event
//! tracepoint waits for RCU grace periods under a global kernel mutex (about 30 ms each, one
//! after another, measured on 6.18), while a raw tracepoint detaches in about 0.1 ms: that is
//! why wide syscall wildcards are served by one raw `sys_enter`/`sys_exit` program.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use crate::program::Program;
use crate::sys::{self, BpfAttr, PerfEventAttr};

/// Why an attach failed.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error("attaching {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

fn io_error(what: impl Into<String>) -> impl FnOnce(io::Error) -> AttachError {
    let what = what.into();
    move |source| AttachError::Io { what, source }
}

/// A program attached to a perf event through a BPF link, or to a raw tracepoint (link only).
#[derive(Debug)]
pub struct Attachment {
    pub link: Option<OwnedFd>,
    pub event: Option<OwnedFd>,
}

const BPF_PERF_EVENT: u32 = 41;

fn link_perf_event(event: OwnedFd, program: &Program, cookie: u64) -> io::Result<Attachment> {
    let mut attr = BpfAttr::default();
    attr.put_u32(0, program.fd() as u32)
        .put_u32(4, event.as_raw_fd() as u32)
        .put_u32(8, BPF_PERF_EVENT)
        .put_u64(16, cookie);
    match sys::bpf_fd(sys::BPF_LINK_CREATE, &mut attr) {
        Ok(link) => Ok(Attachment {
            link: Some(link),
            event: Some(event),
        }),
        Err(err)
            if matches!(
                err.raw_os_error(),
                Some(libc::EINVAL) | Some(libc::EOPNOTSUPP)
            ) =>
        {
            // Kernels before 5.15 have no perf links: attach through the perf ioctl.
            sys::perf_ioctl(
                event.as_raw_fd(),
                sys::PERF_EVENT_IOC_SET_BPF,
                program.fd() as libc::c_ulong,
            )?;
            sys::perf_ioctl(event.as_raw_fd(), sys::PERF_EVENT_IOC_ENABLE, 0)?;
            Ok(Attachment {
                link: None,
                event: Some(event),
            })
        }
        Err(err) => Err(err),
    }
}

/// Attaches a tracepoint program to the tracepoint with tracefs id `id`. The program runs on
/// every CPU; one perf event on CPU 0 carries it. `cookie` is what `bpf_get_attach_cookie`
/// returns in the program (it tells apart the tracepoints one program serves).
pub fn tracepoint(
    program: &Program,
    id: u64,
    cookie: u64,
    what: &str,
) -> Result<Attachment, AttachError> {
    let attr = PerfEventAttr {
        type_: sys::PERF_TYPE_TRACEPOINT,
        config: id,
        sample_period_or_freq: 1,
        wakeup_events: 1,
        ..Default::default()
    };
    let event = sys::perf_event_open(&attr, -1, 0).map_err(io_error(what))?;
    link_perf_event(event, program, cookie).map_err(io_error(what))
}

/// How often a perf event fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    /// Every N events (for clocks: every N nanoseconds).
    Period(u64),
    /// N times per second.
    Frequency(u64),
}

/// Attaches a perf-event program to a software or hardware event on `cpu` (all processes).
pub fn perf_event(
    program: &Program,
    type_: u32,
    config: u64,
    sampling: Sampling,
    cpu: u32,
    what: &str,
) -> Result<Attachment, AttachError> {
    let (value, flags) = match sampling {
        Sampling::Period(n) => (n, 0),
        Sampling::Frequency(n) => (n, sys::PERF_FLAG_FREQ),
    };
    let attr = PerfEventAttr {
        type_,
        config,
        sample_period_or_freq: value,
        flags,
        ..Default::default()
    };
    let event = sys::perf_event_open(&attr, -1, cpu as i32).map_err(io_error(what))?;
    link_perf_event(event, program, 0).map_err(io_error(what))
}

/// Attaches a raw-tracepoint program to the kernel tracepoint `name`.
pub fn raw_tracepoint(program: &Program, name: &str) -> Result<Attachment, AttachError> {
    let cname = std::ffi::CString::new(name).map_err(|_| AttachError::Io {
        what: name.to_string(),
        source: io::ErrorKind::InvalidInput.into(),
    })?;
    let mut attr = BpfAttr::default();
    attr.put_u64(0, cname.as_ptr() as u64)
        .put_u32(8, program.fd() as u32);
    let link = sys::bpf_fd(sys::BPF_RAW_TRACEPOINT_OPEN, &mut attr)
        .map_err(io_error(format!("rawtracepoint:{name}")))?;
    Ok(Attachment {
        link: Some(link),
        event: None,
    })
}

/// Detaches everything: links first, so that no program runs any more, then the events.
pub fn detach_all(attachments: Vec<Attachment>) {
    let mut events = Vec::with_capacity(attachments.len());
    for attachment in attachments {
        drop(attachment.link);
        events.extend(attachment.event);
    }
    drop(events);
}

/// Where the kernel describes its PMUs.
const PMU_ROOT: &str = "/sys/bus/event_source/devices";

/// A dynamic probe PMU (`kprobe` or `uprobe`): its perf type and the bits of `config` that
/// make a return probe and hold a reference counter offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbePmu {
    pub type_: u32,
    pub retprobe_bit: u32,
    /// First bit of the `ref_ctr_offset` field (uprobes), when the kernel has one.
    pub ref_ctr_shift: Option<u32>,
}

impl ProbePmu {
    /// Reads PMU `name` under `root` (the sysfs event source directory; tests pass a fake one).
    pub fn read(root: &std::path::Path, name: &str) -> io::Result<ProbePmu> {
        let base = root.join(name);
        let type_ = std::fs::read_to_string(base.join("type"))?
            .trim()
            .parse()
            .map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, format!("bad {name} PMU type"))
            })?;
        // Format files say e.g. "config:0" or "config:32-63".
        let first_bit = |file: &str| -> Option<u32> {
            let text = std::fs::read_to_string(base.join("format").join(file)).ok()?;
            let bits = text.trim().strip_prefix("config:")?;
            bits.split('-').next()?.parse().ok()
        };
        Ok(ProbePmu {
            type_,
            retprobe_bit: first_bit("retprobe").unwrap_or(0),
            ref_ctr_shift: first_bit("ref_ctr_offset"),
        })
    }

    /// The perf event attributes of a probe at `offset` from `target` (a pointer to a C string:
    /// a file path for uprobes, a function name for kprobes).
    pub fn attr(
        &self,
        target: u64,
        offset: u64,
        retprobe: bool,
        ref_ctr_offset: u64,
    ) -> PerfEventAttr {
        let mut config = if retprobe { 1 << self.retprobe_bit } else { 0 };
        if let Some(shift) = self.ref_ctr_shift {
            config |= ref_ctr_offset << shift;
        }
        PerfEventAttr {
            type_: self.type_,
            config,
            config1: target,
            config2: offset,
            sample_period_or_freq: 1,
            wakeup_events: 1,
            ..Default::default()
        }
    }
}

/// Attaches a kprobe-type program to offset `offset` of the file `path` (a uprobe, or a
/// uretprobe when `retprobe`), through the uprobe PMU: no tracefs entry is created.
/// `pid` limits it to one process.
pub fn uprobe(
    program: &Program,
    path: &str,
    offset: u64,
    retprobe: bool,
    pid: Option<u32>,
    cookie: u64,
    what: &str,
) -> Result<Attachment, AttachError> {
    uprobe_with_semaphore(program, path, offset, 0, retprobe, pid, cookie, what)
}

/// A uprobe (for USDT) whose semaphore at file offset `semaphore` the kernel increments
/// while it is attached (the `ref_ctr_offset` of the uprobe PMU, in bits 32-63 of `config`).
#[allow(clippy::too_many_arguments)]
pub fn uprobe_with_semaphore(
    program: &Program,
    path: &str,
    offset: u64,
    semaphore: u64,
    retprobe: bool,
    pid: Option<u32>,
    cookie: u64,
    what: &str,
) -> Result<Attachment, AttachError> {
    let pmu = ProbePmu::read(std::path::Path::new(PMU_ROOT), "uprobe")
        .map_err(io_error(format!("{what}: no uprobe PMU")))?;
    let cpath = std::ffi::CString::new(path).map_err(|_| AttachError::Io {
        what: what.to_string(),
        source: io::ErrorKind::InvalidInput.into(),
    })?;
    let attr = pmu.attr(cpath.as_ptr() as u64, offset, retprobe, semaphore);
    let (pid, cpu) = match pid {
        Some(pid) => (pid as i32, -1),
        None => (-1, 0),
    };
    let event = sys::perf_event_open(&attr, pid, cpu).map_err(io_error(what))?;
    link_perf_event(event, program, cookie).map_err(io_error(what))
}

/// Attaches a kprobe-type program to a kernel function through the kprobe PMU (no tracefs
/// `kprobe_events` entry). Fails with a clear error on kernels built without kprobes.
pub fn kprobe(
    program: &Program,
    function: &str,
    offset: u64,
    retprobe: bool,
    cookie: u64,
    what: &str,
) -> Result<Attachment, AttachError> {
    let pmu =
        ProbePmu::read(std::path::Path::new(PMU_ROOT), "kprobe").map_err(|_| AttachError::Io {
            what: format!("{what}: this kernel has no kprobe PMU"),
            source: io::ErrorKind::Unsupported.into(),
        })?;
    let name = std::ffi::CString::new(function).map_err(|_| AttachError::Io {
        what: what.to_string(),
        source: io::ErrorKind::InvalidInput.into(),
    })?;
    let attr = pmu.attr(name.as_ptr() as u64, offset, retprobe, 0);
    let event = sys::perf_event_open(&attr, -1, 0).map_err(io_error(what))?;
    link_perf_event(event, program, cookie).map_err(io_error(what))
}

/// The `BPF_RAW_TRACEPOINT_OPEN` attributes that attach fentry/fexit program `prog_fd`: no
/// tracepoint name (the target is the BTF id given at load time).
fn tracing_attr(prog_fd: u32) -> BpfAttr {
    let mut attr = BpfAttr::default();
    attr.put_u64(0, 0).put_u32(8, prog_fd);
    attr
}

/// Attaches a loaded fentry/fexit program (its target was given when loading).
pub fn tracing(program: &Program, what: &str) -> Result<Attachment, AttachError> {
    let mut attr = tracing_attr(program.fd() as u32);
    let link = sys::bpf_fd(sys::BPF_RAW_TRACEPOINT_OPEN, &mut attr).map_err(io_error(what))?;
    Ok(Attachment {
        link: Some(link),
        event: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fentry_attach_names_no_tracepoint() {
        let attr = tracing_attr(7);
        assert_eq!(attr.0[..8], [0; 8], "name pointer is NULL");
        assert_eq!(attr.get_u32(8), 7);
        assert!(attr.0[12..].iter().all(|b| *b == 0));
    }

    /// A fake sysfs event source directory with one PMU.
    fn fake_pmu(name: &str, type_: &str, formats: &[(&str, &str)]) -> std::path::PathBuf {
        let root = std::env::temp_dir().join(format!("scry-pmu-{}-{name}", std::process::id()));
        let format = root.join(name).join("format");
        std::fs::create_dir_all(&format).unwrap();
        std::fs::write(root.join(name).join("type"), type_).unwrap();
        for (file, text) in formats {
            std::fs::write(format.join(file), text).unwrap();
        }
        root
    }

    #[test]
    fn kprobe_attributes_from_the_pmu_description() {
        // What a kernel with kprobes describes (this machine has none).
        let root = fake_pmu("kprobe", "8\n", &[("retprobe", "config:0\n")]);
        let pmu = ProbePmu::read(&root, "kprobe").unwrap();
        assert_eq!(
            pmu,
            ProbePmu {
                type_: 8,
                retprobe_bit: 0,
                ref_ctr_shift: None
            }
        );
        let entry = pmu.attr(0x1000, 4, false, 0);
        assert_eq!(
            (entry.type_, entry.config, entry.config1, entry.config2),
            (8, 0, 0x1000, 4)
        );
        let ret = pmu.attr(0x1000, 0, true, 0);
        assert_eq!(ret.config, 1);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn uprobe_semaphore_goes_in_the_ref_ctr_bits() {
        let root = fake_pmu(
            "uprobe",
            "7",
            &[("retprobe", "config:0"), ("ref_ctr_offset", "config:32-63")],
        );
        let pmu = ProbePmu::read(&root, "uprobe").unwrap();
        assert_eq!(pmu.ref_ctr_shift, Some(32));
        let attr = pmu.attr(0x2000, 0x1174, false, 0x401a);
        assert_eq!(attr.config, 0x401a << 32);
        assert_eq!(attr.config2, 0x1174);
        assert!(
            ProbePmu::read(&root, "kprobe").is_err(),
            "a missing PMU is an error"
        );
        std::fs::remove_dir_all(root).unwrap();
    }
}
