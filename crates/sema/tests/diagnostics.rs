//! Rendered diagnostics of semantic errors, as bpftrace prints them (snapshots), checked
//! against a fixed kernel description so they run unprivileged.

use scry_diagnostics::{Diagnostics, SourceFile};
use scry_sema::Options;
use scry_sema::kernel::StaticKernel;

fn check(source: &str) -> String {
    let parsed = scry_syntax::parse(source);
    assert!(!parsed.diagnostics.has_errors(), "parse errors in {source}");
    let mut diagnostics = Diagnostics::default();
    let analysis = scry_sema::analyse(
        &parsed.program,
        &StaticKernel::sample(),
        &Options::default(),
        &mut diagnostics,
    );
    assert!(analysis.is_none() || !diagnostics.has_errors());
    let file = SourceFile::new("stdin", source);
    scry_diagnostics::render_all(diagnostics.iter(), &file)
}

macro_rules! diagnostics {
    ($($name:ident: $source:expr;)*) => {
        $(
            #[test]
            fn $name() {
                insta::assert_snapshot!(stringify!($name), check($source), $source);
            }
        )*
    };
}

diagnostics! {
    unknown_function: "BEGIN { foo(); }";
    unknown_identifier: "BEGIN { x }";
    undefined_variable: "BEGIN { printf(\"%d\\n\", $y); }";
    printf_type_mismatch: "BEGIN { printf(\"%d\\n\", \"str\"); }";
    printf_too_few_arguments: "BEGIN { printf(\"%d %s\\n\", 1); }";
    printf_too_many_arguments: "BEGIN { printf(\"%d\\n\", 1, 2); }";
    variable_type_mismatch: "BEGIN { $x = 1; $x = \"a\"; }";
    map_type_mismatch: "BEGIN { @x = count(); @x = 1; }";
    map_key_mismatch: "BEGIN { @x[1] = 1; @x[\"a\"] = 2; }";
    hist_arity: "BEGIN { @x = hist(); }";
    aggregation_outside_map: "BEGIN { $x = count(); }";
    unknown_tracepoint: "tracepoint:nope:nothing { }";
    unknown_tracepoint_field: "tracepoint:syscalls:sys_enter_openat { printf(\"%s\\n\", args->nope); }";
    args_outside_tracepoint: "BEGIN { printf(\"%d\\n\", args->x); }";
    kprobe_missing: "kprobe:vfs_read { }";
    fentry_missing: "fentry:vfs_read { }";
    hardware_missing: "hardware:cache-misses:1000 { }";
    uprobe_not_yet: "uprobe:/bin/bash:readline { }";
    unsafe_system: "BEGIN { system(\"ls\"); }";
    break_outside_loop: "BEGIN { break; }";
    bad_interval: "interval:parsec:1 { }";
    lhist_not_literal: "BEGIN { $a = 1; @l = lhist(5, $a, 10, 1); }";
    string_arithmetic: "BEGIN { $x = \"a\" + 1; }";
    no_errors_in_seed_script: "tracepoint:syscalls:sys_enter_read { @start[tid] = nsecs; }
tracepoint:syscalls:sys_exit_read /@start[tid]/ { @ns = hist(nsecs - @start[tid]); delete(@start[tid]); }";
}

#[test]
fn types_flow_between_probes() {
    // @m is read in the first probe and assigned in the second: the fixed point still types it.
    let source = "BEGIN { printf(\"%s\\n\", @m); } END { @m = \"text\"; }";
    let parsed = scry_syntax::parse(source);
    let mut diagnostics = Diagnostics::default();
    let analysis = scry_sema::analyse(
        &parsed.program,
        &StaticKernel::sample(),
        &Options::default(),
        &mut diagnostics,
    )
    .expect("no errors");
    let (_, map) = analysis.typed.map("m").expect("map exists");
    assert_eq!(
        map.value,
        scry_sema::MapValue::Plain(scry_sema::Type::Str(5))
    );
}
