//! Running compiled filters: over a capture file (`scry filter -r`) or live
//! (`scry filter -i`), printing one-line summaries or writing a pcap file.

use crate::capture::{LiveCapture, interface_linktype};
use crate::error::FilterError;
use crate::linktype::LinkType;
use crate::pcapio::{self, CaptureFileError, PacketRef, Writer};
use crate::{Insn, Options, compile, interp, summary};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Errors of a filtering session.
#[derive(Debug, Error)]
pub enum SessionError {
    /// The expression does not compile (exit status 1).
    #[error(transparent)]
    Compile(#[from] FilterError),
    #[error(transparent)]
    File(#[from] CaptureFileError),
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Other(String),
}

/// Where matching packets go.
pub enum Sink<'a> {
    /// One summary line per packet.
    Summaries(&'a mut dyn Write),
    /// A pcap file.
    Pcap(PathBuf),
}

/// Compilation settings of a session; the link type comes from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub optimize: bool,
    pub strict: bool,
    /// Stop after this many matching packets.
    pub count: Option<u64>,
}

enum Out<'a> {
    Text(&'a mut dyn Write),
    Pcap(Writer<BufWriter<File>>),
}

impl Out<'_> {
    fn open<'a>(sink: Sink<'a>, linktype: u32) -> Result<Out<'a>, SessionError> {
        Ok(match sink {
            Sink::Summaries(w) => Out::Text(w),
            Sink::Pcap(path) => Out::Pcap(Writer::create(&path, linktype)?),
        })
    }
    fn put(&mut self, lt: LinkType, p: PacketRef<'_>) -> Result<(), String> {
        match self {
            Out::Text(w) => {
                let owned = pcapio::Packet {
                    ts: p.ts,
                    wirelen: p.wirelen,
                    data: p.data.to_vec(),
                };
                writeln!(w, "{}", summary::summarize(lt, &owned)).map_err(|e| e.to_string())
            }
            Out::Pcap(w) => w.write_ref(p),
        }
    }
    fn finish(self) -> Result<(), SessionError> {
        match self {
            Out::Text(w) => w.flush()?,
            Out::Pcap(w) => {
                w.finish().map_err(SessionError::Other)?;
            }
        }
        Ok(())
    }
}

/// The link type of a capture file, or an error naming an unsupported one.
pub fn capture_linktype(path: &Path) -> Result<LinkType, SessionError> {
    let n = pcapio::file_linktype(path)?;
    LinkType::from_linktype(n)
        .ok_or_else(|| SessionError::Other(format!("link type {n} is not supported by scry yet")))
}

/// Compiles `expr` for filtering the capture file at `path`.
pub fn compile_for_file(path: &Path, expr: &str, s: Settings) -> Result<Vec<Insn>, SessionError> {
    let linktype = capture_linktype(path)?;
    Ok(compile(
        expr,
        &Options {
            linktype,
            optimize: s.optimize,
            strict: s.strict,
            savefile: true,
            ..Options::default()
        },
    )?)
}

/// Filters the capture file at `path`; returns the number of matching packets.
pub fn filter_file(
    path: &Path,
    expr: &str,
    s: Settings,
    sink: Sink<'_>,
) -> Result<u64, SessionError> {
    let lt = capture_linktype(path)?;
    let prog = compile_for_file(path, expr, s)?;
    let mut out = Out::open(sink, lt.linktype())?;
    let mut n = 0u64;
    if s.count != Some(0) {
        pcapio::scan_file(path, |_, p| {
            if interp::run(&prog, p.data, p.wirelen) != 0 {
                out.put(lt, p)?;
                n += 1;
            }
            Ok(s.count.is_none_or(|c| n < c))
        })?;
    }
    out.finish()?;
    Ok(n)
}

/// Compiles `expr` for capturing on `iface`.
pub fn compile_for_interface(
    iface: &str,
    expr: &str,
    s: Settings,
) -> Result<Vec<Insn>, SessionError> {
    let linktype = interface_linktype(iface)?;
    Ok(compile(
        expr,
        &Options {
            linktype,
            optimize: s.optimize,
            strict: s.strict,
            // The kernel refuses backward jumps.
            forward_only: true,
            ..Options::default()
        },
    )?)
}

/// Captures on `iface` with the kernel running the filter; returns the number
/// of packets received (stops after `count`, or runs until an error).
pub fn capture_live(
    iface: &str,
    expr: &str,
    s: Settings,
    sink: Sink<'_>,
) -> Result<u64, SessionError> {
    let prog = compile_for_interface(iface, expr, s)?;
    let mut cap = LiveCapture::open(iface, &prog)?;
    let lt = cap.linktype();
    let mut out = Out::open(sink, lt.linktype())?;
    let mut n = 0u64;
    while s.count.is_none_or(|c| n < c) {
        let p = cap.next_packet()?;
        out.put(lt, p.as_ref()).map_err(SessionError::Other)?;
        if let Out::Text(w) = &mut out {
            w.flush()?;
        }
        n += 1;
    }
    out.finish()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn filters_a_file_to_summaries_and_pcap() {
        let dir = std::env::temp_dir().join(format!("scry-cbpf-session-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let input = dir.join("in.pcap");
        let mut udp = vec![0u8; 12];
        udp.extend_from_slice(&[
            0x08, 0, 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ]);
        udp.extend_from_slice(&[0, 53, 0, 53, 0, 8, 0, 0]);
        let arp = [vec![0xff; 6], vec![0; 6], vec![0x08, 0x06], vec![0; 28]].concat();
        let pkts: Vec<pcapio::Packet> = [udp, arp]
            .into_iter()
            .enumerate()
            .map(|(i, data)| pcapio::Packet {
                ts: Duration::from_secs(i as u64),
                wirelen: data.len() as u32,
                data,
            })
            .collect();
        pcapio::write_file(&input, 1, &pkts).unwrap();
        let s = Settings {
            optimize: true,
            strict: false,
            count: None,
        };
        let mut text = Vec::new();
        assert_eq!(
            filter_file(&input, "udp port 53", s, Sink::Summaries(&mut text)).unwrap(),
            1
        );
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "00:00:00.000000 IP 10.0.0.1.53 > 10.0.0.2.53: UDP, length 42\n"
        );
        let output = dir.join("out.pcap");
        assert_eq!(
            filter_file(&input, "arp or udp", s, Sink::Pcap(output.clone())).unwrap(),
            2
        );
        assert_eq!(pcapio::read_file(&output).unwrap().packets, pkts);
        let one = Settings {
            count: Some(1),
            ..s
        };
        assert_eq!(
            filter_file(&input, "", one, Sink::Pcap(output.clone())).unwrap(),
            1
        );
        let err = filter_file(&input, "port", s, Sink::Pcap(output)).unwrap_err();
        assert!(matches!(err, SessionError::Compile(_)), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
