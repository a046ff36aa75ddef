//! Raw `bpf()` and `perf_event_open()` system calls.
//!
//! Every `unsafe` block of scry's runtime lives here; each one passes pointers to memory that
//! outlives the call, with sizes the kernel is told explicitly.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

pub const BPF_MAP_CREATE: u32 = 0;
pub const BPF_MAP_LOOKUP_ELEM: u32 = 1;
pub const BPF_MAP_UPDATE_ELEM: u32 = 2;
pub const BPF_MAP_DELETE_ELEM: u32 = 3;
pub const BPF_MAP_GET_NEXT_KEY: u32 = 4;
pub const BPF_PROG_LOAD: u32 = 5;
pub const BPF_PROG_TEST_RUN: u32 = 10;
pub const BPF_RAW_TRACEPOINT_OPEN: u32 = 17;
pub const BPF_BTF_LOAD: u32 = 18;
pub const BPF_LINK_CREATE: u32 = 28;

/// `union bpf_attr` as a zeroed, 8-byte aligned byte area; commands fill their fields.
#[repr(C, align(8))]
pub struct BpfAttr(pub [u8; 160]);

impl Default for BpfAttr {
    fn default() -> Self {
        BpfAttr([0; 160])
    }
}

impl BpfAttr {
    pub fn put_u32(&mut self, offset: usize, value: u32) -> &mut Self {
        self.0[offset..offset + 4].copy_from_slice(&value.to_ne_bytes());
        self
    }
    pub fn put_u64(&mut self, offset: usize, value: u64) -> &mut Self {
        self.0[offset..offset + 8].copy_from_slice(&value.to_ne_bytes());
        self
    }
    pub fn put_bytes(&mut self, offset: usize, value: &[u8]) -> &mut Self {
        self.0[offset..offset + value.len()].copy_from_slice(value);
        self
    }
    pub fn get_u32(&self, offset: usize) -> u32 {
        u32::from_ne_bytes(self.0[offset..offset + 4].try_into().expect("4 bytes"))
    }
}

/// Calls `bpf(cmd, attr, sizeof attr)`.
pub fn bpf(cmd: u32, attr: &mut BpfAttr) -> io::Result<i64> {
    // SAFETY: attr is a valid, initialised 160-byte buffer; pointers stored inside it by the
    // callers refer to buffers that the callers keep alive across this call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd as libc::c_long,
            attr.0.as_mut_ptr(),
            attr.0.len() as libc::c_long,
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Calls `bpf()` for a command that returns a new file descriptor.
pub fn bpf_fd(cmd: u32, attr: &mut BpfAttr) -> io::Result<OwnedFd> {
    let fd = bpf(cmd, attr)?;
    // SAFETY: the kernel returned a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `struct perf_event_attr` (PERF_ATTR_SIZE_VER8, 136 bytes).
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct PerfEventAttr {
    pub type_: u32,
    pub size: u32,
    pub config: u64,
    pub sample_period_or_freq: u64,
    pub sample_type: u64,
    pub read_format: u64,
    pub flags: u64,
    pub wakeup_events: u32,
    pub bp_type: u32,
    pub config1: u64,
    pub config2: u64,
    pub branch_sample_type: u64,
    pub sample_regs_user: u64,
    pub sample_stack_user: u32,
    pub clockid: i32,
    pub sample_regs_intr: u64,
    pub aux_watermark: u32,
    pub sample_max_stack: u16,
    pub reserved_2: u16,
    pub aux_sample_size: u32,
    pub reserved_3: u32,
    pub sig_data: u64,
    pub config3: u64,
}

pub const PERF_TYPE_HARDWARE: u32 = 0;
pub const PERF_TYPE_SOFTWARE: u32 = 1;
pub const PERF_TYPE_TRACEPOINT: u32 = 2;
pub const PERF_FLAG_DISABLED: u64 = 1 << 0;
pub const PERF_FLAG_FREQ: u64 = 1 << 10;
pub const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 8;
pub const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
pub const PERF_EVENT_IOC_SET_BPF: libc::c_ulong = 0x4004_2408;

/// Calls `perf_event_open(attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC)`.
pub fn perf_event_open(attr: &PerfEventAttr, pid: i32, cpu: i32) -> io::Result<OwnedFd> {
    let mut attr = *attr;
    attr.size = std::mem::size_of::<PerfEventAttr>() as u32;
    // SAFETY: attr is a valid perf_event_attr of the size it declares.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const PerfEventAttr,
            pid,
            cpu,
            -1,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `ioctl(fd, request, arg)` for the perf event requests that take an integer.
pub fn perf_ioctl(fd: RawFd, request: libc::c_ulong, arg: libc::c_ulong) -> io::Result<()> {
    // SAFETY: the perf ioctls used here take an integer argument, not a pointer.
    let ret = unsafe { libc::ioctl(fd, request as _, arg) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A shared memory mapping, unmapped on drop.
pub struct Mmap {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain memory; synchronisation with the kernel is done with atomics by
// the ring buffer reader.
unsafe impl Send for Mmap {}

impl Mmap {
    /// Maps `len` bytes of `fd` at `offset`, read-only unless `writable`.
    pub fn new(fd: RawFd, len: usize, offset: i64, writable: bool) -> io::Result<Mmap> {
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        // SAFETY: a fresh shared mapping chosen by the kernel; no existing memory is affected.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                fd,
                offset,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mmap {
            ptr: ptr.cast(),
            len,
        })
    }

    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The 64-bit word at `offset`, read with acquire ordering.
    pub fn load_acquire_u64(&self, offset: usize) -> u64 {
        assert!(offset + 8 <= self.len && offset.is_multiple_of(8));
        // SAFETY: in bounds and aligned (checked above); the kernel writes this word atomically.
        let atomic = unsafe { &*(self.ptr.add(offset) as *const std::sync::atomic::AtomicU64) };
        atomic.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The 32-bit word at `offset`, read with acquire ordering.
    pub fn load_acquire_u32(&self, offset: usize) -> u32 {
        assert!(offset + 4 <= self.len && offset.is_multiple_of(4));
        // SAFETY: in bounds and aligned (checked above).
        let atomic = unsafe { &*(self.ptr.add(offset) as *const std::sync::atomic::AtomicU32) };
        atomic.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Stores a 64-bit word at `offset` with release ordering.
    pub fn store_release_u64(&self, offset: usize, value: u64) {
        assert!(offset + 8 <= self.len && offset.is_multiple_of(8));
        // SAFETY: in bounds and aligned; the mapping is writable (the caller mapped it so).
        let atomic = unsafe { &*(self.ptr.add(offset) as *const std::sync::atomic::AtomicU64) };
        atomic.store(value, std::sync::atomic::Ordering::Release)
    }

    /// A view of `len` bytes at `offset`.
    pub fn slice(&self, offset: usize, len: usize) -> &[u8] {
        assert!(offset + len <= self.len);
        // SAFETY: in bounds (checked above); the bytes are not written by the kernel while the
        // reader holds the record (ring buffer protocol).
        unsafe { std::slice::from_raw_parts(self.ptr.add(offset), len) }
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: ptr/len came from a successful mmap and are unmapped once.
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
        }
    }
}

/// A private read-only mapping of a whole file, such as `/sys/kernel/btf/vmlinux`: the
/// kernel maps its BTF pages directly, so reading them costs no copy and no resident memory
/// of this process.
pub struct ReadOnlyFile {
    ptr: *mut u8,
    /// Bytes of the file.
    len: usize,
    /// Bytes mapped (whole pages).
    mapped: usize,
}

// SAFETY: the mapping is read-only and nothing writes it for as long as it exists.
unsafe impl Send for ReadOnlyFile {}
// SAFETY: as above: shared references only read immutable memory.
unsafe impl Sync for ReadOnlyFile {}

impl ReadOnlyFile {
    /// Maps `path` read-only; fails where the file cannot be mapped (older kernels cannot map
    /// sysfs BTF: callers read the file instead).
    pub fn map(path: &str) -> io::Result<ReadOnlyFile> {
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len() as usize;
        if len == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "empty file"));
        }
        let mapped = len.div_ceil(4096) * 4096;
        // SAFETY: a fresh private read-only mapping chosen by the kernel.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                mapped,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                std::os::fd::AsRawFd::as_raw_fd(&file),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(ReadOnlyFile {
            ptr: ptr.cast(),
            len,
            mapped,
        })
    }
}

impl AsRef<[u8]> for ReadOnlyFile {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: the mapping covers `len` readable bytes for the lifetime of `self`.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for ReadOnlyFile {
    fn drop(&mut self) {
        // SAFETY: ptr/mapped came from a successful mmap and are unmapped once.
        unsafe {
            libc::munmap(self.ptr.cast(), self.mapped);
        }
    }
}

/// The running kernel's BTF: mapped when the kernel allows it, read otherwise.
pub fn vmlinux_btf() -> Option<scry_btf::Btf> {
    const PATH: &str = "/sys/kernel/btf/vmlinux";
    if let Ok(mapped) = ReadOnlyFile::map(PATH)
        && let Ok(btf) = scry_btf::Btf::parse_shared(Box::new(mapped))
    {
        return Some(btf);
    }
    scry_btf::Btf::parse(std::fs::read(PATH).ok()?).ok()
}

/// Waits for any of `fds` to become readable, up to `timeout_ms` (-1: forever).
/// Returns false on timeout or when interrupted by a signal.
pub fn poll_readable(fds: &[RawFd], timeout_ms: i32) -> io::Result<bool> {
    let mut pollfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: pollfds is a valid array of the given length.
    let ret = unsafe {
        libc::poll(
            pollfds.as_mut_ptr(),
            pollfds.len() as libc::nfds_t,
            timeout_ms,
        )
    };
    if ret < 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(err);
    }
    Ok(ret > 0)
}

/// Mounts tracefs at `target`.
pub fn mount_tracefs(target: &str) -> io::Result<()> {
    let target = std::ffi::CString::new(target).map_err(|_| io::ErrorKind::InvalidInput)?;
    // SAFETY: all pointers are valid NUL-terminated strings for the duration of the call.
    let ret = unsafe {
        libc::mount(
            c"nodev".as_ptr(),
            target.as_ptr(),
            c"tracefs".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The system page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 { size as usize } else { 4096 }
}

/// The current time of `clock` (`libc::CLOCK_*`) in nanoseconds.
pub fn clock_ns(clock: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec for the duration of the call.
    unsafe {
        libc::clock_gettime(clock, &mut ts);
    }
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// A child process started by [`spawn_held`].
#[derive(Debug)]
pub struct HeldChild {
    pub pid: u32,
    release: Option<OwnedFd>,
    exited: bool,
}

impl HeldChild {
    /// Lets the child exec its command.
    pub fn release(&mut self) {
        if let Some(fd) = self.release.take() {
            // SAFETY: writing one byte from a valid buffer to our own pipe.
            unsafe {
                libc::write(
                    std::os::fd::AsRawFd::as_raw_fd(&fd),
                    [1u8].as_ptr().cast(),
                    1,
                );
            }
        }
    }

    /// True once the child has exited (reaping it).
    pub fn has_exited(&mut self) -> bool {
        if self.exited {
            return true;
        }
        let mut status = 0;
        // SAFETY: waitpid on our own child with a valid status pointer.
        let ret = unsafe { libc::waitpid(self.pid as i32, &mut status, libc::WNOHANG) };
        self.exited = ret == self.pid as i32 || ret < 0;
        self.exited
    }

    /// Ends the child: one never released exits by itself once its release pipe closes; a
    /// running one gets SIGTERM. Then waits for it.
    pub fn stop(&mut self) {
        if self.has_exited() {
            return;
        }
        if self.release.take().is_none() {
            let _ = kill(self.pid, libc::SIGTERM);
        }
        self.wait();
    }

    /// Waits for the child to exit.
    pub fn wait(&mut self) {
        if !self.exited {
            let mut status = 0;
            // SAFETY: waitpid on our own child with a valid status pointer.
            unsafe { libc::waitpid(self.pid as i32, &mut status, 0) };
            self.exited = true;
        }
    }
}

/// Starts `argv` (looked up in PATH) held before exec, so that its pid can be recorded
/// before it runs; [`HeldChild::release`] lets it go. If the parent drops the child without
/// releasing it, the child exits without running the command.
pub fn spawn_held(argv: &[String]) -> io::Result<HeldChild> {
    use std::ffi::CString;
    if argv.is_empty() {
        return Err(io::ErrorKind::InvalidInput.into());
    }
    let args: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.as_str()))
        .collect::<Result<_, _>>()
        .map_err(|_| io::ErrorKind::InvalidInput)?;
    let mut pointers: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    pointers.push(std::ptr::null());
    let mut fds = [0i32; 2];
    // SAFETY: fds is a valid array of two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the child only calls async-signal-safe functions (read, close, execvp, _exit)
    // on memory prepared before the fork.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: see above.
        unsafe {
            // The parent's signal handlers only set flags: take the defaults back, so that
            // SIGINT/SIGTERM end the held child.
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                libc::signal(signal, libc::SIG_DFL);
            }
            libc::close(fds[1]);
            let mut byte = 0u8;
            let n = libc::read(fds[0], (&mut byte as *mut u8).cast(), 1);
            if n == 1 {
                libc::execvp(pointers[0], pointers.as_ptr());
                libc::_exit(127);
            }
            libc::_exit(0);
        }
    }
    // SAFETY: closing the read end we own; wrapping the write end we own.
    let release = unsafe {
        libc::close(fds[0]);
        OwnedFd::from_raw_fd(fds[1])
    };
    Ok(HeldChild {
        pid: pid as u32,
        release: Some(release),
        exited: false,
    })
}

/// Sends `signal` to process `pid`.
pub fn kill(pid: u32, signal: i32) -> io::Result<()> {
    // SAFETY: kill has no memory-safety preconditions.
    let ret = unsafe { libc::kill(pid as i32, signal) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}
