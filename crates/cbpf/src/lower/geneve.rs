//! `geneve [vni]`: Geneve over UDP port 6081 (IPv4 or IPv6), after which
//! every primitive applies to the encapsulated packet, as in libpcap.
//!
//! The Geneve header has a variable length, so the inner offsets are only
//! known at run time. Like libpcap, the matching path stores them in scratch
//! words: [`GENEVE_LL`] (inner frame), [`GENEVE_TYPE`] (inner Ethernet type,
//! or Geneve's own protocol field when the payload is not Ethernet) and
//! [`GENEVE_NL`] (inner network header). Primitives after `geneve` are
//! lowered against symbolic bases ([`LINK_BASE`], [`NL_BASE`],
//! [`TYPE_BASE`]) that [`Lower::rebase`] turns into loads relative to those
//! words. Each word is written at most once on any path, so tests reading it
//! stay comparable for the optimizer; paths that skipped the stores read the
//! zeros the program prologue puts there.

use super::{ETH_IP, ETH_IP6, Lower, TypeField};
use crate::error::FilterError;
use crate::insn::{Insn, op};
use crate::ir::{Pred, Src};

/// Scratch word: offset of the inner (Ethernet) frame.
pub(crate) const GENEVE_LL: u32 = 12;
/// Scratch word: offset of the inner network-protocol type field.
pub(crate) const GENEVE_TYPE: u32 = 13;
/// Scratch word: offset of the inner network header.
pub(crate) const GENEVE_NL: u32 = 14;
/// The scratch words `geneve` writes.
pub(crate) const GENEVE_SLOTS: [u32; 3] = [GENEVE_LL, GENEVE_TYPE, GENEVE_NL];

/// Symbolic base of inner link-header offsets.
pub(crate) const LINK_BASE: u32 = 0x1000_0000;
/// Symbolic base of inner network-header offsets.
pub(crate) const NL_BASE: u32 = 0x2000_0000;
/// Symbolic base of inner type-field offsets.
pub(crate) const TYPE_BASE: u32 = 0x3000_0000;
const SPAN: u32 = 0x1000_0000;

const GENEVE_PORT: u32 = 6081;
const ARITH_AFTER: &str =
    "arithmetic or computed offsets on packet data after 'geneve' are not supported by scry yet";
/// Ethernet type of an Ethernet payload (transparent Ethernet bridging).
const TEB: u32 = 0x6558;

fn st(k: u32) -> Insn {
    Insn::stmt(op::ST, k)
}

/// The scratch word and relative offset of a symbolic offset, if it is one.
fn symbolic(k: u32) -> Option<(u32, u32)> {
    match k {
        _ if (LINK_BASE..LINK_BASE + SPAN).contains(&k) => Some((GENEVE_LL, k - LINK_BASE)),
        _ if (NL_BASE..NL_BASE + SPAN).contains(&k) => Some((GENEVE_NL, k - NL_BASE)),
        _ if (TYPE_BASE..TYPE_BASE + SPAN).contains(&k) => Some((GENEVE_TYPE, k - TYPE_BASE)),
        _ => None,
    }
}

impl Lower {
    pub(super) fn geneve(&mut self, vni: Option<u32>, col: usize) -> Result<Pred, FilterError> {
        if self.geneve {
            return Err(FilterError::at(
                col,
                "'geneve' inside geneve is not supported by scry yet",
            ));
        }
        if matches!(self.field, TypeField::Wlan) {
            return Err(FilterError::at(
                col,
                format!(
                    "'geneve' on link type {} is not supported by scry yet",
                    self.link
                ),
            ));
        }
        if let Some(v) = vni
            && v > 0xff_ffff
        {
            return Err(FilterError::at(
                col,
                format!("Geneve VNI {v} greater than maximum 16777215"),
            ));
        }
        let nl = self.nl;
        let msh = || Insn::stmt(op::LDX | op::MSH | op::B, nl);
        // IPv4: the UDP header follows the variable-length IP header.
        let ind = |size: u16, off: u32| vec![msh(), Insn::stmt(op::LD | size | op::IND, nl + off)];
        let mut v4 = vec![
            self.linktype(ETH_IP, col)?,
            Pred::eq(nl + 9, op::B, 17),
            self.not_frag(),
            Pred::test(ind(op::H, 2), op::JEQ, Src::K(GENEVE_PORT)),
            Pred::not(Pred::test(ind(op::B, 8), op::JSET, Src::K(0xc0))),
        ];
        let mut v6 = vec![
            self.linktype(ETH_IP6, col)?,
            Pred::eq(nl + 6, op::B, 17),
            Pred::eq(nl + 42, op::H, GENEVE_PORT),
            Pred::not(Pred::cmp(nl + 48, op::B, None, op::JSET, 0xc0)),
        ];
        if let Some(v) = vni {
            let mut s = ind(op::W, 12);
            s.push(Insn::stmt(op::ALU | op::AND | op::K, 0xffff_ff00));
            v4.push(Pred::test(s, op::JEQ, Src::K(v << 8)));
            v6.push(Pred::cmp(
                nl + 52,
                op::W,
                Some(0xffff_ff00),
                op::JEQ,
                v << 8,
            ));
        }
        // Offsets: inner frame = Geneve header + 8 + 4 * option length; the
        // protocol field (at Geneve + 2) says whether it is an Ethernet frame.
        let s4 = vec![
            msh(),
            Insn::stmt(op::LD | op::B | op::IND, nl + 8),
            Insn::stmt(op::ALU | op::AND | op::K, 0x3f),
            Insn::stmt(op::ALU | op::LSH | op::K, 2),
            Insn::stmt(op::ALU | op::ADD | op::X, 0),
            Insn::stmt(op::ALU | op::ADD | op::K, nl + 16),
            st(GENEVE_LL),
            st(GENEVE_NL),
            Insn::stmt(op::MISC | op::TXA, 0),
            Insn::stmt(op::ALU | op::ADD | op::K, nl + 10),
            st(GENEVE_TYPE),
            Insn::stmt(op::LD | op::H | op::IND, nl + 10),
        ];
        let s6 = vec![
            Insn::stmt(op::LD | op::B | op::ABS, nl + 48),
            Insn::stmt(op::ALU | op::AND | op::K, 0x3f),
            Insn::stmt(op::ALU | op::LSH | op::K, 2),
            Insn::stmt(op::ALU | op::ADD | op::K, nl + 56),
            st(GENEVE_LL),
            st(GENEVE_NL),
            Insn::stmt(op::LD | op::IMM, nl + 50),
            st(GENEVE_TYPE),
            Insn::stmt(op::LD | op::H | op::ABS, nl + 50),
        ];
        // An Ethernet payload: its type field and network header. The test
        // (A >= 0) always holds, and both its branches go on (so the IPv4
        // and IPv6 copies are identical); blocks that store are never skipped.
        let eth = || {
            let t = Pred::test(
                vec![
                    Insn::stmt(op::LD | op::MEM, GENEVE_LL),
                    Insn::stmt(op::ALU | op::ADD | op::K, 12),
                    st(GENEVE_TYPE),
                    Insn::stmt(op::ALU | op::ADD | op::K, 2),
                    st(GENEVE_NL),
                ],
                op::JGE,
                Src::K(0),
            );
            Pred::Or(Box::new(t), Box::new(Pred::Const(true)))
        };
        let offsets =
            |stmts: Vec<Insn>| Pred::or(Pred::not(Pred::test(stmts, op::JEQ, Src::K(TEB))), eth());
        v4.push(offsets(s4));
        v6.push(offsets(s6));
        self.geneve = true;
        self.field = TypeField::Ether(TYPE_BASE);
        self.nl = NL_BASE;
        self.ll_base = LINK_BASE;
        Ok(Pred::or(Pred::all(v4), Pred::all(v6)))
    }

    /// Turns the symbolic offsets of a primitive lowered after `geneve` into
    /// loads relative to the scratch words; link-header loads also require
    /// an inner Ethernet frame.
    pub(super) fn rebase(&self, p: Pred, col: usize) -> Result<Pred, FilterError> {
        Ok(match p {
            Pred::Test(mut t) => {
                // X-relative code of its own would be clobbered by the base.
                let uses_x = t.src == Src::X
                    || t.stmts.iter().any(|i| {
                        (i.class() == op::ALU && i.code & op::X != 0)
                            || (i.class() == op::MISC)
                            || (i.class() == op::LDX && i.code & 0xe0 != op::MSH)
                    });
                let symbolic_loads = t.stmts.iter().any(|i| {
                    matches!(i.class(), op::LD | op::LDX)
                        && matches!(i.code & 0xe0, op::ABS | op::IND | op::MSH)
                        && symbolic(i.k).is_some()
                });
                if uses_x && symbolic_loads {
                    return Err(FilterError::at(col, ARITH_AFTER));
                }
                let mut stmts = Vec::with_capacity(t.stmts.len() + 4);
                let mut link = false;
                // Whether X holds a rebased header length.
                let mut x_rebased = false;
                for i in t.stmts {
                    let mode = i.code & 0xe0;
                    match (i.class(), mode, symbolic(i.k)) {
                        (op::LD, op::ABS, Some((slot, rel))) => {
                            link |= slot == GENEVE_LL;
                            stmts.push(Insn::stmt(op::LDX | op::MEM, slot));
                            stmts.push(Insn::stmt((i.code & !0xe0) | op::IND, rel));
                            x_rebased = false;
                        }
                        (op::LDX, op::MSH, Some((slot, rel))) => {
                            stmts.extend([
                                Insn::stmt(op::LDX | op::MEM, slot),
                                Insn::stmt(op::LD | op::B | op::IND, rel),
                                Insn::stmt(op::ALU | op::AND | op::K, 0xf),
                                Insn::stmt(op::ALU | op::LSH | op::K, 2),
                                Insn::stmt(op::ALU | op::ADD | op::X, 0),
                                Insn::stmt(op::MISC | op::TAX, 0),
                            ]);
                            x_rebased = true;
                        }
                        (op::LD, op::IND, Some((slot, rel))) if x_rebased => {
                            link |= slot == GENEVE_LL;
                            stmts.push(Insn::stmt(i.code, rel));
                        }
                        (op::LD, op::IND, Some(_)) => {
                            return Err(FilterError::at(col, ARITH_AFTER));
                        }
                        (op::LDX | op::MISC, ..) => {
                            x_rebased = false;
                            stmts.push(i);
                        }
                        _ => stmts.push(i),
                    }
                }
                t.stmts = stmts;
                let test = Pred::Test(t);
                if link {
                    let same = Pred::test(
                        vec![
                            Insn::stmt(op::LD | op::MEM, GENEVE_LL),
                            Insn::stmt(op::LDX | op::MEM, GENEVE_NL),
                        ],
                        op::JEQ,
                        Src::X,
                    );
                    Pred::and(Pred::not(same), test)
                } else {
                    test
                }
            }
            Pred::And(a, b) => Pred::and(self.rebase(*a, col)?, self.rebase(*b, col)?),
            Pred::Or(a, b) => Pred::or(self.rebase(*a, col)?, self.rebase(*b, col)?),
            Pred::Not(a) => Pred::not(self.rebase(*a, col)?),
            Pred::Protochain { .. } => {
                return Err(FilterError::at(
                    col,
                    "'protochain' after 'geneve' is not supported by scry yet",
                ));
            }
            p @ Pred::Const(_) => p,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{LinkType, Options, compile, insn, interp};

    fn udp_geneve(opt_words: u8, proto: u16, vni: u32, inner: &[u8]) -> Vec<u8> {
        let mut g = vec![opt_words, 0];
        g.extend_from_slice(&proto.to_be_bytes());
        g.extend_from_slice(&(vni << 8).to_be_bytes());
        g.extend(std::iter::repeat_n(0xaa, 4 * usize::from(opt_words)));
        g.extend_from_slice(inner);
        let mut u = vec![0x9c, 0x40, 0x17, 0xc1];
        u.extend_from_slice(&((8 + g.len()) as u16).to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend(g);
        u
    }

    /// IPv4 (with `opts` option words) carrying `payload` of protocol `proto`.
    fn ip4(proto: u8, opts: usize, payload: &[u8]) -> Vec<u8> {
        let hl = 20 + 4 * opts;
        let mut v = vec![0x40 | (hl / 4) as u8, 0];
        v.extend_from_slice(&((hl + payload.len()) as u16).to_be_bytes());
        v.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        v.extend(std::iter::repeat_n(1, 4 * opts));
        v.extend_from_slice(payload);
        v
    }

    fn ether(ty: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 1, 2, 3, 4, 5, 6];
        v.extend_from_slice(&ty.to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn run(expr: &str, frame: &[u8]) -> bool {
        let prog = compile(expr, &Options::default()).expect("compiles");
        interp::validate(&prog).expect("valid program");
        interp::run(&prog, frame, frame.len() as u32) != 0
    }

    #[test]
    fn inner_offsets_follow_the_variable_header() {
        // Inner TCP to port 80 (IPv4 with options) in an Ethernet frame, in
        // a Geneve header with two option words, over IPv4 with options.
        let mut tcp = vec![0x30, 0x39, 0, 80];
        tcp.extend_from_slice(&[0; 8]);
        tcp.extend_from_slice(&[0x50, 0x02, 0, 0, 0, 0, 0, 0]);
        let inner = ether(0x800, &ip4(6, 1, &tcp));
        let frame = ether(0x800, &ip4(17, 2, &udp_geneve(2, 0x6558, 10, &inner)));
        for (e, want) in [
            ("geneve", true),
            ("geneve 10", true),
            ("geneve 11", false),
            ("geneve and tcp port 80", true),
            ("geneve and tcp port 81", false),
            ("geneve and tcp[tcpflags] & tcp-syn != 0", true),
            ("geneve and ip6", false),
            ("geneve and ether src 01:02:03:04:05:06", true),
            ("geneve and ether dst 01:02:03:04:05:06", false),
            ("not geneve", false),
        ] {
            assert_eq!(run(e, &frame), want, "{e}");
        }
        // A bare IP payload, typed by Geneve's protocol field: no link header.
        let bare = ether(
            0x800,
            &ip4(17, 0, &udp_geneve(0, 0x800, 10, &ip4(6, 0, &tcp))),
        );
        assert!(run("geneve and tcp port 80", &bare));
        assert!(!run("geneve and ether src 01:02:03:04:05:06", &bare));
        // Truncated inside the options: no match, no panic.
        assert!(!run("geneve and ip", &frame[..60]));
    }

    #[test]
    fn listing_reads_the_stored_offsets() {
        let prog = compile("geneve and ip", &Options::default()).expect("compiles");
        let text = insn::listing(&prog);
        assert!(text.contains("st       M[13]"), "{text}");
        assert!(text.ends_with(
            "(041) ldx      M[13]\n(042) ldh      [x + 0]\n\
             (043) jeq      #0x800           jt 44\tjf 45\n\
             (044) ret      #262144\n(045) ret      #0\n"
        ));
        // libpcap 1.10.3 does not optimize geneve filters: 53 instructions.
        assert_eq!(prog.len(), 46);
        // Paths that skip the stores read zeros, set first.
        let or = compile("geneve or ip", &Options::default()).expect("compiles");
        assert_eq!(
            insn::listing(&or[..2]),
            "(000) ld       #0x0\n(001) st       M[13]\n"
        );
        let raw = Options {
            linktype: LinkType::Raw,
            ..Options::default()
        };
        assert!(compile("geneve and ether host 1:2:3:4:5:6", &raw).is_ok());
    }
}
