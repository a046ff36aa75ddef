//! funccount, stackcount, trace and argdist: BCC's probe specifications on tracepoints, on
//! the uprobes and USDT probe of a small C program built here (whose calls and arguments are
//! known), and the refusal of kernel functions on this kernel.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use crate::common::{TempDir, can_trace, run_scry, unique};
use crate::{json_lines, tool};

/// The test program: waits for a line on stdin, opens argv[2] (if given), calls
/// `scry_outer(i % 3, "itemN")` → `scry_work` and fires USDT probe `scrytest:tick` argv[1]
/// times, prints a line, and stays alive until stdin is closed (so that its stacks can be
/// symbolized when the tracer prints them).
const PROGRAM: &str = r#"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SCRY_PROBE1(provider, name, arg) __asm__ __volatile__ ( \
  "990: nop\n" \
  ".pushsection .note.stapsdt,\"?\",\"note\"\n" \
  ".balign 4\n" \
  ".4byte 992f-991f, 994f-993f, 3\n" \
  "991: .asciz \"stapsdt\"\n" \
  "992: .balign 4\n" \
  "993: .8byte 990b\n" \
  ".8byte _.stapsdt.base\n" \
  ".8byte 0\n" \
  ".asciz \"" #provider "\"\n" \
  ".asciz \"" #name "\"\n" \
  ".asciz \"-4@%0\"\n" \
  "994: .balign 4\n" \
  ".popsection\n" \
  ".ifndef _.stapsdt.base\n" \
  ".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n" \
  ".weak _.stapsdt.base\n" \
  ".hidden _.stapsdt.base\n" \
  "_.stapsdt.base: .space 1\n" \
  ".size _.stapsdt.base, 1\n" \
  ".popsection\n" \
  ".endif\n" :: "nor"(arg))

__attribute__((noinline)) int scry_work(int n, const char *s) {
  __asm__ volatile("");
  return n * 2 + (s[0] == 'x');
}

__attribute__((noinline)) int scry_outer(int n, const char *s) {
  return scry_work(n, s) + 1;
}

int main(int argc, char **argv) {
  char line[64];
  char buf[32];
  int reps = argc > 1 ? atoi(argv[1]) : 1;
  int total = 0;
  if (!fgets(line, sizeof line, stdin)) return 1;
  if (argc > 2) {
    int fd = open(argv[2], O_RDONLY);
    if (fd >= 0) close(fd);
  }
  for (int i = 0; i < reps; i++) {
    snprintf(buf, sizeof buf, "item%d", i % 3);
    total += scry_outer(i % 3, buf);
    SCRY_PROBE1(scrytest, tick, i % 3);
  }
  printf("%d\n", total);
  fflush(stdout);
  while (fgets(line, sizeof line, stdin)) {}
  return 0;
}
"#;

/// The program's name, which is also its `comm`.
const NAME: &str = "scryprog";

/// The test program, built with gcc in a directory of its own.
struct Program {
    _dir: TempDir,
    path: PathBuf,
}

impl Program {
    fn build() -> Program {
        let dir = TempDir::new();
        let source = dir.path().join("prog.c");
        std::fs::write(&source, PROGRAM).expect("write the test program");
        let path = dir.path().join(NAME);
        let out = Command::new("gcc")
            .args(["-O1", "-g", "-fno-omit-frame-pointer", "-o"])
            .arg(&path)
            .arg(&source)
            .output()
            .expect("run gcc");
        assert!(
            out.status.success(),
            "gcc failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Program { _dir: dir, path }
    }

    fn path(&self) -> &str {
        self.path.to_str().expect("UTF-8 temp path")
    }

    /// Starts the program, waiting for [`Running::go`].
    fn start(&self, reps: u32, open: Option<&Path>) -> Running {
        let mut cmd = Command::new(&self.path);
        cmd.arg(reps.to_string());
        if let Some(path) = open {
            cmd.arg(path);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the test program");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Running { child, stdout }
    }
}

/// A running test program.
struct Running {
    child: Child,
    stdout: BufReader<ChildStdout>,
}

impl Running {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Lets it work, and waits until it has (it prints a line when done), plus a moment
    /// for the events to reach the tracer.
    fn go(&mut self) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin.write_all(b"go\n").expect("write to the test program");
        stdin.flush().expect("flush");
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .expect("read the test program");
        assert!(!line.trim().is_empty(), "the test program printed nothing");
        std::thread::sleep(Duration::from_millis(200));
    }

    /// Lets it exit.
    fn end(mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// The value of the row of `name` in funccount's table.
fn func_count(stdout: &str, name: &str) -> Option<u64> {
    stdout.lines().find_map(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        match cols.as_slice() {
            [func, count] if *func == name => count.parse().ok(),
            _ => None,
        }
    })
}

#[test]
fn funccount_counts_syscall_tracepoints_of_a_process() {
    if !can_trace("funccount_counts_syscall_tracepoints_of_a_process") {
        return;
    }
    let me = std::process::id().to_string();
    let tracer = tool("funccount", &["-p", &me, "t:syscalls:sys_enter_*"]);
    for _ in 0..300 {
        let _ = std::os::unix::process::parent_id();
    }
    std::thread::sleep(Duration::from_millis(200));
    let run = tracer.interrupt();
    run.assert_success();
    let mut lines = run.stdout.lines();
    let first = lines.next().unwrap_or_default();
    let n: u64 = first
        .strip_prefix("Tracing ")
        .and_then(|r| {
            r.strip_suffix(" functions for \"t:syscalls:sys_enter_*\"... Hit Ctrl-C to end.")
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("bad header {first:?} in\n{}", run.stdout));
    assert!(n > 100, "{first}");
    assert!(
        run.stdout
            .contains("\nFUNC                                    COUNT\n"),
        "{}",
        run.stdout
    );
    let count = func_count(&run.stdout, "syscalls:sys_enter_getppid")
        .unwrap_or_else(|| panic!("no getppid row in\n{}", run.stdout));
    assert!(count >= 300, "{count} getppid calls in\n{}", run.stdout);
    assert_eq!(
        run.stdout.lines().last(),
        Some("Detaching..."),
        "{}",
        run.stdout
    );
}

#[test]
fn funccount_counts_the_calls_of_a_program_s_functions_exactly() {
    if !can_trace("funccount_counts_the_calls_of_a_program_s_functions_exactly") {
        return;
    }
    let program = Program::build();
    let pattern = format!("{}:scry_*", program.path());
    let mut running = program.start(7, None);
    let tracer = tool("funccount", &[&pattern]);
    running.go();
    let run = tracer.interrupt();
    running.end();
    run.assert_success();
    assert_eq!(
        run.stdout.lines().next(),
        Some(format!("Tracing 2 functions for \"{pattern}\"... Hit Ctrl-C to end.").as_str()),
        "{}",
        run.stdout
    );
    assert_eq!(
        func_count(&run.stdout, "scry_work"),
        Some(7),
        "{}",
        run.stdout
    );
    assert_eq!(
        func_count(&run.stdout, "scry_outer"),
        Some(7),
        "{}",
        run.stdout
    );
}

#[test]
fn funccount_counts_usdt_probes_in_json() {
    if !can_trace("funccount_counts_usdt_probes_in_json") {
        return;
    }
    let program = Program::build();
    let pattern = format!("u:{}:tick", program.path());
    let mut running = program.start(5, None);
    let tracer = tool("funccount", &["--json", &pattern]);
    running.go();
    let run = tracer.interrupt();
    running.end();
    run.assert_success();
    let events = json_lines(&run.stdout);
    assert_eq!(
        events,
        [serde_json::json!({ "func": "tick", "count": 5 })],
        "{}",
        run.stdout
    );
}

#[test]
fn funccount_refuses_kernel_functions_and_suggests_tracepoints() {
    let run = run_scry(&["tool", "funccount", "vfs_read"]);
    assert_eq!(run.code(), 2, "{run:?}");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains("kprobes"), "{}", run.stderr);
    assert!(
        run.stderr.contains("t:syscalls:sys_enter_read"),
        "{}",
        run.stderr
    );
}

#[test]
fn stackcount_shows_the_user_stack_of_a_program_function() {
    if !can_trace("stackcount_shows_the_user_stack_of_a_program_function") {
        return;
    }
    let program = Program::build();
    let pattern = format!("{}:scry_work", program.path());
    let mut running = program.start(5, None);
    let pid = running.pid();
    let tracer = tool("stackcount", &["-U", "-P", &pattern]);
    running.go();
    let run = tracer.interrupt();
    running.end();
    run.assert_success();
    assert_eq!(
        run.stdout.lines().next(),
        Some(format!("Tracing 1 functions for \"{pattern}\"... Hit Ctrl-C to end.").as_str()),
        "{}",
        run.stdout
    );
    // One stack: frames indented by 2, then "    comm [pid]", "    count", a blank line.
    let lines: Vec<&str> = run.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == format!("    {NAME} [{pid}]"))
        .unwrap_or_else(|| panic!("no '{NAME} [{pid}]' line in\n{}", run.stdout));
    assert_eq!(lines.get(at + 1), Some(&"    5"), "{}", run.stdout);
    let start = lines[..at]
        .iter()
        .rposition(|l| !l.starts_with("  ") || l.starts_with("    "))
        .map_or(0, |i| i + 1);
    let frames = &lines[start..at];
    assert_eq!(frames.first(), Some(&"  scry_work"), "{}", run.stdout);
    assert!(frames.contains(&"  main"), "{}", run.stdout);
    assert_eq!(
        run.stdout.lines().last(),
        Some("Detaching..."),
        "{}",
        run.stdout
    );
}

#[test]
fn trace_prints_the_opened_file_and_a_function_s_arguments() {
    if !can_trace("trace_prints_the_opened_file_and_a_function_s_arguments") {
        return;
    }
    let program = Program::build();
    let file = std::env::temp_dir().join(unique("scry_trace_"));
    std::fs::write(&file, b"x").unwrap();
    let mut running = program.start(3, Some(&file));
    let pid = running.pid().to_string();
    let uprobe = format!(
        "p:{}:scry_work(int n, char *s) (n != 1) \"n=%d s=%s\", n, s",
        program.path()
    );
    let tracer = tool(
        "trace",
        &[
            "-p",
            &pid,
            "t:syscalls:sys_enter_openat \"%s\", args->filename",
            &uprobe,
        ],
    );
    running.go();
    let run = tracer.interrupt();
    running.end();
    run.assert_success();
    std::fs::remove_file(&file).ok();
    assert_eq!(
        run.stdout.lines().next(),
        Some("PID     TID     COMM            FUNC             -"),
        "{}",
        run.stdout
    );
    let open = run
        .stdout
        .lines()
        .find(|l| l.ends_with(&*file.to_string_lossy()))
        .unwrap_or_else(|| panic!("no open of {} in\n{}", file.display(), run.stdout));
    let expected = format!(
        "{pid:<7} {pid:<7} {NAME:<15} {:<16} {}",
        "sys_enter_openat",
        file.display()
    );
    assert_eq!(open, expected);
    let calls: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains(" scry_work "))
        .collect();
    // n = 0, 1, 2; the predicate drops n == 1.
    assert_eq!(
        calls,
        [
            format!(
                "{pid:<7} {pid:<7} {NAME:<15} {:<16} n=0 s=item0",
                "scry_work"
            ),
            format!(
                "{pid:<7} {pid:<7} {NAME:<15} {:<16} n=2 s=item2",
                "scry_work"
            ),
        ],
        "{}",
        run.stdout
    );
}

#[test]
fn trace_prints_return_values_in_json_and_stops_after_max_events() {
    if !can_trace("trace_prints_return_values_in_json_and_stops_after_max_events") {
        return;
    }
    let program = Program::build();
    let mut running = program.start(6, None);
    let pid = running.pid();
    let probe = format!("r:{}:scry_work \"ret=%d\", retval", program.path());
    let tracer = tool("trace", &["--json", "-M", "4", &probe]);
    running.go();
    // -M 4: the tool exits by itself after the fourth event.
    let run = tracer.finish(crate::common::EXIT_TIMEOUT);
    running.end();
    run.assert_success();
    let events = json_lines(&run.stdout);
    assert_eq!(events.len(), 4, "{}", run.stdout);
    // scry_work(n, "itemN") returns 2n for n = 0, 1, 2, 0.
    let returns: Vec<i64> = events.iter().filter_map(|e| e["v0"].as_i64()).collect();
    assert_eq!(returns, [0, 2, 4, 0], "{}", run.stdout);
    for e in &events {
        assert_eq!(e["pid"], pid, "{e}");
        assert_eq!(e["tid"], pid, "{e}");
        assert_eq!(e["comm"], NAME, "{e}");
        assert_eq!(e["func"], "scry_work", "{e}");
    }
}

/// With a user-space filter (`-f`), -M is counted by the printer, which ends the run itself.
#[test]
fn trace_stops_after_max_events_counted_in_user_space() {
    if !can_trace("trace_stops_after_max_events_counted_in_user_space") {
        return;
    }
    let program = Program::build();
    let mut running = program.start(6, None);
    let probe = format!("r:{}:scry_work \"ret=%d\", retval", program.path());
    // Every message matches "ret="; the printer stops after the second.
    let tracer = tool("trace", &["--json", "-M", "2", "-f", "ret=", &probe]);
    running.go();
    let run = tracer.finish(crate::common::EXIT_TIMEOUT);
    running.end();
    run.assert_success();
    let events = json_lines(&run.stdout);
    assert_eq!(events.len(), 2, "{}", run.stdout);
    let returns: Vec<i64> = events.iter().filter_map(|e| e["v0"].as_i64()).collect();
    assert_eq!(returns, [0, 2], "{}", run.stdout);
}

#[test]
fn argdist_counts_argument_values_and_histograms_entry_values() {
    if !can_trace("argdist_counts_argument_values_and_histograms_entry_values") {
        return;
    }
    let program = Program::build();
    let count = format!("p:{}:scry_work(int n, char *s):int:n", program.path());
    let strings = format!(
        "p:{}:scry_work(int n, char *s):char*:s:n == 2#strings",
        program.path()
    );
    let histogram = format!("r:{}:scry_work(int n):int:$entry(n)", program.path());
    let mut running = program.start(7, None);
    let tracer = tool(
        "argdist",
        &["-i", "600", "-C", &count, "-C", &strings, "-H", &histogram],
    );
    running.go();
    let run = tracer.interrupt();
    running.end();
    run.assert_success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == count)
        .unwrap_or_else(|| panic!("no '{count}' in\n{}", run.stdout));
    let stamp = lines[at - 1];
    assert!(
        stamp.len() == 10 && stamp.starts_with('[') && stamp.ends_with(']'),
        "{}",
        run.stdout
    );
    // i % 3 for i < 7: 0 three times, 1 and 2 twice each, in ascending order of count.
    assert_eq!(lines[at + 1], "\tCOUNT      EVENT", "{}", run.stdout);
    let mut rows = lines[at + 2..at + 5].to_vec();
    assert_eq!(rows.pop(), Some("\t3          n = 0"), "{}", run.stdout);
    rows.sort();
    assert_eq!(
        rows,
        ["\t2          n = 1", "\t2          n = 2"],
        "{}",
        run.stdout
    );
    let at = lines
        .iter()
        .position(|l| *l == "strings")
        .unwrap_or_else(|| panic!("no 'strings' in\n{}", run.stdout));
    assert_eq!(lines[at + 2], "\t2          s = item2", "{}", run.stdout);
    // $entry(n): 0 and 1 (5 calls) in the first slot, 2 (2 calls) in the second.
    let at = lines
        .iter()
        .position(|l| l.starts_with("     $entry(n)") && l.ends_with(": count     distribution"))
        .unwrap_or_else(|| panic!("no histogram in\n{}", run.stdout));
    assert!(
        lines[at + 1].starts_with("         0 -> 1          : 5 "),
        "{}",
        run.stdout
    );
    assert!(
        lines[at + 2].starts_with("         2 -> 3          : 2 "),
        "{}",
        run.stdout
    );
}
