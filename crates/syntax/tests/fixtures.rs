//! Snapshot tests over `test_data/{ok,err}/*.bt`.
//!
//! * `ok/`: must parse without diagnostics; the AST dump is snapshotted.
//! * `err/`: must report errors; the bpftrace-style rendered diagnostics followed by
//!   the recovered AST are snapshotted.

use scry_diagnostics::{SourceFile, render_all};
use std::path::{Path, PathBuf};

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test_data")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "bt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", root.display());
    files
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn check_ok_dir(dir: &str) {
    for path in fixtures(dir) {
        let text = std::fs::read_to_string(&path).expect("read fixture");
        let parse = scry_syntax::parse(&text);
        let file = SourceFile::new(stem(&path), text.clone());
        assert!(
            parse.diagnostics.is_empty(),
            "{}:\n{}",
            path.display(),
            render_all(&parse.diagnostics, &file)
        );
        insta::assert_snapshot!(
            format!("{dir}__{}", stem(&path)),
            scry_syntax::print_ast(&parse.program)
        );
    }
}

#[test]
fn ok_fixtures() {
    check_ok_dir("ok");
}

#[test]
fn err_fixtures() {
    for path in fixtures("err") {
        let text = std::fs::read_to_string(&path).expect("read fixture");
        let parse = scry_syntax::parse(&text);
        assert!(
            parse.has_errors(),
            "{} parsed without errors",
            path.display()
        );
        let file = SourceFile::new("stdin", text.clone());
        let rendered = format!(
            "{}----\n{}",
            render_all(&parse.diagnostics, &file),
            scry_syntax::print_ast(&parse.program)
        );
        insta::assert_snapshot!(format!("err__{}", stem(&path)), rendered);
    }
}
