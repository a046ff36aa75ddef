//! USDT probes: `.note.stapsdt` notes of ELF binaries and their argument specs.

use std::path::Path;

use object::{Object, ObjectSection, ObjectSegment};
use scry_sema::{UsdtArg, UsdtLocation, UsdtProbe};

/// The 64-bit register a (sub-)register name belongs to (`ebx` → `rbx`, `r8d` → `r8`).
fn full_register(name: &str) -> Option<&'static str> {
    const REGS: &[(&str, &[&str])] = &[
        ("rax", &["rax", "eax", "ax", "al", "ah"]),
        ("rbx", &["rbx", "ebx", "bx", "bl", "bh"]),
        ("rcx", &["rcx", "ecx", "cx", "cl", "ch"]),
        ("rdx", &["rdx", "edx", "dx", "dl", "dh"]),
        ("rsi", &["rsi", "esi", "si", "sil"]),
        ("rdi", &["rdi", "edi", "di", "dil"]),
        ("rbp", &["rbp", "ebp", "bp", "bpl"]),
        ("rsp", &["rsp", "esp", "sp", "spl"]),
        ("rip", &["rip", "eip"]),
    ];
    if let Some((full, _)) = REGS.iter().find(|(_, names)| names.contains(&name)) {
        return Some(full);
    }
    // r8 .. r15 with d/w/b suffixes.
    let digits = name.strip_prefix('r')?.trim_end_matches(['d', 'w', 'b']);
    const HIGH: [&str; 8] = ["r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
    HIGH.iter().find(|r| r[1..] == *digits).copied()
}

/// Parses one argument spec (`-4@%ebx`, `8@-16(%rbp)`, `-8@$-7`).
pub fn parse_arg(spec: &str) -> Result<UsdtArg, String> {
    let bad = || format!("unsupported USDT argument {spec:?}");
    let (size, location) = spec.split_once('@').ok_or_else(bad)?;
    let size: i32 = size.parse().map_err(|_| bad())?;
    let location = if let Some(constant) = location.strip_prefix('$') {
        UsdtLocation::Constant(constant.parse().map_err(|_| bad())?)
    } else if let Some(register) = location.strip_prefix('%') {
        UsdtLocation::Register(full_register(register).ok_or_else(bad)?.to_string())
    } else if let Some((offset, rest)) = location.split_once("(%") {
        let register = rest.strip_suffix(')').ok_or_else(bad)?;
        if register.contains(',') {
            return Err(bad());
        }
        let offset = if offset.is_empty() {
            0
        } else {
            offset.parse().map_err(|_| bad())?
        };
        UsdtLocation::Memory {
            base: full_register(register).ok_or_else(bad)?.to_string(),
            offset,
        }
    } else {
        return Err(bad());
    };
    let bytes = size.unsigned_abs();
    if !matches!(bytes, 1 | 2 | 4 | 8) {
        return Err(bad());
    }
    Ok(UsdtArg {
        size: bytes as u8,
        signed: size < 0,
        location,
    })
}

/// The USDT probes of `path` whose provider and name match the patterns.
pub fn probes(path: &Path, provider: &str, name: &str) -> Result<Vec<UsdtProbe>, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file = object::File::parse(&*data)
        .map_err(|e| format!("{}: not an ELF file ({e})", path.display()))?;
    let to_offset = |address: u64| -> Option<u64> {
        file.segments().find_map(|segment| {
            let (start, size) = (segment.address(), segment.size());
            let (file_offset, _) = segment.file_range();
            (address >= start && address < start + size).then(|| address - start + file_offset)
        })
    };
    let Some(notes) = file.section_by_name(".note.stapsdt") else {
        return Ok(Vec::new());
    };
    let sdt_base = file.section_by_name(".stapsdt.base").map(|s| s.address());
    let notes = notes.data().map_err(|e| e.to_string())?;
    let display = path.to_string_lossy().into_owned();
    let word = |bytes: &[u8], at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
    };
    let mut found = Vec::new();
    let mut at = 0usize;
    while at + 12 <= notes.len() {
        let u32_at =
            |i: usize| u32::from_le_bytes(notes[i..i + 4].try_into().expect("4 bytes")) as usize;
        let (name_size, desc_size, note_type) = (u32_at(at), u32_at(at + 4), u32_at(at + 8));
        let name_start = at + 12;
        let desc_start = name_start + name_size.div_ceil(4) * 4;
        let next = desc_start + desc_size.div_ceil(4) * 4;
        if next > notes.len() {
            break;
        }
        let owner = &notes[name_start..name_start + name_size];
        let desc = &notes[desc_start..desc_start + desc_size];
        at = next;
        if note_type != 3 || owner != b"stapsdt\0" {
            continue;
        }
        let (Some(mut pc), Some(base), Some(semaphore)) =
            (word(desc, 0), word(desc, 8), word(desc, 16))
        else {
            continue;
        };
        let mut strings = desc[24..]
            .split(|&b| b == 0)
            .map(|s| String::from_utf8_lossy(s).into_owned());
        let (Some(note_provider), Some(note_name)) = (strings.next(), strings.next()) else {
            continue;
        };
        let args_text = strings.next().unwrap_or_default();
        if !scry_sema::expand_probes::glob(provider, &note_provider)
            || !scry_sema::expand_probes::glob(name, &note_name)
        {
            continue;
        }
        // Prelinking moves .stapsdt.base; the note records where it was.
        if let Some(actual) = sdt_base {
            pc = pc.wrapping_add(actual).wrapping_sub(base);
        }
        let offset = to_offset(pc).ok_or_else(|| {
            format!("USDT probe {note_provider}:{note_name}: address {pc:#x} outside the file")
        })?;
        let semaphore = if semaphore == 0 {
            0
        } else {
            to_offset(semaphore).unwrap_or(0)
        };
        let args = args_text
            .split_whitespace()
            .map(parse_arg)
            .collect::<Result<Vec<_>, _>>()?;
        found.push(UsdtProbe {
            path: display.clone(),
            provider: note_provider,
            name: note_name,
            offset,
            semaphore,
            args,
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_specs() {
        let arg = |s| parse_arg(s).unwrap();
        assert_eq!(
            arg("-4@%ebx"),
            UsdtArg {
                size: 4,
                signed: true,
                location: UsdtLocation::Register("rbx".into())
            }
        );
        assert_eq!(
            arg("8@%r12"),
            UsdtArg {
                size: 8,
                signed: false,
                location: UsdtLocation::Register("r12".into())
            }
        );
        assert_eq!(arg("4@%r9d").location, UsdtLocation::Register("r9".into()));
        assert_eq!(arg("-8@$-7").location, UsdtLocation::Constant(-7));
        assert_eq!(
            arg("8@-16(%rbp)").location,
            UsdtLocation::Memory {
                base: "rbp".into(),
                offset: -16
            }
        );
        assert_eq!(
            arg("2@(%rax)").location,
            UsdtLocation::Memory {
                base: "rax".into(),
                offset: 0
            }
        );
        assert!(parse_arg("8@(%rax,%rbx,4)").is_err());
        assert!(parse_arg("3@%rax").is_err());
        assert!(parse_arg("nonsense").is_err());
    }
}
