//! `scry filter`: tcpdump's filter language compiled by scry to classic BPF —
//! print the program (`-d`, `-dd`, `-ddd`), filter a saved capture (`-r`),
//! or capture live with the program attached in the kernel (`-i`).
//! All the work is done by `scry-cbpf`; this module only parses flags.

use anyhow::{Context, Result, bail};
use clap::{ArgAction, Parser};
use scry_cbpf::session::{self, SessionError, Settings, Sink};
use scry_cbpf::{Insn, LinkType, Options, compile, insn};
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Compile a pcap-filter expression to classic BPF and run it.
#[derive(Debug, Parser)]
#[command(name = "scry filter")]
struct Args {
    /// Print the program: -d as tcpdump -d, -dd as a C array, -ddd as decimal.
    #[arg(short = 'd', action = ArgAction::Count)]
    dump: u8,
    /// Do not optimize the program.
    #[arg(short = 'O')]
    no_optimize: bool,
    /// Optimize without changing the verdict on any packet, truncated ones
    /// included (libpcap's optimizer may; scry's default does as libpcap).
    #[arg(long)]
    strict: bool,
    /// Link-layer type for -d (EN10MB, RAW, LINUX_SLL, LINUX_SLL2, NULL, LOOP, PPP).
    #[arg(short = 'y', value_name = "LINKTYPE")]
    linktype: Option<String>,
    /// Read packets from a pcap or pcapng file.
    #[arg(short = 'r', value_name = "FILE", conflicts_with = "interface")]
    read: Option<PathBuf>,
    /// Write matching packets to a pcap file instead of printing summaries.
    #[arg(short = 'w', value_name = "FILE")]
    write: Option<PathBuf>,
    /// Capture live on an interface (AF_PACKET; the kernel runs the filter).
    #[arg(short = 'i', value_name = "IFACE")]
    interface: Option<String>,
    /// Stop after N matching packets.
    #[arg(short = 'c', value_name = "N")]
    count: Option<u64>,
    /// The filter expression (put it after `--` if it starts with '-').
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    expr: Vec<String>,
}

fn dump(prog: &[Insn], level: u8) -> String {
    match level {
        1 => insn::listing(prog),
        2 => insn::listing_c(prog),
        _ => insn::listing_decimal(prog),
    }
}

fn sink<'a>(write: &Option<PathBuf>, out: &'a mut dyn Write) -> Sink<'a> {
    match write {
        Some(p) => Sink::Pcap(p.clone()),
        None => Sink::Summaries(out),
    }
}

/// Compile errors are the user's: report them and exit 1.
fn finish(r: Result<(), SessionError>) -> Result<ExitCode> {
    match r {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(SessionError::Compile(e)) => {
            eprintln!("scry filter: {e}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

/// Entry point of `scry filter ARGS...` (the arguments after `filter`).
pub fn main(args: Vec<OsString>) -> Result<ExitCode> {
    let argv = std::iter::once(OsString::from("scry filter")).chain(args);
    let a = match Args::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return Ok(ExitCode::from(if e.use_stderr() { 2 } else { 0 }));
        }
    };
    let expr = a.expr.join(" ");
    let settings = Settings {
        optimize: !a.no_optimize,
        strict: a.strict,
        count: a.count,
    };
    let mut stdout = std::io::stdout().lock();
    if let Some(path) = &a.read {
        if a.dump > 0 {
            return finish(
                session::compile_for_file(path, &expr, settings)
                    .and_then(|p| Ok(write!(stdout, "{}", dump(&p, a.dump))?)),
            );
        }
        return finish(
            session::filter_file(path, &expr, settings, sink(&a.write, &mut stdout)).map(drop),
        );
    }
    if let Some(iface) = &a.interface {
        if a.dump > 0 {
            return finish(
                session::compile_for_interface(iface, &expr, settings)
                    .and_then(|p| Ok(write!(stdout, "{}", dump(&p, a.dump))?)),
            );
        }
        let r = session::capture_live(iface, &expr, settings, sink(&a.write, &mut stdout));
        return finish(r.map(drop)).with_context(|| format!("capturing on {iface}"));
    }
    if a.dump == 0 {
        bail!("nothing to do: use -d, -r FILE or -i IFACE");
    }
    let linktype = match &a.linktype {
        Some(n) => LinkType::from_name(n).with_context(|| format!("unknown link type {n}"))?,
        None => LinkType::En10mb,
    };
    let opts = Options {
        linktype,
        optimize: !a.no_optimize,
        strict: a.strict,
        ..Options::default()
    };
    finish(
        compile(&expr, &opts)
            .map_err(SessionError::from)
            .and_then(|p| Ok(write!(stdout, "{}", dump(&p, a.dump))?)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> ExitCode {
        main(args.iter().map(OsString::from).collect()).expect("runs")
    }

    #[test]
    fn dumps_and_reports_errors() {
        assert_eq!(run(&["-d", "-y", "RAW", "--", "ip"]), ExitCode::SUCCESS);
        assert_eq!(run(&["-ddd", "tcp", "port", "80"]), ExitCode::SUCCESS);
        assert_eq!(run(&["-d", "port", "80", "443"]), ExitCode::from(1));
        assert_eq!(run(&["-d", "--", "-ip[8] < 5"]), ExitCode::SUCCESS);
        assert!(main(vec![OsString::from("tcp")]).is_err());
        assert!(
            main(
                ["-d", "-y", "FOO", "ip"]
                    .iter()
                    .map(OsString::from)
                    .collect()
            )
            .is_err()
        );
    }
}
