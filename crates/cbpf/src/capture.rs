//! Live capture on an `AF_PACKET` socket with the classic-BPF program
//! attached by `SO_ATTACH_FILTER`, so that the kernel does the filtering.

#![allow(unsafe_code)]

use crate::insn::Insn;
use crate::linktype::LinkType;
use crate::pcapio::Packet;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An open capture socket.
pub struct LiveCapture {
    fd: OwnedFd,
    linktype: LinkType,
    /// Loopback: skip the outgoing copy of each packet, as libpcap does.
    loopback: bool,
    buf: Vec<u8>,
}

fn arphrd(iface: &str) -> io::Result<String> {
    Ok(
        std::fs::read_to_string(format!("/sys/class/net/{iface}/type"))?
            .trim()
            .to_string(),
    )
}

/// The link type of interface `iface` (from /sys/class/net/IFACE/type).
pub fn interface_linktype(iface: &str) -> io::Result<LinkType> {
    match arphrd(iface)?.as_str() {
        // ARPHRD_ETHER and ARPHRD_LOOPBACK both deliver Ethernet headers.
        "1" | "772" => Ok(LinkType::En10mb),
        other => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("capturing on interfaces of ARPHRD type {other} is not supported by scry yet"),
        )),
    }
}

/// Moves the calling thread into the network namespace at `path` (e.g.
/// `/var/run/netns/NAME`); sockets it creates afterwards belong there.
pub fn enter_netns(path: &Path) -> io::Result<()> {
    let f = std::fs::File::open(path)?;
    // SAFETY: `f` is an open namespace file descriptor for the whole call.
    let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Attaches the classic BPF program `prog` to socket `fd` (`SO_ATTACH_FILTER`).
fn attach_filter(fd: &OwnedFd, prog: &[Insn]) -> io::Result<()> {
    let mut filter: Vec<libc::sock_filter> = prog
        .iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect();
    let fprog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_mut_ptr(),
    };
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)
}

fn setsockopt<T>(fd: &OwnedFd, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live `T` of the size passed; the kernel copies it.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A classic-BPF program loaded into the kernel on an `AF_UNIX` datagram
/// socket pair: [`run`](Self::run) sends bytes through it and reports what the
/// kernel's filter let through. Needs no privileges; used to check programs
/// against the kernel's checker and interpreter.
pub struct KernelFilter {
    tx: OwnedFd,
    rx: OwnedFd,
    buf: Vec<u8>,
}

impl KernelFilter {
    /// Attaches `prog` (the kernel validates it here).
    pub fn new(prog: &[Insn]) -> io::Result<KernelFilter> {
        let mut fds = [0i32; 2];
        // SAFETY: `fds` is a writable array of two ints, as socketpair(2) requires.
        let rc = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just created and are owned by nobody else.
        let (tx, rx) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        attach_filter(&rx, prog)?;
        Ok(KernelFilter {
            tx,
            rx,
            buf: vec![0; 65_536],
        })
    }

    /// Sends `pkt` through the filter; returns how many bytes arrived
    /// (`None`: dropped). The kernel's `len` is the datagram length.
    pub fn run(&mut self, pkt: &[u8]) -> io::Result<Option<usize>> {
        // SAFETY: `pkt` is a readable buffer of the length passed.
        let sent = unsafe { libc::send(self.tx.as_raw_fd(), pkt.as_ptr().cast(), pkt.len(), 0) };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `self.buf` is writable for the length passed.
        let n = unsafe {
            libc::recv(
                self.rx.as_raw_fd(),
                self.buf.as_mut_ptr().cast(),
                self.buf.len(),
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::WouldBlock {
                Ok(None)
            } else {
                Err(e)
            };
        }
        Ok(Some(n as usize))
    }
}

impl LiveCapture {
    /// Opens `iface` (in the caller's network namespace), attaches `prog`
    /// and starts receiving.
    pub fn open(iface: &str, prog: &[Insn]) -> io::Result<LiveCapture> {
        let linktype = interface_linktype(iface)?;
        let loopback = arphrd(iface)? == "772";
        crate::interp::validate(prog)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let name =
            CString::new(iface).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        // SAFETY: `name` is a valid NUL-terminated string for the call's duration.
        let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
        if ifindex == 0 {
            return Err(io::Error::last_os_error());
        }
        // Protocol 0: nothing is queued until the filter is attached and we bind.
        // SAFETY: plain socket(2) call with constant arguments.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a freshly created descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        attach_filter(&fd, prog)?;
        // SAFETY: an all-zero sockaddr_ll is a valid value of the type.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        sll.sll_ifindex = ifindex as i32;
        // SAFETY: `sll` is an initialised sockaddr_ll of the size passed.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(LiveCapture {
            fd,
            linktype,
            loopback,
            buf: vec![0; 262_144],
        })
    }

    /// The link type of captured packets.
    pub fn linktype(&self) -> LinkType {
        self.linktype
    }

    /// Sets a receive timeout (`None` blocks forever); a timed-out
    /// [`next_packet`](Self::next_packet) fails with `WouldBlock`.
    pub fn set_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        let d = t.unwrap_or(Duration::ZERO);
        let tv = libc::timeval {
            tv_sec: d.as_secs() as libc::time_t,
            tv_usec: d.subsec_micros() as libc::suseconds_t,
        };
        setsockopt(&self.fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv)
    }

    /// Receives the next packet that passed the kernel filter.
    pub fn next_packet(&mut self) -> io::Result<Packet> {
        let n = loop {
            // SAFETY: an all-zero sockaddr_ll is a valid value of the type.
            let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut from_len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            // SAFETY: the pointer and length describe `self.buf`, which is writable;
            // `from`/`from_len` describe a sockaddr_ll owned by this frame.
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr().cast(),
                    self.buf.len(),
                    libc::MSG_TRUNC,
                    (&mut from as *mut libc::sockaddr_ll).cast(),
                    &mut from_len,
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            if !(self.loopback && from.sll_pkttype == libc::PACKET_OUTGOING) {
                break n as usize;
            }
        };
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Ok(Packet {
            ts,
            wirelen: n as u32,
            data: self.buf[..n.min(self.buf.len())].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::op;

    #[test]
    fn kernel_filter_runs_programs() {
        let prog = [
            Insn::stmt(op::LD | op::B | op::ABS, 0),
            Insn::jump(op::JMP | op::JEQ | op::K, 7, 0, 1),
            Insn::stmt(op::RET | op::K, 3),
            Insn::stmt(op::RET | op::K, 0),
        ];
        let mut k = KernelFilter::new(&prog).expect("attach");
        assert_eq!(k.run(&[7, 1, 2, 3, 4]).unwrap(), Some(3));
        assert_eq!(k.run(&[8, 1, 2, 3, 4]).unwrap(), None);
        assert_eq!(k.run(&[]).unwrap(), None, "a load past the end drops");
        let backward = [
            Insn::stmt(op::JMP | op::JA, u32::MAX),
            Insn::stmt(op::RET | op::K, 0),
        ];
        assert!(
            KernelFilter::new(&backward).is_err(),
            "the kernel refuses backward jumps"
        );
    }
}
