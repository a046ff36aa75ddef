//! The syntax tree of a pcap-filter expression (after qualifier inheritance).

use std::net::Ipv6Addr;

/// Protocol qualifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// `ether`, `link`, `ppp`, `slip`, `fddi`, `tr`, `wlan`.
    Link,
    Ip,
    Ip6,
    Arp,
    Rarp,
    Tcp,
    Udp,
    Sctp,
    Icmp,
    Icmp6,
    Igmp,
    Igrp,
    Pim,
    Vrrp,
    Carp,
    Ah,
    Esp,
}

impl Proto {
    /// The keyword as written in filters.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Link => "ether",
            Proto::Ip => "ip",
            Proto::Ip6 => "ip6",
            Proto::Arp => "arp",
            Proto::Rarp => "rarp",
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Sctp => "sctp",
            Proto::Icmp => "icmp",
            Proto::Icmp6 => "icmp6",
            Proto::Igmp => "igmp",
            Proto::Igrp => "igrp",
            Proto::Pim => "pim",
            Proto::Vrrp => "vrrp",
            Proto::Carp => "carp",
            Proto::Ah => "ah",
            Proto::Esp => "esp",
        }
    }
    /// The IP protocol number of transport-level qualifiers.
    pub fn ip_proto(self) -> Option<u32> {
        Some(match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Sctp => 132,
            Proto::Icmp => 1,
            Proto::Icmp6 => 58,
            Proto::Igmp => 2,
            Proto::Igrp => 9,
            Proto::Pim => 103,
            Proto::Vrrp | Proto::Carp => 112,
            Proto::Ah => 51,
            Proto::Esp => 50,
            _ => return None,
        })
    }
}

/// Direction qualifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Src,
    Dst,
    /// `src or dst` (the default).
    Or,
    /// `src and dst`.
    And,
    /// 802.11 receiver / transmitter address.
    Ra,
    Ta,
    /// 802.11 address fields 1-4.
    Addr(u8),
}

/// Type qualifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Host,
    Net,
    Port,
    Portrange,
    Gateway,
    Proto,
    Protochain,
}

/// The qualifiers of a primitive; `None` means "not given".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Qual {
    pub proto: Option<Proto>,
    pub dir: Option<Dir>,
    pub kind: Option<Kind>,
}

/// The value of a primitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Id {
    Num(u32),
    /// Dotted IPv4 with 2-4 parts.
    Ip4(Vec<u32>),
    Ip6(Ipv6Addr),
    Mac([u8; 6]),
    Name(String),
    /// `A/len` (IPv4).
    Net4Len(Vec<u32>, u32),
    /// `A mask M`.
    Net4Mask(Vec<u32>, Vec<u32>),
    /// `A/len` (IPv6).
    Net6(Ipv6Addr, u32),
}

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
    Xor,
    Lsh,
    Rsh,
}

/// Relational operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelOp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

/// An arithmetic expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arith {
    Num(u32),
    Len,
    /// `proto[idx:size]`.
    Load {
        proto: Proto,
        idx: Box<Arith>,
        size: u32,
        col: usize,
    },
    /// `radio[idx:size]`: the radiotap header.
    Radio {
        idx: Box<Arith>,
        size: u32,
        col: usize,
    },
    Bin(ArOp, Box<Arith>, Box<Arith>, usize),
    Neg(Box<Arith>),
}

/// Special primitives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Special {
    Less(u32),
    Greater(u32),
    Broadcast(Option<Proto>),
    Multicast(Option<Proto>),
    Vlan(Option<u32>),
    Mpls(Option<u32>),
    /// `geneve [vni]`.
    Geneve(Option<u32>),
    Pppoed,
    Pppoes(Option<u32>),
    Inbound,
    Outbound,
    Ifindex(u32),
    /// A link-level protocol keyword (`stp`, `ipx`, `llc u`, `isis`, …).
    Keyword(String),
    /// 802.11 frame control: `(fc & mask) == value` (`type`, `subtype`).
    WlanFc {
        mask: u32,
        value: u32,
    },
    /// 802.11 `dir N` (DS bits of the flags byte).
    WlanDir(u32),
}

/// A boolean filter expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// The empty filter (accepts everything).
    Empty,
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// `[proto] [dir] [type] id`.
    Prim {
        qual: Qual,
        id: Id,
        col: usize,
    },
    /// A protocol keyword alone (`tcp`, `ip6`).
    Abbrev {
        proto: Proto,
        col: usize,
    },
    Special {
        what: Special,
        col: usize,
    },
    Rel {
        lhs: Arith,
        op: RelOp,
        rhs: Arith,
        col: usize,
    },
}
