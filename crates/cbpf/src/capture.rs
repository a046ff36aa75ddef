//! Live capture on an `AF_PACKET` socket with the classic-BPF program
//! attached by `SO_ATTACH_FILTER`, so that the kernel does the filtering.

#![allow(unsafe_code)]

use crate::insn::Insn;
use crate::linktype::LinkType;
use crate::pcapio::Packet;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{SystemTime, UNIX_EPOCH};

/// An open capture socket.
pub struct LiveCapture {
    fd: OwnedFd,
    linktype: LinkType,
    buf: Vec<u8>,
}

/// The link type of interface `iface` (from /sys/class/net/IFACE/type).
pub fn interface_linktype(iface: &str) -> io::Result<LinkType> {
    let t = std::fs::read_to_string(format!("/sys/class/net/{iface}/type"))?;
    match t.trim() {
        // ARPHRD_ETHER and ARPHRD_LOOPBACK both deliver Ethernet headers.
        "1" | "772" => Ok(LinkType::En10mb),
        other => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("capturing on interfaces of ARPHRD type {other} is not supported by scry yet"),
        )),
    }
}

impl LiveCapture {
    /// Opens `iface`, attaches `prog` and starts receiving.
    pub fn open(iface: &str, prog: &[Insn]) -> io::Result<LiveCapture> {
        let linktype = interface_linktype(iface)?;
        crate::interp::validate(prog)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let name =
            CString::new(iface).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        // SAFETY: `name` is a valid NUL-terminated string for the call's duration.
        let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
        if ifindex == 0 {
            return Err(io::Error::last_os_error());
        }
        // Protocol 0: no packets are queued until the filter is attached and we bind.
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
        // SAFETY: `fprog` points to `filter`, which outlives the call; the kernel copies it.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ATTACH_FILTER,
                (&fprog as *const libc::sock_fprog).cast(),
                std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: an all-zero sockaddr_ll is a valid value of the type.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        sll.sll_ifindex = ifindex as i32;
        // SAFETY: `sll` is a properly initialised sockaddr_ll of the size passed.
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
            buf: vec![0; 262_144],
        })
    }

    /// The link type of captured packets.
    pub fn linktype(&self) -> LinkType {
        self.linktype
    }

    /// Sets a receive timeout (None = block forever).
    pub fn set_timeout(&self, t: Option<std::time::Duration>) -> io::Result<()> {
        let tv = match t {
            Some(d) => libc::timeval {
                tv_sec: d.as_secs() as libc::time_t,
                tv_usec: d.subsec_micros() as libc::suseconds_t,
            },
            None => libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
        };
        // SAFETY: `tv` is a valid timeval of the size passed.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// Receives the next packet that passed the kernel filter.
    pub fn next_packet(&mut self) -> io::Result<Packet> {
        // SAFETY: the buffer pointer and length describe `self.buf`, which is writable.
        let n = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                self.buf.as_mut_ptr().cast(),
                self.buf.len(),
                libc::MSG_TRUNC,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let wire = n as usize;
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let data = self.buf[..wire.min(self.buf.len())].to_vec();
        Ok(Packet {
            ts,
            wirelen: wire as u32,
            data,
        })
    }
}
