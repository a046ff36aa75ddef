//! The tries: maps created, programs loaded, helpers called, programs attached.
//!
//! Every program is a few instructions written here; every map, program, perf event and
//! link is an owned file descriptor dropped at the end of its check.

use std::io;
use std::os::fd::OwnedFd;

use scry_ebpf::insn::{
    BPF_ADD, BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_CALL, BPF_DW, BPF_EXIT, BPF_IMM, BPF_JEQ, BPF_JMP,
    BPF_K, BPF_LD, BPF_MEM, BPF_MOV, BPF_PSEUDO_MAP_FD, BPF_ST, BPF_STX, BPF_W, BPF_X, Insn,
};
use scry_runtime::attach::{self, Sampling};
use scry_runtime::sys::{self, BpfAttr};
use scry_runtime::{Map, MapSpec, MapType, ProgType, Program};

use crate::report::{Check, Section, Status};

fn mov(dst: u8, imm: i32) -> Insn {
    Insn::new(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
}

fn mov32(dst: u8, imm: i32) -> Insn {
    Insn::new(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, imm)
}

fn mov_reg(dst: u8, src: u8) -> Insn {
    Insn::new(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
}

fn add(dst: u8, imm: i32) -> Insn {
    Insn::new(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, imm)
}

/// `*(u64 *)(fp + off) = 0`
fn zero_stack(off: i16) -> Insn {
    Insn::new(BPF_ST | BPF_MEM | BPF_DW, 10, 0, off, 0)
}

fn call(helper: i32) -> Insn {
    Insn::new(BPF_JMP | BPF_CALL, 0, 0, 0, helper)
}

fn exit() -> Insn {
    Insn::new(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
}

fn ld_map(dst: u8, fd: i32) -> [Insn; 2] {
    [
        Insn::new(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd),
        Insn::default(),
    ]
}

/// `r0 = 0; exit`
fn trivial() -> Vec<Insn> {
    vec![mov(0, 0), exit()]
}

/// Adds one to slot 0 of the array `counter` each time it runs.
fn counting(counter: &Map) -> Vec<Insn> {
    let mut p = vec![Insn::new(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, 0)];
    p.extend(ld_map(1, counter.fd()));
    p.extend([
        mov_reg(2, 10),
        add(2, -4),
        call(scry_ebpf::helper::MAP_LOOKUP_ELEM),
        Insn::new(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2, 0),
        mov(1, 1),
        Insn::new(BPF_STX | BPF_ATOMIC | BPF_DW, 0, 1, 0, BPF_ADD as i32),
        mov(0, 0),
        exit(),
    ]);
    p
}

fn counter() -> io::Result<Map> {
    Map::create(
        MapSpec {
            name: "doctor_count".into(),
            ty: MapType::Array,
            key_size: 4,
            value_size: 8,
            max_entries: 1,
            no_prealloc: false,
        },
        1,
    )
    .map_err(io::Error::other)
}

fn count_of(map: &Map) -> u64 {
    map.lookup(&0u32.to_le_bytes())
        .ok()
        .flatten()
        .and_then(|v| Some(u64::from_le_bytes(v.get(..8)?.try_into().ok()?)))
        .unwrap_or(0)
}

/// Loads `insns` as program type `ty` (raw number), with `expected_attach_type` and
/// `attach_btf_id` for types that need them.
fn load_raw(ty: u32, expected: u32, btf_id: u32, insns: &[Insn]) -> io::Result<OwnedFd> {
    let code = scry_ebpf::insn::encode_all(insns);
    let license = b"GPL\0";
    let mut attr = BpfAttr::default();
    attr.put_u32(0, ty)
        .put_u32(4, insns.len() as u32)
        .put_u64(8, code.as_ptr() as u64)
        .put_u64(16, license.as_ptr() as u64)
        .put_u32(68, expected)
        .put_u32(108, btf_id);
    sys::bpf_fd(sys::BPF_PROG_LOAD, &mut attr)
}

fn create_map(ty: u32, key: u32, value: u32, max: u32, flags: u32) -> io::Result<OwnedFd> {
    let mut attr = BpfAttr::default();
    attr.put_u32(0, ty)
        .put_u32(4, key)
        .put_u32(8, value)
        .put_u32(12, max)
        .put_u32(16, flags);
    sys::bpf_fd(sys::BPF_MAP_CREATE, &mut attr)
}

fn short(err: &dyn std::fmt::Display) -> String {
    let text = err.to_string();
    text.lines().next().unwrap_or("").to_string()
}

const NO_KPROBES: &str = "kprobe:/kretprobe: unavailable: use tracepoint: or rawtracepoint: instead \
                          (scry -l 'tracepoint:*' lists them)";

/// Attaches a counting program to `raw_syscalls:sys_enter` (tracepoint or raw tracepoint),
/// makes a syscall and reports how often it ran.
fn attach_counting(raw: bool) -> Result<String, String> {
    let map = counter().map_err(|e| short(&e))?;
    let ty = if raw {
        ProgType::RawTracepoint
    } else {
        ProgType::Tracepoint
    };
    let prog = Program::load(ty, "doctor", &counting(&map)).map_err(|e| short(&e))?;
    let attachment = if raw {
        attach::raw_tracepoint(&prog, "sys_enter").map_err(|e| short(&e))?
    } else {
        let tracefs = scry_runtime::tracefs::Tracefs::open().map_err(|e| short(&e))?;
        let id = tracefs
            .event_id("raw_syscalls", "sys_enter")
            .map_err(|e| short(&e))?;
        attach::tracepoint(&prog, id, 0, "tracepoint:raw_syscalls:sys_enter")
            .map_err(|e| short(&e))?
    };
    for _ in 0..3 {
        let _ = std::fs::metadata("/");
    }
    let fired = count_of(&map);
    attach::detach_all(vec![attachment]);
    if fired == 0 {
        return Err("attached, but the program never ran".into());
    }
    Ok(format!("attached to sys_enter; ran {fired} times"))
}

/// A `tp_btf` program (BTF-typed raw tracepoint) on `sys_enter`.
fn attach_tp_btf() -> Result<String, String> {
    const TRACING: u32 = 26;
    const BPF_TRACE_RAW_TP: u32 = 23;
    let bytes = std::fs::read("/sys/kernel/btf/vmlinux").map_err(|e| short(&e))?;
    let btf = scry_btf::Btf::parse(bytes).map_err(|e| short(&e))?;
    let id = btf
        .find("btf_trace_sys_enter", scry_btf::Kind::Typedef)
        .ok_or("no btf_trace_sys_enter in vmlinux BTF")?;
    let prog = load_raw(TRACING, BPF_TRACE_RAW_TP, id.0, &trivial()).map_err(|e| short(&e))?;
    let mut attr = BpfAttr::default();
    attr.put_u64(0, 0)
        .put_u32(8, std::os::fd::AsRawFd::as_raw_fd(&prog) as u32);
    let link = sys::bpf_fd(sys::BPF_RAW_TRACEPOINT_OPEN, &mut attr).map_err(|e| short(&e))?;
    drop(link);
    drop(prog);
    Ok("loaded and attached a BTF-typed raw tracepoint program to sys_enter".into())
}

fn uprobe(retprobe: bool) -> Result<String, String> {
    let exe = std::fs::read_link("/proc/self/exe").map_err(|e| short(&e))?;
    let bytes = std::fs::read(&exe).map_err(|e| short(&e))?;
    let offset = crate::elf::entry_file_offset(&bytes).map_err(|e| e.to_string())?;
    let prog = Program::load(ProgType::Kprobe, "doctor", &trivial()).map_err(|e| short(&e))?;
    let path = exe.to_string_lossy();
    let what = format!("uprobe:{path}+{offset:#x}");
    let a =
        attach::uprobe(&prog, &path, offset, retprobe, None, 0, &what).map_err(|e| short(&e))?;
    attach::detach_all(vec![a]);
    Ok(format!(
        "attached to {path} at its entry point (offset {offset:#x})"
    ))
}

fn kprobe(retprobe: bool) -> Result<String, String> {
    let prog = Program::load(ProgType::Kprobe, "doctor", &trivial()).map_err(|e| short(&e))?;
    let a = attach::kprobe(&prog, "vfs_read", 0, retprobe, 0, "kprobe:vfs_read")
        .map_err(|e| short(&e))?;
    attach::detach_all(vec![a]);
    Ok("attached to vfs_read through the kprobe PMU".into())
}

fn perf_software() -> Result<String, String> {
    let prog = Program::load(ProgType::PerfEvent, "doctor", &trivial()).map_err(|e| short(&e))?;
    let a = attach::perf_event(
        &prog,
        sys::PERF_TYPE_SOFTWARE,
        0,
        Sampling::Frequency(99),
        0,
        "software:cpu-clock",
    )
    .map_err(|e| short(&e))?;
    attach::detach_all(vec![a]);
    Ok("attached to software:cpu-clock at 99 Hz on CPU 0".into())
}

fn begin_end() -> Result<String, String> {
    let prog =
        Program::load(ProgType::RawTracepoint, "doctor", &trivial()).map_err(|e| short(&e))?;
    prog.test_run().map_err(|e| short(&e))?;
    Ok("ran a raw tracepoint program once with BPF_PROG_TEST_RUN".into())
}

fn row(name: &str, result: Result<String, String>, ok: &str, missing: &str) -> Check {
    match result {
        Ok(detail) => Check::yes_no(Section::ProbeKinds, name, true, detail, ok),
        Err(detail) => Check::yes_no(Section::ProbeKinds, name, false, detail, missing),
    }
}

/// Each probe kind scry offers, attached for real.
pub fn probe_kinds() -> Vec<Check> {
    let fentry = scry_runtime::features::fentry_loadable();
    let hardware = scry_runtime::features::has_hardware_pmu();
    vec![
        row(
            "tracepoint",
            attach_counting(false),
            "tracepoint:category:event probes work",
            "no tracepoint: probes",
        ),
        row(
            "rawtracepoint",
            attach_counting(true),
            "rawtracepoint: probes work (scry also serves wide syscall wildcards with them)",
            "no rawtracepoint: probes; use tracepoint:",
        ),
        row(
            "rawtracepoint (BTF)",
            attach_tp_btf(),
            "raw tracepoint arguments are typed from BTF",
            "raw tracepoint arguments are untyped (arg0..)",
        ),
        row(
            "BEGIN/END",
            begin_end(),
            "BEGIN and END probes work",
            "BEGIN/END cannot run",
        ),
        row(
            "uprobe",
            uprobe(false),
            "uprobe: and usdt: probes on user programs work",
            "no uprobe:/usdt: probes",
        ),
        row(
            "uretprobe",
            uprobe(true),
            "uretprobe: probes work",
            "no uretprobe: probes",
        ),
        row(
            "perf event",
            perf_software(),
            "profile:, interval: and software: probes work",
            "no profile:/interval:/software: probes",
        ),
        Check::yes_no(
            Section::ProbeKinds,
            "hardware",
            hardware,
            if hardware {
                "opened a disabled cycle counter"
            } else {
                "the CPU PMU refuses hardware events (common in virtual machines)"
            },
            if hardware {
                "hardware:cycles and friends work"
            } else {
                "hardware: probes unavailable: use profile:hz:99 or software: instead"
            },
        ),
        row("kprobe", kprobe(false), "kprobe: probes work", NO_KPROBES),
        row(
            "kretprobe",
            kprobe(true),
            "kretprobe: probes work",
            NO_KPROBES,
        ),
        Check::yes_no(
            Section::ProbeKinds,
            "fentry",
            fentry,
            if fentry {
                "loaded an fentry program on vfs_read"
            } else {
                "the kernel refused an fentry program on vfs_read (no BPF trampolines)"
            },
            if fentry {
                "fentry:/fexit: probes work"
            } else {
                "fentry:/fexit: unavailable: use rawtracepoint: (typed from BTF) or tracepoint: instead"
            },
        ),
    ]
}

/// Each program type, loaded as `r0 = 0; exit`.
pub fn program_types() -> Vec<Check> {
    const TYPES: &[(&str, u32, &str)] = &[
        (
            "BPF_PROG_TYPE_SOCKET_FILTER",
            1,
            "scry filter's socket filters",
        ),
        ("BPF_PROG_TYPE_KPROBE", 2, "kprobes and uprobes"),
        ("BPF_PROG_TYPE_SCHED_CLS", 3, "not used by scry"),
        ("BPF_PROG_TYPE_TRACEPOINT", 5, "tracepoint: probes"),
        ("BPF_PROG_TYPE_XDP", 6, "not used by scry"),
        (
            "BPF_PROG_TYPE_PERF_EVENT",
            7,
            "profile:, interval:, software:, hardware:",
        ),
        ("BPF_PROG_TYPE_CGROUP_SKB", 8, "not used by scry"),
        (
            "BPF_PROG_TYPE_RAW_TRACEPOINT",
            17,
            "rawtracepoint:, BEGIN, END",
        ),
    ];
    let mut out: Vec<Check> = TYPES
        .iter()
        .map(
            |(name, ty, meaning)| match load_raw(*ty, 0, 0, &trivial()) {
                Ok(fd) => {
                    drop(fd);
                    Check::yes_no(Section::ProgramTypes, *name, true, "loaded", *meaning)
                }
                Err(e) => Check::yes_no(Section::ProgramTypes, *name, false, short(&e), *meaning),
            },
        )
        .collect();
    let fentry = scry_runtime::features::fentry_loadable();
    out.push(Check::yes_no(
        Section::ProgramTypes,
        "BPF_PROG_TYPE_TRACING (fentry)",
        fentry,
        if fentry { "loaded" } else { "refused" },
        "fentry:/fexit:",
    ));
    out
}

/// Each map type, created with one entry.
pub fn map_types() -> Vec<Check> {
    let page = sys::page_size() as u32;
    const NO_PREALLOC: u32 = 1;
    let types: &[(&str, u32, u32, u32, u32, u32, &str)] = &[
        ("BPF_MAP_TYPE_HASH", 1, 8, 8, 1, 0, "keyed maps (@m[k])"),
        (
            "BPF_MAP_TYPE_ARRAY",
            2,
            4,
            8,
            1,
            0,
            "scalar maps and scratch space",
        ),
        ("BPF_MAP_TYPE_PROG_ARRAY", 3, 4, 4, 1, 0, "not used by scry"),
        (
            "BPF_MAP_TYPE_PERF_EVENT_ARRAY",
            4,
            4,
            4,
            1,
            0,
            "not used by scry (it uses a ring buffer)",
        ),
        (
            "BPF_MAP_TYPE_PERCPU_HASH",
            5,
            8,
            8,
            1,
            0,
            "keyed count()/sum()/hist() without contention",
        ),
        (
            "BPF_MAP_TYPE_PERCPU_ARRAY",
            6,
            4,
            8,
            1,
            0,
            "scalar aggregations, per-CPU scratch",
        ),
        (
            "BPF_MAP_TYPE_STACK_TRACE",
            7,
            4,
            8 * 127,
            1,
            0,
            "kstack and ustack",
        ),
        (
            "BPF_MAP_TYPE_CGROUP_ARRAY",
            8,
            4,
            4,
            1,
            0,
            "not used by scry",
        ),
        (
            "BPF_MAP_TYPE_LRU_HASH",
            9,
            8,
            8,
            1,
            0,
            "bounded maps that evict old keys",
        ),
        (
            "BPF_MAP_TYPE_LRU_PERCPU_HASH",
            10,
            8,
            8,
            1,
            0,
            "not used by scry",
        ),
        (
            "BPF_MAP_TYPE_LPM_TRIE",
            11,
            8,
            8,
            1,
            NO_PREALLOC,
            "not used by scry",
        ),
        ("BPF_MAP_TYPE_QUEUE", 22, 0, 8, 1, 0, "not used by scry"),
        ("BPF_MAP_TYPE_STACK", 23, 0, 8, 1, 0, "not used by scry"),
        (
            "BPF_MAP_TYPE_RINGBUF",
            27,
            0,
            0,
            page,
            0,
            "printf, print and every event sent to scry",
        ),
        (
            "BPF_MAP_TYPE_BLOOM_FILTER",
            30,
            0,
            8,
            1,
            0,
            "not used by scry",
        ),
    ];
    types
        .iter()
        .map(|&(name, ty, key, value, max, flags, meaning)| {
            match create_map(ty, key, value, max, flags) {
                Ok(fd) => {
                    drop(fd);
                    Check::yes_no(Section::MapTypes, name, true, "created", meaning)
                }
                Err(e) => Check::yes_no(Section::MapTypes, name, false, short(&e), meaning),
            }
        })
        .collect()
}

/// Maps helper calls need: an array, a ring buffer, a stack trace map, a perf event array.
struct HelperMaps {
    array: OwnedFd,
    ringbuf: OwnedFd,
    stacks: OwnedFd,
    perf: OwnedFd,
}

fn fd_of(fd: &OwnedFd) -> i32 {
    std::os::fd::AsRawFd::as_raw_fd(fd)
}

/// The instructions that call `helper` with arguments the verifier accepts.
fn helper_call(helper: i32, maps: &HelperMaps) -> Vec<Insn> {
    use scry_ebpf::helper as h;
    // r6 = ctx; fp-8 and fp-16 zeroed.
    let mut p = vec![mov_reg(6, 1), zero_stack(-8), zero_stack(-16)];
    let stack_arg = |p: &mut Vec<Insn>, reg: u8, off: i32| {
        p.push(mov_reg(reg, 10));
        p.push(add(reg, off));
    };
    match helper {
        h::MAP_LOOKUP_ELEM | h::MAP_UPDATE_ELEM => {
            p.extend(ld_map(1, fd_of(&maps.array)));
            stack_arg(&mut p, 2, -8);
            if helper == h::MAP_UPDATE_ELEM {
                stack_arg(&mut p, 3, -16);
                p.push(mov(4, 0));
            }
        }
        h::GET_CURRENT_COMM => {
            stack_arg(&mut p, 1, -16);
            p.push(mov(2, 16));
        }
        h::PROBE_READ_KERNEL | h::PROBE_READ_USER | PROBE_READ_KERNEL_STR | PROBE_READ_USER_STR => {
            stack_arg(&mut p, 1, -16);
            p.push(mov(2, 8));
            p.push(mov(3, 0));
        }
        h::PERF_EVENT_OUTPUT => {
            p.push(mov_reg(1, 6));
            p.extend(ld_map(2, fd_of(&maps.perf)));
            p.push(mov32(3, -1));
            stack_arg(&mut p, 4, -8);
            p.push(mov(5, 8));
        }
        h::GET_STACKID => {
            p.push(mov_reg(1, 6));
            p.extend(ld_map(2, fd_of(&maps.stacks)));
            p.push(mov(3, 0));
        }
        h::GET_STACK => {
            p.push(mov_reg(1, 6));
            stack_arg(&mut p, 2, -16);
            p.push(mov(3, 16));
            p.push(mov(4, 0));
        }
        RINGBUF_OUTPUT => {
            p.extend(ld_map(1, fd_of(&maps.ringbuf)));
            stack_arg(&mut p, 2, -8);
            p.push(mov(3, 8));
            p.push(mov(4, 0));
        }
        h::SEND_SIGNAL => p.push(mov(1, 0)),
        GET_ATTACH_COOKIE => p.push(mov_reg(1, 6)),
        _ => {}
    }
    p.extend([call(helper), mov(0, 0), exit()]);
    p
}

const PROBE_READ_USER_STR: i32 = 114;
const PROBE_READ_KERNEL_STR: i32 = 115;
const RINGBUF_OUTPUT: i32 = 130;
const GET_ATTACH_COOKIE: i32 = 174;

/// Each helper scry's programs call, called from a loaded tracepoint program.
pub fn helpers() -> Vec<Check> {
    use scry_ebpf::helper as h;
    let list: &[(&str, i32, &str)] = &[
        ("bpf_map_lookup_elem", h::MAP_LOOKUP_ELEM, "reading maps"),
        ("bpf_map_update_elem", h::MAP_UPDATE_ELEM, "writing maps"),
        ("bpf_ktime_get_ns", h::KTIME_GET_NS, "nsecs, elapsed"),
        ("bpf_get_prandom_u32", h::GET_PRANDOM_U32, "rand"),
        ("bpf_get_smp_processor_id", h::GET_SMP_PROCESSOR_ID, "cpu"),
        (
            "bpf_get_current_pid_tgid",
            h::GET_CURRENT_PID_TGID,
            "pid, tid",
        ),
        (
            "bpf_get_current_uid_gid",
            h::GET_CURRENT_UID_GID,
            "uid, gid",
        ),
        ("bpf_get_current_comm", h::GET_CURRENT_COMM, "comm"),
        (
            "bpf_perf_event_output",
            h::PERF_EVENT_OUTPUT,
            "not used by scry",
        ),
        ("bpf_get_stackid", h::GET_STACKID, "kstack, ustack"),
        ("bpf_get_current_task", h::GET_CURRENT_TASK, "curtask"),
        ("bpf_get_stack", h::GET_STACK, "not used by scry"),
        (
            "bpf_get_current_cgroup_id",
            h::GET_CURRENT_CGROUP_ID,
            "cgroup",
        ),
        (
            "bpf_send_signal",
            h::SEND_SIGNAL,
            "signal() (with --unsafe)",
        ),
        (
            "bpf_probe_read_user",
            h::PROBE_READ_USER,
            "reading user memory (str, buf, uprobe args)",
        ),
        (
            "bpf_probe_read_kernel",
            h::PROBE_READ_KERNEL,
            "struct fields, args of kernel pointers",
        ),
        (
            "bpf_probe_read_user_str",
            PROBE_READ_USER_STR,
            "str() of user strings",
        ),
        (
            "bpf_probe_read_kernel_str",
            PROBE_READ_KERNEL_STR,
            "str() of kernel strings",
        ),
        (
            "bpf_ringbuf_output",
            RINGBUF_OUTPUT,
            "printf, print, every event",
        ),
        (
            "bpf_get_attach_cookie",
            GET_ATTACH_COOKIE,
            "probe (one program for many probes)",
        ),
    ];
    let page = sys::page_size() as u32;
    let maps = (|| {
        Ok::<_, io::Error>(HelperMaps {
            array: create_map(2, 4, 8, 1, 0)?,
            ringbuf: create_map(27, 0, 0, page, 0)?,
            stacks: create_map(7, 4, 8 * 127, 1, 0)?,
            perf: create_map(4, 4, 4, 1, 0)?,
        })
    })();
    let maps = match maps {
        Ok(maps) => maps,
        Err(e) => {
            return list
                .iter()
                .map(|(name, _, meaning)| {
                    Check::new(
                        Section::Helpers,
                        *name,
                        Status::Unknown,
                        format!("cannot create the maps to try it: {}", short(&e)),
                        *meaning,
                    )
                })
                .collect();
        }
    };
    list.iter()
        .map(|&(name, id, meaning)| {
            match Program::load(ProgType::Tracepoint, "doctor", &helper_call(id, &maps)) {
                Ok(prog) => {
                    drop(prog);
                    Check::yes_no(
                        Section::Helpers,
                        name,
                        true,
                        "the verifier accepted a call",
                        meaning,
                    )
                }
                Err(e) => Check::yes_no(Section::Helpers, name, false, short(&e), meaning),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> bool {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let root = crate::system::parse_status(&status).0 == Some(0);
        if !root {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(!ci, "CI=true: the doctor's tries need root");
            eprintln!("skipping: needs root");
        }
        root
    }

    #[test]
    fn core_maps_programs_and_helpers_work_here() {
        if !root() {
            return;
        }
        let maps = map_types();
        for name in [
            "BPF_MAP_TYPE_HASH",
            "BPF_MAP_TYPE_PERCPU_ARRAY",
            "BPF_MAP_TYPE_RINGBUF",
            "BPF_MAP_TYPE_STACK_TRACE",
        ] {
            let c = maps.iter().find(|c| c.name == name).expect(name);
            assert_eq!(c.status, Status::Available, "{c:?}");
        }
        let progs = program_types();
        let tp = progs
            .iter()
            .find(|c| c.name == "BPF_PROG_TYPE_TRACEPOINT")
            .expect("tp");
        assert_eq!(tp.status, Status::Available, "{tp:?}");
        let helpers = helpers();
        for name in [
            "bpf_get_current_comm",
            "bpf_ringbuf_output",
            "bpf_probe_read_kernel",
            "bpf_get_stackid",
        ] {
            let c = helpers.iter().find(|c| c.name == name).expect(name);
            assert_eq!(c.status, Status::Available, "{c:?}");
        }
    }

    #[test]
    fn an_unknown_helper_is_refused() {
        if !root() {
            return;
        }
        let maps = HelperMaps {
            array: create_map(2, 4, 8, 1, 0).expect("array"),
            ringbuf: create_map(27, 0, 0, sys::page_size() as u32, 0).expect("ringbuf"),
            stacks: create_map(7, 4, 8 * 127, 1, 0).expect("stacks"),
            perf: create_map(4, 4, 4, 1, 0).expect("perf"),
        };
        assert!(
            Program::load(ProgType::Tracepoint, "doctor", &helper_call(100_000, &maps)).is_err()
        );
    }
}
