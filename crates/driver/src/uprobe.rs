//! Finding uprobe targets: library names to paths, symbols to file offsets.

use std::path::{Path, PathBuf};

use object::{Object, ObjectSegment, ObjectSymbol};
use scry_sema::UprobeSymbol;

/// Directories searched for a library given by name (`libc`), as the dynamic linker would.
const LIBRARY_DIRS: &[&str] = &[
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
    "/usr/local/lib",
];

/// True when the file name is the shared library `name` (`libc` → `libc.so.6`).
fn is_library(file_name: &str, name: &str) -> bool {
    let stem = if name.starts_with("lib") {
        name.to_string()
    } else {
        format!("lib{name}")
    };
    file_name
        .strip_prefix(&stem)
        .is_some_and(|rest| rest.starts_with(".so") || rest.starts_with('-'))
        && file_name.contains(".so")
}

fn is_elf(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && magic == *b"\x7fELF"
}

/// Resolves `target` (a path, a program in PATH, or a library name) to a file.
pub fn resolve(target: &str, pid: Option<u32>) -> Result<PathBuf, String> {
    if target.contains('/') {
        let path = PathBuf::from(target);
        return if path.exists() {
            Ok(path)
        } else {
            Err(format!("{target}: no such file"))
        };
    }
    if let Some(pid) = pid {
        // A library mapped by the process.
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))
            .map_err(|e| format!("/proc/{pid}/maps: {e}"))?;
        for line in maps.lines() {
            if let Some(path) = line.split_whitespace().nth(5) {
                let file_name = Path::new(path)
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("");
                if is_library(file_name, target) {
                    return Ok(PathBuf::from(format!("/proc/{pid}/root{path}")));
                }
            }
        }
    }
    for dir in LIBRARY_DIRS {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| is_library(n, target))
            })
            .map(|e| e.path())
            // `libc.so` in development packages is a linker script, not the library.
            .filter(|path| is_elf(path))
            .collect();
        found.sort();
        if let Some(path) = found.into_iter().next() {
            return Ok(std::fs::canonicalize(&path).unwrap_or(path));
        }
    }
    // A program in PATH.
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let path = Path::new(dir).join(target);
        if path.is_file() {
            return Ok(path);
        }
    }
    Err(format!(
        "could not find {target} (neither a library nor a program in PATH)"
    ))
}

/// Functions of `path` matching `pattern` (`*`/`?` wildcards, or a 0x address), with their
/// file offsets.
pub fn symbols(path: &Path, pattern: &str) -> Result<Vec<UprobeSymbol>, String> {
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
    let display = path.to_string_lossy().into_owned();
    if let Some(hex) = pattern.strip_prefix("0x") {
        let address = u64::from_str_radix(hex, 16).map_err(|_| format!("bad address {pattern}"))?;
        let offset =
            to_offset(address).ok_or_else(|| format!("address {pattern} is not in {display}"))?;
        return Ok(vec![UprobeSymbol {
            path: display,
            symbol: pattern.to_string(),
            offset,
        }]);
    }
    let mut found: Vec<UprobeSymbol> = Vec::new();
    for symbol in file.symbols().chain(file.dynamic_symbols()) {
        if symbol.kind() != object::SymbolKind::Text
            || symbol.address() == 0
            || symbol.is_undefined()
        {
            continue;
        }
        let Ok(name) = symbol.name() else { continue };
        if !scry_sema::expand_probes::glob(pattern, name) || found.iter().any(|f| f.symbol == name)
        {
            continue;
        }
        if let Some(offset) = to_offset(symbol.address()) {
            found.push(UprobeSymbol {
                path: display.clone(),
                symbol: name.to_string(),
                offset,
            });
        }
    }
    found.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    Ok(found)
}

/// The virtual address and size of `symbol` in a non-position-independent executable.
pub fn symbol_address(path: &Path, symbol: &str) -> Result<(u64, u64), String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file = object::File::parse(&*data)
        .map_err(|e| format!("{}: not an ELF file ({e})", path.display()))?;
    if file.kind() != object::ObjectKind::Executable {
        return Err(format!(
            "{} is position-independent: its symbols' addresses are only known per process (scry, like bpftrace 0.17, resolves uaddr() in non-PIE executables)",
            path.display()
        ));
    }
    file.symbols()
        .chain(file.dynamic_symbols())
        .find(|s| s.name() == Ok(symbol) && !s.is_undefined())
        .map(|s| (s.address(), s.size()))
        .ok_or_else(|| format!("no symbol {symbol} in {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_names() {
        assert!(is_library("libc.so.6", "libc"));
        assert!(is_library("libc.so.6", "c"));
        assert!(!is_library("libcrypt.so.1", "libc"));
        assert!(is_library("libpthread-2.31.so", "pthread"));
    }

    #[test]
    fn symbols_of_this_test_binary() {
        let exe = std::env::current_exe().expect("test binary");
        let found = symbols(&exe, "main").expect("readable ELF");
        assert_eq!(found.len(), 1);
        assert!(found[0].offset > 0);
    }
}
