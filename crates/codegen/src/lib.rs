//! Code generation: an analysed bpftrace program becomes eBPF programs, map definitions and
//! the layouts of the records those programs send to user space.
//!
//! The output is a [`Compiled`] description that does not depend on the kernel: map ids in
//! instructions are symbolic, tracepoint ids are looked up when attaching, and run-time
//! constants (start time, `-c` child pid) are read from the `config` map.
//!
//! Conventions of the generated code (see `lower.rs`):
//! - r6 holds the context, r7 this CPU's scratch area, r8 the tracepoint record (`args`);
//! - expression results are left in r0; temporaries live in 8-byte stack slots;
//! - strings, tuples, map keys and values and output records are built in the scratch area,
//!   so the 512-byte stack never limits their size;
//! - every ring-buffer record starts with a u64 event id, then the arguments laid out like a
//!   tuple (each padded to 8 bytes).

pub mod layout;
pub mod lower;

use scry_diagnostics::{Diagnostic, Span};
use scry_sema::{Analysis, Target, Type};
use scry_syntax::ast;

pub use layout::MapLayout;

/// The kinds of maps the generated code uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapKind {
    Hash,
    PerCpuHash,
    Array,
    RingBuf,
    StackTrace,
}

/// A map to create before loading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapDef {
    pub name: String,
    pub kind: MapKind,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    /// For user maps, index into [`Compiled::user_maps`].
    pub user: Option<usize>,
}

/// Ids of the internal maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InternalMaps {
    pub ringbuf: u32,

    /// One u64 per counter: see [`counters`].
    pub counters: u32,
    pub config: u32,
    pub zeros: u32,
    /// `BPF_MAP_TYPE_STACK_TRACE` for `kstack`/`ustack` (one entry when unused).
    pub stacks: u32,
}

/// Frames kept per stack (the kernel's PERF_MAX_STACK_DEPTH).
pub const STACK_DEPTH: u32 = 127;

/// Slots of the `counters` map (one u64 each), read by the driver.
pub mod counters {
    /// Ring-buffer records that did not fit.
    pub const LOST: u32 = 0;
    /// Failed updates of user map `i` (a full map) are counted in slot `MAP_FULL + i`.
    pub const MAP_FULL: u32 = 1;
}

/// Offsets of run-time constants in the `config` map's single value.
pub mod config {
    /// `nsecs` at start, for `elapsed`.
    pub const START_NS: u32 = 0;
    /// The `-c` child's pid, for `cpid`.
    pub const CPID: u32 = 8;
    /// The number of possible CPUs, for reading per-CPU maps in the kernel.
    pub const NCPUS: u32 = 16;
    /// Size of the config value.
    pub const SIZE: u32 = 24;
}

/// How a program is attached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProgKind {
    /// Run once with BPF_PROG_TEST_RUN at start (BEGIN) or end (END).
    Begin,
    End,
    Tracepoint,
    /// perf events: interval, profile, software.
    PerfEvent,
    RawTracepoint,
    /// uprobes and uretprobes (kprobe-type programs on `pt_regs`).
    Uprobe,
    /// fentry/fexit: a tracing program on the kernel function with BTF id `btf_id`.
    Fentry {
        ret: bool,
        btf_id: u32,
    },
    /// One raw tracepoint on `sys_enter` (or `sys_exit`) serving many `syscalls:*` targets.
    SyscallDispatch {
        exit: bool,
    },
}

/// How many array elements `join()` reads (bpftrace's default).
pub const JOIN_ARGS: u32 = 16;

/// Size of a syscall dispatch map (syscall numbers below this are traceable).
pub const SYSCALL_MAX: u32 = 1024;

/// One program to load.
#[derive(Clone, Debug)]
pub struct ProgramSpec {
    pub name: String,
    pub kind: ProgKind,
    /// Where to attach it (several for wildcards).
    pub targets: Vec<Target>,
    pub code: scry_ebpf::Program,
    /// Source spans by instruction origin (see [`scry_ebpf::Asm::set_origin`]).
    pub spans: Vec<Span>,
    /// For [`ProgKind::SyscallDispatch`]: the map from syscall number to probe name index + 1,
    /// filled by the driver from the targets' `syscall_nr`.
    pub dispatch: Option<u32>,
}

/// What a ring-buffer record means, by event id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventDef {
    Printf {
        format: String,
        args: Vec<Type>,
    },
    System {
        format: String,
        args: Vec<Type>,
    },
    Cat {
        format: String,
        args: Vec<Type>,
    },
    Exit,
    PrintMap {
        map: usize,
        top: u64,
        div: u64,
    },
    PrintValue {
        ty: Type,
    },
    /// `print()` of a whole struct or union: its bytes follow the event id.
    PrintRecord {
        layout: scry_sema::RecordLayout,
    },
    Clear {
        map: usize,
    },
    Zero {
        map: usize,
    },
    Time {
        format: Option<String>,
    },
    /// `join(argv, delim)`: a count, then `JOIN_ARGS` strings of `size` bytes.
    Join {
        delim: String,
        size: u32,
    },
}

/// Everything needed to run the program.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub programs: Vec<ProgramSpec>,
    pub maps: Vec<MapDef>,
    pub internal: InternalMaps,
    /// User maps with their layouts, by the analysis's map index.
    pub user_maps: Vec<MapLayout>,
    /// Map id of each user map.
    pub user_map_ids: Vec<u32>,
    pub events: Vec<EventDef>,
    /// Names for `probe` values; every target's name is here, and its index is the cookie
    /// its attachment must carry.
    pub probe_names: Vec<String>,
    /// strftime formats, by id.
    pub strftime_formats: Vec<String>,
    /// Whether any program records user stacks (the driver then snapshots processes so
    /// that stacks of processes that exit before printing still symbolize).
    pub uses_user_stacks: bool,
}

/// Options for code generation.
#[derive(Clone, Debug)]
pub struct Options {
    /// Entries per map (`BPFTRACE_MAP_KEYS_MAX`).
    pub map_keys_max: u32,
    /// Ring buffer size in bytes.
    pub ringbuf_size: u32,
    /// `-p`: probes other than BEGIN/END fire only in this process.
    pub pid_filter: Option<u32>,
    /// Possible CPUs of the machine the programs will run on (per-CPU map reads).
    pub n_cpus: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            map_keys_max: 4096,
            ringbuf_size: 1 << 22,
            pid_filter: None,
            n_cpus: 1,
        }
    }
}

/// Generates code. Errors are diagnostics about constructs scry cannot compile.
pub fn compile(
    program: &ast::Program,
    analysis: &Analysis,
    options: &Options,
) -> Result<Compiled, Vec<Diagnostic>> {
    lower::compile(program, analysis, options)
}
