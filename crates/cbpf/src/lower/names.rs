//! Built-in name tables (ports, IP protocols, Ethernet types), so that
//! compilation never depends on the machine's /etc files.

use crate::ast::{Id, Proto};
use crate::error::FilterError;
use std::net::IpAddr;

/// Well-known services (as in Debian's /etc/services): name, port, and the
/// only protocol it is defined for, which then restricts `port NAME`.
const SERVICES: &[(&str, u32, Option<Proto>)] = &[
    ("ftp-data", 20, Some(Proto::Tcp)),
    ("ftp", 21, Some(Proto::Tcp)),
    ("ssh", 22, Some(Proto::Tcp)),
    ("telnet", 23, Some(Proto::Tcp)),
    ("smtp", 25, Some(Proto::Tcp)),
    ("domain", 53, None),
    ("bootps", 67, Some(Proto::Udp)),
    ("bootpc", 68, Some(Proto::Udp)),
    ("tftp", 69, Some(Proto::Udp)),
    ("http", 80, Some(Proto::Tcp)),
    ("www", 80, Some(Proto::Tcp)),
    ("pop3", 110, Some(Proto::Tcp)),
    ("ntp", 123, Some(Proto::Udp)),
    ("imap", 143, Some(Proto::Tcp)),
    ("imap2", 143, Some(Proto::Tcp)),
    ("snmp", 161, None),
    ("bgp", 179, Some(Proto::Tcp)),
    ("ldap", 389, None),
    ("https", 443, None),
    ("syslog", 514, Some(Proto::Udp)),
    ("submission", 587, Some(Proto::Tcp)),
    ("imaps", 993, Some(Proto::Tcp)),
    ("pop3s", 995, Some(Proto::Tcp)),
    ("mysql", 3306, Some(Proto::Tcp)),
];

fn service(name: &str, col: usize) -> Result<(u32, Option<Proto>), FilterError> {
    SERVICES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, p, pr)| (*p, *pr))
        .ok_or_else(|| FilterError::at(col, format!("unknown port name '{name}'")))
}

fn check_port(p: u32, col: usize) -> Result<u32, FilterError> {
    if p > 65535 {
        return Err(FilterError::at(
            col,
            format!("illegal port number {p} > 65535"),
        ));
    }
    Ok(p)
}

/// A `port` value: number or service name.
pub(super) fn port(id: &Id, col: usize) -> Result<(u32, Option<Proto>), FilterError> {
    match id {
        Id::Num(n) => Ok((check_port(*n, col)?, None)),
        Id::Name(n) => service(n, col),
        _ => Err(FilterError::at(col, "expected a port number or name")),
    }
}

/// A `portrange` value `A-B` (swapped when A > B).
pub(super) fn port_range(id: &Id, col: usize) -> Result<(u32, u32, Option<Proto>), FilterError> {
    let Id::Name(s) = id else {
        if let Id::Num(n) = id {
            let p = check_port(*n, col)?;
            return Ok((p, p, None));
        }
        return Err(FilterError::at(col, "expected a port range like 1000-2000"));
    };
    let Some((a, b)) = s.split_once('-') else {
        let (p, pr) = service(s, col)?;
        return Ok((p, p, pr));
    };
    let one = |t: &str| -> Result<(u32, Option<Proto>), FilterError> {
        match t.parse::<u32>() {
            Ok(n) => Ok((check_port(n, col)?, None)),
            Err(_) => service(t, col),
        }
    };
    let (lo, p1) = one(a)?;
    let (hi, p2) = one(b)?;
    let (lo, hi) = if lo > hi { (hi, lo) } else { (lo, hi) };
    Ok((lo, hi, p1.or(p2)))
}

/// An IP protocol number or name (`ip proto \tcp`).
pub(super) fn ip_proto(id: &Id, col: usize) -> Result<u32, FilterError> {
    match id {
        Id::Num(n) => Ok(*n),
        Id::Name(n) => {
            let v = match n.as_str() {
                "icmp" => 1,
                "igmp" => 2,
                "ipip" | "ipencap" => 4,
                "tcp" => 6,
                "egp" => 8,
                "igrp" => 9,
                "udp" => 17,
                "ipv6" => 41,
                "rsvp" => 46,
                "gre" => 47,
                "esp" => 50,
                "ah" => 51,
                "icmp6" | "ipv6-icmp" => 58,
                "ospf" => 89,
                "pim" => 103,
                "vrrp" | "carp" => 112,
                "sctp" => 132,
                _ => return Err(FilterError::at(col, format!("unknown ip proto '{n}'"))),
            };
            Ok(v)
        }
        _ => Err(FilterError::at(col, "expected a protocol number or name")),
    }
}

/// An Ethernet type number or name (`ether proto \ip`).
pub(super) fn ethertype(id: &Id, col: usize) -> Result<u32, FilterError> {
    match id {
        Id::Num(n) => {
            if *n > 0xffff {
                return Err(FilterError::at(
                    col,
                    format!("ether proto {n} greater than maximum 65535"),
                ));
            }
            Ok(*n)
        }
        Id::Name(n) => Ok(match n.as_str() {
            "ip" => super::ETH_IP,
            "ip6" => super::ETH_IP6,
            "arp" => super::ETH_ARP,
            "rarp" => super::ETH_RARP,
            "pppoed" => 0x8863,
            "pppoes" => 0x8864,
            "mpls" => 0x8847,
            _ => {
                return Err(FilterError::at(
                    col,
                    format!("ether proto '{n}' is not supported by scry yet"),
                ));
            }
        }),
        _ => Err(FilterError::at(
            col,
            "expected an ethernet type number or name",
        )),
    }
}

/// Addresses of `name` in a hosts file's text, IPv4 ones first.
pub(crate) fn hosts_lookup(text: &str, name: &str) -> Vec<IpAddr> {
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let Some(Ok(addr)) = fields.next().map(str::parse::<IpAddr>) else {
            continue;
        };
        if fields.any(|f| f.eq_ignore_ascii_case(name)) {
            let list = if addr.is_ipv4() { &mut v4 } else { &mut v6 };
            if !list.contains(&addr) {
                list.push(addr);
            }
        }
    }
    v4.extend(v6);
    v4
}

/// Resolves a host name through /etc/hosts (never DNS, so that compiling a
/// filter never touches the network).
pub(super) fn resolve_host(name: &str, col: usize) -> Result<Vec<IpAddr>, FilterError> {
    let text = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let addrs = hosts_lookup(&text, name);
    if addrs.is_empty() {
        return Err(FilterError::at(
            col,
            format!("unknown host '{name}' (scry resolves names through /etc/hosts only)"),
        ));
    }
    Ok(addrs)
}

/// The Ethernet address of `name` in an ethers file's text.
pub(crate) fn ethers_lookup(text: &str, name: &str) -> Option<[u8; 6]> {
    text.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let mac = fields.next()?;
        if !fields.any(|f| f.eq_ignore_ascii_case(name)) {
            return None;
        }
        let parts: Vec<u8> = mac
            .split(':')
            .filter_map(|p| u8::from_str_radix(p, 16).ok())
            .collect();
        parts.try_into().ok()
    })
}

/// Resolves an Ethernet host name through /etc/ethers.
pub(super) fn ether_host(name: &str, col: usize) -> Result<[u8; 6], FilterError> {
    let text = std::fs::read_to_string("/etc/ethers").unwrap_or_default();
    ethers_lookup(&text, name)
        .ok_or_else(|| FilterError::at(col, format!("unknown ether host '{name}'")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_hosts_and_ethers() {
        let hosts = "127.0.0.1 localhost\n::1 localhost ip6-localhost # loopback\n10.0.0.9 gw\n";
        let a = hosts_lookup(hosts, "localhost");
        assert_eq!(
            a,
            vec![
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        assert!(hosts_lookup(hosts, "loopback").is_empty());
        let ethers = "00:11:22:33:44:55 gw\n";
        assert_eq!(
            ethers_lookup(ethers, "gw"),
            Some([0, 0x11, 0x22, 0x33, 0x44, 0x55])
        );
        assert_eq!(ethers_lookup(ethers, "other"), None);
        assert_eq!(
            port_range(&Id::Name("2000-1000".into()), 1).unwrap(),
            (1000, 2000, None)
        );
        assert!(port(&Id::Num(70000), 1).is_err());
    }
}
