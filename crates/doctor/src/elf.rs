//! The file offset of an ELF executable's entry point: a safe place for a test uprobe
//! (`_start` runs once, before the doctor attaches anything).

/// Why no offset was found.
#[derive(Debug, PartialEq, Eq)]
pub enum ElfError {
    NotElf64,
    NoSegment,
}

impl std::fmt::Display for ElfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ElfError::NotElf64 => f.write_str("not a little-endian ELF64 file"),
            ElfError::NoSegment => f.write_str("no loadable segment holds the entry point"),
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as u64)
}

fn u32_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as u64)
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The file offset of the entry point of the ELF64 image `bytes`.
pub fn entry_file_offset(bytes: &[u8]) -> Result<u64, ElfError> {
    if bytes.get(..6) != Some(b"\x7fELF\x02\x01".as_slice()) {
        return Err(ElfError::NotElf64);
    }
    let entry = u64_at(bytes, 0x18).ok_or(ElfError::NotElf64)?;
    let phoff = u64_at(bytes, 0x20).ok_or(ElfError::NotElf64)? as usize;
    let phentsize = u16_at(bytes, 0x36).ok_or(ElfError::NotElf64)? as usize;
    let phnum = u16_at(bytes, 0x38).ok_or(ElfError::NotElf64)? as usize;
    for i in 0..phnum {
        let ph = phoff.checked_add(i.checked_mul(phentsize).ok_or(ElfError::NoSegment)?);
        let Some(ph) = ph else { break };
        let (Some(ty), Some(offset), Some(vaddr), Some(filesz)) = (
            u32_at(bytes, ph),
            u64_at(bytes, ph + 0x08),
            u64_at(bytes, ph + 0x10),
            u64_at(bytes, ph + 0x20),
        ) else {
            break;
        };
        // PT_LOAD
        if ty == 1 && entry >= vaddr && entry - vaddr < filesz {
            return Ok(entry - vaddr + offset);
        }
    }
    Err(ElfError::NoSegment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_executable_has_an_entry_point() {
        let bytes = std::fs::read("/proc/self/exe").expect("read self");
        let off = entry_file_offset(&bytes).expect("entry");
        assert!(off > 0 && (off as usize) < bytes.len());
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(entry_file_offset(b"#!/bin/sh\n"), Err(ElfError::NotElf64));
        let mut fake = vec![0u8; 64];
        fake[..6].copy_from_slice(b"\x7fELF\x02\x01");
        assert_eq!(entry_file_offset(&fake), Err(ElfError::NoSegment));
        assert_eq!(entry_file_offset(&fake[..20]), Err(ElfError::NotElf64));
    }
}
