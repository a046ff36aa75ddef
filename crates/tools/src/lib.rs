//! BCC's tools, written in scry's language.
//!
//! Each tool is a module of [`tools`] with BCC's name, options and output columns. Its
//! `plan` function turns the command line into a [`Plan`]: a bpftrace-language script (which
//! `--script` prints, and which `scry` runs unchanged), the header, and how the script's
//! events and maps are shown (BCC's columns in text, one JSON object per event with
//! `--json`). [`run`] compiles the script with scry's compiler and runs it with
//! [`ToolPrinter`].
//!
//! The tools use tracepoints, BTF raw tracepoints, perf events and uprobes, so they work on
//! kernels without kprobes, fentry or kernel headers. Where such a kernel can only be
//! approximated, the tool says so at start and in `--help`; where a facility a tool needs is
//! missing, it fails at once with [`ToolError::Unsupported`] (exit status 2).

pub mod hist;
pub mod plan;
pub mod printer;
pub mod script;
pub mod spec;
pub mod stacks;
pub mod tools;

use std::ffi::OsString;
use std::io::{self, Write};

use scry_sema::KernelInfo;

pub use plan::{EventSpec, MapRender, Plan};
pub use printer::ToolPrinter;

/// Why a tool could not start.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// A bad command line, or `--help`/`--version` (clap renders both).
    #[error("{0}")]
    Usage(#[from] clap::Error),
    /// A bad value that clap could not check.
    #[error("{0}")]
    BadArgument(String),
    /// The kernel lacks a facility the tool needs; the message names it and what works.
    #[error("{0}")]
    Unsupported(String),
    /// Anything else (reading the kernel's description, the target binary, ...).
    #[error("{0}")]
    Other(String),
}

/// One tool: its name, a one-line description and its planner.
pub struct Tool {
    pub name: &'static str,
    pub about: &'static str,
    /// Parses `args` (without the tool's name) and plans the run against `kernel`.
    pub plan: fn(&[OsString], &dyn KernelInfo) -> Result<Plan, ToolError>,
}

/// Every tool, sorted by name.
pub fn all() -> &'static [Tool] {
    tools::ALL
}

/// The tool called `name`.
pub fn find(name: &str) -> Option<&'static Tool> {
    all().iter().find(|t| t.name == name)
}

/// `scry tool`: the list of tools with their descriptions.
pub fn listing() -> String {
    let mut text = String::from("Tools (run `scry tool NAME --help` for options and examples):\n");
    for tool in all() {
        text.push_str(&format!("  {:<13} {}\n", tool.name, tool.about));
    }
    text.push_str(
        "\nA tool also runs as NAME when scry is invoked through a link of that name \
         (ln -s scry opensnoop).\n",
    );
    text
}

/// Runs tool `name` with `args`; returns the process exit status: the script's, 1 for run-time
/// errors, 2 for bad command lines and for facilities this kernel lacks.
pub fn run(name: &str, args: &[OsString]) -> u8 {
    let Some(tool) = find(name) else {
        eprintln!("scry tool: no tool named '{name}'\n\n{}", listing());
        return 2;
    };
    let kernel = scry_driver::LiveKernel::new();
    let plan = match (tool.plan)(args, &kernel) {
        Ok(plan) => plan,
        Err(ToolError::Usage(err)) => {
            let _ = err.print();
            return if err.use_stderr() { 2 } else { 0 };
        }
        Err(ToolError::BadArgument(msg)) => {
            eprintln!("{name}: {msg}");
            return 2;
        }
        Err(ToolError::Unsupported(msg)) => {
            eprintln!("{name}: {}", msg.trim_end());
            return 2;
        }
        Err(ToolError::Other(msg)) => {
            eprintln!("{name}: {}", msg.trim_end());
            return 1;
        }
    };
    if plan.print_script {
        print!("{}", plan.script);
        return 0;
    }
    for note in &plan.notes {
        eprintln!("{name}: {note}");
    }
    let options = scry_driver::CompileOptions {
        positional: Vec::new(),
        max_strlen: plan.max_strlen,
        unsafe_ok: false,
        map_keys_max: plan.map_keys_max,
        pid: None,
        ringbuf_size: plan.ringbuf_size,
    };
    let output = match scry_driver::compile(name, &plan.script, &kernel, &options) {
        Ok(output) => output,
        Err(err) => {
            eprint!("{}", err.rendered);
            eprintln!("{name}: the tool's script did not compile on this kernel (see above)");
            return 1;
        }
    };
    // The kernel's description (BTF name tables, formats) is not needed to run.
    drop(kernel);
    let stdout = io::stdout();
    let mut printer = ToolPrinter::new(plan, io::BufWriter::new(stdout.lock()));
    let run_options = scry_driver::RunOptions {
        notify: std::env::var_os("__BPFTRACE_NOTIFY_PROBES_ATTACHED").is_some(),
        ..Default::default()
    };
    match scry_driver::run(&output, &mut printer, &run_options) {
        Ok(code) => {
            let _ = printer.flush_out();
            code as u8
        }
        Err(err) => {
            let _ = printer.flush_out();
            let text = err.to_string();
            let _ = writeln!(
                io::stderr(),
                "{name}: {}",
                text.trim_start_matches("ERROR: ").trim_end()
            );
            1
        }
    }
}
