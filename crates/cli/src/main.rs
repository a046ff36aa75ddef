//! The `scry` binary: a thin dispatcher over the library crates.
//!
//! `scry [OPTIONS] (-e PROGRAM | FILE) [ARGS...]` runs a bpftrace program with bpftrace's flags;
//! `scry filter ...` compiles tcpdump filters; `scry tool NAME ...` runs one of BCC's tools
//! (also run as `NAME ...` through a link of that name). Exit codes: the program's `exit(code)` (0 by
//! default), 1 for errors in the script or at run time, 2 for bad command lines.

mod doctor;
mod filter;
mod serve;

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use scry_driver::{CompileOptions, LiveKernel, RunOptions};
use scry_output::{JsonPrinter, Printer, TextPrinter};

/// Trace the kernel with bpftrace programs compiled by scry's own compiler.
#[derive(Debug, Parser)]
#[command(name = "scry", version, about, after_help = EXAMPLES)]
struct Args {
    /// Program text to run.
    #[arg(short = 'e', value_name = "PROGRAM")]
    program: Option<String>,
    /// List probes matching PATTERN (e.g. 'tracepoint:syscalls:*').
    #[arg(short = 'l', value_name = "PATTERN", num_args = 0..=1, default_missing_value = "*")]
    list: Option<String>,
    /// Trace only process PID.
    #[arg(short = 'p', value_name = "PID")]
    pid: Option<u32>,
    /// Run COMMAND once attached and stop tracing when it exits; `cpid` is its pid.
    #[arg(short = 'c', value_name = "COMMAND")]
    command: Option<String>,
    /// Write program output to FILE.
    #[arg(short = 'o', value_name = "FILE")]
    output: Option<std::path::PathBuf>,
    /// Output format.
    #[arg(short = 'f', value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    format: String,
    /// Allow unsafe functions (system, signal).
    #[arg(long = "unsafe")]
    unsafe_ok: bool,
    /// Print an intermediate form instead of running: asm (eBPF listing) or ast.
    #[arg(long, value_name = "WHAT", value_parser = ["asm", "ast"])]
    emit: Option<String>,
    /// Verbose: load statistics when running, probe arguments when listing.
    #[arg(short = 'v')]
    verbose: bool,
    /// Quiet: no "Attached N probes" line.
    #[arg(short = 'q')]
    quiet: bool,
    /// Compile and load, but do not attach or run.
    #[arg(long)]
    dry_run: bool,
    /// At exit, write maps keyed by kstack/ustack (and comm, pid) as an SVG flame graph.
    #[arg(long, value_name = "FILE.svg")]
    flamegraph: Option<std::path::PathBuf>,
    /// At exit, write maps keyed by kstack/ustack as folded stacks (for flamegraph.pl, inferno).
    #[arg(long, value_name = "FILE")]
    folded: Option<std::path::PathBuf>,
    /// The script file (unless -e is given), then positional parameters $1, $2, ...
    #[arg(
        value_name = "FILE|ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    rest: Vec<String>,
}

const EXAMPLES: &str = "Examples:
  scry -e 'tracepoint:syscalls:sys_enter_openat { printf(\"%s %s\\n\", comm, str(args->filename)); }'
  scry -e 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }'
  scry -lv 'tracepoint:syscalls:sys_enter_open*'
  scry script.bt 42
    scry --flamegraph cpu.svg -e 'profile:hz:99 { @[kstack, ustack, comm] = count(); } interval:s:5 { exit(); }'
  scry filter -d 'tcp port 80'";

fn env_u32(names: &[&str]) -> Option<u32> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok()?.parse().ok())
}

fn run(args: Args) -> Result<u8> {
    let kernel = LiveKernel::new();
    if let Some(pattern) = &args.list {
        let pattern = if pattern == "*" {
            args.program
                .as_deref()
                .or(args.rest.first().map(String::as_str))
        } else {
            Some(pattern.as_str())
        };
        let text = scry_driver::listing::list(&kernel, pattern, args.verbose, args.pid)
            .map_err(anyhow::Error::msg)?;
        io::stdout().write_all(text.as_bytes())?;
        return Ok(0);
    }
    let (name, text, positional) = match (&args.program, args.rest.split_first()) {
        (Some(program), _) => ("stdin".to_string(), program.clone(), args.rest.clone()),
        (None, Some((file, rest))) if file == "-" => {
            let mut text = String::new();
            io::Read::read_to_string(&mut io::stdin(), &mut text)?;
            ("stdin".to_string(), text, rest.to_vec())
        }
        (None, Some((file, rest))) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("ERROR: could not read {file}"))?;
            (file.clone(), text, rest.to_vec())
        }
        (None, None) => {
            eprintln!("USAGE: scry [OPTIONS] (-e PROGRAM | FILE) [ARGS...]; try scry --help");
            return Ok(2);
        }
    };
    let positional: Vec<String> = positional.into_iter().skip_while(|a| a == "--").collect();
    if let Some("ast") = args.emit.as_deref() {
        let parsed = scry_syntax::parse(&text);
        print!("{}", scry_syntax::print_ast(&parsed.program));
        let source = scry_diagnostics::SourceFile::new(name, text);
        eprint!(
            "{}",
            scry_diagnostics::render_all(parsed.diagnostics.iter(), &source)
        );
        return Ok(if parsed.diagnostics.has_errors() {
            1
        } else {
            0
        });
    }
    let options = CompileOptions {
        positional,
        max_strlen: env_u32(&["BPFTRACE_MAX_STRLEN", "BPFTRACE_STRLEN"])
            .unwrap_or(1024)
            .clamp(8, 32 * 1024),
        unsafe_ok: args.unsafe_ok,
        map_keys_max: env_u32(&["BPFTRACE_MAP_KEYS_MAX", "BPFTRACE_MAX_MAP_KEYS"])
            .unwrap_or(4096)
            .max(1),
        pid: args.pid,
        // The ring buffer: BPFTRACE_PERF_RB_PAGES pages per CPU (bpftrace's default, 64),
        // rounded up to a power of two. Its pages count in scry's RSS: the kernel maps them all.
        ringbuf_size: {
            let pages = u64::from(env_u32(&["BPFTRACE_PERF_RB_PAGES"]).unwrap_or(64).max(1));
            let cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
            // At most 1 GiB.
            (pages * cpus * 4096).next_power_of_two().min(1 << 30) as u32
        },
    };
    let output = match scry_driver::compile(&name, &text, &kernel, &options) {
        Ok(output) => output,
        Err(err) => {
            eprint!("{}", err.rendered);
            return Ok(1);
        }
    };
    eprint!("{}", output.warnings);
    // The kernel's description (BTF name tables, formats) is not needed to run.
    drop(kernel);
    if let Some("asm") = args.emit.as_deref() {
        let mut out = io::stdout().lock();
        for program in &output.compiled.programs {
            let mut targets: Vec<String> = program
                .targets
                .iter()
                .take(3)
                .map(|t| t.probe_name())
                .collect();
            if program.targets.len() > 3 {
                targets.push(format!("and {} more", program.targets.len() - 3));
            }
            writeln!(
                out,
                "; program {} ({} instructions) for {}",
                program.name,
                program.code.insns.len(),
                targets.join(", ")
            )?;
            // Map references show the map's index in the listing.
            let insns = program.code.relocated(|id| id as i32);
            out.write_all(scry_ebpf::disasm::listing(&insns).as_bytes())?;
        }
        return Ok(0);
    }
    let command = args
        .command
        .as_ref()
        .map(|c| c.split_whitespace().map(str::to_string).collect::<Vec<_>>());
    let run_options = RunOptions {
        command: command.filter(|c| !c.is_empty()),
        verbose: args.verbose,
        notify: std::env::var_os("__BPFTRACE_NOTIFY_PROBES_ATTACHED").is_some(),
        dry_run: args.dry_run,
        flamegraph: args.flamegraph.clone(),
        folded: args.folded.clone(),
    };
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("ERROR: could not create {}", path.display()))?,
        )),
        None => Box::new(io::BufWriter::new(io::stdout())),
    };
    let mut printer: Box<dyn Printer> = match args.format.as_str() {
        "json" => Box::new(JsonPrinter::new(out)),
        _ if args.quiet => Box::new(TextPrinter::new(out, io::sink())),
        _ => Box::new(TextPrinter::new(out, io::stderr())),
    };
    match scry_driver::run(&output, printer.as_mut(), &run_options) {
        Ok(code) => Ok(code as u8),
        Err(err) => {
            let _ = printer.flush();
            let text = err.to_string();
            if text.starts_with("ERROR") || text.contains(": ERROR:") {
                eprintln!("{}", text.trim_end());
            } else {
                eprintln!("ERROR: {}", text.trim_end());
            }
            Ok(1)
        }
    }
}

fn main() -> ExitCode {
    let mut argv: Vec<OsString> = std::env::args_os().collect();
    // Invoked through a link named after a tool (`ln -s scry opensnoop`): run that tool.
    let invoked = argv
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("scry")
        .to_string();
    if invoked != "scry" && scry_tools::find(&invoked).is_some() {
        return ExitCode::from(scry_tools::run(&invoked, &argv[1..]));
    }
    if argv.get(1).is_some_and(|a| a == "tool") {
        return match argv.get(2).and_then(|a| a.to_str()) {
            None | Some("-l" | "--list") => {
                print!("{}", scry_tools::listing());
                ExitCode::SUCCESS
            }
            Some("-h" | "--help") => {
                print!(
                    "Usage: scry tool [NAME [OPTIONS]]\n\nRuns one of BCC's tools, written in scry's language.\n\n{}",
                    scry_tools::listing()
                );
                ExitCode::SUCCESS
            }
            Some(name) => {
                let name = name.to_string();
                ExitCode::from(scry_tools::run(&name, &argv[3..]))
            }
        };
    }
    if argv.get(1).is_some_and(|a| a == "filter") {
        let rest = argv.split_off(2);
        return match filter::main(rest) {
            Ok(code) => code,
            Err(err) => {
                eprintln!("ERROR: {err:#}");
                ExitCode::from(1)
            }
        };
    }
    if argv.get(1).is_some_and(|a| a == "doctor") {
        let rest = argv.split_off(2);
        return match doctor::main(rest) {
            Ok(code) => code,
            Err(err) => {
                eprintln!("ERROR: {err:#}");
                ExitCode::from(1)
            }
        };
    }
    if argv.get(1).is_some_and(|a| a == "serve") {
        let rest = argv.split_off(2);
        return match serve::main(rest) {
            Ok(code) => code,
            Err(err) => {
                eprintln!("ERROR: {err:#}");
                ExitCode::from(1)
            }
        };
    }
    // bpftrace spells "list verbosely" -lv.
    let argv: Vec<OsString> = argv
        .into_iter()
        .flat_map(|a| {
            if a == "-lv" || a == "-vl" {
                vec![OsString::from("-v"), OsString::from("-l")]
            } else {
                vec![a]
            }
        })
        .collect();
    let args = match Args::try_parse_from(argv) {
        Ok(args) => args,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    match run(args) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("{err:#}");
            ExitCode::from(1)
        }
    }
}
