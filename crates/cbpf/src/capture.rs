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
        setsockopt(&fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)?;
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
