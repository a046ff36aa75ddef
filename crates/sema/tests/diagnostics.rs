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
    uprobe_needs_live_system: "uprobe:/bin/bash:readline { }";
    unsafe_system: "BEGIN { system(\"ls\"); }";
    break_outside_loop: "BEGIN { break; }";
    bad_interval: "interval:parsec:1 { }";
    lhist_not_literal: "BEGIN { $a = 1; @l = lhist(5, $a, 10, 1); }";
    string_arithmetic: "BEGIN { $x = \"a\" + 1; }";
    not_on_string: "BEGIN { $s = \"a\"; if (!$s) { exit(); } }";
    hist_read_as_number: "BEGIN { @h = hist(1); $x = @h + 1; }";
    print_record_too_large: "struct Big { char x[20000]; } BEGIN { print(*(struct Big *)0); }";
    unknown_signal_name: "BEGIN { signal(\"SIGNOPE\"); }";
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

/// A kernel whose BTF has `struct task_struct { int pid; char comm[16]; struct task_struct
/// *real_parent; unsigned flags:3; }`.
fn kernel_with_btf() -> StaticKernel {
    let mut b = scry_btf::BtfBuilder::new();
    let int = b.add_int("int", 4, scry_btf::INT_SIGNED);
    let uint = b.add_int("unsigned int", 4, 0);
    let char_ = b.add_int("char", 1, scry_btf::INT_CHAR);
    let comm = b.add_array(char_, int, 16);
    let task = scry_btf::TypeId(b.next_id().get() + 1);
    let ptr = b.add_ptr(task);
    let real = b.add_struct(
        "task_struct",
        40,
        &[
            ("pid", int, 0, 0),
            ("comm", comm, 32, 0),
            ("real_parent", ptr, 192, 0),
            ("flags", uint, 256, 3),
        ],
    );
    assert_eq!(real, task);
    let mut kernel = StaticKernel::sample();
    kernel.btf = Some(std::sync::Arc::new(
        scry_btf::Btf::parse(b.build()).expect("valid BTF"),
    ));
    kernel
}

fn analyse_with_btf(source: &str) -> (Option<scry_sema::Analysis>, String) {
    let parsed = scry_syntax::parse(source);
    let mut diagnostics = Diagnostics::default();
    let analysis = scry_sema::analyse(
        &parsed.program,
        &kernel_with_btf(),
        &Options::default(),
        &mut diagnostics,
    );
    let file = SourceFile::new("stdin", source);
    (
        analysis,
        scry_diagnostics::render_all(diagnostics.iter(), &file),
    )
}

#[test]
fn struct_fields_through_btf() {
    let source = "BEGIN { @p = curtask->real_parent->pid; @c = curtask->comm; @s = sizeof(struct task_struct); }";
    let (analysis, errors) = analyse_with_btf(source);
    assert_eq!(errors, "");
    let analysis = analysis.expect("analyses");
    let value = |name: &str| analysis.typed.map(name).expect("map").1.value.clone();
    assert_eq!(
        value("p"),
        scry_sema::MapValue::Plain(scry_sema::Type::Int {
            bytes: 4,
            signed: true
        })
    );
    assert_eq!(
        value("c"),
        scry_sema::MapValue::Plain(scry_sema::Type::Str(16))
    );
    let mut offsets: Vec<u32> = analysis.typed.member_offsets.values().copied().collect();
    offsets.sort();
    assert_eq!(
        offsets,
        [0, 4, 24],
        "pid at 0, comm at 4, real_parent at 24"
    );
    assert!(
        analysis.typed.constants.values().any(|&v| v == 40),
        "sizeof(struct task_struct)"
    );
}

#[test]
fn struct_field_errors() {
    insta::assert_snapshot!(
        analyse_with_btf(
            "BEGIN { @x = curtask->nope; @y = curtask->flags; @z = ((struct nothing *)0)->a; }"
        )
        .1
    );
}

#[test]
fn print_of_a_btf_struct_lays_out_every_member() {
    let (analysis, errors) = analyse_with_btf("BEGIN { print(*curtask); }");
    assert_eq!(errors, "");
    let analysis = analysis.expect("analyses");
    let (layout, size) = analysis
        .typed
        .record_layouts
        .values()
        .next()
        .expect("a layout for print()")
        .clone();
    assert_eq!(size, 40);
    let mut bytes = vec![0u8; 40];
    bytes[0..4].copy_from_slice(&42i32.to_le_bytes());
    bytes[4..8].copy_from_slice(b"bash");
    bytes[24..32].copy_from_slice(&0xffff_8881_0000_1000u64.to_le_bytes());
    bytes[32] = 0b1111_1101; // flags:3 = 5
    assert_eq!(
        layout.decode(&bytes, 0).to_text(),
        "{ .pid = 42, .comm = bash, .real_parent = 0xffff888100001000, .flags = 5 }"
    );
}
