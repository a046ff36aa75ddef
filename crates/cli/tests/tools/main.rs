//! End-to-end tests of the BCC tools (`scry tool NAME`) on the live kernel: each starts the
//! tool, waits until it is attached, runs a trigger whose events are known, stops the tool
//! and checks the header and at least one correctly populated line, in text and JSON.
//!
//! Like the other kernel tests they need root; without it they skip with a message, except
//! under `CI=true` where a skip is a failure.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod files;
mod misc;
mod net;
mod procs;
mod specs;

use common::Tracer;

/// Starts `scry tool NAME args…` and waits until its probes are attached.
pub fn tool(name: &str, args: &[&str]) -> Tracer {
    let mut all = vec!["tool", name];
    all.extend_from_slice(args);
    Tracer::scry(&all)
}

/// The JSON objects of a `--json` run's stdout.
pub fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}
