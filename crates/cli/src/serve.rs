//! `scry serve`: run a bpftrace program and serve its maps to Prometheus on `/metrics`.
//!
//! The maps are read every `--refresh-ms` (1 s by default) and kept by `scry-exporter` as a
//! snapshot (at most `--max-series` entries); each scrape encodes the latest snapshot as
//! OpenMetrics text (`prometheus-client`), served over HTTP by `tiny_http`. Map keys become labels named
//! from the script (`@syscalls[comm]` → `comm`, `args->fd` → `fd`, others `key0`, `key1`...).
//! A script that does not compile fails before anything listens. The program's own output
//! (`printf`, `print`, the maps at exit) goes to stdout as with `scry -e`.
//! `BPFTRACE_MAP_KEYS_MAX` (default 4096) bounds each map in the kernel, as for `scry -e`.

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use scry_driver::{CompileOptions, LiveKernel, MapObserver, RunOptions};
use scry_exporter::{Exporter, Server, Shared};
use scry_output::{MapDump, TextPrinter};

/// Serve a bpftrace program's maps as Prometheus metrics.
#[derive(Debug, Parser)]
#[command(name = "scry serve", after_help = EXAMPLES)]
struct Args {
    /// Address to listen on (loopback by default; use 0.0.0.0:9435 to be scraped remotely).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9435")]
    listen: String,
    /// Program text to run.
    #[arg(short = 'e', value_name = "PROGRAM")]
    program: Option<String>,
    /// How often to read the maps, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    refresh_ms: u64,
    /// At most this many map entries (series) per scrape; the largest are kept.
    #[arg(long, value_name = "N", default_value_t = 50_000)]
    max_series: usize,
    /// Allow unsafe functions (system, signal).
    #[arg(long = "unsafe")]
    unsafe_ok: bool,
    /// Quiet: no "Attached N probes" line.
    #[arg(short = 'q')]
    quiet: bool,
    /// The script file (unless -e is given), then positional parameters $1, $2, ...
    #[arg(
        value_name = "FILE|ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    rest: Vec<String>,
}

const EXAMPLES: &str = "Examples:
  scry serve -e 'tracepoint:raw_syscalls:sys_enter { @syscalls[comm] = count(); }'
  scry serve --listen 0.0.0.0:9435 script.bt
  curl -s http://127.0.0.1:9435/metrics";

/// Hands the maps to the server every refresh period.
struct Observer {
    exporter: Exporter,
    shared: Shared,
    period: Duration,
}

impl MapObserver for Observer {
    fn period(&self) -> Duration {
        self.period
    }

    fn maps(&mut self, dumps: &[MapDump]) {
        let update = self.exporter.update(dumps);
        for warning in &update.warnings {
            eprintln!("{warning}");
        }
        self.shared.set(update.snapshot);
    }
}

fn env_u32(name: &str) -> Option<u32> {
    std::env::var(name).ok()?.parse().ok()
}

/// Runs `scry serve ARGS...`.
pub fn main(args: Vec<OsString>) -> Result<ExitCode> {
    let argv = std::iter::once(OsString::from("scry serve")).chain(args);
    let a = match Args::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return Ok(ExitCode::from(if e.use_stderr() { 2 } else { 0 }));
        }
    };
    let (name, text, positional) = match (&a.program, a.rest.split_first()) {
        (Some(program), _) => ("stdin".to_string(), program.clone(), a.rest.clone()),
        (None, Some((file, rest))) => {
            let text =
                std::fs::read_to_string(file).with_context(|| format!("could not read {file}"))?;
            (file.clone(), text, rest.to_vec())
        }
        (None, None) => {
            eprintln!("USAGE: scry serve [--listen ADDR] (-e PROGRAM | FILE) [ARGS...]");
            return Ok(ExitCode::from(2));
        }
    };
    let defaults = CompileOptions::default();
    let options = CompileOptions {
        positional: positional.into_iter().skip_while(|p| p == "--").collect(),
        unsafe_ok: a.unsafe_ok,
        // The same environment variables as `scry -e` (bpftrace's names).
        max_strlen: env_u32("BPFTRACE_MAX_STRLEN")
            .map_or(defaults.max_strlen, |n| n.clamp(8, 32 * 1024)),
        map_keys_max: env_u32("BPFTRACE_MAP_KEYS_MAX").map_or(defaults.map_keys_max, |n| n.max(1)),
        ..defaults
    };
    let output = match scry_driver::compile(&name, &text, &LiveKernel::new(), &options) {
        Ok(output) => output,
        Err(err) => {
            eprint!("{}", err.rendered);
            return Ok(ExitCode::from(1));
        }
    };
    eprint!("{}", output.warnings);
    let labels = scry_exporter::label_names(&output.program);
    // Scrapes before the first refresh see the exporter's own metrics and zero series.
    let shared = Shared::default();
    let exporter = Exporter::new(labels, a.max_series);
    let server = Server::start(&a.listen, shared.clone())?;
    eprintln!("Serving metrics on http://{}/metrics", server.local_addr());
    let mut observer = Observer {
        exporter,
        shared,
        period: Duration::from_millis(a.refresh_ms),
    };
    let run_options = RunOptions {
        notify: std::env::var_os("__BPFTRACE_NOTIFY_PROBES_ATTACHED").is_some(),
        ..RunOptions::default()
    };
    let out = io::BufWriter::new(io::stdout());
    let mut printer: Box<dyn scry_output::Printer> = if a.quiet {
        Box::new(TextPrinter::new(out, io::sink()))
    } else {
        Box::new(TextPrinter::new(out, io::stderr()))
    };
    let result =
        scry_driver::run_observed(&output, printer.as_mut(), &run_options, Some(&mut observer));
    let _ = printer.flush();
    let _ = io::stdout().flush();
    drop(server);
    match result {
        Ok(code) => Ok(ExitCode::from(code as u8)),
        Err(err) => {
            let text = err.to_string();
            if text.starts_with("ERROR") || text.contains(": ERROR:") {
                eprintln!("{}", text.trim_end());
            } else {
                eprintln!("ERROR: {}", text.trim_end());
            }
            Ok(ExitCode::from(1))
        }
    }
}
