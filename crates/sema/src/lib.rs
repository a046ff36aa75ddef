//! Semantic analysis of bpftrace programs.
//!
//! The passes run in this order (see [`analyse`]), one per file:
//! 1. [`expand_probes`]: attach points → concrete targets, checked against the kernel
//!    ([`KernelInfo`]): tracepoint wildcards, intervals, missing kernel facilities.
//! 2. [`infer_types`]: types of every expression, variable and map, iterated to a fixed point
//!    across probes (a map's type can come from a later probe), then checked once more with
//!    diagnostics: unknown names, arity, printf formats, mismatched assignments.
//!
//! No I/O happens here: the kernel is reached only through [`KernelInfo`].

pub mod builtins;
pub mod expand_probes;
pub mod infer_types;
pub mod kernel;
pub mod kernel_types;
pub mod script_types;
pub mod types;

pub use expand_probes::{ProbeInfo, ProbeKind, Target};
pub use infer_types::{MapInfo, MapValue, Typed};
pub use kernel::{
    Field, FieldKind, KernelInfo, TracepointFormat, UprobeSymbol, UsdtArg, UsdtLocation, UsdtProbe,
};
/// Layouts of records printed whole, as `Typed::record_layouts` holds them.
pub use scry_output::Layout as RecordLayout;
pub use types::Type;

use scry_diagnostics::Diagnostics;
use scry_syntax::ast;

/// Options that change analysis.
#[derive(Clone, Debug)]
pub struct Options {
    /// Positional parameters (`$1` is `positional[0]`).
    pub positional: Vec<String>,
    /// Default `str()` capacity in bytes, including the NUL (`BPFTRACE_MAX_STRLEN`).
    pub max_strlen: u32,
    /// Allow `system`, `cat`, `signal`.
    pub unsafe_ok: bool,
    /// `-p`: the traced process (uprobe libraries are looked up in its mappings).
    pub pid: Option<u32>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            positional: Vec::new(),
            max_strlen: 1024,
            unsafe_ok: false,
            pid: None,
        }
    }
}

/// Everything the code generator needs besides the AST.
#[derive(Debug)]
pub struct Analysis {
    /// One entry per `ast::Program::probes`, same order.
    pub probes: Vec<ProbeInfo>,
    /// Types, maps and variables.
    pub typed: Typed,
    /// Positional parameters (`$1` is `positional[0]`).
    pub positional: Vec<String>,
    /// `$#`.
    pub positional_count: usize,
}

/// Runs every pass. Returns the analysis when there were no errors.
pub fn analyse(
    program: &ast::Program,
    kernel: &dyn KernelInfo,
    options: &Options,
    diagnostics: &mut Diagnostics,
) -> Option<Analysis> {
    let probes = expand_probes::run(program, kernel, options, diagnostics);
    if diagnostics.has_errors() {
        return None;
    }
    let typed = infer_types::run(program, &probes, kernel, options, diagnostics);
    if diagnostics.has_errors() {
        return None;
    }
    Some(Analysis {
        probes,
        typed,
        positional: options.positional.clone(),
        positional_count: options.positional.len(),
    })
}
