//! The `scry tool` command line: the listing, help, links named after tools, bad options.

use crate::common::{TempDir, run, run_scry, scry};

#[test]
fn listing_names_every_tool_with_a_description() {
    let run = run_scry(&["tool"]);
    run.assert_success();
    // The tools the issue asks for, by BCC's names.
    for name in [
        "argdist",
        "bashreadline",
        "biolatency",
        "biosnoop",
        "btrfsslower",
        "cachestat",
        "execsnoop",
        "ext4slower",
        "funccount",
        "killsnoop",
        "opensnoop",
        "profile",
        "runqlat",
        "stackcount",
        "statsnoop",
        "tcpaccept",
        "tcpconnect",
        "tcplife",
        "tcpretrans",
        "trace",
        "xfsslower",
    ] {
        let line = run
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing from\n{}", run.stdout));
        assert!(line.split_whitespace().count() > 2, "{line}");
    }
}

#[test]
fn every_tool_has_help_with_examples_and_prints_its_script() {
    let listing = run_scry(&["tool"]);
    let names: Vec<String> = listing
        .stdout
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert!(!names.is_empty());
    for name in names {
        let help = run_scry(&["tool", &name, "--help"]);
        help.assert_success();
        assert!(help.stdout.contains("Examples:"), "{name}: {}", help.stdout);
        assert!(help.stdout.contains("--json"), "{name}: {}", help.stdout);
    }
}

#[test]
fn a_link_named_after_a_tool_runs_it() {
    let dir = TempDir::new();
    let link = dir.path().join("opensnoop");
    std::os::unix::fs::symlink(scry(), &link).unwrap();
    let help = run(&link.to_string_lossy(), &["--help"], &[]);
    help.assert_success();
    assert!(help.stdout.contains("Usage: opensnoop"), "{}", help.stdout);
    let script = run(&link.to_string_lossy(), &["--script", "-p", "42"], &[]);
    script.assert_success();
    assert!(script.stdout.contains("pid == 42"), "{}", script.stdout);
}

#[test]
fn bad_options_and_unknown_tools_exit_2() {
    let bad = run_scry(&["tool", "opensnoop", "--no-such-option"]);
    assert_eq!(bad.code(), 2, "{bad:?}");
    assert!(bad.stderr.contains("--no-such-option"), "{}", bad.stderr);
    let unknown = run_scry(&["tool", "nosuchtool"]);
    assert_eq!(unknown.code(), 2, "{unknown:?}");
    assert!(unknown.stderr.contains("no tool named 'nosuchtool'"));
    let flag = run_scry(&["tool", "opensnoop", "-f", "O_BOGUS"]);
    assert_eq!(flag.code(), 2, "{flag:?}");
    assert!(flag.stderr.contains("O_BOGUS"), "{}", flag.stderr);
}

/// Tools hold programs, maps and links like any script; none outlives them, even on SIGKILL.
#[test]
fn tools_leave_nothing_in_the_kernel_after_sigint_or_sigkill() {
    use crate::common::bpf::{Held, Kind};
    if !crate::common::can_trace("tools_leave_nothing_in_the_kernel_after_sigint_or_sigkill") {
        return;
    }
    for (name, signal) in [
        ("biosnoop", "KILL"),
        ("execsnoop", "INT"),
        ("runqlat", "TERM"),
    ] {
        let tracer = crate::tool(name, &[]);
        let held = Held::of(tracer.pid());
        assert!(held.count(Kind::Prog) >= 2, "{name}: {held:?}");
        let _ = tracer.signal(signal);
        let alive = held.wait_gone(std::time::Duration::from_secs(10));
        assert!(alive.is_empty(), "{name} after SIG{signal}: {alive:?}");
    }
}
