//! Test helpers: functions with known names in the test binary, and a child process
//! running a copy of the test binary.

use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A function with a known, unmangled name.
#[expect(
    unsafe_code,
    reason = "test-only: an exported C symbol whose name the tests look up"
)]
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn scry_symbolize_support_marker(x: u64) -> u64 {
    std::hint::black_box(x).wrapping_mul(31).wrapping_add(7)
}

/// A function exported under a C++ (Itanium) mangled name:
/// `scry_cpp_function(char const*, int)`.
#[expect(
    unsafe_code,
    reason = "test-only: an exported C++-mangled symbol to check demangling"
)]
#[unsafe(export_name = "_Z17scry_cpp_functionPKci")]
#[inline(never)]
pub extern "C" fn scry_cpp_function(x: u64) -> u64 {
    std::hint::black_box(x).wrapping_add(11)
}

/// Address of [`scry_cpp_function`] in this process.
pub fn cpp_marker_addr() -> u64 {
    assert_eq!(scry_cpp_function(1), 12);
    scry_cpp_function as *const () as usize as u64
}

/// A Rust function whose demangled name ends in `rust_marker_fn`.
#[inline(never)]
pub fn rust_marker_fn(x: u64) -> u64 {
    std::hint::black_box(x).rotate_left(3) ^ 0x5a
}

/// Address of [`scry_symbolize_support_marker`] in this process.
pub fn marker_addr() -> u64 {
    assert_eq!(scry_symbolize_support_marker(1), 38);
    scry_symbolize_support_marker as *const () as usize as u64
}

/// Address of [`rust_marker_fn`] in this process.
pub fn rust_marker_addr() -> u64 {
    assert_ne!(rust_marker_fn(2), 0);
    rust_marker_fn as *const () as usize as u64
}

const CHILD_ENV: &str = "SCRY_SYMBOLIZE_CHILD";

/// Body of the child process: say `ready`, wait for a line on stdin, then exit.
/// Not a real test: [`ChildCopy::spawn`] runs it (`--exact`) in a copy of the test binary;
/// in the normal test run it returns at once, because [`CHILD_ENV`] is not set.
#[test]
fn child_process_entry() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    // Straight to the file descriptor: libtest may capture `println!`.
    let mut out = std::io::stdout();
    out.write_all(b"ready\n").unwrap();
    out.flush().unwrap();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
}

/// A running copy of the test binary, stopped until [`ChildCopy::finish`].
pub struct ChildCopy {
    pub child: Child,
    pub path: PathBuf,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl ChildCopy {
    /// Copy the test binary to a fresh path and start it waiting on stdin.
    pub fn spawn() -> ChildCopy {
        let exe = std::env::current_exe().unwrap();
        let path = std::env::temp_dir().join(format!(
            "scry-symbolize-child-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::copy(&exe, &path).unwrap();
        // Exec may fail with ETXTBSY while another thread's fork still holds the
        // copy's write descriptor: retry.
        let mut tries = 0;
        let mut child = loop {
            match Command::new(&path)
                .args([
                    "--exact",
                    "test_support::child_process_entry",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, "1")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
            {
                Ok(c) => break c,
                Err(e) if e.raw_os_error() == Some(26) && tries < 50 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => panic!("spawn {}: {e}", path.display()),
            }
        };
        // Wait until the child runs the test body (libraries are mapped by then).
        let stdout = child.stdout.take().unwrap();
        let mut reader = std::io::BufReader::new(stdout);
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            let n = reader.read_line(&mut line).unwrap();
            assert!(n > 0, "child ended before ready: {seen:?}");
            if line.trim_end().ends_with("ready") {
                break;
            }
            seen.push_str(&line);
        }
        ChildCopy {
            child,
            path,
            stdout: reader,
        }
    }

    /// Let the child exit, wait for it, and delete its executable.
    pub fn finish(mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.write_all(b"\n");
        }
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut self.stdout, &mut rest);
        let status = self.child.wait().unwrap();
        assert!(status.success());
        std::fs::remove_file(&self.path).unwrap();
    }
}
