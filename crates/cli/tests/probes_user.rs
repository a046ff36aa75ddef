//! Issue 3 on the live kernel: uprobes, USDT (arguments and semaphores), stacks, kernel
//! structs through BTF, flame graphs, listings, and the missing-kprobe error.
//!
//! The traced program is a small C file built here with the system compiler; USDT notes come
//! from `<sys/sdt.h>` (package systemtap-sdt-dev, installed by scripts/test.sh).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{TempDir, Tracer, can_trace, in_ci, scry};

const TARGET: &str = r#"
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unsigned short scrytest_tick_semaphore __attribute__((section(".probes")));
char message[32] = "usdt-message";

__attribute__((noinline)) long scry_add(long a, long b) { return a + b; }

struct rec { int id; char name[12]; long value; };
__attribute__((noipa)) long scry_rec(struct rec *r) { return r->value; }

__attribute__((noinline)) long scry_busy(long n) {
    volatile long x = 0;
    for (long i = 0; i < n; i++) x += i;
    return x;
}

int main(int argc, char **argv) {
    int mode = argc > 1 ? atoi(argv[1]) : 0;
    if (mode == 0)
        for (int i = 0; i < 3; i++) printf("%ld\n", scry_add(i, 40));
    if (mode == 1) {
        printf("len=%zu\n", strlen(message)); /* fault the page in for the tracer */
        for (int i = 0; i < 3; i++) {
            if (scrytest_tick_semaphore) DTRACE_PROBE3(scrytest, tick, i, message, (long)-7);
            usleep(1000);
        }
        printf("semaphore=%d\n", scrytest_tick_semaphore);
    }
        if (mode == 2) printf("%ld\n", scry_busy(600000000L));
        if (mode == 3) { printf("%ld\n", scry_add(1, 2)); fflush(stdout); usleep(500000); }
        if (mode == 4) for (int i = 0; i < 40; i++) { scry_add(i, 1); usleep(50000); }
    if (mode == 5) { struct rec r = { 7, "record-name", -42 }; printf("%ld\n", scry_rec(&r)); }
    return 0;
}
"#;

/// Builds the traced program, or returns None (skip) when no compiler or sdt.h is present
/// outside CI.
fn build_target(dir: &TempDir) -> Option<PathBuf> {
    let source = dir.path().join("target.c");
    std::fs::write(&source, TARGET).expect("write source");
    let binary = dir.path().join("scrytarget");
    let out = Command::new("cc")
        .args(["-O1", "-fno-omit-frame-pointer", "-o"])
        .arg(&binary)
        .arg(&source)
        .output();
    match out {
        Ok(out) if out.status.success() => Some(binary),
        other => {
            assert!(
                !in_ci(),
                "cannot build the USDT test target in CI: {other:?}"
            );
            eprintln!(
                "skipping: cannot build the test target (cc and sys/sdt.h needed): {other:?}"
            );
            None
        }
    }
}

fn run_target(binary: &Path, mode: &str) -> String {
    let out = Command::new(binary).arg(mode).output().expect("run target");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn scry_output(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(scry()).args(args).output().expect("run scry");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn uprobe_arguments_return_value_and_function_name() {
    if !can_trace("uprobe_arguments_return_value_and_function_name") {
        return;
    }
    let dir = TempDir::new();
    let Some(binary) = build_target(&dir) else {
        return;
    };
    let path = binary.to_str().expect("utf-8 path");
    let program = format!(
        "uprobe:{path}:scry_add {{ printf(\"add %d %d %s\\n\", arg0, arg1, func); }} \
         uretprobe:{path}:scry_add {{ printf(\"ret %d\\n\", retval); }}"
    );
    let tracer = Tracer::scry(&["-e", &program]);
    assert_eq!(run_target(&binary, "0"), "40\n41\n42\n");
    let run = tracer.interrupt();
    run.assert_success();
    for line in ["add 0 40 scry_add", "add 2 40 scry_add", "ret 40", "ret 42"] {
        assert!(
            run.stdout.contains(line),
            "missing {line:?} in:\n{}",
            run.stdout
        );
    }
}

#[test]
fn usdt_arguments_and_semaphore() {
    if !can_trace("usdt_arguments_and_semaphore") {
        return;
    }
    let dir = TempDir::new();
    let Some(binary) = build_target(&dir) else {
        return;
    };
    let path = binary.to_str().expect("utf-8 path");
    // Without a tracer the semaphore is 0 and the probe's code is skipped.
    assert!(run_target(&binary, "1").contains("semaphore=0"));
    let program = format!(
        "usdt:{path}:scrytest:tick {{ printf(\"tick %d %s %d\\n\", arg0, str(arg1), arg2); }}"
    );
    let tracer = Tracer::scry(&["-e", &program]);
    let target_output = run_target(&binary, "1");
    let run = tracer.interrupt();
    run.assert_success();
    assert!(
        target_output.contains("semaphore=1"),
        "the kernel increments the semaphore: {target_output}"
    );
    for i in 0..3 {
        let line = format!("tick {i} usdt-message -7");
        assert!(
            run.stdout.contains(&line),
            "missing {line:?} in:\n{}",
            run.stdout
        );
    }
}

#[test]
fn profile_of_a_busy_function_names_it_in_stacks_and_flame_graph() {
    if !can_trace("profile_of_a_busy_function_names_it_in_stacks_and_flame_graph") {
        return;
    }
    let dir = TempDir::new();
    let Some(binary) = build_target(&dir) else {
        return;
    };
    let svg = dir.path().join("cpu.svg");
    let command = format!("{} 2", binary.display());
    let (code, stdout, stderr) = scry_output(&[
        "--flamegraph",
        svg.to_str().expect("utf-8"),
        "-c",
        &command,
        "-e",
        "profile:hz:499 /pid == cpid/ { @[ustack, comm] = count(); }",
    ]);
    assert_eq!(code, 0, "{stderr}");
    // The target exited before the map was printed: its stack still symbolizes.
    assert!(
        stdout.contains("scry_busy"),
        "ustack lacks the busy function:\n{stdout}\n{stderr}"
    );
    let image = std::fs::read_to_string(&svg).expect("flame graph written");
    assert!(image.trim_start().starts_with("<?xml") || image.trim_start().starts_with("<svg"));
    assert!(image.trim_end().ends_with("</svg>"));
    assert!(
        image.contains("scry_busy"),
        "the flame graph names the busy function"
    );
}

#[test]
fn kernel_stack_of_a_syscall() {
    if !can_trace("kernel_stack_of_a_syscall") {
        return;
    }
    let tracer = Tracer::scry(&[
        "-e",
        "tracepoint:syscalls:sys_enter_nanosleep,tracepoint:syscalls:sys_enter_clock_nanosleep /comm == \"sleep\"/ { printf(\"%s\", kstack); exit(); }",
    ]);
    let _ = Command::new("sleep").arg("0.05").status();
    let run = tracer.finish(Duration::from_secs(30));
    run.assert_success();
    assert!(
        run.stdout.contains("do_syscall_64"),
        "a syscall's kernel stack passes do_syscall_64:\n{}",
        run.stdout
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("        ") && l.contains('+')),
        "frames as sym+off:\n{}",
        run.stdout
    );
}

#[test]
fn kernel_structs_through_btf() {
    if !can_trace("kernel_structs_through_btf") {
        return;
    }
    let child = Command::new(scry())
        .args(["-e", "BEGIN { printf(\"%d %d %s %d\\n\", curtask->pid, ((struct task_struct *)curtask)->tgid, curtask->comm, curtask->real_parent->tgid > 0); exit(); }"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn scry");
    let pid = child.id();
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().next(),
        Some(format!("{pid} {pid} scry 1").as_str())
    );
}

#[test]
fn kprobe_on_a_kernel_without_kprobes_is_a_clear_error() {
    if !can_trace("kprobe_on_a_kernel_without_kprobes_is_a_clear_error") {
        return;
    }
    if Path::new("/sys/bus/event_source/devices/kprobe").exists() {
        eprintln!("this kernel has kprobes: nothing to check");
        return;
    }
    let (code, _, stderr) = scry_output(&["-e", "kprobe:vfs_read { @ = count(); }"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("kprobes are not available on this kernel"),
        "{stderr}"
    );
    assert!(stderr.contains("CONFIG_KPROBES"), "{stderr}");
    assert!(
        stderr.contains("tracepoint:syscalls:sys_enter_read"),
        "{stderr}"
    );
}

#[test]
fn listings_of_uprobes_and_usdt() {
    if !can_trace("listings_of_uprobes_and_usdt") {
        return;
    }
    let dir = TempDir::new();
    let Some(binary) = build_target(&dir) else {
        return;
    };
    let path = binary.to_str().expect("utf-8 path");
    let (code, stdout, stderr) = scry_output(&["-l", &format!("usdt:{path}:*")]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, format!("usdt:{path}:scrytest:tick\n"));
    let (code, stdout, _) = scry_output(&["-l", &format!("uprobe:{path}:scry_*")]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        format!("uprobe:{path}:scry_add\nuprobe:{path}:scry_busy\nuprobe:{path}:scry_rec\n")
    );
}

#[test]
fn usym_of_the_probed_instruction_and_kaddr() {
    if !can_trace("usym_of_the_probed_instruction_and_kaddr") {
        return;
    }
    let dir = TempDir::new();
    let Some(binary) = build_target(&dir) else {
        return;
    };
    let path = binary.to_str().expect("utf-8 path");
    let program =
        format!("uprobe:{path}:scry_add {{ printf(\"%s\\n\", usym(reg(\"ip\"))); exit(); }}");
    let tracer = Tracer::scry(&["-e", &program]);
    // usym() is resolved when the record is printed: the process must still be there
    // (bpftrace has the same limit); mode 3 lingers after the call.
    run_target(&binary, "3");
    let run = tracer.finish(Duration::from_secs(30));
    run.assert_success();
    assert_eq!(
        run.stdout.lines().next(),
        Some("scry_add"),
        "{}",
        run.stdout
    );
    let (code, stdout, stderr) = scry_output(&[
        "-e",
        "BEGIN { printf(\"%s\\n\", ksym(kaddr(\"do_sys_openat2\"))); exit(); }",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().next(), Some("do_sys_openat2"));
}

#[test]
fn raw_tracepoint_arguments_typed_by_btf() {
    if !can_trace("raw_tracepoint_arguments_typed_by_btf") {
        return;
    }
    let (code, stdout, stderr) = scry_output(&[
        "-e",
        "rawtracepoint:sched_switch { printf(\"%d %d\\n\", args.prev->pid >= 0, args.next->tgid >= 0); exit(); }",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().next(), Some("1 1"), "{stdout}");
}

#[test]
fn named_constants_without_headers() {
    if !can_trace("named_constants_without_headers") {
        return;
    }
    let dir = TempDir::new();
    let script = dir.path().join("constants.bt");
    std::fs::write(
        &script,
        "#define LIMIT 0x10\nBEGIN { printf(\"%d %d %d %d\\n\", AF_INET6, TASK_UNINTERRUPTIBLE, TCP_LISTEN, LIMIT); exit(); }\n",
    )
    .expect("write script");
    let (code, stdout, stderr) = scry_output(&[script.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{stderr}");
    // AF_INET6 and TASK_UNINTERRUPTIBLE are built in, TCP_LISTEN comes from the kernel's BTF.
    assert_eq!(stdout.lines().next(), Some("10 2 10 16"));
}

#[test]
fn pid_filter_and_library_names() {
    if !can_trace("pid_filter_and_library_names") {
        return;
    }
    let dir = TempDir::new();
    let Some(binary) = build_target(&dir) else {
        return;
    };
    // Two copies call usleep() from libc; -p traces one.
    let mut traced = Command::new(&binary)
        .arg("4")
        .spawn()
        .expect("start target");
    let mut other = Command::new(&binary)
        .arg("4")
        .spawn()
        .expect("start target");
    let pid = traced.id().to_string();
    let tracer = Tracer::scry(&["-p", &pid, "-e", "uprobe:libc:usleep { @[pid] = count(); }"]);
    std::thread::sleep(Duration::from_millis(600));
    let run = tracer.interrupt();
    let _ = traced.kill();
    let _ = other.kill();
    let _ = traced.wait();
    let _ = other.wait();
    run.assert_success();
    let keys: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("@[")).collect();
    assert_eq!(
        keys.len(),
        1,
        "only the -p process is traced:\n{}",
        run.stdout
    );
    assert!(
        keys[0].starts_with(&format!("@[{pid}]: ")),
        "{}",
        run.stdout
    );
}

#[test]
fn script_defined_structs_read_user_memory() {
    if !can_trace("script_defined_structs_read_user_memory") {
        return;
    }
    let dir = TempDir::new();
    let Some(binary) = build_target(&dir) else {
        return;
    };
    let path = binary.to_str().expect("utf-8 path");
    let program = format!(
        "struct rec {{ int id; char name[12]; long value; }};\n\
         uprobe:{path}:scry_rec {{ $r = (struct rec *)arg0; printf(\"%d %s %d %d\\n\", $r->id, $r->name, $r->value, sizeof(struct rec)); }}"
    );
    let tracer = Tracer::scry(&["-e", &program]);
    assert_eq!(run_target(&binary, "5"), "-42\n");
    let run = tracer.interrupt();
    run.assert_success();
    assert!(
        run.stdout.contains("7 record-name -42 24"),
        "{}",
        run.stdout
    );
}

#[test]
fn cgroup_path_matches_bpftrace() {
    if !can_trace("cgroup_path_matches_bpftrace") {
        return;
    }
    let Some(bpftrace) = common::bpftrace("cgroup_path_matches_bpftrace") else {
        return;
    };
    let program = "BEGIN { printf(\"[%s]\\n\", cgroup_path(cgroup)); exit(); }";
    let (code, stdout, stderr) = scry_output(&["-e", program]);
    assert_eq!(code, 0, "{stderr}");
    let reference = Command::new(bpftrace)
        .args(["-e", program])
        .output()
        .expect("run bpftrace");
    let reference = String::from_utf8_lossy(&reference.stdout);
    let line = |text: &str| {
        text.lines()
            .find(|l| l.starts_with('['))
            .map(str::to_string)
    };
    assert!(line(&stdout).is_some_and(|l| l.contains(":/")), "{stdout}");
    assert_eq!(line(&stdout), line(&reference));
}

#[test]
fn uaddr_in_a_non_pie_executable() {
    if !can_trace("uaddr_in_a_non_pie_executable") {
        return;
    }
    let dir = TempDir::new();
    let source = dir.path().join("np.c");
    std::fs::write(
        &source,
        "#include <unistd.h>\nint counter = 41;\n__attribute__((noipa)) void tick(void) { counter++; }\nint main() { for (int i = 0; i < 3; i++) { tick(); usleep(1000); } return 0; }\n",
    )
    .expect("write source");
    let binary = dir.path().join("np");
    let built = Command::new("cc")
        .args(["-O1", "-no-pie", "-o"])
        .arg(&binary)
        .arg(&source)
        .status();
    if !built.is_ok_and(|s| s.success()) {
        assert!(!in_ci(), "cannot build a non-PIE test program in CI");
        return;
    }
    let path = binary.to_str().expect("utf-8 path");
    let tracer = Tracer::scry(&[
        "-e",
        &format!("uprobe:{path}:tick {{ printf(\"%d\\n\", *uaddr(\"counter\")); }}"),
    ]);
    assert!(Command::new(&binary).status().expect("run").success());
    let run = tracer.interrupt();
    run.assert_success();
    assert!(run.stdout.contains("41\n42\n43\n"), "{}", run.stdout);
    // A position-independent executable: a clear error, as in bpftrace 0.17.
    let Some(pie) = build_target(&dir) else {
        return;
    };
    let (code, _, stderr) = scry_output(&[
        "-e",
        &format!(
            "uprobe:{}:scry_add {{ printf(\"%p\\n\", uaddr(\"message\")); }}",
            pie.display()
        ),
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("position-independent"), "{stderr}");
}

#[test]
fn usdt_listing_of_a_process() {
    if !can_trace("usdt_listing_of_a_process") {
        return;
    }
    let dir = TempDir::new();
    let Some(binary) = build_target(&dir) else {
        return;
    };
    let mut target = Command::new(&binary)
        .arg("4")
        .spawn()
        .expect("start target");
    let pid = target.id().to_string();
    std::thread::sleep(Duration::from_millis(100));
    let (code, stdout, stderr) = scry_output(&["-p", &pid, "-l", "usdt:*"]);
    let _ = target.kill();
    let _ = target.wait();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, format!("usdt:{}:scrytest:tick\n", binary.display()));
}

#[test]
fn arrays_inside_kernel_structs() {
    if !can_trace("arrays_inside_kernel_structs") {
        return;
    }
    // mm->saved_auxv holds the auxiliary vector as (key, value) pairs; on x86_64 its first key
    // is AT_SYSINFO_EHDR (33).
    let (code, stdout, stderr) = scry_output(&[
        "-e",
        "BEGIN { printf(\"%d\\n\", curtask->mm->saved_auxv[0]); exit(); }",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().next(), Some("33"));
}
