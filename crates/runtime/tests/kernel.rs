//! Runtime tests against the live kernel. They need root with CAP_BPF; elsewhere they skip
//! with a reason, except under CI (CI=true), where a skip is a failure.

use scry_ebpf::insn::*;
use scry_ebpf::{Asm, Reg, helper};
use scry_runtime::attach;
use scry_runtime::ringbuf::RingBuf;
use scry_runtime::tracefs::Tracefs;
use scry_runtime::{Map, MapSpec, MapType, ProgType, Program};

fn privileged() -> bool {
    // SAFETY-free check: root is what the kernel tests need on this machine kind.
    let root = std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false);
    if !root {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "kernel tests must run in CI: run them as root"
        );
        eprintln!("skipping: kernel tests need root with CAP_BPF");
    }
    root
}

fn n_cpus() -> usize {
    scry_runtime::cpu::possible().unwrap().len()
}

/// A tracepoint on sys_enter_sched_yield that counts calls per tgid in a hash map.
#[test]
fn tracepoint_counts_into_hash_map() {
    if !privileged() {
        return;
    }
    let map = Map::create(
        MapSpec {
            name: "counts".into(),
            ty: MapType::Hash,
            key_size: 4,
            value_size: 8,
            max_entries: 64,
            no_prealloc: false,
        },
        n_cpus(),
    )
    .unwrap();
    let mut asm = Asm::new();
    let miss = asm.label();
    let out = asm.label();
    asm.call(helper::GET_CURRENT_PID_TGID);
    asm.alu_imm(BPF_RSH, Reg::R0, 32);
    asm.store(4, Reg::FP, -4, Reg::R0);
    asm.store_imm(8, Reg::FP, -16, 1);
    asm.load_map(Reg::R1, 0);
    asm.mov(Reg::R2, Reg::FP);
    asm.alu_imm(BPF_ADD, Reg::R2, -4);
    asm.call(helper::MAP_LOOKUP_ELEM);
    asm.jump_imm(BPF_JEQ, Reg::R0, 0, miss);
    asm.mov_imm(Reg::R1, 1);
    asm.atomic_add64(Reg::R0, 0, Reg::R1);
    asm.goto(out);
    asm.bind(miss);
    asm.load_map(Reg::R1, 0);
    asm.mov(Reg::R2, Reg::FP);
    asm.alu_imm(BPF_ADD, Reg::R2, -4);
    asm.mov(Reg::R3, Reg::FP);
    asm.alu_imm(BPF_ADD, Reg::R3, -16);
    asm.mov_imm(Reg::R4, 0);
    asm.call(helper::MAP_UPDATE_ELEM);
    asm.bind(out);
    asm.mov_imm(Reg::R0, 0);
    asm.exit();
    let code = asm.finish().unwrap();
    let program =
        Program::load(ProgType::Tracepoint, "count", &code.relocated(|_| map.fd())).unwrap();
    let tracefs = Tracefs::open().unwrap();
    // sched_yield: no other test of this process makes that call.
    let id = tracefs
        .event_id("syscalls", "sys_enter_sched_yield")
        .unwrap();
    let link = attach::tracepoint(&program, id, 0, "sched_yield").unwrap();
    for _ in 0..5 {
        std::thread::yield_now();
    }
    drop(link);
    let key = std::process::id().to_ne_bytes();
    let value = map.lookup(&key).unwrap().expect("our pid was counted");
    assert_eq!(u64::from_ne_bytes(value[..8].try_into().unwrap()), 5);
}

/// A program run with BPF_PROG_TEST_RUN writes a record into the ring buffer.
#[test]
fn test_run_writes_ring_buffer_record() {
    if !privileged() {
        return;
    }
    let mut ring = RingBuf::create("ring", 1 << 16).unwrap();
    let mut asm = Asm::new();
    asm.store_imm(8, Reg::FP, -8, 0x1234_5678);
    asm.load_map(Reg::R1, 0);
    asm.mov(Reg::R2, Reg::FP);
    asm.alu_imm(BPF_ADD, Reg::R2, -8);
    asm.mov_imm(Reg::R3, 8);
    asm.mov_imm(Reg::R4, 0);
    asm.call(helper::RINGBUF_OUTPUT);
    asm.mov_imm(Reg::R0, 7);
    asm.exit();
    let code = asm.finish().unwrap();
    let program = Program::load(
        ProgType::RawTracepoint,
        "begin",
        &code.relocated(|_| ring.map().fd()),
    )
    .unwrap();
    assert_eq!(program.test_run().unwrap(), 7);
    let mut records = Vec::new();
    ring.drain(|r| records.push(r.to_vec()));
    assert_eq!(records, vec![0x1234_5678u64.to_ne_bytes().to_vec()]);
}

/// A program the verifier must refuse comes back with its log.
#[test]
fn verifier_rejection_keeps_log() {
    if !privileged() {
        return;
    }
    let mut asm = Asm::new();
    asm.exit(); // r0 is never set
    let code = asm.finish().unwrap();
    let err = Program::load(ProgType::Tracepoint, "bad", &code.insns).unwrap_err();
    match err {
        scry_runtime::LoadError::Verifier { log, .. } => {
            assert!(log.contains("R0 !read_ok"), "{log}")
        }
        other => panic!("expected a verifier error, got {other}"),
    }
}

/// One program on two tracepoints tells them apart by their attach cookies.
#[test]
fn attach_cookies_identify_tracepoints() {
    if !privileged() {
        return;
    }
    let counts = Map::create(
        MapSpec {
            name: "cookies".into(),
            ty: MapType::Array,
            key_size: 4,
            value_size: 8,
            max_entries: 16,
            no_prealloc: false,
        },
        n_cpus(),
    )
    .unwrap();
    let mut asm = Asm::new();
    let out = asm.label();
    asm.call(helper::GET_ATTACH_COOKIE);
    asm.store(4, Reg::FP, -4, Reg::R0);
    asm.load_map(Reg::R1, 0);
    asm.mov(Reg::R2, Reg::FP);
    asm.alu_imm(BPF_ADD, Reg::R2, -4);
    asm.call(helper::MAP_LOOKUP_ELEM);
    asm.jump_imm(BPF_JEQ, Reg::R0, 0, out);
    asm.mov_imm(Reg::R1, 1);
    asm.atomic_add64(Reg::R0, 0, Reg::R1);
    asm.bind(out);
    asm.mov_imm(Reg::R0, 0);
    asm.exit();
    let code = asm.finish().unwrap();
    let program = Program::load(
        ProgType::Tracepoint,
        "cookies",
        &code.relocated(|_| counts.fd()),
    )
    .unwrap();
    let tracefs = Tracefs::open().unwrap();
    let mut links = Vec::new();
    for (event, cookie) in [("sys_enter_getppid", 7), ("sys_enter_getcwd", 3)] {
        let id = tracefs.event_id("syscalls", event).unwrap();
        links.push(attach::tracepoint(&program, id, cookie, event).unwrap());
    }
    for _ in 0..5 {
        let _ = std::os::unix::process::parent_id();
    }
    for _ in 0..3 {
        let _ = std::env::current_dir();
    }
    attach::detach_all(links);
    let count = |i: u32| {
        u64::from_ne_bytes(
            counts.lookup(&i.to_ne_bytes()).unwrap().unwrap()[..8]
                .try_into()
                .unwrap(),
        )
    };
    assert!(count(7) >= 5, "getppid seen {} times", count(7));
    assert!(count(3) >= 3, "getcwd seen {} times", count(3));
    assert_eq!(count(0), 0, "no event without a cookie");
}

/// Raw tracepoints detach without waiting for a grace period (timed, printed).
#[test]
fn raw_tracepoint_attach_and_detach() {
    if !privileged() {
        return;
    }
    let map = Map::create(
        MapSpec {
            name: "hits".into(),
            ty: MapType::Array,
            key_size: 4,
            value_size: 8,
            max_entries: 1,
            no_prealloc: false,
        },
        n_cpus(),
    )
    .unwrap();
    let mut asm = Asm::new();
    let out = asm.label();
    asm.store_imm(4, Reg::FP, -4, 0);
    asm.load_map(Reg::R1, 0);
    asm.mov(Reg::R2, Reg::FP);
    asm.alu_imm(BPF_ADD, Reg::R2, -4);
    asm.call(helper::MAP_LOOKUP_ELEM);
    asm.jump_imm(BPF_JEQ, Reg::R0, 0, out);
    asm.mov_imm(Reg::R1, 1);
    asm.atomic_add64(Reg::R0, 0, Reg::R1);
    asm.bind(out);
    asm.mov_imm(Reg::R0, 0);
    asm.exit();
    let code = asm.finish().unwrap();
    let program = Program::load(
        ProgType::RawTracepoint,
        "hits",
        &code.relocated(|_| map.fd()),
    )
    .unwrap();
    let start = std::time::Instant::now();
    let link = attach::raw_tracepoint(&program, "sys_enter").unwrap();
    let attached = start.elapsed();
    let _ = std::os::unix::process::parent_id();
    let start = std::time::Instant::now();
    attach::detach_all(vec![link]);
    let detached = start.elapsed();
    let hits = u64::from_ne_bytes(
        map.lookup(&0u32.to_ne_bytes()).unwrap().unwrap()[..8]
            .try_into()
            .unwrap(),
    );
    assert!(hits >= 1, "the raw tracepoint saw our syscall");
    eprintln!("raw tracepoint: attach {attached:?}, detach {detached:?}");
}

/// `no_prealloc` hash maps carry BPF_F_NO_PREALLOC (they fill as keys arrive) and still take
/// updates; the default stays preallocated (what perf_event programs require).
#[test]
fn hash_maps_without_preallocation() {
    if !privileged() {
        return;
    }
    let flags = |map: &Map| -> u64 {
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", map.fd())).unwrap();
        let line = info.lines().find(|l| l.starts_with("map_flags:")).unwrap();
        u64::from_str_radix(
            line.split_whitespace()
                .nth(1)
                .unwrap()
                .trim_start_matches("0x"),
            16,
        )
        .unwrap()
    };
    let spec = |no_prealloc| MapSpec {
        name: "lazy".into(),
        ty: MapType::PerCpuHash,
        key_size: 8,
        value_size: 528,
        max_entries: 10240,
        no_prealloc,
    };
    let lazy = Map::create(spec(true), n_cpus()).unwrap();
    let eager = Map::create(spec(false), n_cpus()).unwrap();
    assert_eq!(flags(&lazy) & 1, 1);
    assert_eq!(flags(&eager) & 1, 0);
    let value = vec![7u8; lazy.lookup_size()];
    lazy.update(&42u64.to_ne_bytes(), &value).unwrap();
    let got = lazy.lookup_per_cpu(&42u64.to_ne_bytes()).unwrap().unwrap();
    assert_eq!(got.len(), n_cpus());
}

/// The running kernel's BTF is mapped read-only: the same bytes as reading the file, and
/// parsed without a copy.
#[test]
fn vmlinux_btf_is_mapped() {
    if !privileged() {
        return;
    }
    let path = "/sys/kernel/btf/vmlinux";
    let mapped = scry_runtime::sys::ReadOnlyFile::map(path).unwrap();
    assert_eq!(mapped.as_ref(), std::fs::read(path).unwrap().as_slice());
    let btf = scry_runtime::sys::vmlinux_btf().unwrap();
    assert!(btf.find("task_struct", scry_btf::Kind::Struct).is_some());
}
