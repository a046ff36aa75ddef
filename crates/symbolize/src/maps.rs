//! Parsing of `/proc/PID/maps`.

/// One line of `/proc/PID/maps`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapEntry {
    /// First address of the mapping.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// `rwxp`-style permission string.
    pub perms: String,
    /// Offset of the mapping in the file.
    pub offset: u64,
    /// Device as `(major, minor)`.
    pub dev: (u32, u32),
    /// Inode number, 0 for anonymous mappings.
    pub inode: u64,
    /// Path or pseudo-name (`[vdso]`, `[heap]`), with a trailing ` (deleted)` removed.
    pub path: Option<String>,
    /// Whether the kernel marked the file as deleted.
    pub deleted: bool,
}

impl MapEntry {
    /// Whether the mapping is executable.
    pub fn is_exec(&self) -> bool {
        self.perms.as_bytes().get(2) == Some(&b'x')
    }

    /// Whether the mapping is backed by a file (not anonymous, not a `[pseudo]` name).
    pub fn is_file(&self) -> bool {
        self.inode != 0 && self.path.as_deref().is_some_and(|p| p.starts_with('/'))
    }

    /// Whether `addr` lies in the mapping.
    pub fn contains(&self, addr: u64) -> bool {
        (self.start..self.end).contains(&addr)
    }
}

/// Parse the text of `/proc/PID/maps`; malformed lines are skipped.
pub fn parse_maps(text: &str) -> Vec<MapEntry> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<MapEntry> {
    let mut rest = line;
    let mut field = || {
        let trimmed = rest.trim_start_matches(' ');
        let end = trimmed.find(' ').unwrap_or(trimmed.len());
        let (f, r) = trimmed.split_at(end);
        rest = r;
        (!f.is_empty()).then_some(f)
    };
    let range = field()?;
    let perms = field()?;
    let offset = field()?;
    let dev = field()?;
    let inode = field()?;
    let (start, end) = range.split_once('-')?;
    let (major, minor) = dev.split_once(':')?;
    let path = rest.trim_start_matches(' ');
    let (path, deleted) = match path.strip_suffix(" (deleted)") {
        Some(p) => (p, true),
        None => (path, false),
    };
    let start = u64::from_str_radix(start, 16).ok()?;
    let end = u64::from_str_radix(end, 16).ok()?;
    if start >= end || perms.len() != 4 {
        return None;
    }
    Some(MapEntry {
        start,
        end,
        perms: perms.to_owned(),
        offset: u64::from_str_radix(offset, 16).ok()?,
        dev: (
            u32::from_str_radix(major, 16).ok()?,
            u32::from_str_radix(minor, 16).ok()?,
        ),
        inode: inode.parse().ok()?,
        path: (!path.is_empty()).then(|| path.to_owned()),
        deleted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
55d5394cb000-55d5394cc000 r--p 00000000 fe:01 1234                       /tmp/busy
55d5394cc000-55d5394cd000 r-xp 00001000 fe:01 1234                       /tmp/busy
7f0cddbb3000-7f0cddd0a000 r-xp 00026000 fe:01 5678                       /usr/lib/x86_64-linux-gnu/libc.so.6
7f0cddd50000-7f0cddd51000 rw-p 00000000 00:00 0 
7ffd1c5f0000-7ffd1c5f2000 r-xp 00000000 00:00 0                          [vdso]
7f0000000000-7f0000001000 r-xp 00000000 00:1f 99                         /tmp/my lib.so (deleted)
bogus
";

    #[test]
    fn parses_lines() {
        let m = parse_maps(MAPS);
        assert_eq!(m.len(), 6);
        assert_eq!(m[1].start, 0x55d5394cc000);
        assert_eq!(m[1].end, 0x55d5394cd000);
        assert_eq!(m[1].offset, 0x1000);
        assert_eq!(m[1].dev, (0xfe, 1));
        assert_eq!(m[1].inode, 1234);
        assert!(m[1].is_exec() && m[1].is_file());
        assert!(!m[0].is_exec());
        assert_eq!(m[3].path, None);
        assert!(!m[3].is_file());
        assert_eq!(m[4].path.as_deref(), Some("[vdso]"));
        assert!(m[4].is_exec() && !m[4].is_file());
        assert_eq!(m[5].path.as_deref(), Some("/tmp/my lib.so"));
        assert!(m[5].deleted);
        assert!(m[1].contains(0x55d5394cc000) && !m[1].contains(0x55d5394cd000));
    }

    #[test]
    fn own_maps_parse() {
        let text = std::fs::read_to_string("/proc/self/maps").unwrap();
        let m = parse_maps(&text);
        assert_eq!(m.len(), text.lines().count());
        assert!(m.iter().any(|e| e.is_exec() && e.is_file()));
    }
}
