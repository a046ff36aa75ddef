//! Separate debug files (`/usr/lib/debug/.build-id/xx/yyyy.debug`) for stripped
//! binaries, and the file-offset → virtual-address translation needed to look
//! addresses up in them.
//!
//! Distributions ship `libc.so.6` with only `.dynsym`; its local functions
//! (`__libc_start_call_main`, `_int_malloc`) are in the debug file's `.symtab`,
//! which bpftrace (through bcc) also consults.

use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Directories searched for build-id named debug files.
pub(crate) const DEBUG_DIRS: &[&str] = &["/usr/lib/debug", "/lib/debug"];

/// The `PT_LOAD` segments of an ELF64 little-endian file: `(offset, vaddr, filesz)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LoadSegments(Vec<(u64, u64, u64)>);

impl LoadSegments {
    /// Read the program headers of the ELF file at `path`.
    pub(crate) fn read(path: &Path) -> Option<LoadSegments> {
        let mut head = Vec::new();
        std::fs::File::open(path)
            .ok()?
            .take(64 * 1024)
            .read_to_end(&mut head)
            .ok()?;
        LoadSegments::parse(&head)
    }

    /// Parse the program headers from the start of an ELF64 LE file.
    pub(crate) fn parse(data: &[u8]) -> Option<LoadSegments> {
        if data.get(..4)? != b"\x7fELF" || *data.get(4)? != 2 || *data.get(5)? != 1 {
            return None;
        }
        let phoff = usize::try_from(u64_at(data, 0x20)?).ok()?;
        let phentsize = usize::from(u16_at(data, 0x36)?);
        let phnum = usize::from(u16_at(data, 0x38)?);
        if phentsize < 0x38 {
            return None;
        }
        let mut segs = Vec::new();
        for i in 0..phnum {
            let ph = phoff.checked_add(i.checked_mul(phentsize)?)?;
            if u32_at(data, ph)? == 1 {
                segs.push((
                    u64_at(data, ph + 0x08)?,
                    u64_at(data, ph + 0x10)?,
                    u64_at(data, ph + 0x20)?,
                ));
            }
        }
        Some(LoadSegments(segs))
    }

    /// The virtual address of file offset `off`.
    pub(crate) fn vaddr(&self, off: u64) -> Option<u64> {
        self.0
            .iter()
            .find(|&&(o, _, size)| off >= o && off - o < size)
            .map(|&(o, vaddr, _)| off - o + vaddr)
    }
}

#[cfg(test)]
impl LoadSegments {
    /// The file offset of virtual address `vaddr`.
    pub(crate) fn file_offset(&self, vaddr: u64) -> Option<u64> {
        self.0
            .iter()
            .find(|&&(_, v, size)| vaddr >= v && vaddr - v < size)
            .map(|&(o, v, _)| vaddr - v + o)
    }
}

/// The build-id debug file of the ELF file at `path`, if installed.
pub(crate) fn debug_file_for(path: &Path) -> Option<PathBuf> {
    let id = blazesym::helper::read_elf_build_id(path).ok()??;
    let (first, rest) = id.split_first()?;
    let rest: String = rest.iter().map(|b| format!("{b:02x}")).collect();
    DEBUG_DIRS
        .iter()
        .map(|dir| PathBuf::from(format!("{dir}/.build-id/{first:02x}/{rest}.debug")))
        .find(|p| p.is_file())
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(d: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(d.get(at..at + 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf_with_phdrs(phdrs: &[(u32, u64, u64, u64)]) -> Vec<u8> {
        let mut d = vec![0u8; 0x40];
        d[..4].copy_from_slice(b"\x7fELF");
        d[4] = 2;
        d[5] = 1;
        d[0x20..0x28].copy_from_slice(&0x40u64.to_le_bytes());
        d[0x36..0x38].copy_from_slice(&0x38u16.to_le_bytes());
        d[0x38..0x3a].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
        for &(ty, off, vaddr, size) in phdrs {
            let mut ph = vec![0u8; 0x38];
            ph[..4].copy_from_slice(&ty.to_le_bytes());
            ph[0x08..0x10].copy_from_slice(&off.to_le_bytes());
            ph[0x10..0x18].copy_from_slice(&vaddr.to_le_bytes());
            ph[0x20..0x28].copy_from_slice(&size.to_le_bytes());
            d.extend(ph);
        }
        d
    }

    #[test]
    fn translates_offsets() {
        let d = elf_with_phdrs(&[
            (6, 0x40, 0x40, 0x100),
            (1, 0, 0, 0x1000),
            (1, 0x1000, 0x401000, 0x2000),
        ]);
        let segs = LoadSegments::parse(&d).unwrap();
        assert_eq!(segs.vaddr(0x10), Some(0x10));
        assert_eq!(segs.vaddr(0x1800), Some(0x401800));
        assert_eq!(segs.vaddr(0x3000), None);
        assert_eq!(segs.file_offset(0x401800), Some(0x1800));
        assert_eq!(segs.file_offset(0x5000), None);
    }

    #[test]
    fn rejects_non_elf_and_truncated() {
        assert_eq!(LoadSegments::parse(b"\x7fELF"), None);
        assert_eq!(LoadSegments::parse(b"MZ\x90\x00"), None);
        let mut d = elf_with_phdrs(&[(1, 0, 0, 0x1000)]);
        d.truncate(0x50);
        assert_eq!(LoadSegments::parse(&d), None);
    }

    #[test]
    fn reads_own_executable() {
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let segs = LoadSegments::read(&exe).unwrap();
        assert!(!segs.0.is_empty());
    }
}
