//! End-to-end tests of `scry` on the live kernel: each starts a tracer, waits for bpftrace's
//! readiness line on stderr, runs a trigger whose events are known (a child process with a
//! unique `comm`, a uniquely named file), stops the tracer and checks what it printed.
//!
//! They need root; without it they skip with a message, except under `CI=true` where a skip
//! is a failure. This file runs the seed one-liners of the project brief; `e2e/cli.rs` covers
//! the command line (options, exit codes, errors), `e2e/probes.rs` probe kinds and builtins,
//! and `e2e/leaks.rs` that no BPF object outlives scry.

#[path = "e2e/cli.rs"]
mod cli;
mod common;
#[path = "e2e/leaks.rs"]
mod leaks;
#[path = "e2e/probes.rs"]
mod probes;

use common::{Run, TempDir, Tracer, can_trace, trigger, unique};
use std::time::Duration;

/// Starts `scry -e program` and waits until it is attached.
fn trace(program: &str) -> Tracer {
    Tracer::scry(&["-e", program])
}

/// The buckets of the histogram printed under `header` (e.g. `@[dd]: `): (label, count).
fn hist_buckets<'a>(run: &'a Run, header: &str) -> Vec<(&'a str, u64)> {
    let mut lines = run
        .stdout
        .lines()
        .skip_while(|l| l.trim_end() != header.trim_end());
    assert!(
        lines.next().is_some(),
        "no histogram {header:?} in\n{}",
        run.stdout
    );
    lines
        .take_while(|l| l.starts_with('[') || l.starts_with('('))
        .map(|l| {
            let before_bar = l.split('|').next().unwrap_or_default().trim_end();
            let (label, count) = before_bar
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("bad bucket line {l:?}"));
            let count = count
                .parse()
                .unwrap_or_else(|_| panic!("bad bucket count in {l:?}"));
            (label.trim_end(), count)
        })
        .collect()
}

/// A file of `len` bytes in `dir`.
fn data_file(dir: &TempDir, len: usize) -> std::path::PathBuf {
    let path = dir.path().join(unique("data"));
    std::fs::write(&path, vec![b'x'; len]).expect("write data file");
    path
}

#[test]
fn openat_prints_comm_and_filename() {
    if !can_trace("openat_prints_comm_and_filename") {
        return;
    }
    let dir = TempDir::new();
    let name = unique("o");
    let touch = dir.named_program(&name, "/usr/bin/touch");
    let file = dir.path().join(unique("file-"));
    let file = file.to_str().expect("utf-8 path");
    let tracer = trace(
        r#"tracepoint:syscalls:sys_enter_openat { printf("%s %s\n", comm, str(args->filename)); }"#,
    );
    assert!(trigger(&touch, &[file]).success());
    let run = tracer.interrupt();
    run.assert_success();
    let expected = format!("{name} {file}");
    assert!(
        run.stdout.lines().any(|l| l == expected),
        "no line {expected:?} in\n{}",
        run.stdout
    );
}

#[test]
fn raw_syscalls_count_by_comm() {
    if !can_trace("raw_syscalls_count_by_comm") {
        return;
    }
    let dir = TempDir::new();
    let name = unique("c");
    let prog = dir.named_program(&name, "/bin/true");
    let tracer = trace("tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }");
    for _ in 0..3 {
        assert!(trigger(&prog, &[]).success());
    }
    let run = tracer.interrupt();
    run.assert_success();
    let n = run
        .map_value(&format!("@[{name}]"))
        .unwrap_or_else(|| panic!("no @[{name}] in\n{}", run.stdout));
    // Each run of `true` makes at least execve's follow-ups and exit_group.
    assert!(n >= 3, "@[{name}]: {n}");
}

#[test]
fn wildcard_tracepoints_count_by_probe() {
    if !can_trace("wildcard_tracepoints_count_by_probe") {
        return;
    }
    let dir = TempDir::new();
    let file = dir.path().join(unique("f"));
    let tracer = trace("tracepoint:syscalls:sys_enter_* { @[probe] = count(); }");
    assert!(trigger("/usr/bin/touch", &[file.to_str().expect("utf-8")]).success());
    let run = tracer.interrupt();
    run.assert_success();
    let n = run.map_value("@[tracepoint:syscalls:sys_enter_openat]");
    assert!(
        n.is_some_and(|n| n >= 1),
        "no openat count in\n{}",
        run.stdout
    );
    let lines = run.map_lines("@");
    assert!(lines.len() > 3, "too few probes counted:\n{}", run.stdout);
    for line in lines {
        assert!(
            line.starts_with("@[tracepoint:syscalls:sys_enter_"),
            "unexpected key in {line:?}"
        );
    }
}

#[test]
fn count_by_pid_and_comm() {
    if !can_trace("count_by_pid_and_comm") {
        return;
    }
    let dir = TempDir::new();
    let name = unique("p");
    let prog = dir.named_program(&name, "/bin/true");
    let tracer = trace("tracepoint:raw_syscalls:sys_enter { @[pid, comm] = count(); }");
    let mut child = std::process::Command::new(&prog)
        .spawn()
        .expect("spawn trigger");
    let pid = child.id();
    assert!(child.wait().expect("wait trigger").success());
    let run = tracer.interrupt();
    run.assert_success();
    let key = format!("@[{pid}, {name}]");
    assert!(
        run.map_value(&key).is_some_and(|n| n >= 1),
        "no {key} in\n{}",
        run.stdout
    );
}

#[test]
fn sum_of_read_bytes_by_comm() {
    if !can_trace("sum_of_read_bytes_by_comm") {
        return;
    }
    const LEN: usize = 100_000;
    let dir = TempDir::new();
    let data = data_file(&dir, LEN);
    let name = unique("r");
    let dd = dir.named_program(&name, "/bin/dd");
    let tracer =
        trace("tracepoint:syscalls:sys_exit_read /args->ret/ { @[comm] = sum(args->ret); }");
    let input = format!("if={}", data.display());
    assert!(trigger(&dd, &[&input, "of=/dev/null", "bs=4096"]).success());
    let run = tracer.interrupt();
    run.assert_success();
    let sum = run
        .map_value(&format!("@[{name}]"))
        .unwrap_or_else(|| panic!("no @[{name}] in\n{}", run.stdout));
    assert!(sum >= LEN as i64, "@[{name}]: {sum} < {LEN}");
}

#[test]
fn hist_of_read_sizes() {
    if !can_trace("hist_of_read_sizes") {
        return;
    }
    let dir = TempDir::new();
    let data = data_file(&dir, 100_000);
    let name = unique("h");
    let dd = dir.named_program(&name, "/bin/dd");
    let tracer = trace("tracepoint:syscalls:sys_exit_read { @[comm] = hist(args->ret); }");
    let input = format!("if={}", data.display());
    assert!(trigger(&dd, &[&input, "of=/dev/null", "bs=4096"]).success());
    let run = tracer.interrupt();
    run.assert_success();
    let buckets = hist_buckets(&run, &format!("@[{name}]:"));
    // 24 full 4 KiB reads; a 1696-byte one; a final 0 (plus dd's own small reads).
    let count = |label: &str| buckets.iter().find(|b| b.0 == label).map_or(0, |b| b.1);
    assert!(count("[4K, 8K)") >= 24, "buckets {buckets:?}");
    assert!(count("[1K, 2K)") >= 1, "buckets {buckets:?}");
    assert!(count("[0]") >= 1, "buckets {buckets:?}");
}

/// The block device under `dir`, if it is on one (not tmpfs/overlay).
fn block_device_under(dir: &std::path::Path) -> Option<String> {
    let out = std::process::Command::new("findmnt")
        .args(["-n", "-o", "SOURCE", "--target"])
        .arg(dir)
        .output()
        .ok()?;
    let source = String::from_utf8_lossy(&out.stdout).trim().to_string();
    std::path::Path::new(&source)
        .starts_with("/dev/")
        .then_some(source)
}

/// Writes 64 KiB with direct I/O (so the block layer sees requests now) as process `name`.
fn direct_write(dir: &TempDir, name: &str) {
    let dd = dir.named_program(name, "/bin/dd");
    let out = format!("of={}", dir.path().join(unique("direct")).display());
    let ok = trigger(
        &dd,
        &[
            "if=/dev/zero",
            &out,
            "bs=4096",
            "count=16",
            "oflag=direct",
            "conv=fsync",
        ],
    );
    assert!(ok.success(), "direct-I/O dd failed");
}

#[test]
fn block_rq_issue_printf() {
    if !can_trace("block_rq_issue_printf") {
        return;
    }
    let dir = TempDir::new();
    let Some(dev) = block_device_under(dir.path()) else {
        eprintln!(
            "skipping block_rq_issue_printf: {} is not on a block device",
            dir.path().display()
        );
        return;
    };
    let name = unique("b");
    let tracer = trace(
        r#"tracepoint:block:block_rq_issue { printf("%d %s %d\n", pid, comm, args->bytes); }"#,
    );
    direct_write(&dir, &name);
    let run = tracer.interrupt();
    run.assert_success();
    let ours: Vec<u64> = run
        .stdout
        .lines()
        .filter_map(|l| {
            let mut f = l.split(' ');
            let (pid, comm, bytes) = (f.next()?, f.next()?, f.next()?);
            (pid.parse::<u32>().is_ok() && comm == name).then(|| bytes.parse().ok())?
        })
        .collect();
    assert!(
        ours.iter().sum::<u64>() >= 4096,
        "no block requests of {name} on {dev} in\n{}",
        run.stdout
    );
}

#[test]
fn block_rq_wildcard_with_interval_print_and_clear() {
    if !can_trace("block_rq_wildcard_with_interval_print_and_clear") {
        return;
    }
    let dir = TempDir::new();
    if block_device_under(dir.path()).is_none() {
        eprintln!("skipping block_rq_wildcard_with_interval_print_and_clear: no block device");
        return;
    }
    let tracer = trace(
        "tracepoint:block:block_rq_i* { @[probe] = count(); } interval:s:1 { print(@); clear(@); }",
    );
    direct_write(&dir, &unique("w"));
    // Let at least one interval print the counts.
    std::thread::sleep(Duration::from_millis(2300));
    let run = tracer.interrupt();
    run.assert_success();
    let issued: Vec<i64> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("@[tracepoint:block:block_rq_issue]: "))
        .filter_map(|v| v.parse().ok())
        .collect();
    assert!(
        !issued.is_empty(),
        "no block_rq_issue count in\n{}",
        run.stdout
    );
    for line in run.map_lines("@") {
        assert!(
            line.starts_with("@[tracepoint:block:block_rq_i"),
            "unexpected {line:?}"
        );
    }
}

#[test]
fn read_latency_script_file() {
    if !can_trace("read_latency_script_file") {
        return;
    }
    let dir = TempDir::new();
    let script = dir.path().join("read.bt");
    std::fs::write(
        &script,
        "tracepoint:syscalls:sys_enter_read\n{\n  @start[tid] = nsecs;\n}\n\n\
         tracepoint:syscalls:sys_exit_read / @start[tid] /\n{\n  @times = hist(nsecs - @start[tid]);\n  \
         delete(@start[tid]);\n}\n",
    )
    .expect("write script");
    let data = data_file(&dir, 100_000);
    let tracer = Tracer::scry(&[script.to_str().expect("utf-8")]);
    let input = format!("if={}", data.display());
    assert!(trigger("/bin/dd", &[&input, "of=/dev/null", "bs=4096"]).success());
    let run = tracer.interrupt();
    run.assert_success();
    let buckets = hist_buckets(&run, "@times:");
    let total: u64 = buckets.iter().map(|b| b.1).sum();
    assert!(total >= 26, "dd made 26 reads; histogram {buckets:?}");
    // Latencies are positive nanosecond counts.
    assert!(buckets.iter().all(|b| !b.0.starts_with('(')), "{buckets:?}");
}
