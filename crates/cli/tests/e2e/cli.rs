//! Command-line behaviour on the live kernel: exit codes, `-c`, `-p`, `-o`, positional
//! parameters, long strings, JSON output, `--emit asm`, listing, and error reports.

use crate::common::{READY, TempDir, Tracer, can_trace, run, run_scry, scry, trigger, unique};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn exit_code_of_exit_call() {
    if !can_trace("exit_code_of_exit_call") {
        return;
    }
    assert_eq!(run_scry(&["-e", "BEGIN { exit(); }"]).code(), 0);
    // Current bpftrace (not 0.17, which rejects the argument) exits with exit()'s code.
    assert_eq!(run_scry(&["-e", "BEGIN { exit(3); }"]).code(), 3);
}

#[test]
fn syntax_error_exits_1_with_location() {
    let run = run_scry(&["-e", "BEGIN { @ = count( }"]);
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert!(
        run.stderr.contains("stdin:1:"),
        "no location: {}",
        run.stderr
    );
    assert!(run.stderr.contains("ERROR"), "{}", run.stderr);
    assert!(
        run.stderr.contains("BEGIN { @ = count( }"),
        "no source line: {}",
        run.stderr
    );
    assert!(run.stderr.contains('~'), "no underline: {}", run.stderr);
}

#[test]
fn attached_banner_and_end_on_sigint_and_sigterm() {
    if !can_trace("attached_banner_and_end_on_sigint_and_sigterm") {
        return;
    }
    for sig in ["INT", "TERM"] {
        let tracer = Tracer::scry(&[
            "-e",
            r#"tracepoint:raw_syscalls:sys_enter { @n = count(); } END { printf("end\n"); }"#,
        ]);
        let run = tracer.signal(sig);
        run.assert_success();
        assert!(
            run.stderr.contains("Attached 2 probes\n"),
            "SIG{sig}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(&format!("{READY}\n")), "{}", run.stderr);
        assert!(
            run.stdout.starts_with("end\n"),
            "SIG{sig}: END first:\n{}",
            run.stdout
        );
        assert!(
            run.map_value("@n").is_some_and(|n| n > 0),
            "SIG{sig}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn command_option_runs_child_and_stops_when_it_exits() {
    if !can_trace("command_option_runs_child_and_stops_when_it_exits") {
        return;
    }
    let dir = TempDir::new();
    let pidfile = dir.path().join("pid");
    let script = dir.path().join("child.sh");
    std::fs::write(
        &script,
        format!("echo $$ > {}\nsleep 0.2\n", pidfile.display()),
    )
    .expect("write script");
    let command = format!("/bin/sh {}", script.display());
    let tracer = Tracer::scry(&[
        "-c",
        &command,
        "-e",
        r#"BEGIN { printf("cpid=%d\n", cpid); }
           tracepoint:syscalls:sys_enter_exit_group /pid == cpid/ { printf("child exits\n"); }
           END { printf("end\n"); }"#,
    ]);
    // No signal: scry must stop by itself when the command exits.
    let run = tracer.finish(Duration::from_secs(20));
    run.assert_success();
    let pid = std::fs::read_to_string(&pidfile).expect("the command ran");
    assert_eq!(
        run.stdout,
        format!("cpid={}\nchild exits\nend\n\n\n", pid.trim()),
        "{run:?}"
    );
}

#[test]
fn pid_option_filters_to_one_process() {
    if !can_trace("pid_option_filters_to_one_process") {
        return;
    }
    let dir = TempDir::new();
    let name = unique("cat");
    let cat = dir.named_program(&name, "/bin/cat");
    let mut child = Command::new(&cat)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn cat");
    let pid = child.id().to_string();
    let tracer = Tracer::scry(&[
        "-p",
        &pid,
        "-e",
        "tracepoint:raw_syscalls:sys_enter { @[comm, pid] = count(); }",
    ]);
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut echoed = String::new();
    for _ in 0..3 {
        stdin.write_all(b"ping\n").expect("write to cat");
        stdin.flush().expect("flush");
        echoed.clear();
        stdout.read_line(&mut echoed).expect("read from cat");
        assert_eq!(echoed, "ping\n");
    }
    let run = tracer.interrupt();
    drop(stdin);
    let _ = child.wait();
    run.assert_success();
    let lines = run.map_lines("@");
    assert_eq!(
        lines.len(),
        1,
        "only the -p process may be counted:\n{}",
        run.stdout
    );
    // Three writes and at least two reads entered after attaching (cat was already blocked in
    // its first read; its last one may start after the tracer stopped).
    let key = format!("@[{name}, {pid}]");
    assert!(
        run.map_value(&key).is_some_and(|n| n >= 5),
        "{}",
        run.stdout
    );
}

#[test]
fn output_option_writes_to_file() {
    if !can_trace("output_option_writes_to_file") {
        return;
    }
    let dir = TempDir::new();
    let out = dir.path().join("out.txt");
    let run = run_scry(&[
        "-o",
        out.to_str().expect("utf-8"),
        "-e",
        r#"BEGIN { printf("hello %d\n", 7); @x = 5; exit(); }"#,
    ]);
    run.assert_success();
    let text = std::fs::read_to_string(&out).expect("output file");
    // The same text bpftrace prints on stdout (0.17 leaves the two blank lines on stdout).
    assert_eq!(text, "hello 7\n\n\n@x: 5\n");
    assert!(!run.stdout.contains("hello"), "{run:?}");
}

#[test]
fn positional_parameters() {
    if !can_trace("positional_parameters") {
        return;
    }
    let program = r#"BEGIN { printf("%d %s %d\n", $1, str($2), $#); exit(); }"#;
    let run = run_scry(&["-e", program, "42", "hello"]);
    run.assert_success();
    assert_eq!(run.stdout.lines().next(), Some("42 hello 2"), "{run:?}");
    // A script file takes its parameters after the file name, also after `--`.
    let dir = TempDir::new();
    let script = dir.path().join("params.bt");
    std::fs::write(&script, format!("#!/usr/bin/env scry\n{program}\n")).expect("write");
    let script = script.to_str().expect("utf-8");
    let run = run_scry(&[script, "-7", "x y"]);
    run.assert_success();
    assert_eq!(run.stdout.lines().next(), Some("-7 x y 2"), "{run:?}");
    let run = run_scry(&["--", script, "5", "w"]);
    run.assert_success();
    assert_eq!(run.stdout.lines().next(), Some("5 w 2"), "{run:?}");
}

#[test]
fn str_of_one_kib_string() {
    if !can_trace("str_of_one_kib_string") {
        return;
    }
    let dir = TempDir::new();
    let name = unique("s");
    let cat = dir.named_program(&name, "/bin/cat");
    // A path of 1050 bytes (it need not exist: openat is traced on entry).
    let mut path = String::from("/tmp/");
    while path.len() < 1050 {
        path.push_str("scry-long-component/");
    }
    path.truncate(1050);
    let program = format!(
        r#"tracepoint:syscalls:sys_enter_openat /comm == "{name}"/ {{ printf("%s\n", str(args->filename)); }}"#
    );
    let tracer = Tracer::start(
        scry(),
        &["-e", &program],
        &[("BPFTRACE_MAX_STRLEN", "1100")],
    );
    // cat fails: the file does not exist.
    let _ = trigger(&cat, &[&path]);
    let run = tracer.interrupt();
    run.assert_success();
    assert!(
        run.stdout.lines().any(|l| l == path),
        "the 1050-byte path was not printed whole:\n{}",
        run.stdout
    );
}

#[test]
fn json_output_records() {
    if !can_trace("json_output_records") {
        return;
    }
    let run = run_scry(&[
        "-f",
        "json",
        "-e",
        r#"BEGIN { printf("hi %d\n", 1); @c["a"] = count(); @h = hist(3); exit(); }"#,
    ]);
    run.assert_success();
    let mut types = Vec::new();
    for line in run.stdout.lines().filter(|l| !l.is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}"));
        let ty = v["type"]
            .as_str()
            .unwrap_or_else(|| panic!("no type in {line}"));
        match ty {
            "printf" => assert_eq!(v["data"], "hi 1\n"),
            "map" => assert_eq!(v["data"]["@c"]["a"], 1),
            "hist" => assert_eq!(v["data"]["@h"][0]["count"], 1, "{line}"),
            _ => {}
        }
        types.push(ty.to_string());
    }
    for ty in ["printf", "map", "hist"] {
        assert!(
            types.iter().any(|t| t == ty),
            "no {ty} record in\n{}",
            run.stdout
        );
    }
}

#[test]
fn emit_asm_prints_listing_without_running() {
    let run = run_scry(&[
        "--emit",
        "asm",
        "-e",
        r#"BEGIN { printf("hi\n"); exit(); }"#,
    ]);
    run.assert_success();
    assert!(
        !run.stdout.contains("hi\n"),
        "the program must not run: {run:?}"
    );
    assert!(!run.stderr.contains("Attached"), "{run:?}");
    let instructions = run
        .stdout
        .lines()
        .filter(|l| {
            l.trim_start()
                .split(':')
                .next()
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .count();
    assert!(
        instructions > 5,
        "no numbered instructions:\n{}",
        run.stdout
    );
    assert!(
        run.stdout.lines().any(|l| l.trim_end().ends_with("exit")),
        "{}",
        run.stdout
    );
}

#[test]
fn kprobe_error_names_missing_facility() {
    if std::path::Path::new("/sys/bus/event_source/devices/kprobe").exists() {
        eprintln!("skipping kprobe_error_names_missing_facility: this kernel has kprobes");
        return;
    }
    let run = run_scry(&["-e", "kprobe:vfs_read { @ = count(); }"]);
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(run.stderr.contains("ERROR"), "{}", run.stderr);
    assert!(run.stderr.contains("kprobe"), "{}", run.stderr);
    assert!(
        run.stderr.contains("tracepoint:syscalls:sys_enter_read"),
        "no suggestion of the read syscall's tracepoint: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("Attached"), "{}", run.stderr);
}

#[test]
fn unknown_tracepoint_is_named() {
    if !can_trace("unknown_tracepoint_is_named") {
        return;
    }
    let run = run_scry(&[
        "-e",
        "tracepoint:syscalls:sys_enter_no_such_call { @ = count(); }",
    ]);
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(run.stderr.contains("ERROR"), "{}", run.stderr);
    assert!(
        run.stderr.contains("sys_enter_no_such_call"),
        "{}",
        run.stderr
    );
    let run = run_scry(&["-e", "tracepoint:no_such_category:* { @ = count(); }"]);
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(run.stderr.contains("no_such_category"), "{}", run.stderr);
}

#[test]
fn list_tracepoints_with_arguments() {
    if !can_trace("list_tracepoints_with_arguments") {
        return;
    }
    let run = run_scry(&["-l", "tracepoint:syscalls:sys_enter_open*"]);
    run.assert_success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines.contains(&"tracepoint:syscalls:sys_enter_openat"),
        "{}",
        run.stdout
    );
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("tracepoint:syscalls:sys_enter_open")),
        "{}",
        run.stdout
    );
    let run = run_scry(&["-lv", "tracepoint:syscalls:sys_enter_openat"]);
    run.assert_success();
    assert!(
        run.stdout
            .starts_with("tracepoint:syscalls:sys_enter_openat\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\n    const char * filename\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn readiness_line_only_when_requested() {
    if !can_trace("readiness_line_only_when_requested") {
        return;
    }
    let quiet = run(scry(), &["-e", "BEGIN { exit(); }"], &[]);
    quiet.assert_success();
    assert!(!quiet.stderr.contains(READY), "{quiet:?}");
    let told = run(scry(), &["-e", "BEGIN { exit(); }"], &[(READY, "1")]);
    told.assert_success();
    assert!(told.stderr.lines().any(|l| l == READY), "{told:?}");
}

#[test]
fn version_and_help() {
    let run = run_scry(&["--version"]);
    run.assert_success();
    assert!(run.stdout.starts_with("scry "), "{run:?}");
    let run = run_scry(&["-h"]);
    run.assert_success();
    assert!(run.stdout.contains("Usage"), "{run:?}");
    assert!(run.stdout.contains("-e <PROGRAM>"), "{run:?}");
}

#[test]
fn quiet_verbose_and_dry_run() {
    if !can_trace("quiet_verbose_and_dry_run") {
        return;
    }
    let program = r#"BEGIN { printf("ran\n"); exit(); }"#;
    let quiet = run_scry(&["-q", "-e", program]);
    quiet.assert_success();
    assert!(quiet.stdout.starts_with("ran\n"), "{quiet:?}");
    assert!(!quiet.stderr.contains("Attached"), "{quiet:?}");
    let verbose = run_scry(&["-v", "-e", program]);
    verbose.assert_success();
    assert!(
        verbose.stderr.contains("instructions"),
        "no load statistics: {verbose:?}"
    );
    let dry = run_scry(&["--dry-run", "-e", program]);
    dry.assert_success();
    assert!(
        !dry.stdout.contains("ran"),
        "--dry-run must not run BEGIN: {dry:?}"
    );
}

#[test]
fn unsafe_functions_need_the_flag() {
    if !can_trace("unsafe_functions_need_the_flag") {
        return;
    }
    let program = r#"BEGIN { system("echo hi %d", 5); exit(); }"#;
    let refused = run_scry(&["-e", program]);
    assert_eq!(refused.code(), 1, "{refused:?}");
    assert!(refused.stderr.contains("system"), "{refused:?}");
    assert!(refused.stderr.contains("unsafe"), "{refused:?}");
    assert!(refused.stdout.is_empty(), "{refused:?}");
    let allowed = run_scry(&["--unsafe", "-e", program]);
    allowed.assert_success();
    assert!(allowed.stdout.starts_with("hi 5\n"), "{allowed:?}");
}

#[test]
fn full_map_keeps_4096_entries_and_warns() {
    if !can_trace("full_map_keeps_4096_entries_and_warns") {
        return;
    }
    let run = run_scry(&[
        "-e",
        r#"BEGIN { $i = 0; while ($i < 5000) { @m[$i] = 1; $i++; } printf("done\n"); exit(); }"#,
    ]);
    run.assert_success();
    assert!(run.stdout.starts_with("done\n"), "{run:?}");
    assert_eq!(run.map_lines("@m").len(), 4096);
    assert!(
        run.stderr.to_lowercase().contains("full"),
        "no map-full warning: {}",
        run.stderr
    );
}

#[test]
fn lost_events_are_reported() {
    if !can_trace("lost_events_are_reported") {
        return;
    }
    let dir = TempDir::new();
    let name = unique("l");
    let dd = dir.named_program(&name, "/bin/dd");
    let program = format!(
        r#"tracepoint:raw_syscalls:sys_enter /comm == "{name}"/ {{ printf("%d %s\n", pid, comm); }}"#
    );
    // Nobody reads scry's output while dd makes 400000 system calls: the pipe fills, scry
    // blocks writing, and the ring buffer overflows.
    let mut tracer = Tracer::start_unread(scry(), &["-e", &program], &[]);
    assert!(
        trigger(
            &dd,
            &["if=/dev/zero", "of=/dev/null", "bs=1", "count=200000"]
        )
        .success()
    );
    tracer.read_stdout();
    let run = tracer.interrupt();
    run.assert_success();
    let lost: u64 = run
        .stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("Lost ")?
                .strip_suffix(" events")?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no `Lost N events` on stderr: {}", run.stderr));
    let printed = run
        .stdout
        .lines()
        .filter(|l| l.ends_with(&format!(" {name}")))
        .count() as u64;
    assert!(lost > 0, "{}", run.stderr);
    // Every event is either printed or counted as lost (dd makes a few more calls than 400000).
    assert!(printed + lost >= 400_000, "printed {printed} + lost {lost}");
}

#[test]
fn clean_stderr_without_memlock_noise() {
    if !can_trace("clean_stderr_without_memlock_noise") {
        return;
    }
    let run = run_scry(&["-e", "BEGIN { exit(); }"]);
    run.assert_success();
    assert_eq!(run.stderr, "Attached 1 probe\n");
}

#[test]
fn shebang_script_runs_directly() {
    if !can_trace("shebang_script_runs_directly") {
        return;
    }
    let dir = TempDir::new();
    let script = dir.path().join("hello.bt");
    std::fs::write(
        &script,
        "#!/usr/bin/env scry\n// A comment.\nBEGIN { printf(\"hello %s\\n\", str($1)); exit(); }\n",
    )
    .expect("write script");
    let mut perms = std::fs::metadata(&script).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&script, perms).expect("chmod");
    let bin_dir = std::path::Path::new(scry())
        .parent()
        .expect("binary directory");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = script.to_str().expect("utf-8");
    let run = run(script, &["world"], &[("PATH", &path)]);
    run.assert_success();
    assert_eq!(run.stdout.lines().next(), Some("hello world"), "{run:?}");
}

#[test]
fn type_error_in_script_file_names_file_line_and_columns() {
    let dir = TempDir::new();
    let script = dir.path().join("bad.bt");
    std::fs::write(&script, "BEGIN {\n  @x = 1;\n  @x = \"str\";\n}\n").expect("write script");
    let script = script.to_str().expect("utf-8");
    let run = run_scry(&[script]);
    assert_eq!(run.code(), 1, "{run:?}");
    // As bpftrace: FILE:LINE:COL-COL: ERROR: message, the source line, an underline.
    let expected = format!("{script}:3:3-5: ERROR: Type mismatch for @x: ");
    let mut lines = run.stderr.lines();
    assert!(
        lines.next().is_some_and(|l| l.starts_with(&expected)),
        "{}",
        run.stderr
    );
    assert_eq!(lines.next(), Some("  @x = \"str\";"), "{}", run.stderr);
    assert_eq!(lines.next(), Some("  ~~"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{run:?}");
}
