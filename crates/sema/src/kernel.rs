//! What the analysis needs to know about the running kernel, behind a trait so that tests
//! (and offline compiles) can supply fixed data.

/// A tracepoint's record layout, from its tracefs `format` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TracepointFormat {
    pub category: String,
    pub name: String,
    /// Fields after the `common_*` header.
    pub fields: Vec<Field>,
    /// For `syscalls:sys_{enter,exit}_*` events: the syscall's number, when known. Wide
    /// syscall wildcards are then served by one raw `sys_enter`/`sys_exit` program.
    pub syscall_nr: Option<u32>,
}

/// One field of a tracepoint record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// The C type as the format file spells it (`const char *`, `char[16]`).
    pub c_type: String,
    pub offset: u32,
    pub size: u32,
    pub kind: FieldKind,
}

/// How a field is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// An integer of `size` bytes.
    Int { signed: bool },
    /// A pointer; `user` for syscall arguments (`__user` memory), `char` for `char *`.
    Pointer { char: bool, user: bool },
    /// A fixed `char[N]` array: a string.
    CharArray,
    /// An array of integers (`u8 addr[16]`, `u32 args[6]`).
    IntArray {
        elem_size: u32,
        len: u32,
        signed: bool,
    },
    /// `__data_loc char[]`: a 32-bit (length << 16 | offset) locator of a string in the record.
    DataLocString,
    /// Anything else: read as raw bytes.
    Other,
}

/// A USDT probe site (from a `.note.stapsdt` note).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsdtProbe {
    pub path: String,
    pub provider: String,
    pub name: String,
    /// File offset of the probe's nop.
    pub offset: u64,
    /// File offset of the semaphore (0: none); the kernel increments it while attached.
    pub semaphore: u64,
    pub args: Vec<UsdtArg>,
}

/// One argument of a USDT probe (`-4@%ebx`, `8@-16(%rbp)`, `-8@$-7`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsdtArg {
    /// Size in bytes.
    pub size: u8,
    pub signed: bool,
    pub location: UsdtLocation,
}

/// Where a USDT argument is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsdtLocation {
    /// A register, by its 64-bit name (`rbx`).
    Register(String),
    /// Memory at a register plus an offset.
    Memory { base: String, offset: i64 },
    /// A constant.
    Constant(i64),
}

/// A function found for a uprobe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UprobeSymbol {
    pub path: String,
    pub symbol: String,
    /// File offset of the probed instruction.
    pub offset: u64,
}

/// The kernel facts analysis consults.
pub trait KernelInfo {
    /// Every tracepoint as (category, event).
    fn tracepoints(&self) -> Result<Vec<(String, String)>, String>;
    /// The format of one tracepoint.
    fn tracepoint_format(&self, category: &str, event: &str) -> Result<TracepointFormat, String>;
    /// Whether the kernel can attach kprobes (kprobe PMU or `kprobe_events`).
    fn has_kprobes(&self) -> bool;
    /// The address and size of a symbol of a user binary, for `uaddr()`; position-independent
    /// binaries (whose addresses are only known per process) are an error.
    fn user_symbol_address(&self, path: &str, symbol: &str) -> Result<(u64, u64), String> {
        let _ = (path, symbol);
        Err("uaddr() needs a live system".into())
    }
    /// The address of a kernel symbol (`/proc/kallsyms`), for `kaddr()`.
    fn kernel_address(&self, name: &str) -> Option<u64> {
        let _ = name;
        None
    }
    /// Whether the CPU has a PMU for hardware perf events.
    fn has_hardware_pmu(&self) -> bool {
        false
    }
    /// Whether fentry/fexit programs can be loaded.
    fn has_fentry(&self) -> bool;
    /// Functions of a user binary for uprobes: `target` is a path or a library name
    /// (`libc`), `pattern` a symbol name with wildcards; with `pid`, libraries are found in
    /// that process's mappings. Returns (resolved path, symbol, file offset) triples.
    fn uprobe_symbols(
        &self,
        target: &str,
        pattern: &str,
        pid: Option<u32>,
    ) -> Result<Vec<UprobeSymbol>, String> {
        let _ = (target, pattern, pid);
        Err("uprobes need a live system".into())
    }
    /// USDT probes of a binary (`target` as for uprobes) matching provider and name patterns.
    fn usdt_probes(
        &self,
        target: &str,
        provider: &str,
        name: &str,
        pid: Option<u32>,
    ) -> Result<Vec<UsdtProbe>, String> {
        let _ = (target, provider, name, pid);
        Err("USDT probes need a live system".into())
    }
    /// The kernel's BTF (`/sys/kernel/btf/vmlinux`), when there is one.
    fn btf(&self) -> Option<&scry_btf::Btf> {
        None
    }
    /// Whether raw tracepoint `name` exists.
    fn has_raw_tracepoint(&self, name: &str) -> bool {
        self.tracepoints()
            .map(|tps| tps.iter().any(|(_, e)| e == name))
            .unwrap_or(false)
    }
}

/// Fixed kernel facts, for tests.
#[derive(Clone, Debug, Default)]
pub struct StaticKernel {
    pub formats: Vec<TracepointFormat>,
    pub kprobes: bool,
    pub fentry: bool,
    pub btf: Option<std::sync::Arc<scry_btf::Btf>>,
}

impl KernelInfo for StaticKernel {
    fn tracepoints(&self) -> Result<Vec<(String, String)>, String> {
        Ok(self
            .formats
            .iter()
            .map(|f| (f.category.clone(), f.name.clone()))
            .collect())
    }
    fn tracepoint_format(&self, category: &str, event: &str) -> Result<TracepointFormat, String> {
        self.formats
            .iter()
            .find(|f| f.category == category && f.name == event)
            .cloned()
            .ok_or_else(|| format!("no format for {category}:{event}"))
    }
    fn has_kprobes(&self) -> bool {
        self.kprobes
    }
    fn has_fentry(&self) -> bool {
        self.fentry
    }
    fn btf(&self) -> Option<&scry_btf::Btf> {
        self.btf.as_deref()
    }
}

impl StaticKernel {
    /// A kernel with a few syscall and block tracepoints, for unit tests.
    pub fn sample() -> StaticKernel {
        let int = |name: &str, offset, size, signed| Field {
            name: name.into(),
            c_type: "long".into(),
            offset,
            size,
            kind: FieldKind::Int { signed },
        };
        let ptr = |name: &str, offset| Field {
            name: name.into(),
            c_type: "const char *".into(),
            offset,
            size: 8,
            kind: FieldKind::Pointer {
                char: true,
                user: true,
            },
        };
        let tp = |category: &str, name: &str, fields| TracepointFormat {
            category: category.into(),
            name: name.into(),
            fields,
            syscall_nr: None,
        };
        StaticKernel {
            formats: vec![
                tp(
                    "syscalls",
                    "sys_enter_openat",
                    vec![
                        int("__syscall_nr", 8, 4, true),
                        int("dfd", 16, 8, true),
                        ptr("filename", 24),
                        int("flags", 32, 8, true),
                        int("mode", 40, 8, false),
                    ],
                ),
                tp(
                    "syscalls",
                    "sys_exit_openat",
                    vec![int("__syscall_nr", 8, 4, true), int("ret", 16, 8, true)],
                ),
                tp(
                    "syscalls",
                    "sys_enter_read",
                    vec![
                        int("__syscall_nr", 8, 4, true),
                        int("fd", 16, 8, false),
                        Field {
                            name: "buf".into(),
                            c_type: "char *".into(),
                            offset: 24,
                            size: 8,
                            kind: FieldKind::Pointer {
                                char: true,
                                user: true,
                            },
                        },
                        int("count", 32, 8, false),
                    ],
                ),
                tp(
                    "syscalls",
                    "sys_exit_read",
                    vec![int("__syscall_nr", 8, 4, true), int("ret", 16, 8, true)],
                ),
                tp(
                    "raw_syscalls",
                    "sys_enter",
                    vec![
                        int("id", 8, 8, true),
                        Field {
                            name: "args".into(),
                            c_type: "unsigned long[6]".into(),
                            offset: 16,
                            size: 48,
                            kind: FieldKind::IntArray {
                                elem_size: 8,
                                len: 6,
                                signed: false,
                            },
                        },
                    ],
                ),
                tp(
                    "block",
                    "block_rq_issue",
                    vec![
                        int("dev", 8, 4, false),
                        int("sector", 16, 8, false),
                        int("nr_sector", 24, 4, false),
                        int("bytes", 28, 4, false),
                        Field {
                            name: "rwbs".into(),
                            c_type: "char[10]".into(),
                            offset: 32,
                            size: 10,
                            kind: FieldKind::CharArray,
                        },
                        Field {
                            name: "comm".into(),
                            c_type: "char[16]".into(),
                            offset: 42,
                            size: 16,
                            kind: FieldKind::CharArray,
                        },
                        Field {
                            name: "cmd".into(),
                            c_type: "__data_loc char[]".into(),
                            offset: 60,
                            size: 4,
                            kind: FieldKind::DataLocString,
                        },
                    ],
                ),
                tp("block", "block_rq_insert", vec![int("dev", 8, 4, false)]),
            ],
            kprobes: false,
            fentry: false,
            btf: None,
        }
    }
}
