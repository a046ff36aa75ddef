//! killsnoop, statsnoop, bashreadline, ext4slower, xfsslower, btrfsslower and cachestat.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{TempDir, can_trace, in_ci, unique};
use crate::{json_lines, tool};

fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}

/// A shell that waits for a line on its stdin, then `exec`s `command`: its pid (the pid
/// the command will have) is known before the command runs, so a tool can filter on it.
struct Held {
    child: Child,
}

impl Held {
    fn new(command: &str) -> Held {
        let child = Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("read go; exec {command}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn /bin/sh");
        Held { child }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Lets the command run and waits for it (at most 30 s).
    fn release(mut self) -> std::process::ExitStatus {
        let mut stdin = self.child.stdin.take().expect("stdin");
        stdin.write_all(b"go\n").expect("write to the held shell");
        drop(stdin);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the held command did not finish");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The columns of the first line of `stdout` whose last column is `last`.
fn line_ending<'a>(stdout: &'a str, last: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|cols| cols.last() == Some(&last))
        .unwrap_or_else(|| panic!("no line ending with {last:?} in\n{stdout}"))
}

fn is_hms(text: &str) -> bool {
    let parts: Vec<&str> = text.split(':').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
}

// ---------------------------------------------------------------------------------------
// killsnoop

#[test]
fn killsnoop_shows_sender_signal_target_and_result() {
    if !can_trace("killsnoop_shows_sender_signal_target_and_result") {
        return;
    }
    // The target: a child of this test, and nothing else is ever signalled.
    let mut target = Command::new("/bin/sleep").arg("30").spawn().unwrap();
    let target_pid = target.id();
    let sender = Held::new(&format!("/bin/kill -s TERM {target_pid}"));
    let tracer = tool("killsnoop", &["-p", &sender.pid().to_string()]);
    let sender_pid = sender.pid();
    assert!(sender.release().success());
    let _ = target.wait();
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
        ["TIME", "PID", "COMM", "SIG", "TPID", "RESULT"],
        "{}",
        run.stdout
    );
    let lines: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    // -p: only the sender's calls.
    assert!(
        lines
            .iter()
            .all(|c| c.get(1) == Some(&&*sender_pid.to_string())),
        "{}",
        run.stdout
    );
    let line = lines
        .iter()
        .find(|c| c.get(4) == Some(&&*target_pid.to_string()))
        .unwrap_or_else(|| panic!("no signal to {target_pid} in\n{}", run.stdout));
    assert!(is_hms(line[0]), "{line:?}");
    let target = target_pid.to_string();
    assert_eq!(line[2..], ["kill", "15", &target, "0"], "{line:?}");
}

#[test]
fn killsnoop_json_failed_signals_to_a_target() {
    if !can_trace("killsnoop_json_failed_signals_to_a_target") {
        return;
    }
    // A pid that no longer exists: a reaped child's. Only signal 0 (a probe) is sent to it.
    let mut gone = Command::new("/bin/true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    let tracer = tool(
        "killsnoop",
        &["--json", "-x", "-T", &gone_pid.to_string(), "-s", "0,TERM"],
    );
    let sender = Held::new(&format!("/bin/kill -s 0 {gone_pid}"));
    let sender_pid = sender.pid();
    assert!(!sender.release().success());
    settle();
    let run = tracer.interrupt();
    run.assert_success();
    let events = json_lines(&run.stdout);
    let event = events
        .iter()
        .find(|e| e["pid"] == sender_pid)
        .unwrap_or_else(|| panic!("no kill from {sender_pid} in\n{}", run.stdout));
    assert_eq!(event["comm"], "kill");
    assert_eq!(event["sig"], 0);
    assert_eq!(event["tpid"], gone_pid);
    assert_eq!(event["result"], -3, "ESRCH: {event}");
    assert!(is_hms(event["time"].as_str().unwrap_or("")), "{event}");
    // -x: failures only; -T: only this target.
    assert!(events.iter().all(|e| e["result"].as_i64().unwrap_or(0) < 0));
    assert!(events.iter().all(|e| e["tpid"] == gone_pid));
}

// ---------------------------------------------------------------------------------------
// statsnoop

#[test]
fn statsnoop_shows_paths_results_and_syscalls() {
    if !can_trace("statsnoop_shows_paths_results_and_syscalls") {
        return;
    }
    let dir = TempDir::new();
    let present = dir.path().join(unique("scry_stat_ok"));
    std::fs::write(&present, b"x").unwrap();
    let missing = dir.path().join(unique("scry_stat_missing"));
    let held = Held::new(&format!(
        "/usr/bin/stat {} {}",
        present.display(),
        missing.display()
    ));
    let pid = held.pid().to_string();
    let tracer = tool("statsnoop", &["-t", "-s", "-p", &pid]);
    held.release();
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
        ["TIME(s)", "PID", "COMM", "FD", "ERR", "SYSCALL", "PATH"],
        "{}",
        run.stdout
    );
    let stat_calls = [
        "statfs",
        "newstat",
        "newlstat",
        "newfstatat",
        "statx",
        "stat",
        "lstat",
    ];
    let ok = line_ending(&run.stdout, &present.to_string_lossy());
    // TIME(s) PID COMM FD ERR SYSCALL PATH
    assert!(ok[0].parse::<f64>().is_ok(), "{ok:?}");
    assert_eq!(
        (ok[1], ok[2], ok[3], ok[4]),
        (&*pid, "stat", "0", "0"),
        "{ok:?}"
    );
    assert!(stat_calls.contains(&ok[5]), "{ok:?}");
    let failed = line_ending(&run.stdout, &missing.to_string_lossy());
    assert_eq!(
        (failed[1], failed[3], failed[4]),
        (&*pid, "-1", "2"),
        "{failed:?}"
    );
    assert!(stat_calls.contains(&failed[5]), "{failed:?}");
}

#[test]
fn statsnoop_json_only_failures() {
    if !can_trace("statsnoop_json_only_failures") {
        return;
    }
    let dir = TempDir::new();
    let present = dir.path().join(unique("scry_stat_ok"));
    std::fs::write(&present, b"x").unwrap();
    let missing = dir.path().join(unique("scry_stat_missing"));
    let held = Held::new(&format!(
        "/usr/bin/stat {} {}",
        present.display(),
        missing.display()
    ));
    let pid = held.pid();
    let tracer = tool("statsnoop", &["--json", "-x", "-p", &pid.to_string()]);
    held.release();
    settle();
    let run = tracer.interrupt();
    run.assert_success();
    let events = json_lines(&run.stdout);
    let event = events
        .iter()
        .find(|e| e["path"] == *missing.to_string_lossy())
        .unwrap_or_else(|| panic!("no stat of {} in\n{}", missing.display(), run.stdout));
    assert_eq!(event["pid"], pid);
    assert_eq!(event["comm"], "stat");
    assert_eq!(event["fd"], -1);
    assert_eq!(event["err"], 2);
    assert!(
        events.iter().all(|e| e["err"].as_i64().unwrap_or(0) != 0),
        "-x shows failures only:\n{}",
        run.stdout
    );
    assert!(!run.stdout.contains(&*present.to_string_lossy()));
}

// ---------------------------------------------------------------------------------------
// bashreadline

#[test]
fn bashreadline_shows_a_command_typed_into_bash() {
    if !can_trace("bashreadline_shows_a_command_typed_into_bash") {
        return;
    }
    let marker = unique("scry_rl");
    let command = format!("echo {marker}");
    let tracer = tool("bashreadline", &[]);
    // An interactive bash on a pseudo-terminal (script(1)), typed into through the pty.
    let mut script = Command::new("script")
        .args(["-qec", "bash --norc --noprofile -i", "/dev/null"])
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn script(1) (util-linux)");
    let mut stdin = script.stdin.take().expect("stdin");
    std::thread::sleep(Duration::from_millis(300));
    writeln!(stdin, "{command}").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    writeln!(stdin, "exit").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while script.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = script.kill();
            panic!("the interactive bash did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stdin);
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
    assert_eq!(header, ["TIME", "PID", "COMMAND"], "{}", run.stdout);
    let line = run
        .stdout
        .lines()
        .find(|l| l.ends_with(&command))
        .unwrap_or_else(|| panic!("no line for {command:?} in\n{}", run.stdout));
    // "%-9s %-7d %s": TIME, PID, then the command with its spaces.
    assert!(is_hms(line[..8].trim()), "{line}");
    assert!(line[10..17].trim().parse::<u32>().is_ok(), "{line}");
    assert_eq!(&line[18..], command, "{line}");
}

// ---------------------------------------------------------------------------------------
// ext4slower, xfsslower, btrfsslower

/// A directory on a file system of type `fs`: the temporary directory when it is one (ext4),
/// else a file system made on a loop-mounted image, unmounted when dropped.
struct FsDir {
    dir: PathBuf,
    /// The mount point and image to remove.
    mounted: Option<(PathBuf, PathBuf)>,
}

impl FsDir {
    fn new(fs: &str, magic: &str, test: &str) -> Option<FsDir> {
        let tmp = std::env::temp_dir();
        let on = |dir: &Path| {
            Command::new("stat")
                .args(["-f", "-c", "%t"])
                .arg(dir)
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim() == magic)
                .unwrap_or(false)
        };
        if on(&tmp) {
            let dir = tmp.join(unique("scry-fs-"));
            std::fs::create_dir(&dir).unwrap();
            return Some(FsDir { dir, mounted: None });
        }
        let mkfs = format!("mkfs.{fs}");
        let has_mkfs = Command::new("sh")
            .args(["-c", &format!("command -v {mkfs}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !has_mkfs {
            assert!(
                !in_ci(),
                "{test}: {mkfs} is missing (scripts/test.sh installs it), and CI=true forbids skipping"
            );
            eprintln!("skipping {test}: {mkfs} is not installed");
            return None;
        }
        let image = tmp.join(unique("scry-fs-img-"));
        let mount = tmp.join(unique("scry-fs-mnt-"));
        // xfs needs 300 MiB; the image is sparse.
        let status = Command::new("truncate")
            .args(["-s", "320M"])
            .arg(&image)
            .status()
            .unwrap();
        assert!(status.success());
        let quiet: &[&str] = if fs == "ext4" { &["-q", "-F"] } else { &["-q"] };
        let status = Command::new(&mkfs)
            .args(quiet)
            .arg(&image)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "{mkfs} failed");
        std::fs::create_dir(&mount).unwrap();
        let status = Command::new("mount")
            .args(["-o", "loop"])
            .arg(&image)
            .arg(&mount)
            .status()
            .unwrap();
        if !status.success() {
            let _ = std::fs::remove_dir(&mount);
            let _ = std::fs::remove_file(&image);
            panic!("{test}: mounting a loop {fs} image failed");
        }
        Some(FsDir {
            dir: mount.clone(),
            mounted: Some((mount, image)),
        })
    }
}

impl Drop for FsDir {
    fn drop(&mut self) {
        match &self.mounted {
            None => {
                let _ = std::fs::remove_dir_all(&self.dir);
            }
            Some((mount, image)) => {
                // The loop device goes with the mount (mount -o loop sets autoclear).
                let unmounted = (0..20).any(|_| {
                    let ok = Command::new("umount")
                        .arg(mount)
                        .status()
                        .is_ok_and(|s| s.success());
                    if !ok {
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    ok
                });
                if !unmounted {
                    let _ = Command::new("umount").arg("-l").arg(mount).status();
                }
                let _ = std::fs::remove_dir(mount);
                let _ = std::fs::remove_file(image);
            }
        }
    }
}

/// Writes four 4 KiB blocks with O_DIRECT and fsyncs, under `tool -p PID extra… 0`, and
/// returns (the run's stdout, dd's pid, the file name).
fn fsslower_dd(
    tool_name: &str,
    fs: &str,
    magic: &str,
    extra: &[&str],
) -> Option<(String, u32, String)> {
    let test = format!("{tool_name}_{}", extra.join(""));
    if !can_trace(&test) {
        return None;
    }
    let dir = FsDir::new(fs, magic, &test)?;
    let name = unique("scry_fsslow");
    let file = dir.dir.join(&name);
    let held = Held::new(&format!(
        "dd if=/dev/zero of={} bs=4096 count=4 oflag=direct conv=fsync",
        file.display()
    ));
    let pid = held.pid();
    let pid_text = pid.to_string();
    let mut args = vec!["-p", &pid_text];
    args.extend_from_slice(extra);
    args.push("0");
    let tracer = tool(tool_name, &args);
    assert!(held.release().success(), "dd failed on {fs}");
    settle();
    let run = tracer.interrupt();
    run.assert_success();
    assert!(
        run.stderr.contains("syscall level"),
        "the start-up note is missing: {}",
        run.stderr
    );
    drop(dir);
    Some((run.stdout, pid, name))
}

/// Checks the text output of [`fsslower_dd`].
fn check_fsslower_text(fs: &str, stdout: &str, pid: u32, name: &str) {
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some(&*format!("Tracing {fs} operations")),
        "{stdout}"
    );
    let header: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    assert_eq!(
        header,
        [
            "TIME", "COMM", "PID", "T", "BYTES", "OFF_KB", "LAT(ms)", "FILENAME"
        ],
        "{stdout}"
    );
    let ours: Vec<Vec<&str>> = stdout
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|c| c.last() == Some(&name))
        .collect();
    let pid = pid.to_string();
    for cols in &ours {
        assert_eq!(cols.len(), 8, "{cols:?}");
        assert!(is_hms(cols[0]), "{cols:?}");
        assert_eq!((cols[1], cols[2]), ("dd", &*pid), "{cols:?}");
        assert!(cols[6].parse::<f64>().is_ok_and(|ms| ms >= 0.0), "{cols:?}");
    }
    let writes: Vec<(&str, &str)> = ours
        .iter()
        .filter(|c| c[3] == "W")
        .map(|c| (c[4], c[5]))
        .collect();
    assert_eq!(
        writes,
        [("4096", "0"), ("4096", "4"), ("4096", "8"), ("4096", "12")],
        "{stdout}"
    );
    assert!(
        ours.iter().any(|c| c[3] == "S" && c[4] == "0"),
        "no fsync in\n{stdout}"
    );
    assert!(ours.iter().any(|c| c[3] == "O"), "no open in\n{stdout}");
}

#[test]
fn ext4slower_shows_direct_writes_fsync_and_open() {
    if let Some((stdout, pid, name)) = fsslower_dd("ext4slower", "ext4", "ef53", &[]) {
        check_fsslower_text("ext4", &stdout, pid, &name);
    }
}

#[test]
fn xfsslower_csv_on_a_loop_xfs() {
    let Some((stdout, pid, name)) = fsslower_dd("xfsslower", "xfs", "58465342", &["-j"]) else {
        return;
    };
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some("ENDTIME_us,TASK,PID,TYPE,BYTES,OFFSET_b,LATENCY_us,FILE"),
        "{stdout}"
    );
    let rows: Vec<Vec<&str>> = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c.last() == Some(&&*name))
        .collect();
    let writes: Vec<(&str, &str)> = rows
        .iter()
        .filter(|c| c[3] == "W")
        .map(|c| (c[4], c[5]))
        .collect();
    assert_eq!(
        writes,
        [
            ("4096", "0"),
            ("4096", "4096"),
            ("4096", "8192"),
            ("4096", "12288")
        ],
        "{stdout}"
    );
    for row in &rows {
        assert_eq!((row[1], row[2]), ("dd", &*pid.to_string()), "{row:?}");
        assert!(row[0].parse::<u64>().is_ok_and(|us| us > 0), "{row:?}");
        assert!(row[6].parse::<u64>().is_ok(), "{row:?}");
    }
    assert!(rows.iter().any(|c| c[3] == "S"), "{stdout}");
}

#[test]
fn btrfsslower_json_on_a_loop_btrfs() {
    let Some((stdout, pid, name)) = fsslower_dd("btrfsslower", "btrfs", "9123683e", &["--json"])
    else {
        return;
    };
    let events: Vec<serde_json::Value> = json_lines(&stdout)
        .into_iter()
        .filter(|e| e["filename"] == *name)
        .collect();
    let writes: Vec<(i64, i64)> = events
        .iter()
        .filter(|e| e["t"] == "W")
        .map(|e| (e["bytes"].as_i64().unwrap(), e["off_kb"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        writes,
        [(4096, 0), (4096, 4), (4096, 8), (4096, 12)],
        "{stdout}"
    );
    for e in &events {
        assert_eq!(e["pid"], pid, "{e}");
        assert_eq!(e["comm"], "dd", "{e}");
        assert!(e["lat_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{e}");
    }
    assert!(events.iter().any(|e| e["t"] == "S"), "{stdout}");
}

// ---------------------------------------------------------------------------------------
// cachestat

/// A 32 MiB file, dropped from the page cache, then read twice (cold, then cached) while
/// `cachestat args…` runs; returns its stdout.
fn cachestat_two_reads(args: &[&str]) -> String {
    let dir = TempDir::new();
    let file = dir.path().join(unique("scry_cache"));
    let path = file.to_string_lossy().into_owned();
    let of = format!("of={path}");
    let status = Command::new("dd")
        .args(["if=/dev/zero", &of, "bs=1M", "count=32", "conv=fsync"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    // GNU dd: iflag=nocache with count=0 drops the whole file from the cache.
    let iff = format!("if={path}");
    let status = Command::new("dd")
        .args([&*iff, "iflag=nocache", "count=0"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let tracer = tool("cachestat", args);
    for _ in 0..2 {
        let status = Command::new("dd")
            .args([&*iff, "of=/dev/null", "bs=1M"])
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    }
    // Let an interval end after the reads.
    std::thread::sleep(Duration::from_millis(1300));
    let run = tracer.interrupt();
    run.assert_success();
    assert!(run.stderr.contains("cachestat --help"), "{}", run.stderr);
    run.stdout
}

#[test]
fn cachestat_counts_the_cached_reread_as_hits() {
    if !can_trace("cachestat_counts_the_cached_reread_as_hits") {
        return;
    }
    let stdout = cachestat_two_reads(&["-T", "1"]);
    let mut lines = stdout.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    assert_eq!(
        header,
        [
            "TIME",
            "HITS",
            "MISSES",
            "DIRTIES",
            "HITRATIO",
            "BUFFERS_MB",
            "CACHED_MB"
        ],
        "{stdout}"
    );
    let rows: Vec<Vec<&str>> = lines
        .take_while(|l| *l != "Detaching...")
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(!rows.is_empty(), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("Detaching..."), "{stdout}");
    let mut all_hits = 0;
    for row in &rows {
        assert_eq!(row.len(), 7, "{row:?}");
        assert!(is_hms(row[0]), "{row:?}");
        let n = |i: usize| row[i].parse::<u64>().unwrap_or_else(|_| panic!("{row:?}"));
        let (hits, misses) = (n(1), n(2));
        let ratio: f64 = row[4]
            .strip_suffix('%')
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("{row:?}"));
        assert!((0.0..=100.0).contains(&ratio), "{row:?}");
        if hits + misses > 0 {
            let expected = hits as f64 * 100.0 / (hits + misses) as f64;
            assert!((ratio - expected).abs() < 0.01, "{row:?}");
        }
        assert!(n(6) > 0, "CACHED_MB comes from /proc/meminfo: {row:?}");
        all_hits += hits;
    }
    // The cached re-read alone looks up 8192 pages.
    assert!(all_hits >= 4096, "too few hits:\n{stdout}");
}

#[test]
fn cachestat_json_rows() {
    if !can_trace("cachestat_json_rows") {
        return;
    }
    let stdout = cachestat_two_reads(&["--json", "1"]);
    let rows = json_lines(&stdout);
    assert!(!rows.is_empty());
    let mut all_hits = 0;
    for row in &rows {
        let hits = row["hits"].as_u64().unwrap_or_else(|| panic!("{row}"));
        let misses = row["misses"].as_u64().unwrap_or_else(|| panic!("{row}"));
        let ratio = row["hitratio"].as_f64().unwrap_or_else(|| panic!("{row}"));
        assert!((0.0..=100.0).contains(&ratio), "{row}");
        if hits + misses > 0 {
            let expected = hits as f64 * 100.0 / (hits + misses) as f64;
            assert!((ratio - expected).abs() < 0.01, "{row}");
        }
        assert!(row["accesses"].as_u64().unwrap_or(0) >= hits, "{row}");
        assert!(
            row["dirties"].is_u64() && row["buffers_mb"].is_number(),
            "{row}"
        );
        assert!(row["cached_mb"].as_f64().unwrap_or(0.0) > 0.0, "{row}");
        all_hits += hits;
    }
    assert!(all_hits >= 4096, "too few hits:\n{stdout}");
}
