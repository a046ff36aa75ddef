//! Shared harness for the integration tests of the `scry` binary.
//!
//! It knows where the binary is, decides whether live-kernel tests may run (root is needed;
//! under `CI=true` a missing privilege or reference tool is a failure, never a skip), starts
//! tracers with bpftrace's readiness convention (`__BPFTRACE_NOTIFY_PROBES_ATTACHED` on stderr),
//! stops them with signals and collects their output with a deadline, so that a hung tracer
//! fails a test instead of hanging the suite.

#![allow(dead_code)] // Each test crate uses a different subset of these helpers.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub mod bpf;
pub mod signal;

/// The readiness line bpftrace (and scry) print on stderr once every probe is attached.
pub const READY: &str = "__BPFTRACE_NOTIFY_PROBES_ATTACHED";

/// How long a tracer may take to compile, load and attach before the test fails.
pub const ATTACH_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a tracer may take to finish after it was told to stop (or after its own `exit()`).
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Path of the `scry` binary under test.
pub fn scry() -> &'static str {
    env!("CARGO_BIN_EXE_scry")
}

/// True when running in CI, where skipping a live test is not allowed.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The effective uid of this process, read from `/proc/self/status`.
fn euid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Whether a live-kernel test may run. Prints a skip message when not; in CI, panics instead.
pub fn can_trace(test: &str) -> bool {
    if euid() == Some(0) {
        return true;
    }
    assert!(
        !in_ci(),
        "{test}: live-kernel tests need root, and CI=true forbids skipping them"
    );
    eprintln!("skipping {test}: live-kernel tests need root");
    false
}

/// Path of the reference `bpftrace`, if installed. In CI its absence is a failure.
pub fn bpftrace(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("bpftrace"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            !in_ci(),
            "{test}: bpftrace is not installed, and CI=true forbids skipping (scripts/test.sh installs it)"
        );
        eprintln!("skipping {test}: bpftrace (the reference) is not installed");
    }
    found
}

/// A short string unique to this test process and call, usable in file names and in `comm`.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let salt = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_micros() % 1000)
        .unwrap_or(0);
    // comm is at most 15 bytes: keep prefix short.
    format!("{prefix}{:x}{n:x}{salt:03}", std::process::id() % 0xffff)
}

/// A scratch directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(unique("scry-e2e-"));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A symlink named `name` to the program `target`: executing it gives a process whose
    /// `comm` is `name` (the kernel takes comm from the executed path's last component).
    pub fn named_program(&self, name: &str, target: &str) -> PathBuf {
        let link = self.0.join(name);
        std::os::unix::fs::symlink(target, &link).expect("symlink");
        link
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The outcome of one tracer run.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The exit code; panics (with the output) when the process died of a signal.
    pub fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| panic!("killed by a signal: {self:?}"))
    }

    /// Asserts a zero exit status, showing the output otherwise.
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.status.success(),
            "exit status {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    /// The lines of stdout holding a map entry of `map` (`@name[...]: value` or `@name: value`).
    pub fn map_lines(&self, map: &str) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| {
                l.strip_prefix(map)
                    .is_some_and(|rest| rest.starts_with('[') || rest.starts_with(':'))
            })
            .collect()
    }

    /// The value of the map entry printed as `{key_line}: N`, if present.
    pub fn map_value(&self, key_line: &str) -> Option<i64> {
        self.stdout.lines().find_map(|l| {
            l.strip_prefix(key_line)
                .and_then(|rest| rest.strip_prefix(": "))
                .and_then(|v| v.trim().parse().ok())
        })
    }
}

/// Sends signal `sig` (e.g. `"INT"`) to process `pid`, failing the test if that fails.
pub fn send_signal(pid: u32, sig: &str) {
    signal::send(pid, sig).unwrap_or_else(|e| panic!("kill -{sig} {pid}: {e}"));
}

/// Collects a pipe's text in a thread.
fn collect<R: Read + Send + 'static>(mut pipe: R) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Waits for `child` until `timeout`, killing it (and failing) when it does not exit.
fn wait_deadline(child: &mut Child, timeout: Duration, what: &str) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A running tracer whose probes are attached.
pub struct Tracer {
    child: Child,
    /// The stdout pipe while nobody reads it (see [`Tracer::start_unread`]).
    unread_stdout: Option<ChildStdout>,
    stdout: Option<JoinHandle<String>>,
    stderr: Arc<Mutex<String>>,
    stderr_thread: Option<JoinHandle<()>>,
    what: String,
}

impl Tracer {
    /// Starts `program args…` with the readiness variable set and waits until it reports
    /// that its probes are attached. Panics with the output when it exits first.
    pub fn start(program: &str, args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut tracer = Self::start_unread(program, args, envs);
        tracer.read_stdout();
        tracer
    }

    /// Like [`Tracer::start`], but nothing reads the tracer's stdout until
    /// [`Tracer::read_stdout`] (or the end of the run): once the pipe is full, its writes block.
    pub fn start_unread(program: &str, args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env(READY, "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let what = format!("{program} {args:?}");
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        let unread_stdout = child.stdout.take();
        let stderr_pipe = child.stderr.take().expect("stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let sink = Arc::clone(&stderr);
        let stderr_thread = std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines() {
                let Ok(line) = line else { break };
                if line == READY {
                    let _ = ready_tx.send(());
                }
                let mut s = sink.lock().expect("stderr lock");
                s.push_str(&line);
                s.push('\n');
            }
        });
        let mut tracer = Self {
            child,
            unread_stdout,
            stdout: None,
            stderr,
            stderr_thread: Some(stderr_thread),
            what,
        };
        if ready_rx.recv_timeout(ATTACH_TIMEOUT).is_err() {
            let _ = tracer.child.kill();
            let run = tracer.finish(EXIT_TIMEOUT);
            panic!("tracer never reported attached probes: {run:?}");
        }
        tracer
    }

    /// Starts `scry args…` (see [`Tracer::start`]).
    pub fn scry(args: &[&str]) -> Self {
        Self::start(scry(), args, &[])
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts collecting stdout (a no-op when already collecting).
    pub fn read_stdout(&mut self) {
        if let Some(pipe) = self.unread_stdout.take() {
            self.stdout = Some(collect(pipe));
        }
    }

    /// Sends SIGINT (Ctrl-C) and collects the output.
    pub fn interrupt(self) -> Run {
        self.signal("INT")
    }

    /// Sends `sig` and collects the output.
    pub fn signal(self, sig: &str) -> Run {
        send_signal(self.pid(), sig);
        self.finish(EXIT_TIMEOUT)
    }

    /// Sends SIGINT and waits up to `timeout`, repeating SIGINT every few seconds. For the
    /// reference bpftrace, whose detach can stall for many seconds behind other tracers'
    /// tracepoint (un)registrations on a busy machine; scry itself gets no such leniency.
    pub fn interrupt_patiently(mut self, timeout: Duration) -> Run {
        let deadline = Instant::now() + timeout;
        loop {
            send_signal(self.pid(), "INT");
            let pause = Instant::now() + Duration::from_secs(5);
            while Instant::now() < pause.min(deadline) {
                if self.child.try_wait().expect("try_wait").is_some() {
                    return self.finish(EXIT_TIMEOUT);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            if Instant::now() >= deadline {
                return self.finish(Duration::ZERO);
            }
        }
    }

    /// Waits (up to `timeout`) for the tracer to exit by itself and collects the output.
    pub fn finish(mut self, timeout: Duration) -> Run {
        self.read_stdout();
        let status = wait_deadline(&mut self.child, timeout, &self.what);
        let stdout = self
            .stdout
            .take()
            .map(|h| h.join().expect("stdout thread"))
            .unwrap_or_default();
        if let Some(h) = self.stderr_thread.take() {
            h.join().expect("stderr thread");
        }
        let stderr = self.stderr.lock().expect("stderr lock").clone();
        Run {
            status,
            stdout,
            stderr,
        }
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        // A panicking test must not leave a tracer running.
        if self.stdout.is_some() || self.unread_stdout.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `program args…` to completion (it must exit by itself) and returns its output.
pub fn run(program: &str, args: &[&str], envs: &[(&str, &str)]) -> Run {
    run_within(program, args, envs, EXIT_TIMEOUT)
}

/// [`run`] with a deadline of `timeout` instead of [`EXIT_TIMEOUT`].
pub fn run_within(program: &str, args: &[&str], envs: &[(&str, &str)], timeout: Duration) -> Run {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_remove(READY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let what = format!("{program} {args:?}");
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    let stdout = collect(child.stdout.take().expect("stdout"));
    let stderr = collect(child.stderr.take().expect("stderr"));
    let status = wait_deadline(&mut child, timeout, &what);
    Run {
        status,
        stdout: stdout.join().expect("stdout thread"),
        stderr: stderr.join().expect("stderr thread"),
    }
}

/// Runs `scry args…` to completion.
pub fn run_scry(args: &[&str]) -> Run {
    run(scry(), args, &[])
}

/// Runs a trigger command to completion and returns its exit status. It runs without cargo's
/// `LD_LIBRARY_PATH`, so a system program's library lookups are the usual, short ones.
pub fn trigger(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> ExitStatus {
    let program = program.as_ref();
    Command::new(program)
        .args(args)
        .env_remove("LD_LIBRARY_PATH")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("spawn trigger {program:?}: {e}"))
}
