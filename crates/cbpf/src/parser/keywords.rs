//! Keyword tables of the pcap-filter language: protocol qualifiers, named
//! constants, link-level protocol keywords, and the constructs scry does not
//! implement yet.

use crate::ast::Proto;

/// Keywords that name a protocol qualifier.
pub fn proto_keyword(s: &str) -> Option<Proto> {
    Some(match s {
        "ether" | "link" | "ppp" | "slip" | "fddi" | "tr" | "wlan" => Proto::Link,
        "ip" => Proto::Ip,
        "ip6" => Proto::Ip6,
        "arp" => Proto::Arp,
        "rarp" => Proto::Rarp,
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        "sctp" => Proto::Sctp,
        "icmp" => Proto::Icmp,
        "icmp6" => Proto::Icmp6,
        "igmp" => Proto::Igmp,
        "igrp" => Proto::Igrp,
        "pim" => Proto::Pim,
        "vrrp" => Proto::Vrrp,
        "carp" => Proto::Carp,
        "ah" => Proto::Ah,
        "esp" => Proto::Esp,
        _ => return None,
    })
}

/// Link-level protocol keywords (Ethernet types and 802.2 LLC/SNAP cases).
pub(crate) const LINK_KEYWORDS: &[&str] = &[
    "stp", "iso", "netbeui", "ipx", "atalk", "aarp", "decnet", "lat", "sca", "mopdl", "moprc",
    "llc", "clnp", "esis", "es-is", "isis", "is-is", "l1", "l2", "iih", "lsp", "snp", "csnp",
    "psnp",
];

/// `llc` frame kinds.
pub(crate) const LLC_KINDS: &[&str] = &[
    "i", "s", "u", "rr", "rnr", "rej", "ui", "ua", "disc", "sabme", "test", "xid", "frmr",
];

/// Keywords of the language that scry does not implement yet.
pub(crate) const UNSUPPORTED: &[&str] = &[
    "vxlan",
    "gateway",
    "vpi",
    "vci",
    "lane",
    "oam",
    "oamf4",
    "oamf4ec",
    "oamf4sc",
    "metac",
    "bcc",
    "sc",
    "ilmic",
    "connectmsg",
    "metaconnect",
    "fisu",
    "lssu",
    "lsu",
    "msu",
    "hfisu",
    "hlssu",
    "hmsu",
    "sio",
    "opc",
    "dpc",
    "sls",
    "hsio",
    "hopc",
    "hdpc",
    "hsls",
    "ifname",
    "on",
    "rnr",
    "rulenum",
    "srnr",
    "srulenum",
    "reason",
    "action",
    "rset",
    "ruleset",
    "byte",
];

/// Words that are always keywords (never a bare value).
pub(crate) fn is_keyword(s: &str) -> bool {
    proto_keyword(s).is_some()
        || UNSUPPORTED.contains(&s)
        || LINK_KEYWORDS.contains(&s)
        || LLC_KINDS.contains(&s)
        || matches!(
            s,
            "and"
                | "or"
                | "not"
                | "src"
                | "dst"
                | "host"
                | "net"
                | "port"
                | "portrange"
                | "proto"
                | "protochain"
                | "radio"
                | "type"
                | "subtype"
                | "dir"
                | "direction"
                | "ra"
                | "ta"
                | "addr1"
                | "addr2"
                | "addr3"
                | "addr4"
                | "address1"
                | "address2"
                | "address3"
                | "address4"
                | "mask"
                | "less"
                | "greater"
                | "len"
                | "length"
                | "broadcast"
                | "multicast"
                | "vlan"
                | "mpls"
                | "pppoes"
                | "geneve"
                | "pppoed"
                | "inbound"
                | "outbound"
                | "ifindex"
        )
}

/// Named constants usable in arithmetic.
pub fn named_constant(s: &str) -> Option<u32> {
    Some(match s {
        "icmptype" | "icmp6type" => 0,
        "icmpcode" | "icmp6code" => 1,
        "tcpflags" => 13,
        "tcp-fin" => 0x01,
        "tcp-syn" => 0x02,
        "tcp-rst" => 0x04,
        "tcp-push" => 0x08,
        "tcp-ack" => 0x10,
        "tcp-urg" => 0x20,
        "tcp-ece" => 0x40,
        "tcp-cwr" => 0x80,
        "icmp-echoreply" => 0,
        "icmp-unreach" => 3,
        "icmp-sourcequench" => 4,
        "icmp-redirect" => 5,
        "icmp-echo" => 8,
        "icmp-routeradvert" => 9,
        "icmp-routersolicit" => 10,
        "icmp-timxceed" => 11,
        "icmp-paramprob" => 12,
        "icmp-tstamp" => 13,
        "icmp-tstampreply" => 14,
        "icmp-ireq" => 15,
        "icmp-ireqreply" => 16,
        "icmp-maskreq" => 17,
        "icmp-maskreply" => 18,
        "icmp6-destinationunreach" => 1,
        "icmp6-packettoobig" => 2,
        "icmp6-timeexceeded" => 3,
        "icmp6-parameterproblem" => 4,
        "icmp6-echo" => 128,
        "icmp6-echoreply" => 129,
        "icmp6-multicastlistenerquery" => 130,
        "icmp6-multicastlistenerreportv1" => 131,
        "icmp6-multicastlistenerdone" => 132,
        "icmp6-routersolicit" => 133,
        "icmp6-routeradvert" => 134,
        "icmp6-neighborsolicit" => 135,
        "icmp6-neighboradvert" => 136,
        "icmp6-redirect" => 137,
        "icmp6-routerrenum" => 138,
        "icmp6-nodeinformationquery" => 139,
        "icmp6-nodeinformationresponse" => 140,
        "icmp6-ineighbordiscoverysolicit" => 141,
        "icmp6-ineighbordiscoveryadvert" => 142,
        "icmp6-multicastlistenerreportv2" => 143,
        "icmp6-homeagentdiscoveryrequest" => 144,
        "icmp6-homeagentdiscoveryreply" => 145,
        "icmp6-mobileprefixsolicit" => 146,
        "icmp6-mobileprefixadvert" => 147,
        "icmp6-certpathsolicit" => 148,
        "icmp6-certpathadvert" => 149,
        "icmp6-multicastrouteradvert" => 151,
        "icmp6-multicastroutersolicit" => 152,
        "icmp6-multicastrouterterm" => 153,
        _ => return None,
    })
}

/// 802.11 frame types (frame-control type bits).
pub(crate) fn wlan_type(s: &str) -> Option<u32> {
    Some(match s {
        "mgt" => 0x00,
        "ctl" => 0x04,
        "data" => 0x08,
        _ => return None,
    })
}

/// 802.11 subtypes: (type bits, subtype bits), searched in libpcap's order.
pub(crate) fn wlan_subtype(ty: Option<u32>, s: &str) -> Option<(u32, u32)> {
    const MGT: &[(&str, u32)] = &[
        ("assoc-req", 0x00),
        ("assoc-resp", 0x10),
        ("reassoc-req", 0x20),
        ("reassoc-resp", 0x30),
        ("probe-req", 0x40),
        ("probe-resp", 0x50),
        ("beacon", 0x80),
        ("atim", 0x90),
        ("disassoc", 0xa0),
        ("auth", 0xb0),
        ("deauth", 0xc0),
    ];
    const CTL: &[(&str, u32)] = &[
        ("ps-poll", 0xa0),
        ("rts", 0xb0),
        ("cts", 0xc0),
        ("ack", 0xd0),
        ("cf-end", 0xe0),
        ("cf-end-ack", 0xf0),
    ];
    const DATA: &[(&str, u32)] = &[
        ("data", 0x00),
        ("data-cf-ack", 0x10),
        ("data-cf-poll", 0x20),
        ("data-cf-ack-poll", 0x30),
        ("null", 0x40),
        ("cf-ack", 0x50),
        ("cf-poll", 0x60),
        ("cf-ack-poll", 0x70),
        ("qos-data", 0x80),
        ("qos-data-cf-ack", 0x90),
        ("qos-data-cf-poll", 0xa0),
        ("qos-data-cf-ack-poll", 0xb0),
        ("qos", 0xc0),
        ("qos-cf-poll", 0xe0),
        ("qos-cf-ack-poll", 0xf0),
    ];
    [(0x00, MGT), (0x04, CTL), (0x08, DATA)]
        .into_iter()
        .filter(|(t, _)| ty.is_none_or(|ty| ty == *t))
        .find_map(|(t, table)| table.iter().find(|(n, _)| *n == s).map(|(_, v)| (t, *v)))
}

/// 802.11 `dir` names.
pub(crate) fn wlan_dir(s: &str) -> Option<u32> {
    Some(match s {
        "nods" => 0,
        "tods" => 1,
        "fromds" => 2,
        "dstods" => 3,
        _ => return None,
    })
}
