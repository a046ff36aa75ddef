//! Parses every format file of the running kernel.
//!
//! Mounts tracefs at `/sys/kernel/tracing` when it is missing and we are root. Skips
//! when tracefs is unavailable, except under CI (`CI=true`) where it must work.

use std::path::{Path, PathBuf};

use scry_tracefs::{FieldType, format_args_listing, match_events, parse_format};

const TRACEFS: &str = "/sys/kernel/tracing";

fn tracefs() -> Option<PathBuf> {
    let root = Path::new(TRACEFS);
    if !root.join("events").is_dir() {
        // Best effort: only root can mount; the result is checked below.
        let _ = std::process::Command::new("mount")
            .args(["-t", "tracefs", "nodev", TRACEFS])
            .status();
    }
    if root.join("events").is_dir() {
        return Some(root.to_path_buf());
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI requires tracefs at {TRACEFS}"
    );
    eprintln!("skipping: tracefs not available at {TRACEFS}");
    None
}

fn format_files(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let cats = std::fs::read_dir(root.join("events")).expect("events dir");
    for cat in cats.flatten().filter(|e| e.path().is_dir()) {
        let cat_name = cat.file_name().to_string_lossy().into_owned();
        for ev in std::fs::read_dir(cat.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let format = ev.path().join("format");
            if format.is_file() {
                out.push((cat_name.clone(), format));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_live_format_parses() {
    let Some(root) = tracefs() else { return };
    let files = format_files(&root);
    assert!(files.len() > 100, "only {} format files", files.len());
    let mut failures = Vec::new();
    for (cat, path) in &files {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{}: read: {e}", path.display()));
                continue;
            }
        };
        let f = match parse_format(&text) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        let dir_name = path.parent().and_then(|p| p.file_name()).unwrap();
        if f.name != dir_name.to_string_lossy() {
            failures.push(format!("{cat}: name {} != dir {dir_name:?}", f.name));
        }
        // Common fields exist except for a few ftrace internals.
        if cat != "ftrace" && f.field("common_pid").is_none() {
            failures.push(format!("{cat}:{} lacks common_pid", f.name));
        }
        for field in &f.fields {
            let ok = match &field.ty {
                FieldType::Int { size, .. } => *size == field.size,
                FieldType::Char => field.size == 1,
                FieldType::Pointer { .. } => field.size == 8 || field.size == 4,
                FieldType::DataLoc { .. } | FieldType::RelLoc { .. } => field.size == 4,
                FieldType::Array { elem, len } => match **elem {
                    FieldType::Int { size, .. } if *len > 0 => size * len == field.size,
                    FieldType::Char => *len == field.size,
                    _ => true,
                },
                FieldType::Other { .. } => true,
            };
            if !ok {
                failures.push(format!(
                    "{cat}:{} field {:?} -> {:?}",
                    f.name, field.decl, field.ty
                ));
            }
        }
        let listing = format_args_listing(&f);
        assert_eq!(listing.lines().count(), f.args().count());
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn well_known_events() {
    let Some(root) = tracefs() else { return };
    let read = |p: &str| std::fs::read_to_string(root.join("events").join(p).join("format"));
    let Ok(openat) = read("syscalls/sys_enter_openat") else {
        eprintln!("skipping: no syscall tracepoints");
        return;
    };
    let openat = parse_format(&openat).unwrap();
    assert_eq!(
        openat.field("filename").unwrap().ty,
        FieldType::Pointer {
            pointee: "const char".into()
        }
    );
    let exec = parse_format(&read("sched/sched_process_exec").unwrap()).unwrap();
    assert!(exec.field("filename").unwrap().ty.is_string());
    let switch = parse_format(&read("sched/sched_switch").unwrap()).unwrap();
    assert!(switch.field("prev_comm").unwrap().ty.is_string());
    assert_eq!(
        switch.field("prev_pid").unwrap().ty,
        FieldType::Int {
            size: 4,
            signed: true
        }
    );
}

#[test]
fn available_events_agree_with_directories() {
    let Some(root) = tracefs() else { return };
    let Ok(available) = std::fs::read_to_string(root.join("available_events")) else {
        return;
    };
    let all = match_events(&available, "*", "*");
    assert!(!all.is_empty());
    let enter = match_events(&available, "syscalls", "sys_enter_*");
    assert!(enter.iter().all(|e| e.name.starts_with("sys_enter_")));
    for e in all.iter().take(200) {
        let dir = root.join("events").join(&e.category).join(&e.name);
        assert!(dir.is_dir(), "{} missing", dir.display());
    }
}
