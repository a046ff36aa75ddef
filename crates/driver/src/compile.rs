//! Source text → compiled program, with bpftrace-style diagnostics on failure.

use scry_codegen::Compiled;
use scry_diagnostics::{Diagnostics, SourceFile};
use scry_sema::{Analysis, KernelInfo};
use scry_syntax::ast;

/// Compile options from the command line and environment.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    pub positional: Vec<String>,
    pub max_strlen: u32,
    pub unsafe_ok: bool,
    pub map_keys_max: u32,
    /// `-p`: trace only this process.
    pub pid: Option<u32>,
    /// Ring buffer size in bytes (a power of two, at least a page).
    pub ringbuf_size: u32,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            positional: Vec::new(),
            max_strlen: 1024,
            unsafe_ok: false,
            map_keys_max: 4096,
            pid: None,
            ringbuf_size: 1 << 22,
        }
    }
}

/// A compiled program and what it came from.
#[derive(Debug)]
pub struct Output {
    pub source: SourceFile,
    pub program: ast::Program,
    pub analysis: Analysis,
    pub compiled: Compiled,
    /// Rendered warnings.
    pub warnings: String,
    /// The BTF id of `btf_trace_NAME` for each raw tracepoint the programs attach to, found
    /// while the kernel's BTF is at hand: such programs load as BTF raw tracepoints.
    pub tp_btf_ids: std::collections::HashMap<String, u32>,
}

/// Compilation failed; `rendered` holds the diagnostics as bpftrace prints them.
#[derive(Debug, thiserror::Error)]
#[error("{rendered}")]
pub struct CompileError {
    pub rendered: String,
}

/// Parses, analyses and generates code for `text`.
pub fn compile(
    name: &str,
    text: &str,
    kernel: &dyn KernelInfo,
    options: &CompileOptions,
) -> Result<Output, CompileError> {
    let source = SourceFile::new(name.to_string(), text.to_string());
    let parsed = scry_syntax::parse(text);
    let mut diagnostics = parsed.diagnostics;
    let render =
        |diagnostics: &Diagnostics| scry_diagnostics::render_all(diagnostics.iter(), &source);
    if diagnostics.has_errors() {
        return Err(CompileError {
            rendered: render(&diagnostics),
        });
    }
    if parsed.program.probes.is_empty() {
        return Err(CompileError {
            rendered: format!("{name}: ERROR: No probes to attach\n"),
        });
    }
    let sema_options = scry_sema::Options {
        positional: options.positional.clone(),
        max_strlen: options.max_strlen,
        unsafe_ok: options.unsafe_ok,
        pid: options.pid,
    };
    let Some(analysis) =
        scry_sema::analyse(&parsed.program, kernel, &sema_options, &mut diagnostics)
    else {
        return Err(CompileError {
            rendered: render(&diagnostics),
        });
    };
    let codegen_options = scry_codegen::Options {
        map_keys_max: options.map_keys_max,
        pid_filter: options.pid,
        ringbuf_size: options.ringbuf_size,
        n_cpus: scry_runtime::cpu::possible()
            .map(|c| c.len() as u32)
            .unwrap_or(1),
    };
    let compiled = match scry_codegen::compile(&parsed.program, &analysis, &codegen_options) {
        Ok(compiled) => compiled,
        Err(errors) => {
            for error in errors {
                diagnostics.push(error);
            }
            return Err(CompileError {
                rendered: render(&diagnostics),
            });
        }
    };
    let warnings = render(&diagnostics);
    let mut tp_btf_ids = std::collections::HashMap::new();
    for program in &compiled.programs {
        if let [scry_sema::Target::RawTracepoint { name }] = program.targets.as_slice()
            && let Some(btf) = kernel.btf()
            && let Some(id) = btf.find(&format!("btf_trace_{name}"), scry_btf::Kind::Typedef)
        {
            tp_btf_ids.insert(name.clone(), id.0);
        }
    }
    Ok(Output {
        source,
        program: parsed.program,
        analysis,
        compiled,
        warnings,
        tp_btf_ids,
    })
}
