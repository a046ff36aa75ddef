//! `scry doctor [--json]`: what this kernel lets scry do, found by trying (see `scry-doctor`).
//! Exit code 0 when the report was made, whatever it says.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

/// Report which probe kinds, program types, map types and helpers work on this kernel.
#[derive(Debug, Parser)]
#[command(name = "scry doctor")]
struct Args {
    /// Print the report as one JSON document.
    #[arg(long)]
    json: bool,
}

/// Runs `scry doctor ARGS...`.
pub fn main(args: Vec<OsString>) -> Result<ExitCode> {
    let argv = std::iter::once(OsString::from("scry doctor")).chain(args);
    let a = match Args::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return Ok(ExitCode::from(if e.use_stderr() { 2 } else { 0 }));
        }
    };
    let report = scry_doctor::run();
    let mut out = std::io::stdout().lock();
    if a.json {
        writeln!(out, "{}", report.to_json())?;
    } else {
        out.write_all(report.to_text().as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}
