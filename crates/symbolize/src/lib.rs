//! Symbolization of kernel and user-space addresses for scry.
//!
//! * [`KernelSymbols`]: a sorted table parsed from `/proc/kallsyms` (`ksym`, `kaddr`).
//! * [`ProcessCache`] + [`UserSymbolizer`]: user-space symbols of a pid (ELF `.symtab` /
//!   `.dynsym`, demangled C++/Rust names, vDSO, `/tmp/perf-PID.map`), through blazesym.
//!   Snapshots keep the mapped files open so stacks of processes that exited before
//!   printing still symbolize.
//! * [`Symbolizer`]: the facade the runtime uses, loading kernel symbols lazily.
//! * [`format_stack`] and friends: bpftrace's `bpftrace`, `perf` and `raw` stack texts.

mod debug_file;
mod error;
mod format;
mod kernel;
mod maps;
mod perf_map;
mod process;
mod symbolizer;
mod user;

#[cfg(test)]
mod test_support;

pub use error::{Error, Result};
pub use format::{StackFormat, StackMode, StackSpace, format_stack, format_sym, frame_names};
pub use kernel::{KALLSYMS, KernelSymbols};
pub use maps::{MapEntry, parse_maps};
pub use perf_map::PerfMap;
pub use process::{
    DEFAULT_MAX_OPEN_FILES, FileId, Mapping, MappingKind, ProcessCache, ProcessSnapshot,
};
pub use symbolizer::Symbolizer;
pub use user::UserSymbolizer;

/// A resolved symbol: the function (or object) an address falls in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sym {
    /// Symbol name, demangled for C++ and Rust user-space symbols.
    pub name: String,
    /// Distance of the address from the start of the symbol.
    pub offset: u64,
    /// Kernel: module name (`ext4`), `None` for vmlinux. User: path of the mapped
    /// file, `[vdso]`, or the perf map file the symbol came from.
    pub module: Option<String>,
}
