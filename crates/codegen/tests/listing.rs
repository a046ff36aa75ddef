//! A few focused listings of generated code (behaviour is tested by running programs on the
//! kernel, in the runtime and CLI tests).

use scry_diagnostics::Diagnostics;
use scry_sema::kernel::StaticKernel;

fn compile(source: &str) -> scry_codegen::Compiled {
    let parsed = scry_syntax::parse(source);
    assert!(!parsed.diagnostics.has_errors());
    let mut diagnostics = Diagnostics::default();
    let options = scry_sema::Options::default();
    let analysis = scry_sema::analyse(
        &parsed.program,
        &StaticKernel::sample(),
        &options,
        &mut diagnostics,
    )
    .unwrap_or_else(|| panic!("{:?}", diagnostics));
    scry_codegen::compile(
        &parsed.program,
        &analysis,
        &scry_codegen::Options::default(),
    )
    .expect("compiles")
}

fn listing(source: &str) -> String {
    let compiled = compile(source);
    let mut out = String::new();
    for program in &compiled.programs {
        out.push_str(&format!("; {} {:?}\n", program.name, program.kind));
        out.push_str(&scry_ebpf::disasm::listing(
            &program.code.relocated(|id| id as i32),
        ));
    }
    out
}

#[test]
fn count_by_pid() {
    insta::assert_snapshot!(listing(
        "tracepoint:syscalls:sys_enter_read { @[pid] = count(); }"
    ));
}

#[test]
fn printf_of_a_user_string() {
    insta::assert_snapshot!(listing(
        "tracepoint:syscalls:sys_enter_openat { printf(\"%s %d\\n\", str(args->filename), args->flags); }"
    ));
}

#[test]
fn map_layouts_and_internal_maps() {
    let compiled = compile("BEGIN { @h[comm] = hist(5); @s = sum(1); @p[1, \"a\"] = (2, \"b\"); }");
    let names: Vec<&str> = compiled.maps.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "AT_h", "AT_s", "AT_p", "ringbuf", "counters", "config", "zeros", "stacks", "scratch"
        ]
    );
    // hist keys carry a u64 bucket after the user key.
    assert_eq!(compiled.maps[0].key_size, 16 + 8);
    assert_eq!(compiled.maps[0].kind, scry_codegen::MapKind::PerCpuHash);
    // A scalar map has one u64 key.
    assert_eq!(compiled.maps[1].key_size, 8);
    // Tuple keys and values: each element padded to 8 bytes.
    assert_eq!(compiled.maps[2].key_size, 8 + 8);
    assert_eq!(compiled.maps[2].value_size, 16);
    assert_eq!(compiled.maps[2].kind, scry_codegen::MapKind::Hash);
}

#[test]
fn wide_syscall_wildcards_use_one_dispatch_program() {
    let mut kernel = StaticKernel::sample();
    for (i, name) in ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .enumerate()
    {
        kernel.formats.push(scry_sema::TracepointFormat {
            category: "syscalls".into(),
            name: format!("sys_enter_{name}"),
            fields: Vec::new(),
            syscall_nr: Some(100 + i as u32),
        });
    }
    let parsed = scry_syntax::parse("tracepoint:syscalls:sys_enter_* { @[probe] = count(); }");
    let mut diagnostics = Diagnostics::default();
    let analysis = scry_sema::analyse(
        &parsed.program,
        &kernel,
        &scry_sema::Options::default(),
        &mut diagnostics,
    )
    .expect("analyses");
    let compiled = scry_codegen::compile(
        &parsed.program,
        &analysis,
        &scry_codegen::Options::default(),
    )
    .expect("compiles");
    let kinds: Vec<_> = compiled
        .programs
        .iter()
        .map(|p| (p.kind.clone(), p.targets.len()))
        .collect();
    // Nine numbered syscalls share one program; the two sample events without numbers get a
    // perf tracepoint program of their own.
    assert_eq!(
        kinds,
        [
            (scry_codegen::ProgKind::SyscallDispatch { exit: false }, 9),
            (scry_codegen::ProgKind::Tracepoint, 2)
        ]
    );
    assert!(compiled.programs[0].dispatch.is_some());
}

/// On kernels with kprobes (not this CI's), kprobe programs use pt_regs like uprobes.
#[test]
fn kprobes_compile_where_the_kernel_has_them() {
    let mut kernel = StaticKernel::sample();
    kernel.kprobes = true;
    let parsed = scry_syntax::parse(
        "kprobe:vfs_read { @[func] = count(); @a = sum(arg2); } kretprobe:vfs_read { @r = hist(retval); }",
    );
    let mut diagnostics = Diagnostics::default();
    let analysis = scry_sema::analyse(
        &parsed.program,
        &kernel,
        &scry_sema::Options::default(),
        &mut diagnostics,
    )
    .unwrap_or_else(|| panic!("{diagnostics:?}"));
    let compiled = scry_codegen::compile(
        &parsed.program,
        &analysis,
        &scry_codegen::Options::default(),
    )
    .expect("compiles");
    let kinds: Vec<_> = compiled
        .programs
        .iter()
        .map(|p| (p.kind.clone(), p.targets[0].probe_name()))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                scry_codegen::ProgKind::Uprobe,
                "kprobe:vfs_read".to_string()
            ),
            (
                scry_codegen::ProgKind::Uprobe,
                "kretprobe:vfs_read".to_string()
            )
        ]
    );
    // arg2 is rdx (pt_regs offset 96); retval is rax (80).
    let listing = scry_ebpf::disasm::listing(&compiled.programs[0].code.insns);
    assert!(listing.contains("r0 = *(u64 *)(r6 +96)"), "{listing}");
    let listing = scry_ebpf::disasm::listing(&compiled.programs[1].code.insns);
    assert!(listing.contains("r0 = *(u64 *)(r6 +80)"), "{listing}");
}

/// Where the kernel allows BPF trampolines (not this CI's kernel), fentry/fexit programs are
/// tracing programs on the function's BTF id, reading arguments from the context array.
#[test]
fn fentry_and_fexit_compile_where_the_kernel_allows_them() {
    let mut b = scry_btf::BtfBuilder::new();
    let long = b.add_int("long", 8, scry_btf::INT_SIGNED);
    let ulong = b.add_int("unsigned long", 8, 0);
    let proto = b.add_func_proto(
        long,
        &[
            ("file", ulong),
            ("buf", ulong),
            ("count", ulong),
            ("pos", ulong),
        ],
        false,
    );
    let func = b.add_func("vfs_read", proto, 1);
    let mut kernel = StaticKernel::sample();
    kernel.fentry = true;
    kernel.btf = Some(std::sync::Arc::new(
        scry_btf::Btf::parse(b.build()).expect("valid BTF"),
    ));
    let parsed = scry_syntax::parse(
        "fentry:vfs_read { @[args.count] = count(); } fexit:vfs_read { @r = hist(retval); }",
    );
    let mut diagnostics = Diagnostics::default();
    let analysis = scry_sema::analyse(
        &parsed.program,
        &kernel,
        &scry_sema::Options::default(),
        &mut diagnostics,
    )
    .unwrap_or_else(|| panic!("{diagnostics:?}"));
    let compiled = scry_codegen::compile(
        &parsed.program,
        &analysis,
        &scry_codegen::Options::default(),
    )
    .expect("compiles");
    let kinds: Vec<_> = compiled.programs.iter().map(|p| p.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            scry_codegen::ProgKind::Fentry {
                ret: false,
                btf_id: func.0
            },
            scry_codegen::ProgKind::Fentry {
                ret: true,
                btf_id: func.0
            }
        ]
    );
    // args.count is the third argument (ctx + 16); fexit's retval follows the 4 arguments.
    let listing = scry_ebpf::disasm::listing(&compiled.programs[0].code.insns);
    assert!(listing.contains("r0 = *(u64 *)(r6 +16)"), "{listing}");
    let listing = scry_ebpf::disasm::listing(&compiled.programs[1].code.insns);
    assert!(listing.contains("r0 = *(u64 *)(r6 +32)"), "{listing}");
}
