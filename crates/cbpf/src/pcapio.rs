//! Reading pcap and pcapng files and writing pcap files (through `pcap-file`).

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::{DataLink, Endianness};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::time::Duration;
use thiserror::Error;

/// Errors reading or writing capture files.
#[derive(Debug, Error)]
pub enum CaptureFileError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {msg}")]
    Format { path: String, msg: String },
}

/// One captured packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Time since the Unix epoch.
    pub ts: Duration,
    /// Original length on the wire.
    pub wirelen: u32,
    /// Captured bytes (possibly fewer than `wirelen`).
    pub data: Vec<u8>,
}

/// A borrowed view of a packet, as streamed by [`scan_file`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketRef<'a> {
    pub ts: Duration,
    pub wirelen: u32,
    pub data: &'a [u8],
}

impl Packet {
    /// Borrows the packet.
    pub fn as_ref(&self) -> PacketRef<'_> {
        PacketRef {
            ts: self.ts,
            wirelen: self.wirelen,
            data: &self.data,
        }
    }
}

/// Streams the packets of a pcap or pcapng file to `f` with the file's
/// LINKTYPE, without holding the file in memory; `f` returns `false` to stop.
pub fn scan_file<F>(path: &Path, mut f: F) -> Result<(), CaptureFileError>
where
    F: FnMut(u32, PacketRef<'_>) -> Result<bool, String>,
{
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    scan_reader(BufReader::with_capacity(1 << 20, file), &mut f, false)
        .map(drop)
        .map_err(|e| fmt_err(path, e))
}

/// The LINKTYPE of a pcap file, or of the first interface of a pcapng file.
pub fn file_linktype(path: &Path) -> Result<u32, CaptureFileError> {
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    scan_reader(BufReader::new(file), &mut |_, _| Ok(false), true).map_err(|e| fmt_err(path, e))
}

/// Parses a pcap or pcapng file held in memory.
pub fn read_bytes(bytes: &[u8]) -> Result<Capture, String> {
    let mut packets = Vec::new();
    let linktype = scan_reader(
        bytes,
        &mut |_, p| {
            packets.push(Packet {
                ts: p.ts,
                wirelen: p.wirelen,
                data: p.data.to_vec(),
            });
            Ok(true)
        },
        false,
    )?;
    Ok(Capture { linktype, packets })
}

type PacketFn<'f> = dyn FnMut(u32, PacketRef<'_>) -> Result<bool, String> + 'f;

/// Feeds every packet to `f`; returns the LINKTYPE (after the header only,
/// with `header_only`).
fn scan_reader<R: BufRead>(
    mut r: R,
    f: &mut PacketFn<'_>,
    header_only: bool,
) -> Result<u32, String> {
    let magic = r.fill_buf().map_err(|e| e.to_string())?;
    if magic.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        return scan_pcapng(r, f, header_only);
    }
    let mut rd = PcapReader::new(r).map_err(|e| e.to_string())?;
    let lt = u32::from(rd.header().datalink);
    if header_only {
        return Ok(lt);
    }
    while let Some(p) = rd.next_packet() {
        let p = p.map_err(|e| e.to_string())?;
        if !f(
            lt,
            PacketRef {
                ts: p.timestamp,
                wirelen: p.orig_len,
                data: &p.data,
            },
        )? {
            break;
        }
    }
    Ok(lt)
}

/// Units per second of an `if_tsresol` value (default: microseconds).
fn tsresol_units(v: u8) -> u128 {
    if v & 0x80 == 0 {
        10u128.pow(u32::from(v.min(30)))
    } else {
        1u128 << (v & 0x7f).min(100)
    }
}

fn scan_pcapng<R: Read>(r: R, f: &mut PacketFn<'_>, header_only: bool) -> Result<u32, String> {
    let mut rd = PcapNgReader::new(r).map_err(|e| e.to_string())?;
    let mut linktype = None;
    // Units per second of each interface's timestamps.
    let mut units: Vec<u128> = Vec::new();
    while let Some(b) = rd.next_block() {
        let (iface, raw, wirelen, data) = match b.map_err(|e| e.to_string())? {
            Block::InterfaceDescription(idb) => {
                let lt = u32::from(idb.linktype);
                if linktype.is_some_and(|f| f != lt) {
                    return Err(
                        "pcapng files with several link types are not supported by scry yet".into(),
                    );
                }
                linktype = Some(lt);
                if header_only {
                    return Ok(lt);
                }
                let res = idb.options.iter().find_map(|o| match o {
                    InterfaceDescriptionOption::IfTsResol(v) => Some(*v),
                    _ => None,
                });
                units.push(tsresol_units(res.unwrap_or(6)));
                continue;
            }
            // pcap-file hands the raw timestamp count over as nanoseconds.
            Block::EnhancedPacket(p) => (
                p.interface_id as usize,
                p.timestamp.as_nanos(),
                p.original_len,
                p.data,
            ),
            Block::SimplePacket(p) => (0, 0, p.original_len, p.data),
            _ => continue,
        };
        let per_sec = units.get(iface).copied().unwrap_or(1_000_000).max(1);
        let nanos = raw.saturating_mul(1_000_000_000) / per_sec;
        let ts = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        if !f(
            linktype.unwrap_or(1),
            PacketRef {
                ts,
                wirelen,
                data: &data,
            },
        )? {
            break;
        }
    }
    Ok(linktype.unwrap_or(1))
}

/// A whole capture file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The LINKTYPE number of the file (first interface for pcapng).
    pub linktype: u32,
    pub packets: Vec<Packet>,
}

fn fmt_err(path: &Path, e: impl std::fmt::Display) -> CaptureFileError {
    CaptureFileError::Format {
        path: path.display().to_string(),
        msg: e.to_string(),
    }
}

fn io_err(path: &Path, e: std::io::Error) -> CaptureFileError {
    CaptureFileError::Io {
        path: path.display().to_string(),
        source: e,
    }
}

/// Reads a pcap or pcapng file (detected by its magic number).
pub fn read_file(path: &Path) -> Result<Capture, CaptureFileError> {
    let mut f = File::open(path).map_err(|e| io_err(path, e))?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).map_err(|e| io_err(path, e))?;
    read_bytes(&bytes).map_err(|e| fmt_err(path, e))
}

/// A pcap file writer.
pub struct Writer<W: Write> {
    inner: PcapWriter<W>,
}

impl Writer<BufWriter<File>> {
    /// Creates `path` with the given LINKTYPE.
    pub fn create(path: &Path, linktype: u32) -> Result<Self, CaptureFileError> {
        let f = File::create(path).map_err(|e| io_err(path, e))?;
        Writer::new(BufWriter::new(f), linktype).map_err(|e| fmt_err(path, e))
    }
}

impl<W: Write> Writer<W> {
    /// Starts a pcap stream (native byte order, microsecond timestamps,
    /// snaplen 262144).
    pub fn new(w: W, linktype: u32) -> Result<Self, String> {
        let header = PcapHeader {
            datalink: DataLink::from(linktype),
            snaplen: crate::DEFAULT_SNAPLEN,
            // Native order: libpcap reads DLT_NULL address families in the
            // byte order of the file, and host order is what filters assume.
            endianness: Endianness::native(),
            ..PcapHeader::default()
        };
        let inner = PcapWriter::with_header(w, header).map_err(|e| e.to_string())?;
        Ok(Writer { inner })
    }
    /// Appends a packet.
    pub fn write(&mut self, p: &Packet) -> Result<(), String> {
        self.write_ref(p.as_ref())
    }
    /// Appends a borrowed packet.
    pub fn write_ref(&mut self, p: PacketRef<'_>) -> Result<(), String> {
        let pkt = PcapPacket::new(p.ts, p.wirelen, p.data);
        self.inner
            .write_packet(&pkt)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> Result<W, String> {
        let mut w = self.inner.into_writer();
        w.flush().map_err(|e| e.to_string())?;
        Ok(w)
    }
}

/// Writes a whole capture to `path`.
pub fn write_file(path: &Path, linktype: u32, packets: &[Packet]) -> Result<(), CaptureFileError> {
    let mut w = Writer::create(path, linktype)?;
    for p in packets {
        w.write(p).map_err(|e| fmt_err(path, e))?;
    }
    w.finish().map_err(|e| fmt_err(path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(ty: u32, body: &[u8]) -> Vec<u8> {
        let len = (12 + body.len()) as u32;
        let mut b = ty.to_le_bytes().to_vec();
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(body);
        b.extend_from_slice(&len.to_le_bytes());
        b
    }

    #[test]
    fn reads_pcapng() {
        let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&u64::MAX.to_le_bytes());
        let mut idb = 113u16.to_le_bytes().to_vec();
        idb.extend_from_slice(&[0, 0]);
        idb.extend_from_slice(&65535u32.to_le_bytes());
        let mut epb = Vec::new();
        for v in [0u32, 0, 1_000_000, 3, 60] {
            epb.extend_from_slice(&v.to_le_bytes());
        }
        epb.extend_from_slice(&[7, 8, 9, 0]);
        let bytes = [block(0x0a0d_0d0a, &shb), block(1, &idb), block(6, &epb)].concat();
        let c = read_bytes(&bytes).unwrap();
        assert_eq!(c.linktype, 113);
        assert_eq!(c.packets.len(), 1);
        assert_eq!(c.packets[0].data, vec![7, 8, 9]);
        assert_eq!(c.packets[0].wirelen, 60);
        assert_eq!(c.packets[0].ts, Duration::from_secs(1));
        let path = std::env::temp_dir().join(format!("scry-cbpf-ng-{}.pcapng", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(file_linktype(&path).unwrap(), 113);
        let mut n = 0;
        scan_file(&path, |lt, p| {
            assert_eq!((lt, p.data), (113, &[7u8, 8, 9][..]));
            n += 1;
            Ok(true)
        })
        .unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(n, 1);
    }

    #[test]
    fn pcap_round_trip_keeps_truncation() {
        let pkts = vec![
            Packet {
                ts: Duration::from_micros(1_500_000),
                wirelen: 60,
                data: vec![1, 2, 3],
            },
            Packet {
                ts: Duration::from_micros(2_000_001),
                wirelen: 4,
                data: vec![9, 9, 9, 9],
            },
        ];
        let mut w = Writer::new(Vec::new(), 101).unwrap();
        for p in &pkts {
            w.write(p).unwrap();
        }
        let bytes = w.finish().unwrap();
        let c = read_bytes(&bytes).unwrap();
        assert_eq!(c.linktype, 101);
        assert_eq!(c.packets, pkts);
        let path =
            std::env::temp_dir().join(format!("scry-cbpf-pcapio-{}.pcap", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let mut seen = Vec::new();
        scan_file(&path, |lt, p| {
            seen.push((lt, p.wirelen, p.data.to_vec()));
            Ok(seen.is_empty())
        })
        .unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(seen, vec![(101, 60, vec![1, 2, 3])]);
        assert!(read_bytes(b"garbage!").is_err());
    }
}
