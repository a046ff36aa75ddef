//! Differential tests against libpcap (through the installed `tcpdump`): for
//! every expression and link type, scry's verdict on every generated packet
//! must equal libpcap's, and scry's optimized program must not be longer than
//! libpcap's. Skipped when tcpdump is missing, except in CI (CI=true).

#[path = "support/packets.rs"]
mod packets;

use packets::{Rng, ethernet_frames, l3_packets, reframe, with_truncations};
use scry_cbpf::capture::KernelFilter;
use scry_cbpf::pcapio::{self, Packet};
use scry_cbpf::{LinkType, Options, compile, interp};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

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
    // Tests run in parallel: one directory per suite run.
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!(
        "scry-cbpf-diff-{}-{}-{n}",
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
        LinkType::Ieee80211 => packets::wlan_frames(&mut rng),
        LinkType::Ieee80211Radio => packets::radiotap_frames(&mut rng),
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
    kernel_checked: usize,
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
            // Strict optimization keeps every verdict, truncated packets included.
            let strict_opt = Options {
                strict: true,
                optimize: true,
                ..strict
            };
            if let Ok(sp) = compile(expr, &strict_opt) {
                for (i, p) in pkts.iter().enumerate() {
                    let v = interp::run(&sp, &p.data, p.wirelen) != 0;
                    assert_eq!(
                        v, lib_o[i],
                        "{lt} {expr:?}: strict verdict differs on packet {i} ({:02x?})",
                        p.data
                    );
                }
            }
            // The forward-only program passes the kernel's checker, and the
            // kernel agrees on whole packets.
            let kernel_opts = Options {
                linktype: lt,
                savefile: true,
                forward_only: true,
                ..Options::default()
            };
            let kp = compile(expr, &kernel_opts).unwrap_or_else(|e| panic!("{lt} {expr:?}: {e}"));
            interp::validate(&kp).unwrap_or_else(|e| panic!("{lt} {expr:?}: invalid program: {e}"));
            for (i, p) in pkts.iter().enumerate() {
                let v = interp::run(&kp, &p.data, p.wirelen) != 0;
                assert_eq!(
                    v,
                    interp::run(prog, &p.data, p.wirelen) != 0,
                    "{lt} {expr:?}: forward-only program differs on packet {i}"
                );
            }
            let mut k = KernelFilter::new(&kp)
                .unwrap_or_else(|e| panic!("{lt} {expr:?}: the kernel refuses the program: {e}"));
            for (i, p) in pkts.iter().enumerate() {
                if p.data.len() == p.wirelen as usize {
                    let v = k.run(&p.data).expect("kernel filter").is_some();
                    assert_eq!(
                        v, lib_o[i],
                        "{lt} {expr:?}: kernel verdict differs on packet {i}"
                    );
                    st.kernel_checked += 1;
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

/// The only expressions where scry may emit more instructions than libpcap,
/// because libpcap's program is wrong: libpcap 1.10.3 loses the protocol
/// checks of an accessor on the right of an arithmetic operator whose left
/// operand has none (`len - ip[2:2] = 14` does not test `ip`, so it reads
/// bytes 16-17 of ARP or IPv6 packets as an IPv4 total length); scry keeps
/// the `ip` test, which costs one instruction on RAW (10 > 9).
const LIBPCAP_DROPS_CHECKS: &[&str] = &["len - ip[2:2] = 14"];

const EN10MB_EXPRS: &[&str] = include!("exprs_en10mb.txt");
const COMMON_EXPRS: &[&str] = include!("exprs_common.txt");

/// Checks every expression of `exprs` on `lt`; fails if scry's program is
/// longer than libpcap's for any expression but [`LIBPCAP_DROPS_CHECKS`].
fn run_suite(lt: LinkType, exprs: &[&str]) -> Stats {
    run_suite_on(lt, exprs, corpus(lt))
}

/// [`run_suite`] over the given packets.
fn run_suite_on(lt: LinkType, exprs: &[&str], pkts: Vec<Packet>) -> Stats {
    let d = dir(lt);
    let file = d.join(format!("{}.pcap", lt.name()));
    pcapio::write_file(&file, lt.linktype(), &pkts).expect("write corpus");
    let mut st = Stats::default();
    for e in exprs {
        check(lt, &file, &pkts, e, &mut st);
    }
    let _ = std::fs::remove_dir_all(&d);
    eprintln!(
        "{lt}: {} expressions x {} packets; instruction counts vs libpcap: {} equal, {} fewer, {} more ({} listings byte-identical); \
         {} truncated-packet verdicts follow libpcap's optimizer, {} differ from both libpcap programs; \
         {} kernel verdicts checked",
        st.exprs,
        pkts.len(),
        st.equal,
        st.fewer,
        st.more.len(),
        st.identical,
        st.opt_truncated_diffs,
        st.truncated_own,
        st.kernel_checked
    );
    for m in &st.more {
        eprintln!("  longer than libpcap: {m}");
    }
    let unexpected: Vec<&String> = st
        .more
        .iter()
        .filter(|m| {
            !LIBPCAP_DROPS_CHECKS
                .iter()
                .any(|k| m.contains(&format!("{k:?}")))
        })
        .collect();
    assert!(unexpected.is_empty(), "longer than libpcap: {unexpected:?}");
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
    run_suite(LinkType::En10mb, &refs);
    for (i, lt) in [LinkType::Raw, LinkType::LinuxSll2, LinkType::Null]
        .into_iter()
        .enumerate()
    {
        let exprs = random_exprs(60, 0x51ed_2701 + i as u64);
        let refs: Vec<&str> = exprs.iter().map(String::as_str).collect();
        run_suite(lt, &refs);
    }
}

#[test]
fn cooked_captures_match_libpcap() {
    if !have_tcpdump() {
        eprintln!("tcpdump not installed: skipping");
        return;
    }
    let both = [
        "inbound",
        "outbound",
        "not inbound and tcp",
        "outbound or udp port 53",
        "inbound and host 10.0.0.1",
    ];
    run_suite(LinkType::LinuxSll, &both);
    let mut sll2 = both.to_vec();
    sll2.extend([
        "ifindex 1",
        "ifindex 2 and not outbound",
        "ifindex 3 or icmp",
    ]);
    run_suite(LinkType::LinuxSll2, &sll2);
}

#[test]
fn protochain_matches_libpcap() {
    if !have_tcpdump() {
        eprintln!("tcpdump not installed: skipping");
        return;
    }
    // `-d` programs loop like libpcap's (with the AH offset fixed); the
    // kernel gets the unrolled, forward-only form (checked in `check`).
    let exprs = [
        "ip6 protochain 6",
        "ip6 protochain 17",
        "ip6 protochain 58",
        "ip6 protochain 44",
        "ip protochain 17",
        "ip protochain 51",
        "protochain 6",
        "protochain \\udp and port 53",
        "not protochain 6 and ip6",
        "ip6 protochain 60 or ip6 protochain 43",
    ];
    for lt in [LinkType::En10mb, LinkType::Raw] {
        run_suite(lt, &exprs);
    }
}

#[test]
fn long_programs_use_trampolines_like_libpcap() {
    if !have_tcpdump() {
        eprintln!("tcpdump not installed: skipping");
        return;
    }
    // 300 alternatives: branches longer than 255 need `ja` trampolines.
    let hosts: Vec<String> = (0..300)
        .map(|i| format!("10.{}.{}.1", i / 250, i % 250))
        .collect();
    let many_hosts = format!("ip host {}", hosts.join(" or "));
    let ports: Vec<String> = (1..200).map(|p| p.to_string()).collect();
    let many_ports = format!("tcp port {} or udp port 53", ports.join(" or "));
    let st = run_suite(LinkType::En10mb, &[&many_hosts, &many_ports]);
    assert_eq!(st.exprs, 2);
}

#[test]
fn libpcap_optimizer_bugs_get_correct_verdicts() {
    if !have_tcpdump() {
        eprintln!("tcpdump not installed: skipping");
        return;
    }
    // Filters that libpcap 1.10.3's optimizer miscompiles: scry's optimized
    // program must give the verdicts of libpcap's unoptimized one.
    let exprs = [
        "link[0:1] & 0xffffffff != 0",
        "ether[6] & 0xffffffff = 0",
        "host 10.0.0.1 and not ((host 1.2.3.4 or host 5.6.7.8) and icmp) and not (host 5.6.7.8 or host 10.0.0.1)",
        "host 10.0.0.2 and not ((host 1.2.3.4 or host 5.6.7.8) and tcp) and not (host 5.6.7.8 or host 10.0.0.1)",
    ];
    let lt = LinkType::En10mb;
    let d = dir(lt);
    let file = d.join("bugs.pcap");
    let pkts = corpus(lt);
    pcapio::write_file(&file, lt.linktype(), &pkts).expect("write corpus");
    let mut differs_from_optimized_libpcap = 0;
    for e in exprs {
        let lib_o = libpcap_verdicts(&file, e, true).expect("tcpdump -O");
        let lib = libpcap_verdicts(&file, e, false);
        let prog = compile(
            e,
            &Options {
                savefile: true,
                ..Options::default()
            },
        )
        .expect("compiles");
        for (i, p) in pkts.iter().enumerate() {
            let v = interp::run(&prog, &p.data, p.wirelen) != 0;
            if p.data.len() == p.wirelen as usize {
                assert_eq!(v, lib_o[i], "{e:?}: packet {i}");
            }
            // (No optimized program: libpcap wrongly claims it rejects everything.)
            if lib.as_ref().map_or(lib_o[i], |l| l[i] != lib_o[i]) {
                differs_from_optimized_libpcap += 1;
            }
        }
    }
    let _ = std::fs::remove_dir_all(&d);
    eprintln!(
        "{differs_from_optimized_libpcap} verdicts where libpcap's optimized program is wrong"
    );
    assert!(
        differs_from_optimized_libpcap > 0,
        "the corpus no longer exposes libpcap's bugs"
    );
}

#[test]
fn ieee802_11_matches_libpcap() {
    if !have_tcpdump() {
        eprintln!("tcpdump not installed: skipping");
        return;
    }
    let exprs = [
        "type mgt",
        "type ctl",
        "type data",
        "type 8",
        "type mgt subtype beacon",
        "type data subtype qos-data",
        "subtype beacon",
        "subtype ack",
        "subtype qos",
        "subtype probe-req or subtype probe-resp",
        "type ctl and not subtype ack",
        "dir nods",
        "dir tods",
        "dir fromds",
        "dir dstods",
        "dir 3",
        "wlan addr1 00:11:22:33:44:55",
        "wlan addr2 00:11:22:33:44:55",
        "wlan addr3 01:02:03:04:05:06",
        "wlan addr4 00:11:22:33:44:55",
        "wlan ra ff:ff:ff:ff:ff:ff",
        "wlan ta 01:02:03:04:05:06",
        "wlan src 00:11:22:33:44:55",
        "wlan dst 01:02:03:04:05:06",
        "wlan host 00:11:22:33:44:55",
        "ether src 01:00:5e:00:00:01",
        "wlan src and dst 00:11:22:33:44:55",
        "broadcast",
        "multicast",
        "not broadcast and type data",
        "link[0] & 0xc = 8",
        "wlan[1] & 3 = 1 and wlan host 01:02:03:04:05:06",
        "len > 20 and type mgt",
    ];
    run_suite(LinkType::Ieee80211, &exprs);
    // libpcap 1.10.3 keeps the radiotap length in a scratch word that
    // arithmetic then reuses (`len > 20 and type mgt` reads byte 20): scry's
    // verdicts for that one are checked against the 802.11 ones below.
    let mut radio: Vec<&str> = exprs
        .iter()
        .copied()
        .filter(|e| !e.starts_with("len"))
        .collect();
    radio.extend([
        "radio[0] = 0",
        "radio[2:2] > 0x0c00",
        "radio[4] = 0x2e",
        "link[len - 4:4] != 0",
    ]);
    run_suite(LinkType::Ieee80211Radio, &radio);
    let radiotap = compile(
        "len > 20 and type mgt",
        &Options {
            linktype: LinkType::Ieee80211Radio,
            ..Options::default()
        },
    )
    .expect("compiles");
    let plain = compile(
        "type mgt",
        &Options {
            linktype: LinkType::Ieee80211,
            ..Options::default()
        },
    )
    .expect("compiles");
    let mut rng = Rng(7);
    for f in packets::radiotap_frames(&mut rng) {
        let hdr = usize::from(u16::from_le_bytes([f[2], f[3]]));
        let want = f.len() > 20 && interp::run(&plain, &f[hdr..], (f.len() - hdr) as u32) != 0;
        assert_eq!(
            interp::run(&radiotap, &f, f.len() as u32) != 0,
            want,
            "{f:02x?}"
        );
    }
}

#[test]
fn geneve_matches_libpcap() {
    if !have_tcpdump() {
        eprintln!("tcpdump not installed: skipping");
        return;
    }
    // Everything after `geneve` applies to the inner packet. Primitives
    // after it are only evaluated where `geneve` matched: libpcap reads
    // uninitialized scratch memory on the other paths (`geneve or ip`).
    let exprs = [
        "geneve",
        "geneve 10",
        "geneve 20",
        "geneve 11259375",
        "not geneve",
        "geneve and ip",
        "geneve and ip6",
        "geneve and arp",
        "geneve and not ip",
        "geneve and (ip or ip6)",
        "geneve 10 and tcp",
        "geneve and udp",
        "geneve and icmp",
        "geneve and tcp port 80",
        "geneve and udp port 53",
        "geneve and port 22",
        "geneve and portrange 1000-2000",
        "geneve 20 and src port 1500",
        "geneve and host 10.0.0.1",
        "geneve and src host 1.2.3.4",
        "geneve and net 10.0.0.0/8",
        "geneve and ip6 host ::1",
        "geneve and ip6 net 2001:db8::/32",
        "geneve and arp host 10.0.0.2",
        "geneve and ether host 00:11:22:33:44:55",
        "geneve and ether src 01:02:03:04:05:06",
        "geneve and ether dst 00:11:22:33:44:55",
        "geneve and ether broadcast",
        "geneve and ether multicast",
        "geneve and ether proto 0x806",
        "geneve and tcp[13] & 2 != 0",
        "geneve and tcp[tcpflags] & tcp-syn != 0",
        "geneve and ip[8] < 64",
        "geneve and icmp[icmptype] = icmp-echo",
        "geneve and ip proto 6",
        "geneve and vlan",
        "udp and geneve 10 and (tcp or icmp)",
        "ip6 and geneve and ip",
        "host 10.0.0.1 or geneve",
        "(tcp or icmp) and not geneve",
        "geneve and (tcp port 80 or udp port 53 or arp)",
        "geneve and not (host 10.0.0.1 or ether src 01:02:03:04:05:06)",
        // Neither program is optimized (header-chain walks).
        "ip6 protochain 17 and geneve and ip",
        "ip protochain 17 and geneve 10",
    ];
    let mut rng = Rng(0x6e6e_7665);
    let mut frames = packets::geneve_frames(&mut rng);
    frames.extend(ethernet_frames(&mut rng).into_iter().step_by(4));
    let pkts = with_truncations(frames, &mut rng);
    // The corpus exercises each inner case.
    for e in [
        "geneve and ip",
        "geneve and ip6",
        "geneve and arp",
        "geneve and tcp port 80",
        "geneve and ether host 00:11:22:33:44:55",
        "geneve 20 and not ether broadcast",
    ] {
        let prog = compile(e, &Options::default()).expect("compiles");
        let hits = pkts
            .iter()
            .filter(|p| interp::run(&prog, &p.data, p.wirelen) != 0)
            .count();
        assert!(hits > 0, "{e:?} matches no packet of the corpus");
    }
    let st = run_suite_on(LinkType::En10mb, &exprs, pkts);
    assert_eq!(st.exprs, exprs.len());
    // Over RAW IP too (the outer packet starts at offset 0).
    let mut rng = Rng(0x6e6e_7666);
    let raw: Vec<Vec<u8>> = packets::geneve_frames(&mut rng)
        .into_iter()
        .map(|f| f[14..].to_vec())
        .collect();
    let pkts = with_truncations(raw, &mut rng);
    let raw_exprs: Vec<&str> = exprs
        .iter()
        .copied()
        .filter(|e| !e.contains("vlan"))
        .collect();
    let st = run_suite_on(LinkType::Raw, &raw_exprs, pkts);
    assert_eq!(st.exprs, raw_exprs.len());
}
