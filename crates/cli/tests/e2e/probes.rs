//! Probe kinds and builtins on the live kernel: `__data_loc` tracepoint strings, raw
//! tracepoints, profile, software and interval probes, and the process builtins.

use crate::common::{TempDir, Tracer, can_trace, run_scry, trigger, unique};
use std::process::Command;
use std::time::Duration;

#[test]
fn data_loc_string_of_sched_process_exec() {
    if !can_trace("data_loc_string_of_sched_process_exec") {
        return;
    }
    let dir = TempDir::new();
    let prog = dir.named_program(&unique("x"), "/bin/true");
    let tracer = Tracer::scry(&[
        "-e",
        r#"tracepoint:sched:sched_process_exec { printf("%s %d\n", str(args->filename), args->pid); }"#,
    ]);
    let mut child = Command::new(&prog).spawn().expect("spawn");
    let pid = child.id();
    assert!(child.wait().expect("wait").success());
    let run = tracer.interrupt();
    run.assert_success();
    let expected = format!("{} {pid}", prog.display());
    assert!(
        run.stdout.lines().any(|l| l == expected),
        "no {expected:?} in\n{}",
        run.stdout
    );
}

#[test]
fn data_loc_comms_of_sched_process_fork() {
    if !can_trace("data_loc_comms_of_sched_process_fork") {
        return;
    }
    let dir = TempDir::new();
    let name = unique("f");
    let sh = dir.named_program(&name, "/bin/sh");
    let tracer = Tracer::scry(&[
        "-e",
        r#"tracepoint:sched:sched_process_fork { printf("%s %s\n", str(args->parent_comm), str(args->child_comm)); }"#,
    ]);
    // The shell forks for the pipeline's commands.
    assert!(trigger(&sh, &["-c", "/bin/true | /bin/true"]).success());
    let run = tracer.interrupt();
    run.assert_success();
    let expected = format!("{name} {name}");
    assert!(
        run.stdout.lines().any(|l| l == expected),
        "no {expected:?} in\n{}",
        run.stdout
    );
}

#[test]
fn process_builtins_in_a_tracepoint() {
    if !can_trace("process_builtins_in_a_tracepoint") {
        return;
    }
    let dir = TempDir::new();
    let name = unique("u");
    let touch = dir.named_program(&name, "/usr/bin/touch");
    let file = dir.path().join("f");
    let program = format!(
        r#"tracepoint:syscalls:sys_enter_openat /comm == "{name}"/ {{
            printf("%d %d %d %d %s %s %d\n", pid, tid, uid, gid, username, probe, cpu < 1024);
        }}"#
    );
    let tracer = Tracer::scry(&["-e", &program]);
    let mut child = Command::new(&touch).arg(&file).spawn().expect("spawn");
    let pid = child.id();
    assert!(child.wait().expect("wait").success());
    let run = tracer.interrupt();
    run.assert_success();
    let expected = format!("{pid} {pid} 0 0 root tracepoint:syscalls:sys_enter_openat 1");
    let lines: Vec<&str> = run.stdout.lines().filter(|l| !l.is_empty()).collect();
    assert!(!lines.is_empty(), "nothing printed: {run:?}");
    assert!(
        lines.iter().all(|l| *l == expected),
        "expected only {expected:?}:\n{}",
        run.stdout
    );
}

#[test]
fn raw_tracepoint_counts() {
    if !can_trace("raw_tracepoint_counts") {
        return;
    }
    let run = run_scry(&[
        "-e",
        "rawtracepoint:sys_enter { @ = count(); } interval:ms:300 { exit(); }",
    ]);
    run.assert_success();
    assert!(run.map_value("@").is_some_and(|n| n > 0), "{run:?}");
}

#[test]
fn profile_samples_by_cpu() {
    if !can_trace("profile_samples_by_cpu") {
        return;
    }
    let run = run_scry(&[
        "-e",
        "profile:hz:99 { @[cpu] = count(); } interval:ms:500 { exit(); }",
    ]);
    run.assert_success();
    let lines = run.map_lines("@");
    assert!(!lines.is_empty(), "no samples: {run:?}");
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    for line in lines {
        let cpu: usize = line[2..line.find(']').expect("key")]
            .parse()
            .expect("cpu number");
        assert!(cpu < cpus.max(1024), "{line}");
    }
}

#[test]
fn software_cpu_clock_counts() {
    if !can_trace("software_cpu_clock_counts") {
        return;
    }
    let run = run_scry(&[
        "-e",
        "software:cpu-clock:1000000 { @ = count(); } interval:ms:300 { exit(); }",
    ]);
    run.assert_success();
    assert!(run.map_value("@").is_some_and(|n| n > 0), "{run:?}");
}

#[test]
fn interval_ticks_until_exit() {
    if !can_trace("interval_ticks_until_exit") {
        return;
    }
    let tracer = Tracer::scry(&[
        "-e",
        "interval:ms:100 { @ticks = count(); } interval:ms:550 { exit(); }",
    ]);
    let run = tracer.finish(Duration::from_secs(20));
    run.assert_success();
    // About five ticks. A stalled machine may run the exit timer before any tick (then there
    // is no @ticks at all), but ticks never outnumber the elapsed 100 ms periods by much.
    let ticks = run.map_value("@ticks").unwrap_or(0);
    assert!(ticks <= 10, "@ticks: {ticks}\n{run:?}");
    assert!(
        run.stdout
            .lines()
            .all(|l| l.is_empty() || l.starts_with("@ticks: ")),
        "only @ticks may be printed: {run:?}"
    );
}

#[test]
fn nsecs_and_elapsed_advance() {
    if !can_trace("nsecs_and_elapsed_advance") {
        return;
    }
    let run = run_scry(&[
        "-e",
        r#"BEGIN { @start = nsecs; }
           interval:ms:50 { printf("%d %d\n", nsecs > @start, elapsed > 0); delete(@start); exit(); }"#,
    ]);
    run.assert_success();
    assert_eq!(run.stdout.lines().next(), Some("1 1"), "{run:?}");
}

#[test]
fn software_page_faults_by_comm() {
    if !can_trace("software_page_faults_by_comm") {
        return;
    }
    let dir = TempDir::new();
    let name = unique("pf");
    let dd = dir.named_program(&name, "/bin/dd");
    let tracer = Tracer::scry(&["-e", "software:faults:1 { @[comm] = count(); }"]);
    // An 8 MiB buffer, touched by the copy: thousands of page faults.
    assert!(trigger(&dd, &["if=/dev/zero", "of=/dev/null", "bs=8M", "count=2"]).success());
    let run = tracer.interrupt();
    run.assert_success();
    let faults = run.map_value(&format!("@[{name}]")).unwrap_or(0);
    assert!(faults >= 100, "@[{name}]: {faults}\n{}", run.stdout);
}

#[test]
fn exit_inside_if_after_three_ticks() {
    if !can_trace("exit_inside_if_after_three_ticks") {
        return;
    }
    let tracer = Tracer::scry(&[
        "-e",
        r#"interval:ms:100 { @i++; printf("tick %d\n", @i); if (@i >= 3) { exit(); } }"#,
    ]);
    let run = tracer.finish(Duration::from_secs(20));
    run.assert_success();
    assert_eq!(run.stdout, "tick 1\ntick 2\ntick 3\n\n\n@i: 3\n");
}

#[test]
fn signal_by_name_kills_the_traced_process() {
    if !can_trace("signal_by_name_kills_the_traced_process") {
        return;
    }
    // A process that sleeps in a loop; the probe kills it from inside its own syscall.
    let mut child = Command::new("python3")
        .args(["-c", "import time\nwhile True: time.sleep(0.05)"])
        .spawn()
        .expect("spawn python3");
    let pid = child.id();
    let program = format!(
        r#"tracepoint:syscalls:sys_enter_clock_nanosleep /pid == {pid}/ {{ signal("SIGKILL"); exit(); }}"#
    );
    let run = run_scry(&["--unsafe", "-e", &program]);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the traced process is still alive after signal(): {run:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    run.assert_success();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9), "{status:?} {run:?}");
}

#[test]
fn print_whole_kernel_struct_through_btf() {
    if !can_trace("print_whole_kernel_struct_through_btf") {
        return;
    }
    let uname = |flag: &str| {
        let out = Command::new("uname").arg(flag).output().expect("uname");
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    };
    let run = run_scry(&[
        "-e",
        "BEGIN { print(curtask->nsproxy->uts_ns->name); print(*curtask->fs); exit(); }",
    ]);
    run.assert_success();
    let lines: Vec<&str> = run.stdout.lines().filter(|l| !l.is_empty()).collect();
    let expected = format!(
        "{{ .sysname = {}, .nodename = {}, .release = {}, .version = {}, .machine = {}, .domainname = ",
        uname("-s"),
        uname("-n"),
        uname("-r"),
        uname("-v"),
        uname("-m")
    );
    assert!(lines[0].starts_with(&expected), "{expected}\n{run:?}");
    // struct fs_struct: nested records, pointers in hex, the tracer's own umask.
    let umask = Command::new("sh")
        .args(["-c", "umask"])
        .output()
        .expect("umask");
    let umask = u32::from_str_radix(String::from_utf8_lossy(&umask.stdout).trim(), 8).unwrap();
    assert!(lines[1].starts_with("{ .users = "), "{run:?}");
    assert!(
        lines[1].contains(&format!(", .umask = {umask}, ")),
        "{run:?}"
    );
    assert!(lines[1].contains(".root = { .mnt = 0xffff"), "{run:?}");
}

#[test]
fn print_whole_struct_in_user_memory() {
    if !can_trace("print_whole_struct_in_user_memory") {
        return;
    }
    let dir = TempDir::new();
    let name = unique("s");
    let sleep = dir.named_program(&name, "/bin/sleep");
    let program = format!(
        r#"struct ts {{ long s; long ns; }}
        tracepoint:syscalls:sys_enter_clock_nanosleep /comm == "{name}"/ {{
            print(*(struct ts *)args->rqtp);
            print(*uptr((struct __kernel_timespec *)args->rqtp));
        }}"#
    );
    let tracer = Tracer::scry(&["-f", "json", "-e", &program]);
    let status = Command::new(&sleep).arg("0.25").status().expect("sleep");
    assert!(status.success());
    let run = tracer.interrupt();
    run.assert_success();
    let values: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains(r#""type": "value""#))
        .collect();
    assert_eq!(
        values,
        [
            r#"{"type": "value", "data": { "s": 0, "ns": 250000000 }}"#,
            r#"{"type": "value", "data": { "tv_sec": 0, "tv_nsec": 250000000 }}"#,
        ],
        "{run:?}"
    );
}

#[test]
fn whole_structs_as_map_keys() {
    if !can_trace("whole_structs_as_map_keys") {
        return;
    }
    let dir = TempDir::new();
    let name = unique("k");
    let sleep = dir.named_program(&name, "/bin/sleep");
    let program = format!(
        r#"struct ts {{ long s; long ns; }}
        tracepoint:syscalls:sys_enter_clock_nanosleep /comm == "{name}"/ {{
            @[*uptr((struct __kernel_timespec *)args->rqtp)] = count();
            @s[*(struct ts *)args->rqtp, comm] = count();
        }}"#
    );
    let tracer = Tracer::scry(&["-e", &program]);
    for delay in ["0.1", "0.2", "0.1"] {
        let status = Command::new(&sleep).arg(delay).status().expect("sleep");
        assert!(status.success());
    }
    let run = tracer.interrupt();
    run.assert_success();
    // bpftrace's order: ascending by value, and its compact record form inside keys.
    assert_eq!(
        run.map_lines("@"),
        [
            "@[{.tv_sec=0,.tv_nsec=200000000}]: 1",
            "@[{.tv_sec=0,.tv_nsec=100000000}]: 2",
        ],
        "{run:?}"
    );
    assert_eq!(
        run.map_lines("@s"),
        [
            format!("@s[{{.s=0,.ns=200000000}}, {name}]: 1"),
            format!("@s[{{.s=0,.ns=100000000}}, {name}]: 2"),
        ],
        "{run:?}"
    );
}

#[test]
fn strcontains_finds_literals_in_strings_and_filters_by_comm() {
    if !can_trace("strcontains_finds_literals_in_strings_and_filters_by_comm") {
        return;
    }
    let run = run_scry(&[
        "-e",
        r#"BEGIN { $s = "hello world"; printf("%d %d %d %d %d\n", strcontains($s, "lo w"),
            strcontains($s, "low"), strcontains($s, ""), strcontains("abcabd", "abd"),
            strcontains("ab", "abc")); exit(); }"#,
    ]);
    run.assert_success();
    assert_eq!(
        run.stdout.lines().next(),
        Some("1 0 1 1 0"),
        "{}",
        run.stdout
    );
    let dir = TempDir::new();
    let name = unique("sc");
    let prog = dir.named_program(&format!("x{name}y"), "/bin/true");
    let tracer = Tracer::scry(&[
        "-e",
        &format!(
            r#"tracepoint:sched:sched_process_exec /strcontains(comm, "{name}")/ {{ printf("%s\n", comm); }}"#
        ),
    ]);
    assert!(trigger(&prog, &[]).success());
    assert!(trigger("/bin/true", &[]).success());
    let run = tracer.interrupt();
    run.assert_success();
    let comms: Vec<&str> = run.stdout.lines().filter(|l| !l.is_empty()).collect();
    assert!(!comms.is_empty(), "{}", run.stdout);
    assert!(
        comms
            .iter()
            .all(|c| c.contains(&name[..name.len().min(13)])),
        "{}",
        run.stdout
    );
}

/// Arrays of structs, including flexible array members (`struct upid numbers[]`), index like
/// pointers to their elements.
#[test]
fn arrays_of_structs_index_by_element() {
    if !can_trace("arrays_of_structs_index_by_element") {
        return;
    }
    let dir = TempDir::new();
    let prog = dir.named_program(&unique("ar"), "/bin/true");
    let tracer = Tracer::scry(&[
        "-e",
        r#"tracepoint:sched:sched_process_exec { printf("%d %d %d\n", tid, curtask->thread_pid->numbers[0].nr, curtask->thread_pid->numbers[curtask->thread_pid->level].nr); }"#,
    ]);
    let mut child = Command::new(&prog).spawn().expect("spawn");
    let pid = child.id();
    assert!(child.wait().expect("wait").success());
    let run = tracer.interrupt();
    run.assert_success();
    let expected = format!("{pid} {pid} {pid}");
    assert!(
        run.stdout.lines().any(|l| l == expected),
        "no {expected:?} in\n{}",
        run.stdout
    );
}

/// `ntop()` of IPv6 addresses: a 16-byte tracepoint array alone (IPv6 by its size, as in
/// bpftrace), and kernel struct members (`in6_addr`, its `u32[4]` and `u8[16]` views), which
/// are read from memory.
#[test]
fn ntop_reads_ipv6_addresses_from_fields_and_kernel_structs() {
    if !can_trace("ntop_reads_ipv6_addresses_from_fields_and_kernel_structs") {
        return;
    }
    let tracer = Tracer::scry(&[
        "-e",
        r#"tracepoint:sock:inet_sock_set_state /args->family == 10 && args->newstate == 1/ {
            $sk = (struct sock *)args->skaddr;
            printf("%s|%s|%s|%s\n", ntop(args->daddr_v6),
                ntop(10, $sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32),
                ntop($sk->__sk_common.skc_v6_daddr),
                ntop($sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8)); }"#,
    ]);
    let listener = std::net::TcpListener::bind("[::1]:0").expect("listen on ::1");
    let addr = listener.local_addr().unwrap();
    let client = std::net::TcpStream::connect(addr).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    drop((client, server));
    std::thread::sleep(Duration::from_millis(200));
    let run = tracer.interrupt();
    run.assert_success();
    assert!(
        run.stdout.lines().any(|l| l == "::1|::1|::1|::1"),
        "{}",
        run.stdout
    );
}
