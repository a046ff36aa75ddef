//! IEEE 802.11 (DLT_IEEE802_11) header tests: frame type/subtype and DS
//! direction bits, and address matches that depend on the frame type and the
//! To-DS/From-DS flags, in libpcap's evaluation order.

use super::Lower;
use crate::ast::Dir;
use crate::error::FilterError;
use crate::insn::Insn;
use crate::insn::op;
use crate::ir::Pred;
use crate::linktype::LinkType;

/// Scratch word holding the run-time link-header offset (radiotap length).
pub(crate) const LL_MEM: u32 = 15;

/// Offsets of the four address fields.
const ADDR: [u32; 4] = [4, 10, 16, 24];

/// How an address field is matched.
#[derive(Clone, Copy)]
enum Match<'a> {
    Mac(&'a [u8; 6]),
    /// The group bit of the address (multicast).
    Group,
}

fn fc_bit(byte: u32, bit: u32) -> Pred {
    Pred::cmp(byte, op::B, None, op::JSET, bit)
}

impl Lower {
    pub(super) fn is_wlan(&self) -> bool {
        matches!(self.link, LinkType::Ieee80211 | LinkType::Ieee80211Radio)
    }

    /// Whether the 802.11 header starts at a run-time offset (after radiotap).
    pub(super) fn ll_var(&self) -> bool {
        self.link == LinkType::Ieee80211Radio
    }

    /// Code run first, before every block: on radiotap, the little-endian
    /// header length at offset 2, kept in scratch word [`LL_MEM`].
    pub(crate) fn prologue(&self) -> Option<Vec<Insn>> {
        self.ll_var().then(|| {
            vec![
                Insn::stmt(op::LD | op::B | op::ABS, 3),
                Insn::stmt(op::ALU | op::LSH | op::K, 8),
                Insn::stmt(op::MISC | op::TAX, 0),
                Insn::stmt(op::LD | op::B | op::ABS, 2),
                Insn::stmt(op::ALU | op::OR | op::X, 0),
                Insn::stmt(op::ST, LL_MEM),
            ]
        })
    }

    /// Makes link-header loads relative to the run-time link-header offset.
    pub(super) fn ll(&self, p: Pred) -> Pred {
        if !self.ll_var() {
            return p;
        }
        match p {
            Pred::Test(mut t) => {
                let mut stmts = Vec::with_capacity(t.stmts.len() + 1);
                for i in t.stmts {
                    if i.class() == op::LD && i.code & 0xe0 == op::ABS {
                        stmts.push(Insn::stmt(op::LDX | op::MEM, LL_MEM));
                        stmts.push(Insn::stmt((i.code & !0xe0) | op::IND, i.k));
                    } else {
                        stmts.push(i);
                    }
                }
                t.stmts = stmts;
                Pred::Test(t)
            }
            Pred::And(a, b) => Pred::and(self.ll(*a), self.ll(*b)),
            Pred::Or(a, b) => Pred::or(self.ll(*a), self.ll(*b)),
            Pred::Not(a) => Pred::not(self.ll(*a)),
            p => p,
        }
    }

    pub(super) fn require_wlan(&self, col: usize) -> Result<(), FilterError> {
        if !self.is_wlan() {
            return Err(FilterError::at(
                col,
                "802.11 link-layer types supported only on 802.11",
            ));
        }
        Ok(())
    }

    fn addr(n: usize, m: Match<'_>) -> Pred {
        let off = ADDR[n - 1];
        match m {
            Match::Mac(mac) => {
                let w = u32::from_be_bytes([mac[2], mac[3], mac[4], mac[5]]);
                let h = u32::from(u16::from_be_bytes([mac[0], mac[1]]));
                Pred::and(Pred::eq(off + 2, op::W, w), Pred::eq(off, op::H, h))
            }
            Match::Group => fc_bit(off, 1),
        }
    }

    /// Source address: addr2, or for data frames with From-DS addr3/addr4.
    fn wlan_src(m: Match<'_>) -> Pred {
        let (data, fromds, tods) = (|| fc_bit(0, 8), || fc_bit(1, 2), || fc_bit(1, 1));
        Pred::and(
            Pred::not(fc_bit(0, 4)),
            Pred::or(
                Pred::and(Pred::not(data()), Self::addr(2, m)),
                Pred::and(
                    data(),
                    Pred::or(
                        Pred::and(Pred::not(fromds()), Self::addr(2, m)),
                        Pred::and(
                            fromds(),
                            Pred::or(
                                Pred::and(Pred::not(tods()), Self::addr(3, m)),
                                Pred::and(tods(), Self::addr(4, m)),
                            ),
                        ),
                    ),
                ),
            ),
        )
    }

    /// Destination address: addr1, or addr3 for data frames with To-DS.
    fn wlan_dst(m: Match<'_>) -> Pred {
        let (data, tods) = (|| fc_bit(0, 8), || fc_bit(1, 1));
        Pred::and(
            Pred::not(fc_bit(0, 4)),
            Pred::or(
                Pred::and(Pred::not(data()), Self::addr(1, m)),
                Pred::and(
                    data(),
                    Pred::or(
                        Pred::and(Pred::not(tods()), Self::addr(1, m)),
                        Pred::and(tods(), Self::addr(3, m)),
                    ),
                ),
            ),
        )
    }

    /// Control frames whose subtype has no addr2 (CTS, ACK).
    fn no_addr2() -> Pred {
        Pred::and(
            Pred::cmp(0, op::B, Some(0x0c), op::JEQ, 0x04),
            Pred::or(
                Pred::cmp(0, op::B, Some(0xf0), op::JEQ, 0xc0),
                Pred::cmp(0, op::B, Some(0xf0), op::JEQ, 0xd0),
            ),
        )
    }

    /// `wlan [src|dst|ra|ta|addrN] MAC` on an 802.11 link.
    pub(super) fn wlan_host(&self, mac: &[u8; 6], dir: Dir) -> Pred {
        let m = Match::Mac(mac);
        match dir {
            Dir::Src => Self::wlan_src(m),
            Dir::Dst => Self::wlan_dst(m),
            Dir::Or => Pred::or(Self::wlan_src(m), Self::wlan_dst(m)),
            Dir::And => Pred::and(Self::wlan_src(m), Self::wlan_dst(m)),
            Dir::Ra => Pred::and(fc_bit(0, 8), Self::addr(1, m)),
            Dir::Ta => Pred::and(
                fc_bit(0, 8),
                Pred::and(Pred::not(Self::no_addr2()), Self::addr(2, m)),
            ),
            Dir::Addr(1) => Self::addr(1, m),
            Dir::Addr(2) => Pred::and(Pred::not(Self::no_addr2()), Self::addr(2, m)),
            Dir::Addr(3) => Pred::and(
                Pred::not(Pred::cmp(0, op::B, Some(0x0c), op::JEQ, 0x04)),
                Self::addr(3, m),
            ),
            Dir::Addr(_) => Pred::and(Pred::cmp(1, op::B, Some(3), op::JEQ, 3), Self::addr(4, m)),
        }
    }

    /// `broadcast` / `multicast` on an 802.11 link: the destination address.
    pub(super) fn wlan_group(&self, broadcast: bool) -> Pred {
        if broadcast {
            Self::wlan_dst(Match::Mac(&[0xff; 6]))
        } else {
            Self::wlan_dst(Match::Group)
        }
    }
}
