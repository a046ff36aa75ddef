//! Sending signals to a tracer by pid (std only offers SIGKILL through `Child::kill`).

#![allow(unsafe_code)] // kill(2) has no safe wrapper in std.

/// The signal numbers the tests use, by their `kill -l` names.
pub fn number(name: &str) -> Option<libc::c_int> {
    Some(match name {
        "INT" => libc::SIGINT,
        "TERM" => libc::SIGTERM,
        "KILL" => libc::SIGKILL,
        "HUP" => libc::SIGHUP,
        _ => return None,
    })
}

/// Sends signal `name` (e.g. `"INT"`) to process `pid`.
pub fn send(pid: u32, name: &str) -> std::io::Result<()> {
    let sig = number(name).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("unknown signal {name}"),
        )
    })?;
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "pid out of range"))?;
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_signal_numbers() {
        assert_eq!(number("INT"), Some(libc::SIGINT));
        assert_eq!(number("KILL"), Some(libc::SIGKILL));
        assert_eq!(number("BOGUS"), None);
        assert!(send(std::process::id(), "BOGUS").is_err());
    }
}
