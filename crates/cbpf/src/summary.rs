//! One-line packet summaries, in the spirit of tcpdump's default output:
//! `HH:MM:SS.uuuuuu PROTO src > dst: details, length N` (UTC).

use crate::linktype::LinkType;
use crate::pcapio::Packet;
use std::net::{Ipv4Addr, Ipv6Addr};

fn be16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(off)?, *b.get(off + 1)?]))
}

fn mac(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn tcp_flags(f: u8) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (0x02, 'S'),
        (0x01, 'F'),
        (0x04, 'R'),
        (0x08, 'P'),
        (0x20, 'U'),
        (0x40, 'E'),
        (0x80, 'W'),
    ] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    if f & 0x10 != 0 {
        s.push('.');
    }
    if s.is_empty() { "none".into() } else { s }
}

/// Describes a transport header after addresses `src`/`dst`.
fn transport(proto: u8, src: &str, dst: &str, t: &[u8], fragment: bool) -> String {
    if fragment {
        return format!("{src} > {dst}: ip-proto-{proto} fragment");
    }
    match (proto, be16(t, 0), be16(t, 2)) {
        (6, Some(sp), Some(dp)) => {
            let flags = t
                .get(13)
                .map(|f| tcp_flags(*f))
                .unwrap_or_else(|| "?".into());
            format!("{src}.{sp} > {dst}.{dp}: TCP [{flags}]")
        }
        (17, Some(sp), Some(dp)) => format!("{src}.{sp} > {dst}.{dp}: UDP"),
        (132, Some(sp), Some(dp)) => format!("{src}.{sp} > {dst}.{dp}: SCTP"),
        (1, _, _) | (58, _, _) => {
            let name = if proto == 1 { "ICMP" } else { "ICMP6" };
            match (t.first(), t.get(1)) {
                (Some(ty), Some(code)) => format!("{src} > {dst}: {name} type {ty} code {code}"),
                _ => format!("{src} > {dst}: {name} (truncated)"),
            }
        }
        _ => format!("{src} > {dst}: ip-proto-{proto}"),
    }
}

fn network(ethertype: u16, b: &[u8]) -> String {
    match ethertype {
        0x800 if b.len() >= 20 => {
            let hl = usize::from(b[0] & 0xf) * 4;
            let src = Ipv4Addr::new(b[12], b[13], b[14], b[15]).to_string();
            let dst = Ipv4Addr::new(b[16], b[17], b[18], b[19]).to_string();
            let frag = be16(b, 6).is_some_and(|f| f & 0x1fff != 0);
            format!(
                "IP {}",
                transport(b[9], &src, &dst, b.get(hl..).unwrap_or(&[]), frag)
            )
        }
        0x86dd if b.len() >= 40 => {
            let addr = |o: usize| {
                let mut a = [0u8; 16];
                a.copy_from_slice(&b[o..o + 16]);
                Ipv6Addr::from(a).to_string()
            };
            let (mut next, mut off) = (b[6], 40usize);
            // Skip hop-by-hop, routing, destination options and fragment headers.
            while matches!(next, 0 | 43 | 60 | 44) {
                let Some(&n) = b.get(off) else { break };
                let len = if next == 44 {
                    8
                } else {
                    (usize::from(*b.get(off + 1).unwrap_or(&0)) + 1) * 8
                };
                next = n;
                off += len;
            }
            format!(
                "IP6 {}",
                transport(
                    next,
                    &addr(8),
                    &addr(24),
                    b.get(off..).unwrap_or(&[]),
                    false
                )
            )
        }
        0x806 | 0x8035 if b.len() >= 28 => {
            let name = if ethertype == 0x806 { "ARP" } else { "RARP" };
            let spa = Ipv4Addr::new(b[14], b[15], b[16], b[17]);
            let tpa = Ipv4Addr::new(b[24], b[25], b[26], b[27]);
            match be16(b, 6) {
                Some(1) => format!("{name}, Request who-has {tpa} tell {spa}"),
                Some(2) => format!("{name}, Reply {spa} is-at {}", mac(&b[8..14])),
                op => format!("{name}, op {}", op.unwrap_or(0)),
            }
        }
        0x800 | 0x86dd | 0x806 | 0x8035 => "truncated network header".into(),
        t => format!("ethertype 0x{t:04x}"),
    }
}

fn link(lt: LinkType, b: &[u8]) -> String {
    match lt {
        LinkType::En10mb => {
            let Some(mut et) = be16(b, 12) else {
                return "truncated ethernet header".into();
            };
            let mut off = 14;
            let mut prefix = String::new();
            while matches!(et, 0x8100 | 0x88a8 | 0x9100) {
                let tci = be16(b, off).unwrap_or(0);
                prefix.push_str(&format!("vlan {}, ", tci & 0xfff));
                et = be16(b, off + 2).unwrap_or(0);
                off += 4;
            }
            if et <= 1500 {
                return format!("{prefix}802.3 length {et}");
            }
            format!("{prefix}{}", network(et, b.get(off..).unwrap_or(&[])))
        }
        LinkType::Raw => match b.first().map(|v| v >> 4) {
            Some(4) => network(0x800, b),
            Some(6) => network(0x86dd, b),
            _ => "raw packet, unknown IP version".into(),
        },
        LinkType::LinuxSll => network(be16(b, 14).unwrap_or(0), b.get(16..).unwrap_or(&[])),
        LinkType::LinuxSll2 => network(be16(b, 0).unwrap_or(0), b.get(20..).unwrap_or(&[])),
        LinkType::Ieee80211Radio => match be16(b, 2).map(u16::swap_bytes) {
            Some(n) if usize::from(n) <= b.len() => link(LinkType::Ieee80211, &b[usize::from(n)..]),
            _ => "truncated radiotap header".into(),
        },
        LinkType::Ieee80211 => match b.first() {
            Some(fc) => {
                let ty = ["mgt", "ctl", "data", "ext"][usize::from((fc >> 2) & 3)];
                let ta = b.get(10..16).map(mac).unwrap_or_else(|| "?".into());
                let ra = b.get(4..10).map(mac).unwrap_or_else(|| "?".into());
                format!("802.11 {ty} subtype {} {ta} > {ra}", fc >> 4)
            }
            None => "truncated 802.11 header".into(),
        },
        LinkType::Null | LinkType::Loop | LinkType::Ppp => {
            let rest = b.get(4..).unwrap_or(&[]);
            match rest.first().map(|v| v >> 4) {
                Some(4) => network(0x800, rest),
                Some(6) => network(0x86dd, rest),
                _ => "unknown network protocol".into(),
            }
        }
    }
}

/// Formats one packet: UTC time, protocol, addresses, ports, wire length.
pub fn summarize(lt: LinkType, p: &Packet) -> String {
    let secs = p.ts.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:06} {}, length {}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        p.ts.subsec_micros(),
        link(lt, &p.data),
        p.wirelen
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn summarizes_tcp_over_ethernet() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[
            0x08, 0x00, 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ]);
        f.extend_from_slice(&[
            0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x12, 0, 0, 0, 0, 0, 0,
        ]);
        let p = Packet {
            ts: Duration::from_micros(3_723_000_042),
            wirelen: 54,
            data: f,
        };
        assert_eq!(
            summarize(LinkType::En10mb, &p),
            "01:02:03.000042 IP 10.0.0.1.1234 > 10.0.0.2.80: TCP [S.], length 54"
        );
        let short = Packet {
            ts: Duration::ZERO,
            wirelen: 60,
            data: vec![1, 2],
        };
        assert_eq!(
            summarize(LinkType::En10mb, &short),
            "00:00:00.000000 truncated ethernet header, length 60"
        );
    }
}
