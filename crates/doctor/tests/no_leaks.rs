//! The doctor closes everything it opens: the same file descriptors are open before and
//! after a full run (this test is alone in its process, so nothing else opens any).

fn open_fds() -> Vec<String> {
    let mut fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    fds.sort();
    fds
}

#[test]
fn a_full_run_leaks_no_file_descriptor() {
    let before = open_fds();
    let report = scry_doctor::run();
    assert!(!report.checks.is_empty());
    // read_dir's own descriptor is closed when each listing ends.
    assert_eq!(open_fds(), before);
}
