//! `scry filter`: tcpdump's filter language compiled by scry to classic BPF —
//! print the program (`-d`, `-dd`, `-ddd`), filter a saved capture (`-r`),
//! or capture live with the program attached in the kernel (`-i`).

use anyhow::{Context, Result, bail};
use clap::{ArgAction, Parser};
use scry_cbpf::pcapio::{self, Writer};
use scry_cbpf::{LinkType, Options, capture::LiveCapture, compile, insn, interp, summary};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

/// Compile a pcap-filter expression to classic BPF and run it.
#[derive(Debug, Parser)]
#[command(name = "scry filter", disable_help_flag = false)]
struct Args {
    /// Print the program: -d as tcpdump -d, -dd as a C array, -ddd as decimal.
    #[arg(short = 'd', action = ArgAction::Count)]
    dump: u8,
    /// Do not optimize the program.
    #[arg(short = 'O')]
    no_optimize: bool,
    /// Link-layer type for -d (EN10MB, RAW, LINUX_SLL, LINUX_SLL2, NULL, LOOP, PPP).
    #[arg(short = 'y', value_name = "LINKTYPE")]
    linktype: Option<String>,
    /// Read packets from a pcap or pcapng file.
    #[arg(short = 'r', value_name = "FILE")]
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

fn opts(a: &Args, linktype: LinkType, savefile: bool) -> Options {
    Options {
        linktype,
        optimize: !a.no_optimize,
        savefile,
        ..Options::default()
    }
}

fn compile_or_report(expr: &str, o: &Options) -> Option<Vec<scry_cbpf::Insn>> {
    match compile(expr, o) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("scry filter: {e}");
            None
        }
    }
}

/// Entry point of `scry filter ARGS...` (the arguments after `filter`).
pub fn main(args: Vec<OsString>) -> Result<ExitCode> {
    let a = Args::try_parse_from(std::iter::once(OsString::from("scry filter")).chain(args))
        .unwrap_or_else(|e| e.exit());
    let expr = a.expr.join(" ");
    let linktype = match &a.linktype {
        Some(n) => Some(LinkType::from_name(n).with_context(|| format!("unknown link type {n}"))?),
        None => None,
    };
    let mut out = std::io::stdout().lock();
    use std::io::Write;
    if let Some(path) = &a.read {
        let cap = pcapio::read_file(path)?;
        let lt = LinkType::from_linktype(cap.linktype)
            .with_context(|| format!("link type {} is not supported by scry yet", cap.linktype))?;
        let Some(prog) = compile_or_report(&expr, &opts(&a, lt, true)) else {
            return Ok(ExitCode::from(1));
        };
        if a.dump > 0 {
            write!(out, "{}", dump(&prog, a.dump))?;
            return Ok(ExitCode::SUCCESS);
        }
        let mut writer = match &a.write {
            Some(w) => Some(Writer::create(w, cap.linktype)?),
            None => None,
        };
        let mut n = 0u64;
        for p in &cap.packets {
            if a.count.is_some_and(|c| n >= c) {
                break;
            }
            if interp::run(&prog, &p.data, p.wirelen) == 0 {
                continue;
            }
            n += 1;
            match &mut writer {
                Some(w) => w.write(p).map_err(anyhow::Error::msg)?,
                None => writeln!(out, "{}", summary::summarize(lt, p))?,
            }
        }
        if let Some(w) = writer {
            w.finish().map_err(anyhow::Error::msg)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(iface) = &a.interface {
        let lt = scry_cbpf::capture::interface_linktype(iface)?;
        let Some(prog) = compile_or_report(&expr, &opts(&a, lt, false)) else {
            return Ok(ExitCode::from(1));
        };
        if a.dump > 0 {
            write!(out, "{}", dump(&prog, a.dump))?;
            return Ok(ExitCode::SUCCESS);
        }
        let mut cap =
            LiveCapture::open(iface, &prog).with_context(|| format!("capturing on {iface}"))?;
        let mut writer = match &a.write {
            Some(w) => Some(Writer::create(w, lt.linktype())?),
            None => None,
        };
        let mut n = 0u64;
        while a.count.is_none_or(|c| n < c) {
            let p = cap.next_packet()?;
            n += 1;
            match &mut writer {
                Some(w) => w.write(&p).map_err(anyhow::Error::msg)?,
                None => {
                    writeln!(out, "{}", summary::summarize(lt, &p))?;
                    out.flush()?;
                }
            }
        }
        if let Some(w) = writer {
            w.finish().map_err(anyhow::Error::msg)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if a.dump == 0 {
        bail!("nothing to do: use -d, -r FILE or -i IFACE");
    }
    let lt = linktype.unwrap_or(LinkType::En10mb);
    let Some(prog) = compile_or_report(&expr, &opts(&a, lt, false)) else {
        return Ok(ExitCode::from(1));
    };
    write!(out, "{}", dump(&prog, a.dump))?;
    Ok(ExitCode::SUCCESS)
}

fn dump(prog: &[scry_cbpf::Insn], level: u8) -> String {
    match level {
        1 => insn::listing(prog),
        2 => insn::listing_c(prog),
        _ => insn::listing_decimal(prog),
    }
}
