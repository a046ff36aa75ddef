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

/// The uprobe PMU's type and the bit of `config` that makes a uretprobe.
fn uprobe_pmu() -> io::Result<(u32, u32)> {
    let base = std::path::Path::new("/sys/bus/event_source/devices/uprobe");
    let pmu_type = std::fs::read_to_string(base.join("type"))?
        .trim()
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad uprobe PMU type"))?;
    // "config:0"
    let format =
        std::fs::read_to_string(base.join("format/retprobe")).unwrap_or_else(|_| "config:0".into());
    let bit = format
        .trim()
        .rsplit(':')
        .next()
        .and_then(|b| b.parse().ok())
        .unwrap_or(0);
    Ok((pmu_type, bit))
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
    let (pmu_type, retbit) = uprobe_pmu().map_err(io_error(format!("{what}: no uprobe PMU")))?;
    let cpath = std::ffi::CString::new(path).map_err(|_| AttachError::Io {
        what: what.to_string(),
        source: io::ErrorKind::InvalidInput.into(),
    })?;
    let attr = PerfEventAttr {
        type_: pmu_type,
        config: (if retprobe { 1 << retbit } else { 0 }) | (semaphore << 32),
        config1: cpath.as_ptr() as u64,
        config2: offset,
        sample_period_or_freq: 1,
        wakeup_events: 1,
        ..Default::default()
    };
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
    let base = std::path::Path::new("/sys/bus/event_source/devices/kprobe");
    let pmu_type: u32 = std::fs::read_to_string(base.join("type"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .ok_or_else(|| AttachError::Io {
            what: format!("{what}: this kernel has no kprobe PMU"),
            source: io::ErrorKind::Unsupported.into(),
        })?;
    let format =
        std::fs::read_to_string(base.join("format/retprobe")).unwrap_or_else(|_| "config:0".into());
    let retbit: u32 = format
        .trim()
        .rsplit(':')
        .next()
        .and_then(|b| b.parse().ok())
        .unwrap_or(0);
    let name = std::ffi::CString::new(function).map_err(|_| AttachError::Io {
        what: what.to_string(),
        source: io::ErrorKind::InvalidInput.into(),
    })?;
    let attr = PerfEventAttr {
        type_: pmu_type,
        config: if retprobe { 1 << retbit } else { 0 },
        config1: name.as_ptr() as u64,
        config2: offset,
        sample_period_or_freq: 1,
        wakeup_events: 1,
        ..Default::default()
    };
    let event = sys::perf_event_open(&attr, -1, 0).map_err(io_error(what))?;
    link_perf_event(event, program, cookie).map_err(io_error(what))
}

/// Attaches a loaded fentry/fexit program (its target was given when loading).
pub fn tracing(program: &Program, what: &str) -> Result<Attachment, AttachError> {
    let mut attr = BpfAttr::default();
    attr.put_u64(0, 0).put_u32(8, program.fd() as u32);
    let link = sys::bpf_fd(sys::BPF_RAW_TRACEPOINT_OPEN, &mut attr).map_err(io_error(what))?;
    Ok(Attachment {
        link: Some(link),
        event: None,
    })
}
