//! CPU lists from `/sys/devices/system/cpu/{possible,online}`.

use std::io;

/// Parses a kernel CPU list such as `0-3,5,7-8`.
pub fn parse_list(text: &str) -> Option<Vec<u32>> {
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                cpus.extend(a..=b);
            }
            None => cpus.push(part.parse().ok()?),
        }
    }
    Some(cpus)
}

fn read_list(path: &str) -> io::Result<Vec<u32>> {
    let text = std::fs::read_to_string(path)?;
    parse_list(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad CPU list in {path}"),
        )
    })
}

/// CPUs the kernel may ever bring up: per-CPU map values have one slot each.
pub fn possible() -> io::Result<Vec<u32>> {
    read_list("/sys/devices/system/cpu/possible")
}

/// CPUs online now: per-CPU perf events are opened on each.
pub fn online() -> io::Result<Vec<u32>> {
    read_list("/sys/devices/system/cpu/online")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges_and_singles() {
        assert_eq!(parse_list("0-3,5,7-8\n"), Some(vec![0, 1, 2, 3, 5, 7, 8]));
        assert_eq!(parse_list("0"), Some(vec![0]));
        assert_eq!(parse_list("x"), None);
    }
}
