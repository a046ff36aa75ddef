//! opensnoop.

use crate::common::{can_trace, unique};
use crate::{json_lines, tool};

#[test]
fn opensnoop_shows_the_trigger_s_file_with_pid_and_fd() {
    if !can_trace("opensnoop_shows_the_trigger_s_file_with_pid_and_fd") {
        return;
    }
    let dir = std::env::temp_dir();
    let ok = dir.join(unique("scry_open_ok"));
    std::fs::write(&ok, b"x").unwrap();
    let missing = dir.join(unique("scry_open_missing"));
    let tracer = tool("opensnoop", &["-T", "-U"]);
    let child = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(format!(
            "exec 3<{ok}; cat {missing} 2>/dev/null; exit 0",
            ok = ok.display(),
            missing = missing.display()
        ))
        .spawn()
        .unwrap();
    let pid = child.id();
    let _ = child.wait_with_output();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let run = tracer.interrupt();
    run.assert_success();
    let mut lines = run.stdout.lines();
    let header = lines.next().unwrap_or_default();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["TIME(s)", "UID", "PID", "COMM", "FD", "ERR", "PATH"],
        "{}",
        run.stdout
    );
    let line = run
        .stdout
        .lines()
        .find(|l| l.ends_with(&*ok.to_string_lossy()))
        .unwrap_or_else(|| panic!("no open of {} in\n{}", ok.display(), run.stdout));
    let cols: Vec<&str> = line.split_whitespace().collect();
    // TIME(s) UID PID COMM FD ERR PATH: fd 3 opened by the shell itself.
    assert_eq!(cols[1], "0", "{line}");
    assert_eq!(cols[2], pid.to_string(), "{line}");
    assert_eq!(cols[3], "sh", "{line}");
    assert_eq!(cols[4], "3", "{line}");
    assert_eq!(cols[5], "0", "{line}");
    assert!(cols[0].parse::<f64>().is_ok(), "{line}");
    let failed = run
        .stdout
        .lines()
        .find(|l| l.ends_with(&*missing.to_string_lossy()))
        .unwrap_or_else(|| panic!("no failed open of {} in\n{}", missing.display(), run.stdout));
    let cols: Vec<&str> = failed.split_whitespace().collect();
    assert_eq!((cols[3], cols[4], cols[5]), ("cat", "-1", "2"), "{failed}");
    std::fs::remove_file(&ok).ok();
}

#[test]
fn opensnoop_json_and_filters() {
    if !can_trace("opensnoop_json_and_filters") {
        return;
    }
    let dir = std::env::temp_dir();
    let path = dir.join(unique("scry_open_json"));
    std::fs::write(&path, b"x").unwrap();
    let tracer = tool("opensnoop", &["--json", "-n", "cat", "-x"]);
    crate::common::trigger("/bin/cat", &[&path.to_string_lossy(), "/nonexistent/scry"]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let run = tracer.interrupt();
    run.assert_success();
    let events = json_lines(&run.stdout);
    // -x: only failures; -n cat: only commands containing "cat".
    assert!(
        events.iter().all(|e| e["err"].as_i64() != Some(0)),
        "{}",
        run.stdout
    );
    assert!(
        events
            .iter()
            .all(|e| e["comm"].as_str().unwrap_or("").contains("cat"))
    );
    let missing = events
        .iter()
        .find(|e| e["path"] == "/nonexistent/scry")
        .unwrap_or_else(|| panic!("no failed open in\n{}", run.stdout));
    assert_eq!(missing["fd"], -1);
    assert_eq!(missing["err"], 2);
    assert!(missing["pid"].as_u64().unwrap_or(0) > 0);
    std::fs::remove_file(&path).ok();
}
