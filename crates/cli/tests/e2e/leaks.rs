//! No leaks: however scry ends (its own `exit()`, SIGINT, SIGTERM, SIGKILL), every BPF
//! program, map and link it held is gone from the kernel afterwards. The objects are read from
//! `/proc/PID/fdinfo` while it runs and looked up by id with `bpf(2)` after it exits.

use crate::common::bpf::{Held, Kind};
use crate::common::{Tracer, can_trace, send_signal};
use std::time::Duration;

const PROGRAM: &str = "tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }
tracepoint:syscalls:sys_enter_openat { @opens = count(); }
interval:ms:100 { @ticks = count(); }";

/// Starts a tracer, records what it holds, ends it with `end`, and checks nothing remains.
fn assert_no_leak(test: &str, program: &str, end: impl FnOnce(Tracer) -> Option<i32>) {
    if !can_trace(test) {
        return;
    }
    let tracer = Tracer::scry(&["-e", program]);
    let held = Held::of(tracer.pid());
    assert!(
        held.count(Kind::Prog) >= 2,
        "{test}: programs not found: {held:?}"
    );
    assert!(
        held.count(Kind::Map) >= 1,
        "{test}: maps not found: {held:?}"
    );
    let code = end(tracer);
    let alive = held.wait_gone(Duration::from_secs(10));
    assert!(
        alive.is_empty(),
        "{test}: still in the kernel after exit: {alive:?} (of {held:?})"
    );
    if let Some(code) = code {
        assert_eq!(code, 0, "{test}: exit code");
    }
}

#[test]
fn no_leak_after_exit_call() {
    let program = format!("{PROGRAM}\ninterval:ms:700 {{ exit(); }}");
    assert_no_leak("no_leak_after_exit_call", &program, |t| {
        Some(t.finish(Duration::from_secs(20)).code())
    });
}

#[test]
fn no_leak_after_sigint() {
    assert_no_leak("no_leak_after_sigint", PROGRAM, |t| {
        Some(t.interrupt().code())
    });
}

#[test]
fn no_leak_after_sigterm() {
    assert_no_leak("no_leak_after_sigterm", PROGRAM, |t| {
        Some(t.signal("TERM").code())
    });
}

#[test]
fn no_leak_after_sigkill() {
    assert_no_leak("no_leak_after_sigkill", PROGRAM, |t| {
        let pid = t.pid();
        send_signal(pid, "KILL");
        let run = t.finish(Duration::from_secs(20));
        assert!(run.status.code().is_none(), "SIGKILL must kill: {run:?}");
        None
    });
}
