//! execsnoop, runqlat, biolatency, biosnoop and profile.

use std::process::Command;
use std::time::Duration;

use crate::common::{TempDir, can_trace, unique};
use crate::{json_lines, tool};

fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
fn execsnoop_shows_the_command_its_parent_and_arguments() {
    if !can_trace("execsnoop_shows_the_command_its_parent_and_arguments") {
        return;
    }
    let marker = unique("scry_exec");
    let tracer = tool("execsnoop", &["-x", "-M", "-U"]);
    let mut shell = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!(
            "/bin/echo {marker} 'two words' >/dev/null; /nonexistent/{marker} 2>/dev/null; exit 0"
        ))
        .spawn()
        .unwrap();
    let shell_pid = shell.id();
    shell.wait().unwrap();
    settle();
    let run = tracer.interrupt();
    run.assert_success();
    let header: Vec<&str> = run
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["UID", "COMM", "PID", "PCOMM", "PPID", "RET", "ARGS"]
    );
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains(&format!("/bin/echo {marker} two words")))
        .unwrap_or_else(|| panic!("no exec of echo in\n{}", run.stdout));
    let cols: Vec<&str> = line.split_whitespace().collect();
    // UID COMM PID PCOMM PPID RET ARGS...
    assert_eq!(cols[0], "0", "{line}");
    assert_eq!(cols[1], "echo", "{line}");
    assert_eq!(cols[3], "sh", "{line}");
    assert_eq!(cols[4], shell_pid.to_string(), "{line}");
    assert_eq!(cols[5], "0", "{line}");
    // -x: the failed exec is there with -ENOENT.
    let failed = run
        .stdout
        .lines()
        .find(|l| l.ends_with(&format!("/nonexistent/{marker}")))
        .unwrap_or_else(|| panic!("no failed exec in\n{}", run.stdout));
    assert_eq!(failed.split_whitespace().nth(5), Some("-2"), "{failed}");
}

#[test]
fn execsnoop_json_quotes_and_name_filter() {
    if !can_trace("execsnoop_json_quotes_and_name_filter") {
        return;
    }
    let marker = unique("scry_execj");
    let tracer = tool("execsnoop", &["--json", "-n", "^ech"]);
    crate::common::trigger("/bin/echo", &[&marker, "a b"]);
    crate::common::trigger("/bin/true", &[&marker]);
    settle();
    let run = tracer.interrupt();
    run.assert_success();
    let events = json_lines(&run.stdout);
    assert!(events.iter().all(|e| e["comm"] == "echo"), "{}", run.stdout);
    let echo = events
        .iter()
        .find(|e| e["args"].as_str().is_some_and(|a| a.contains(&marker)))
        .unwrap_or_else(|| panic!("no echo in\n{}", run.stdout));
    assert_eq!(echo["args"], format!("/bin/echo {marker} a b"));
    assert_eq!(echo["ret"], 0);
    assert!(echo["ppid"].as_u64().unwrap() > 0);
    let quoted = crate::common::run_scry(&["tool", "execsnoop", "-q", "--script"]);
    quoted.assert_success();
    assert!(
        quoted.stdout.contains("sys_enter_execve"),
        "{}",
        quoted.stdout
    );
}

#[test]
fn runqlat_prints_a_histogram_per_interval() {
    if !can_trace("runqlat_prints_a_histogram_per_interval") {
        return;
    }
    // Two busy loops on two CPUs plus the machine's own activity: tasks wait to run.
    let mut busy: Vec<_> = (0..3)
        .map(|_| {
            Command::new("/bin/sh")
                .arg("-c")
                .arg("i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done")
                .spawn()
                .unwrap()
        })
        .collect();
    let run = crate::common::run_scry(&["tool", "runqlat", "-T", "1", "2"]);
    for b in &mut busy {
        let _ = b.kill();
        let _ = b.wait();
    }
    run.assert_success();
    assert!(
        run.stdout
            .starts_with("Tracing run queue latency... Hit Ctrl-C to end.\n"),
        "{}",
        run.stdout
    );
    let headers = run
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("usecs") && l.ends_with(": count     distribution"))
        .count();
    assert_eq!(headers, 2, "two reports of 1 s:\n{}", run.stdout);
    let stamps = run
        .stdout
        .lines()
        .filter(|l| l.len() == 8 && l.as_bytes()[2] == b':' && l.as_bytes()[5] == b':')
        .count();
    assert_eq!(stamps, 2, "{}", run.stdout);
    let total: u64 = run
        .stdout
        .lines()
        .filter(|l| l.contains(" -> "))
        .map(|l| {
            l.split(':')
                .nth(1)
                .unwrap()
                .split('|')
                .next()
                .unwrap()
                .trim()
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    assert!(total > 10, "few wakeups counted:\n{}", run.stdout);
    let first_row = run.stdout.lines().find(|l| l.contains(" -> ")).unwrap();
    assert!(first_row.trim_start().starts_with("0 -> 1 "), "{first_row}");
}

/// Writes 64 KiB with O_DIRECT to a file on the root file system (a block device here).
fn direct_write(dir: &std::path::Path) -> (u32, std::path::PathBuf) {
    let path = dir.join("direct");
    let child = Command::new("dd")
        .args([
            "if=/dev/zero",
            &format!("of={}", path.display()),
            "bs=64k",
            "count=1",
            "oflag=direct",
            "status=none",
        ])
        .spawn()
        .unwrap();
    let pid = child.id();
    assert!(child.wait_with_output().unwrap().status.success());
    (pid, path)
}

#[test]
fn biosnoop_sees_a_direct_write_with_its_process_and_size() {
    if !can_trace("biosnoop_sees_a_direct_write_with_its_process_and_size") {
        return;
    }
    let dir = tempdir_on_disk();
    let tracer = tool("biosnoop", &["-Q"]);
    let (pid, _) = direct_write(&dir);
    settle();
    let run = tracer.interrupt();
    run.assert_success();
    let header: Vec<&str> = run
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "TIME(s)", "COMM", "PID", "DISK", "T", "SECTOR", "BYTES", "QUE(ms)", "LAT(ms)"
        ]
    );
    let line = run
        .stdout
        .lines()
        .find(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            c.len() == 9
                && c[1] == "dd"
                && c[2] == pid.to_string()
                && c[4] == "W"
                && c[6] == "65536"
        })
        .unwrap_or_else(|| panic!("no 64 KiB write by dd {pid} in\n{}", run.stdout));
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert!(
        std::path::Path::new(&format!("/sys/block/{}", cols[3])).exists(),
        "{line}"
    );
    assert!(cols[5].parse::<u64>().unwrap() > 0, "{line}");
    assert!(cols[8].parse::<f64>().unwrap() >= 0.0, "{line}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn biolatency_counts_a_direct_write_per_disk_in_json() {
    if !can_trace("biolatency_counts_a_direct_write_per_disk_in_json") {
        return;
    }
    let dir = tempdir_on_disk();
    let text = tool("biolatency", &["-D", "-F"]);
    let json = tool("biolatency", &["--json", "-D"]);
    for _ in 0..4 {
        direct_write(&dir);
    }
    settle();
    let text = text.interrupt();
    let json = json.interrupt();
    text.assert_success();
    json.assert_success();
    assert!(
        text.stdout
            .starts_with("Tracing block device I/O... Hit Ctrl-C to end.\n")
    );
    let section = text
        .stdout
        .lines()
        .find(|l| l.starts_with("disk = '") && l.contains("Write"))
        .unwrap_or_else(|| panic!("no write section in\n{}", text.stdout));
    assert!(section.contains("flags = "), "{section}");
    let hists = json_lines(&json.stdout);
    let writes: u64 = hists
        .iter()
        .flat_map(|h| h["buckets"].as_array().unwrap().iter())
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert!(writes >= 4, "{}", json.stdout);
    assert!(
        hists
            .iter()
            .all(|h| h["unit"] == "usecs" && h["disk"].is_string())
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A directory on a block device (/var/tmp, not a tmpfs), so that O_DIRECT reaches the disk.
fn tempdir_on_disk() -> std::path::PathBuf {
    let dir = std::path::PathBuf::from("/var/tmp").join(unique("scry_bio"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn profile_names_a_busy_function_of_the_test_program() {
    if !can_trace("profile_names_a_busy_function_of_the_test_program") {
        return;
    }
    let dir = TempDir::new();
    let source = dir.path().join("busy.c");
    std::fs::write(
        &source,
        "#include <stdlib.h>\n\
         __attribute__((noinline)) unsigned long scry_busy_loop(unsigned long n) {\n\
           volatile unsigned long x = 0; for (unsigned long i = 0; i < n; i++) x += i; return x; }\n\
         int main(void) { for (;;) scry_busy_loop(100000000UL); }\n",
    )
    .unwrap();
    let binary = dir.path().join("busy");
    let cc = Command::new("gcc")
        .args(["-O1", "-fno-omit-frame-pointer", "-o"])
        .arg(&binary)
        .arg(&source)
        .status()
        .unwrap();
    assert!(cc.success());
    let mut busy = Command::new(&binary).spawn().unwrap();
    let pid = busy.id().to_string();
    let run = crate::common::run_scry(&["tool", "profile", "-F", "99", "-p", &pid, "2"]);
    let folded = crate::common::run_scry(&["tool", "profile", "-f", "-U", "-p", &pid, "1"]);
    let _ = busy.kill();
    let _ = busy.wait();
    run.assert_success();
    assert!(
        run.stdout.starts_with(&format!(
            "Sampling at 99 Hertz of PID {pid} by user + kernel stack for 2 secs.\n"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("    scry_busy_loop\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("busy ({pid})")),
        "{}",
        run.stdout
    );
    folded.assert_success();
    // Folded lines: `comm;outer;...;inner count`, one per distinct stack.
    let lines: Vec<&str> = folded
        .stdout
        .lines()
        .filter(|l| l.contains(";scry_busy_loop"))
        .collect();
    assert!(!lines.is_empty(), "no folded stack in\n{}", folded.stdout);
    assert!(lines.iter().all(|l| l.starts_with("busy;")), "{lines:?}");
    let count: u64 = lines
        .iter()
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    // One CPU busy for 1 s at 49 Hz.
    assert!(count > 20, "{}", folded.stdout);
}
