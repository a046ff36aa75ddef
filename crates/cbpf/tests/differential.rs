//! Differential tests against libpcap (through the installed `tcpdump`): for
//! every expression and link type, scry's verdict on every generated packet
//! must equal libpcap's, and scry's optimized program must not be longer than
//! libpcap's. Skipped when tcpdump is missing, except in CI (CI=true).

#[path = "support/packets.rs"]
mod packets;

use packets::{Rng, ethernet_frames, l3_packets, reframe, with_truncations};
use scry_cbpf::pcapio::{self, Packet};
use scry_cbpf::{LinkType, Options, compile, interp};
use std::path::{Path, PathBuf};
use std::process::Command;

fn have_tcpdump() -> bool {
    let ok = Command::new("tcpdump")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("tcpdump is required in CI for the differential tests");
    }
    ok
}

/// Accepted packet indices according to `tcpdump -r` (`-O`: unoptimized).
fn libpcap_verdicts(file: &Path, expr: &str, unoptimized: bool) -> Option<Vec<bool>> {
    let mut cmd = Command::new("tcpdump");
    if unoptimized {
        cmd.arg("-O");
    }
    let out = cmd
        .arg("-r")
        .arg(file)
        .arg("-w")
        .arg("-")
        .arg("--")
        .arg(expr)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let cap = pcapio::read_bytes(&out.stdout).ok()?;
    let all = pcapio::read_file(file).ok()?;
    let mut v = vec![false; all.packets.len()];
    for p in cap.packets {
        let idx = (p.ts.as_micros() as usize).checked_sub(1_000_000)?;
        *v.get_mut(idx)? = true;
    }
    Some(v)
}

/// Instruction count of `tcpdump -d`.
/// The `tcpdump -d -y LT` listing.
fn libpcap_listing(lt: LinkType, expr: &str) -> Option<String> {
    let out = Command::new("tcpdump")
        .args(["-d", "-y", lt.name(), "--", expr])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn dir(lt: LinkType) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "scry-cbpf-diff-{}-{}",
        std::process::id(),
        lt.name()
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn corpus(lt: LinkType) -> Vec<Packet> {
    let mut rng = Rng(0x5eed_1234_abcd_0001 ^ u64::from(lt.linktype()));
    let frames = match lt {
        LinkType::En10mb => ethernet_frames(&mut rng),
        _ => l3_packets(&mut rng)
            .iter()
            .filter_map(|l3| reframe(lt.linktype(), l3))
            .collect(),
    };
    with_truncations(frames, &mut rng)
}

#[derive(Default)]
struct Stats {
    exprs: usize,
    packets: usize,
    equal: usize,
    fewer: usize,
    more: Vec<String>,
    opt_truncated_diffs: usize,
    reject_all_kept: usize,
    reject_all_proved: usize,
    both_reject: usize,
    truncated_own: usize,
    identical: usize,
}

fn check(lt: LinkType, file: &Path, pkts: &[Packet], expr: &str, st: &mut Stats) {
    let strict = Options {
        linktype: lt,
        optimize: false,
        savefile: true,
        ..Options::default()
    };
    let Some(lib_o) = libpcap_verdicts(file, expr, true) else {
        // libpcap's code generator rejects it: so must scry.
        assert!(
            compile(expr, &strict).is_err(),
            "{lt} {expr:?}: libpcap -O fails where scry compiles"
        );
        st.both_reject += 1;
        return;
    };
    let prog_o = compile(expr, &strict).unwrap_or_else(|e| panic!("{lt} {expr:?}: {e}"));
    interp::validate(&prog_o).unwrap_or_else(|e| panic!("{lt} {expr:?}: invalid program: {e}"));
    let lib = libpcap_verdicts(file, expr, false);
    let opt = compile(
        expr,
        &Options {
            linktype: lt,
            savefile: true,
            ..Options::default()
        },
    );
    st.exprs += 1;
    st.packets += pkts.len();
    for (i, p) in pkts.iter().enumerate() {
        let v = interp::run(&prog_o, &p.data, p.wirelen) != 0;
        assert_eq!(
            v, lib_o[i],
            "{lt} {expr:?}: unoptimized verdict differs on packet {i} ({:02x?})",
            p.data
        );
    }
    match (&opt, &lib) {
        (Ok(prog), Some(lib)) => {
            interp::validate(prog)
                .unwrap_or_else(|e| panic!("{lt} {expr:?}: invalid program: {e}"));
            // Strict optimization keeps every verdict, truncated packets included.
            let strict_opt = Options {
                strict: true,
                optimize: true,
                ..strict
            };
            if let Ok(sp) = compile(expr, &strict_opt) {
                interp::validate(&sp)
                    .unwrap_or_else(|e| panic!("{lt} {expr:?}: invalid program: {e}"));
                for (i, p) in pkts.iter().enumerate() {
                    let v = interp::run(&sp, &p.data, p.wirelen) != 0;
                    assert_eq!(
                        v, lib_o[i],
                        "{lt} {expr:?}: strict verdict differs on packet {i} ({:02x?})",
                        p.data
                    );
                }
            }
            // The default optimizer, like libpcap's, may drop loads a short
            // packet fails; whole packets must keep their verdicts.
            for (i, p) in pkts.iter().enumerate() {
                let v = interp::run(prog, &p.data, p.wirelen) != 0;
                if v == lib_o[i] {
                    continue;
                }
                let truncated = p.data.len() < p.wirelen as usize;
                assert!(
                    truncated,
                    "{lt} {expr:?}: optimized verdict {v} differs from libpcap on whole packet {i} ({:02x?})",
                    p.data
                );
                if v == lib[i] {
                    st.opt_truncated_diffs += 1;
                } else {
                    st.truncated_own += 1;
                }
            }
            // Counts compare `-d -y LT` listings (dead handle, not savefile).
            let listing = compile(
                expr,
                &Options {
                    linktype: lt,
                    ..Options::default()
                },
            );
            let len = listing.as_ref().map(|p| p.len()).unwrap_or(usize::MAX);
            let lib_text = libpcap_listing(lt, expr).unwrap_or_default();
            let n = lib_text.lines().filter(|l| l.starts_with('(')).count();
            if listing.is_ok_and(|p| scry_cbpf::insn::listing(&p) == lib_text) {
                st.identical += 1;
            }
            match len.cmp(&n) {
                std::cmp::Ordering::Equal => st.equal += 1,
                std::cmp::Ordering::Less => st.fewer += 1,
                std::cmp::Ordering::Greater => st.more.push(format!("{lt} {expr:?}: {len} > {n}")),
            }
        }
        (Err(e), None) => assert!(
            e.to_string().contains("rejects all packets"),
            "{lt} {expr:?}: {e}"
        ),
        (Err(e), Some(lib)) => {
            // scry proved the filter empty where libpcap's optimizer did not.
            assert!(
                e.to_string().contains("rejects all packets") && !lib.iter().any(|v| *v),
                "{lt} {expr:?}: scry fails ({e}) where libpcap compiles"
            );
            st.reject_all_proved += 1;
        }
        (Ok(prog), None) => {
            // libpcap's optimizer proved the filter empty; scry's program must
            // then accept nothing either.
            let any = pkts
                .iter()
                .any(|p| interp::run(prog, &p.data, p.wirelen) != 0);
            assert!(!any, "{lt} {expr:?}: libpcap fails where scry compiles");
            st.reject_all_kept += 1;
        }
    }
}

const EN10MB_EXPRS: &[&str] = include!("exprs_en10mb.txt");
const COMMON_EXPRS: &[&str] = include!("exprs_common.txt");

fn run_suite(lt: LinkType, exprs: &[&str]) -> Stats {
    run_suite_with(lt, exprs, false)
}

fn run_suite_with(lt: LinkType, exprs: &[&str], counts_informative: bool) -> Stats {
    let d = dir(lt);
    let file = d.join(format!("{}.pcap", lt.name()));
    let pkts = corpus(lt);
    pcapio::write_file(&file, lt.linktype(), &pkts).expect("write corpus");
    let mut st = Stats::default();
    for e in exprs {
        check(lt, &file, &pkts, e, &mut st);
    }
    let _ = std::fs::remove_dir_all(&d);
    eprintln!(
        "{lt}: {} expressions x {} packets; instruction counts vs libpcap: {} equal, {} fewer, {} more ({} listings byte-identical); \
         {} truncated-packet verdicts follow libpcap's optimizer, {} differ from both libpcap programs",
        st.exprs,
        pkts.len(),
        st.equal,
        st.fewer,
        st.more.len(),
        st.identical,
        st.opt_truncated_diffs,
        st.truncated_own
    );
    for m in &st.more {
        eprintln!("  longer than libpcap: {m}");
    }
    if !counts_informative {
        assert!(st.more.is_empty(), "longer than libpcap: {:?}", st.more);
    }
    st
}

#[test]
fn ethernet_matches_libpcap() {
    if !have_tcpdump() {
        eprintln!("tcpdump not installed: skipping");
        return;
    }
    let mut all: Vec<&str> = EN10MB_EXPRS.to_vec();
    all.extend_from_slice(COMMON_EXPRS);
    run_suite(LinkType::En10mb, &all);
}

#[test]
fn other_link_types_match_libpcap() {
    if !have_tcpdump() {
        eprintln!("tcpdump not installed: skipping");
        return;
    }
    for lt in [
        LinkType::Raw,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::Null,
        LinkType::Loop,
        LinkType::Ppp,
    ] {
        run_suite(lt, COMMON_EXPRS);
    }
}

/// Random combinations of primitives with and/or/not and parentheses.
fn random_exprs(n: usize, seed: u64) -> Vec<String> {
    const ATOMS: &[&str] = &[
        "tcp",
        "udp",
        "icmp",
        "ip",
        "ip6",
        "arp",
        "port 80",
        "port 53",
        "tcp port 22",
        "udp port 53",
        "host 10.0.0.1",
        "src host 10.0.0.2",
        "dst net 192.168",
        "net 10.0.0.0/8",
        "vlan",
        "vlan 100",
        "ip[8] < 64",
        "tcp[tcpflags] & tcp-syn != 0",
        "tcp[13] & 0x10 = 0x10",
        "less 70",
        "greater 80",
        "ether multicast",
        "ether broadcast",
        "icmp[icmptype] = icmp-echo",
        "portrange 1000-2000",
        "ip6 host ::1",
        "ip6 net 2001:db8::/32",
        "ip proto 132",
        "ip[6:2] & 0x1fff != 0",
        "len > 100",
        "ether src 00:11:22:33:44:55",
        "src port 1500",
        "dst port 443",
        "sctp",
        "icmp6",
        "mpls",
        "pppoes",
        "udp[8:2] = 0x6865",
        "ip[2:2] > 50",
        "host 1.2.3.4 or 5.6.7.8",
    ];
    let mut rng = Rng(seed);
    fn build(rng: &mut Rng, depth: u32) -> String {
        let r = rng.next_u64() % 10;
        if depth == 0 || r < 3 {
            let a = rng.pick(ATOMS).to_string();
            return if rng.next_u64().is_multiple_of(5) {
                format!("not {a}")
            } else {
                a
            };
        }
        let l = build(rng, depth - 1);
        let rr = build(rng, depth - 1);
        let op = if r < 6 { "and" } else { "or" };
        match rng.next_u64() % 3 {
            0 => format!("({l}) {op} ({rr})"),
            1 => format!("not ({l} {op} {rr})"),
            _ => format!("{l} {op} {rr}"),
        }
    }
    (0..n).map(|_| build(&mut rng, 3)).collect()
}

#[test]
fn random_expressions_match_libpcap() {
    if !have_tcpdump() {
        eprintln!("tcpdump not installed: skipping");
        return;
    }
    let exprs = random_exprs(150, 0x9e37_79b9_7f4a_7c15);
    let refs: Vec<&str> = exprs.iter().map(String::as_str).collect();
    run_suite_with(LinkType::En10mb, &refs, true);
}
