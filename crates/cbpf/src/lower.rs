//! Lowering of the syntax tree to predicates, following libpcap's code
//! generator: the same loads, checks and evaluation order per primitive, and
//! the left-to-right link-layer state that `vlan`/`pppoes`/`mpls` shift.

mod arith;
mod encap;
mod geneve;
mod llc;
mod names;
mod wlan;

pub(crate) use geneve::GENEVE_SLOTS;
pub(crate) use wlan::LL_MEM;

use crate::ast::{Dir, Expr, Id, Kind, Proto, Qual, Special};
use crate::error::FilterError;
use crate::insn::{Insn, op};
use crate::ir::{Pred, Src};
use crate::linktype::LinkType;

pub(crate) const ETH_IP: u32 = 0x800;
pub(crate) const ETH_IP6: u32 = 0x86dd;
pub(crate) const ETH_ARP: u32 = 0x806;
pub(crate) const ETH_RARP: u32 = 0x8035;

/// How the current link layer encodes the network protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeField {
    /// A 16-bit Ethernet type at the offset.
    Ether(u32),
    /// A 16-bit PPP protocol number at the offset.
    Ppp(u32),
    /// No field: the IP version nibble of the first byte.
    Raw,
    /// A 32-bit address family, host (little-endian) order.
    NullAf,
    /// A 32-bit address family, network order.
    LoopAf,
    /// After `mpls`: the IP version nibble, bottom-of-stack required.
    Mpls(u32),
    /// 802.11: the payload follows a variable-length header.
    Wlan,
}

/// The left-to-right lowering state.
pub(crate) struct Lower {
    link: LinkType,
    field: TypeField,
    /// Offset of the network-layer header.
    nl: u32,
    /// `mpls` labels seen.
    mpls_depth: u32,
    /// After `geneve`: offsets are symbolic, relative to scratch words.
    geneve: bool,
    /// Offset of the link header (symbolic after `geneve`).
    ll_base: u32,
    /// Compiling for a savefile: DLT_NULL/LOOP `ip6` then means the BSD
    /// AF_INET6 values (30, 24, 28), as libpcap does for `-r`.
    savefile: bool,
}

fn addr4(parts: &[u32]) -> (u32, u32) {
    let mut v = 0u32;
    for p in parts {
        v = (v << 8) | p;
    }
    let bits = 8 * parts.len() as u32;
    let shift = 32 - bits;
    let v = if shift == 32 { 0 } else { v << shift };
    let mask = if bits == 0 { 0 } else { u32::MAX << shift };
    (v, mask)
}

fn prefix_mask(len: u32) -> u32 {
    if len == 0 { 0 } else { u32::MAX << (32 - len) }
}

impl Lower {
    pub(crate) fn new(link: LinkType, savefile: bool) -> Self {
        let field = match link {
            LinkType::En10mb => TypeField::Ether(12),
            LinkType::LinuxSll => TypeField::Ether(14),
            LinkType::LinuxSll2 => TypeField::Ether(0),
            LinkType::Raw => TypeField::Raw,
            LinkType::Null => TypeField::NullAf,
            LinkType::Loop => TypeField::LoopAf,
            LinkType::Ppp => TypeField::Ppp(2),
            LinkType::Ieee80211 | LinkType::Ieee80211Radio => TypeField::Wlan,
        };
        Lower {
            link,
            field,
            nl: link.net_offset(),
            mpls_depth: 0,
            geneve: false,
            ll_base: 0,
            savefile,
        }
    }

    /// Lowers an expression, left to right.
    pub(crate) fn expr(&mut self, e: &Expr) -> Result<Pred, FilterError> {
        Ok(match e {
            Expr::Empty => Pred::Const(true),
            // Long `a or b or c ...` chains are left-deep: walk their spine
            // iteratively (left to right, as the encapsulation state requires).
            Expr::And(..) | Expr::Or(..) => {
                let mut spine = Vec::new();
                let mut cur = e;
                while let Expr::And(a, b) | Expr::Or(a, b) = cur {
                    spine.push((matches!(cur, Expr::And(..)), &**b));
                    cur = a;
                }
                let mut p = self.expr(cur)?;
                for (is_and, rhs) in spine.into_iter().rev() {
                    let r = self.expr(rhs)?;
                    p = if is_and {
                        Pred::and(p, r)
                    } else {
                        Pred::or(p, r)
                    };
                }
                p
            }
            Expr::Not(a) => Pred::not(self.expr(a)?),
            _ if self.geneve => {
                let col = match e {
                    Expr::Abbrev { col, .. }
                    | Expr::Prim { col, .. }
                    | Expr::Special { col, .. }
                    | Expr::Rel { col, .. } => *col,
                    _ => 0,
                };
                let p = self.leaf(e)?;
                self.rebase(p, col)?
            }
            _ => self.leaf(e)?,
        })
    }

    fn leaf(&mut self, e: &Expr) -> Result<Pred, FilterError> {
        Ok(match e {
            Expr::Abbrev { proto, col } => self.abbrev(*proto, *col)?,
            Expr::Prim { qual, id, col } => self.prim(*qual, id, *col)?,
            Expr::Special { what, col } => self.special(what, *col)?,
            Expr::Rel { lhs, op, rhs, col } => self.relation(lhs, *op, rhs, *col)?,
            Expr::Empty | Expr::And(..) | Expr::Or(..) | Expr::Not(..) => self.expr(e)?,
        })
    }

    /// The test "the network protocol is `et`" (an Ethernet type).
    pub(crate) fn linktype(&self, et: u32, col: usize) -> Result<Pred, FilterError> {
        Ok(match self.field {
            TypeField::Ether(off) => {
                if et <= 1500 {
                    return self.llc_sap("ether proto", et, col);
                }
                Pred::eq(off, op::H, et)
            }
            TypeField::Ppp(off) => match et {
                ETH_IP => Pred::eq(off, op::H, 0x21),
                ETH_IP6 => Pred::eq(off, op::H, 0x57),
                // Like libpcap, other protocols compare the Ethernet type itself.
                _ => Pred::eq(off, op::H, et),
            },
            TypeField::Raw => match et {
                ETH_IP => Pred::cmp(0, op::B, Some(0xf0), op::JEQ, 0x40),
                ETH_IP6 => Pred::cmp(0, op::B, Some(0xf0), op::JEQ, 0x60),
                _ => Pred::Const(false),
            },
            TypeField::NullAf | TypeField::LoopAf => {
                let order = |af: u32| {
                    if self.field == TypeField::NullAf {
                        af.swap_bytes()
                    } else {
                        af
                    }
                };
                match et {
                    ETH_IP => Pred::eq(0, op::W, order(2)),
                    ETH_IP6 if self.savefile => {
                        Pred::any([30, 24, 28].map(|af| Pred::eq(0, op::W, order(af))))
                    }
                    ETH_IP6 => Pred::eq(0, op::W, order(10)),
                    _ => Pred::Const(false),
                }
            }
            TypeField::Wlan => {
                return Err(FilterError::at(
                    col,
                    format!(
                        "network-layer tests on link type {} are not supported by scry yet",
                        self.link
                    ),
                ));
            }
            TypeField::Mpls(prev) => match et {
                ETH_IP | ETH_IP6 => {
                    let v = if et == ETH_IP { 0x40 } else { 0x60 };
                    Pred::and(
                        Pred::cmp(prev + 2, op::B, None, op::JSET, 1),
                        Pred::cmp(self.nl, op::B, Some(0xf0), op::JEQ, v),
                    )
                }
                _ => return Err(FilterError::at(col, "unsupported protocol over mpls")),
            },
        })
    }

    fn require_ether(&self, col: usize) -> Result<(), FilterError> {
        if matches!(self.field, TypeField::Ppp(_)) {
            return Err(FilterError::at(
                col,
                "not a broadcast link (PPP after 'pppoes')",
            ));
        }
        // (After `geneve`, the inner frame is Ethernet on every link type.)
        if self.link != LinkType::En10mb && !self.geneve {
            return Err(FilterError::at(
                col,
                format!(
                    "ethernet addresses are not available on link type {}",
                    self.link
                ),
            ));
        }
        Ok(())
    }

    /// `ip6 proto N`: the next header, or the one after a fragment header.
    fn ip6_proto(&self, p: u32, col: usize) -> Result<Pred, FilterError> {
        let nl = self.nl;
        Ok(Pred::and(
            self.linktype(ETH_IP6, col)?,
            Pred::or(
                Pred::eq(nl + 6, op::B, p),
                Pred::and(Pred::eq(nl + 6, op::B, 44), Pred::eq(nl + 40, op::B, p)),
            ),
        ))
    }

    fn ip_proto(&self, p: u32, col: usize) -> Result<Pred, FilterError> {
        Ok(Pred::and(
            self.linktype(ETH_IP, col)?,
            Pred::eq(self.nl + 9, op::B, p),
        ))
    }

    fn abbrev(&self, proto: Proto, col: usize) -> Result<Pred, FilterError> {
        Ok(match proto {
            Proto::Link => {
                return Err(FilterError::at(
                    col,
                    "'ether' needs 'host', 'src', 'dst', 'proto' or '[...]'",
                ));
            }
            Proto::Ip => self.linktype(ETH_IP, col)?,
            Proto::Ip6 => self.linktype(ETH_IP6, col)?,
            Proto::Arp => self.linktype(ETH_ARP, col)?,
            Proto::Rarp => self.linktype(ETH_RARP, col)?,
            Proto::Icmp | Proto::Igmp | Proto::Igrp | Proto::Vrrp | Proto::Carp => {
                self.ip_proto(proto.ip_proto().unwrap_or(0), col)?
            }
            Proto::Icmp6 => self.ip6_proto(58, col)?,
            Proto::Tcp | Proto::Udp | Proto::Sctp | Proto::Pim | Proto::Ah | Proto::Esp => {
                let p = proto.ip_proto().unwrap_or(0);
                Pred::or(self.ip_proto(p, col)?, self.ip6_proto(p, col)?)
            }
        })
    }

    fn prim(&mut self, qual: Qual, id: &Id, col: usize) -> Result<Pred, FilterError> {
        let dir = qual.dir.unwrap_or(Dir::Or);
        let wlan_dir = matches!(dir, Dir::Ra | Dir::Ta | Dir::Addr(_));
        if self.is_wlan()
            && matches!(qual.proto, None | Some(Proto::Link))
            && let (Id::Mac(mac), None | Some(Kind::Host)) = (id, qual.kind)
        {
            return Ok(self.ll(self.wlan_host(mac, dir)));
        }
        if wlan_dir {
            return Err(FilterError::at(
                col,
                "802.11 address qualifiers need an 802.11 link and an ethernet address",
            ));
        }
        match qual.kind {
            Some(Kind::Port) => return self.port(qual.proto, dir, id, col, false),
            Some(Kind::Portrange) => return self.port(qual.proto, dir, id, col, true),
            Some(Kind::Proto) => return self.proto_prim(qual.proto, id, col),
            Some(Kind::Protochain) => return self.protochain(qual.proto, id, col),
            Some(Kind::Gateway) => return Err(FilterError::unsupported(col, "gateway")),
            _ => {}
        }
        let is_net = qual.kind == Some(Kind::Net);
        if qual.proto == Some(Proto::Link) {
            let mac = match id {
                Id::Mac(m) => *m,
                Id::Name(n) if !is_net => names::ether_host(n, col)?,
                _ => {
                    return Err(FilterError::at(
                        col,
                        "'ether' host/src/dst needs an ethernet address",
                    ));
                }
            };
            let mac = &mac;
            if is_net {
                return Err(FilterError::at(col, "'ether' modifier applied to net"));
            }
            self.require_ether(col)?;
            return Ok(self.ether_host(mac, dir));
        }
        if let Some(p) = qual.proto
            && !matches!(p, Proto::Ip | Proto::Ip6 | Proto::Arp | Proto::Rarp)
        {
            let what = if is_net { "net" } else { "host" };
            return Err(FilterError::at(
                col,
                format!("'{}' modifier applied to {what}", p.name()),
            ));
        }
        let (addr, mask) = match id {
            Id::Mac(m) => {
                if qual.proto.is_some() || is_net {
                    return Err(FilterError::at(
                        col,
                        "an ethernet address needs the 'ether' qualifier",
                    ));
                }
                self.require_ether(col)?;
                return Ok(self.ether_host(m, dir));
            }
            Id::Ip6(a) => return self.host6(qual.proto, dir, a.octets(), 128, col),
            Id::Net6(a, len) => {
                if !is_net {
                    return Err(FilterError::at(col, "mask syntax for networks only"));
                }
                if *len > 128 {
                    return Err(FilterError::at(
                        col,
                        format!("mask length must be <= 128, not {len}"),
                    ));
                }
                return self.host6(qual.proto, dir, a.octets(), *len, col);
            }
            Id::Num(n) => {
                let (mut v, mut m) = (*n, u32::MAX);
                if is_net {
                    while v != 0 && v & 0xff00_0000 == 0 {
                        v <<= 8;
                        m <<= 8;
                    }
                }
                (v, m)
            }
            Id::Ip4(parts) => addr4(parts),
            Id::Net4Len(parts, len) => {
                if !is_net {
                    return Err(FilterError::at(col, "mask syntax for networks only"));
                }
                if *len > 32 {
                    return Err(FilterError::at(
                        col,
                        format!("mask length must be <= 32, not {len}"),
                    ));
                }
                let (v, _) = addr4(parts);
                (v, prefix_mask(*len))
            }
            Id::Net4Mask(parts, m) => {
                if !is_net {
                    return Err(FilterError::at(col, "mask syntax for networks only"));
                }
                let (v, _) = addr4(parts);
                let (m, _) = addr4(m);
                (v, m)
            }
            Id::Name(n) => {
                if is_net {
                    return Err(FilterError::unsupported(col, "net NAME"));
                }
                return self.host_name(qual.proto, dir, n, col);
            }
        };
        if addr & !mask != 0 {
            return Err(FilterError::at(
                col,
                "non-network bits set in network address",
            ));
        }
        self.host4(qual.proto, dir, addr, mask, col)
    }

    /// `host NAME`: every address /etc/hosts gives for the name, IPv4 first.
    fn host_name(
        &self,
        proto: Option<Proto>,
        dir: Dir,
        name: &str,
        col: usize,
    ) -> Result<Pred, FilterError> {
        let addrs = names::resolve_host(name, col)?;
        let want4 = proto != Some(Proto::Ip6);
        let want6 = matches!(proto, None | Some(Proto::Ip6));
        let mut p = Pred::Const(false);
        let mut any = false;
        for a in &addrs {
            match a {
                std::net::IpAddr::V4(v4) if want4 => {
                    p = Pred::or(p, self.host4(proto, dir, u32::from(*v4), u32::MAX, col)?);
                    any = true;
                }
                std::net::IpAddr::V6(v6) if want6 => {
                    p = Pred::or(p, self.host6(proto, dir, v6.octets(), 128, col)?);
                    any = true;
                }
                _ => {}
            }
        }
        if !any {
            return Err(FilterError::at(
                col,
                format!("unknown host '{name}' for specified address family"),
            ));
        }
        Ok(p)
    }

    fn dir_pred(&self, dir: Dir, src: Pred, dst: impl FnOnce() -> Pred) -> Pred {
        match dir {
            Dir::Src => src,
            Dir::Dst => dst(),
            Dir::Or => Pred::or(src, dst()),
            Dir::And => Pred::and(src, dst()),
            // Rejected by `check_dir` before any caller gets here.
            Dir::Ra | Dir::Ta | Dir::Addr(_) => Pred::Const(false),
        }
    }

    fn ether_host(&self, mac: &[u8; 6], dir: Dir) -> Pred {
        let at = |off: u32| {
            let w = u32::from_be_bytes([mac[2], mac[3], mac[4], mac[5]]);
            let h = u32::from(u16::from_be_bytes([mac[0], mac[1]]));
            Pred::and(Pred::eq(off + 2, op::W, w), Pred::eq(off, op::H, h))
        };
        let b = self.ll_base;
        self.dir_pred(dir, at(b + 6), || at(b))
    }

    fn host4(
        &self,
        proto: Option<Proto>,
        dir: Dir,
        addr: u32,
        mask: u32,
        col: usize,
    ) -> Result<Pred, FilterError> {
        let one = |et: u32, src_off: u32, dst_off: u32| -> Result<Pred, FilterError> {
            let cmp = |off: u32| -> Result<Pred, FilterError> {
                let m = if mask == u32::MAX { None } else { Some(mask) };
                Ok(Pred::and(
                    self.linktype(et, col)?,
                    Pred::cmp(self.nl + off, op::W, m, op::JEQ, addr),
                ))
            };
            let s = cmp(src_off)?;
            let d = cmp(dst_off)?;
            Ok(self.dir_pred(dir, s, || d))
        };
        Ok(match proto {
            Some(Proto::Ip) => one(ETH_IP, 12, 16)?,
            Some(Proto::Arp) => one(ETH_ARP, 14, 24)?,
            Some(Proto::Rarp) => one(ETH_RARP, 14, 24)?,
            Some(Proto::Ip6) => {
                return Err(FilterError::at(col, "'ip6' modifier applied to ip host"));
            }
            // Inside MPLS, libpcap tests only IPv4 (no ARP/RARP there).
            _ if self.mpls_depth > 0 => one(ETH_IP, 12, 16)?,
            _ => Pred::any([
                one(ETH_IP, 12, 16)?,
                one(ETH_ARP, 14, 24)?,
                one(ETH_RARP, 14, 24)?,
            ]),
        })
    }

    fn host6(
        &self,
        proto: Option<Proto>,
        dir: Dir,
        a: [u8; 16],
        len: u32,
        col: usize,
    ) -> Result<Pred, FilterError> {
        if let Some(p) = proto
            && p != Proto::Ip6
        {
            return Err(FilterError::at(
                col,
                format!("'{}' modifier applied to ip6 host", p.name()),
            ));
        }
        let mut words = [0u32; 4];
        let mut masks = [0u32; 4];
        for i in 0..4 {
            words[i] = u32::from_be_bytes([a[4 * i], a[4 * i + 1], a[4 * i + 2], a[4 * i + 3]]);
            let bits = len.saturating_sub(32 * i as u32).min(32);
            masks[i] = prefix_mask(bits);
            if words[i] & !masks[i] != 0 {
                return Err(FilterError::at(
                    col,
                    "non-network bits set in network address",
                ));
            }
        }
        let at = |off: u32| -> Result<Pred, FilterError> {
            let mut p = self.linktype(ETH_IP6, col)?;
            for i in 0..4 {
                let m = if masks[i] == u32::MAX {
                    None
                } else {
                    Some(masks[i])
                };
                p = Pred::and(
                    p,
                    Pred::cmp(self.nl + off + 4 * i as u32, op::W, m, op::JEQ, words[i]),
                );
            }
            Ok(p)
        };
        let s = at(8)?;
        let d = at(24)?;
        Ok(self.dir_pred(dir, s, || d))
    }

    fn port(
        &self,
        proto: Option<Proto>,
        dir: Dir,
        id: &Id,
        col: usize,
        range: bool,
    ) -> Result<Pred, FilterError> {
        let (lo, hi, name_proto) = if range {
            names::port_range(id, col)?
        } else {
            let (p, np) = names::port(id, col)?;
            (p, p, np)
        };
        let protos: Vec<u32> = match proto.or(name_proto) {
            None => vec![132, 6, 17],
            Some(p @ (Proto::Tcp | Proto::Udp | Proto::Sctp)) => vec![p.ip_proto().unwrap_or(0)],
            Some(p) => {
                let what = if range { "portrange" } else { "port" };
                return Err(FilterError::at(
                    col,
                    format!("illegal qualifier '{}' of '{what}'", p.name()),
                ));
            }
        };
        let atom = |stmts_for: &dyn Fn(u32) -> Vec<Insn>, off: u32| -> Pred {
            if lo == hi {
                Pred::test(stmts_for(off), op::JEQ, Src::K(lo))
            } else {
                Pred::and(
                    Pred::test(stmts_for(off), op::JGE, Src::K(lo)),
                    Pred::not(Pred::test(stmts_for(off), op::JGT, Src::K(hi))),
                )
            }
        };
        let nl = self.nl;
        let ld6 = move |off: u32| vec![Insn::stmt(op::LD | op::H | op::ABS, nl + 40 + off)];
        let ld4 = move |off: u32| {
            vec![
                Insn::stmt(op::LDX | op::MSH | op::B, nl),
                Insn::stmt(op::LD | op::H | op::IND, nl + off),
            ]
        };
        let v6 = Pred::any(protos.iter().map(|&p| {
            Pred::and(
                Pred::eq(nl + 6, op::B, p),
                self.dir_pred(dir, atom(&ld6, 0), || atom(&ld6, 2)),
            )
        }));
        let v4 = Pred::any(protos.iter().map(|&p| {
            Pred::all([
                Pred::eq(nl + 9, op::B, p),
                self.not_frag(),
                self.dir_pred(dir, atom(&ld4, 0), || atom(&ld4, 2)),
            ])
        }));
        Ok(Pred::or(
            Pred::and(self.linktype(ETH_IP6, col)?, v6),
            Pred::and(self.linktype(ETH_IP, col)?, v4),
        ))
    }

    /// `[ip|ip6] protochain N`.
    fn protochain(&self, proto: Option<Proto>, id: &Id, col: usize) -> Result<Pred, FilterError> {
        let p = names::ip_proto(id, col)?;
        let v4 = || -> Result<Pred, FilterError> {
            Ok(Pred::and(
                self.linktype(ETH_IP, col)?,
                Pred::Protochain {
                    v6: false,
                    nl: self.nl,
                    proto: p,
                },
            ))
        };
        let v6 = || -> Result<Pred, FilterError> {
            Ok(Pred::and(
                self.linktype(ETH_IP6, col)?,
                Pred::Protochain {
                    v6: true,
                    nl: self.nl,
                    proto: p,
                },
            ))
        };
        match proto {
            None => Ok(Pred::or(v4()?, v6()?)),
            Some(Proto::Ip) => v4(),
            Some(Proto::Ip6) => v6(),
            Some(other) => Err(FilterError::at(
                col,
                format!("bad protocol applied for 'protochain': '{}'", other.name()),
            )),
        }
    }

    /// Not a non-first IPv4 fragment.
    pub(crate) fn not_frag(&self) -> Pred {
        Pred::not(Pred::cmp(self.nl + 6, op::H, None, op::JSET, 0x1fff))
    }

    fn proto_prim(&self, proto: Option<Proto>, id: &Id, col: usize) -> Result<Pred, FilterError> {
        match proto {
            Some(Proto::Link) => {
                let et = names::ethertype(id, col)?;
                if self.link != LinkType::En10mb
                    && !self.geneve
                    && !matches!(self.link, LinkType::LinuxSll | LinkType::LinuxSll2)
                    && !matches!(et, ETH_IP | ETH_IP6)
                {
                    return Ok(Pred::Const(false));
                }
                self.linktype(et, col)
            }
            Some(Proto::Ip) => self.ip_proto(names::ip_proto(id, col)?, col),
            Some(Proto::Ip6) => self.ip6_proto(names::ip_proto(id, col)?, col),
            None => {
                let p = names::ip_proto(id, col)?;
                Ok(Pred::or(self.ip_proto(p, col)?, self.ip6_proto(p, col)?))
            }
            Some(p) => Err(FilterError::at(
                col,
                format!("'{}' proto is not supported by scry yet", p.name()),
            )),
        }
    }

    fn special(&mut self, what: &Special, col: usize) -> Result<Pred, FilterError> {
        let nl = self.nl;
        Ok(match what {
            Special::Less(n) => Pred::not(Pred::test(
                vec![Insn::stmt(op::LD | op::W | op::LEN, 0)],
                op::JGT,
                Src::K(*n),
            )),
            Special::Greater(n) => Pred::test(
                vec![Insn::stmt(op::LD | op::W | op::LEN, 0)],
                op::JGE,
                Src::K(*n),
            ),
            Special::Broadcast(None | Some(Proto::Link)) if self.is_wlan() => {
                self.ll(self.wlan_group(true))
            }
            Special::Multicast(None | Some(Proto::Link)) if self.is_wlan() => {
                self.ll(self.wlan_group(false))
            }
            Special::Broadcast(None | Some(Proto::Link)) => {
                self.require_ether(col)?;
                self.ether_host(&[0xff; 6], Dir::Dst)
            }
            Special::Multicast(None | Some(Proto::Link)) => {
                self.require_ether(col)?;
                Pred::cmp(self.ll_base, op::B, None, op::JSET, 1)
            }
            Special::Broadcast(Some(Proto::Ip)) => Pred::and(
                self.linktype(ETH_IP, col)?,
                Pred::or(
                    Pred::eq(nl + 16, op::W, 0),
                    Pred::eq(nl + 16, op::W, u32::MAX),
                ),
            ),
            Special::Multicast(Some(Proto::Ip)) => Pred::and(
                self.linktype(ETH_IP, col)?,
                Pred::cmp(nl + 16, op::B, None, op::JGE, 224),
            ),
            Special::Multicast(Some(Proto::Ip6)) => {
                Pred::and(self.linktype(ETH_IP6, col)?, Pred::eq(nl + 24, op::B, 255))
            }
            Special::Broadcast(Some(p)) | Special::Multicast(Some(p)) => {
                return Err(FilterError::at(
                    col,
                    format!(
                        "only link-layer/IP broadcast/multicast supported, not '{}'",
                        p.name()
                    ),
                ));
            }
            Special::Vlan(id) => self.vlan(*id, col)?,
            Special::Mpls(label) => self.mpls(*label, col)?,
            Special::Geneve(vni) => self.geneve(*vni, col)?,
            Special::Pppoed => self.linktype(0x8863, col)?,
            Special::Keyword(name) => self.keyword(name, col)?,
            Special::WlanFc { mask, value } => {
                self.require_wlan(col)?;
                self.ll(Pred::cmp(0, op::B, Some(*mask), op::JEQ, *value))
            }
            Special::WlanDir(n) => {
                self.require_wlan(col)?;
                self.ll(if *n == 0 {
                    Pred::not(Pred::cmp(1, op::B, None, op::JSET, 3))
                } else {
                    Pred::cmp(1, op::B, Some(3), op::JEQ, *n)
                })
            }
            Special::Pppoes(sid) => self.pppoes(*sid, col)?,
            Special::Inbound | Special::Outbound => {
                let outgoing = match self.link {
                    LinkType::LinuxSll => Pred::eq(0, op::H, 4),
                    LinkType::LinuxSll2 => Pred::eq(10, op::B, 4),
                    _ => Pred::eq(0xffff_f004, op::H, 4),
                };
                if matches!(what, Special::Outbound) {
                    outgoing
                } else {
                    Pred::not(outgoing)
                }
            }
            Special::Ifindex(n) => match self.link {
                LinkType::LinuxSll2 => Pred::eq(4, op::W, *n),
                LinkType::LinuxSll => {
                    return Err(FilterError::at(
                        col,
                        "ifindex not supported on Linux cooked v1",
                    ));
                }
                _ => Pred::eq(0xffff_f008, op::W, *n),
            },
        })
    }
}
