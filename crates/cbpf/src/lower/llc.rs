//! Link-level protocol keywords: Ethernet types (`decnet`, `lat`, …) and the
//! IEEE 802.3 length-field frames with 802.2 LLC or SNAP headers (`stp`,
//! `iso`, `ipx`, `atalk`, `llc`, IS-IS PDU types), laid out as libpcap does.

use super::{Lower, TypeField};
use crate::error::FilterError;
use crate::insn::op;
use crate::ir::Pred;
use crate::linktype::LinkType;

/// IS-IS PDU types of each keyword.
fn isis_types(name: &str) -> Option<&'static [u32]> {
    Some(match name {
        "l1" => &[0x1a, 0x18, 0x12, 0x0f, 0x11],
        "l2" => &[0x1b, 0x19, 0x14, 0x10, 0x11],
        "iih" => &[0x11, 0x0f, 0x10],
        "lsp" => &[0x12, 0x14],
        "snp" => &[0x1b, 0x1a, 0x18, 0x19],
        "csnp" => &[0x18, 0x19],
        "psnp" => &[0x1a, 0x1b],
        _ => return None,
    })
}

/// `llc KIND`: (mask, value) of the control byte; `i` is "bit 0 clear".
fn llc_control(kind: &str) -> Option<(u32, u32)> {
    Some(match kind {
        "s" => (0x03, 0x01),
        "u" => (0x03, 0x03),
        "rr" => (0x0f, 0x01),
        "rnr" => (0x0f, 0x05),
        "rej" => (0x0f, 0x09),
        "ui" => (0xef, 0x03),
        "ua" => (0xef, 0x63),
        "disc" => (0xef, 0x43),
        "sabme" => (0xef, 0x6f),
        "test" => (0xef, 0xe3),
        "xid" => (0xef, 0xaf),
        "frmr" => (0xef, 0x87),
        _ => return None,
    })
}

impl Lower {
    /// The 802.3 length-field frame test, and the offset of the LLC header.
    fn ieee8023(&self, name: &str, col: usize) -> Result<(Pred, u32), FilterError> {
        match self.field {
            TypeField::Ether(off) if self.link == LinkType::En10mb => Ok((
                Pred::not(Pred::cmp(off, op::H, None, op::JGT, 1500)),
                self.nl,
            )),
            _ => Err(FilterError::at(
                col,
                format!(
                    "'{name}' on link type {} is not supported by scry yet",
                    self.link
                ),
            )),
        }
    }

    /// An 802.3/LLC frame with DSAP `sap` (`ether proto N` with N <= 1500).
    pub(super) fn llc_sap(&self, name: &str, sap: u32, col: usize) -> Result<Pred, FilterError> {
        let (len, nl) = self.ieee8023(name, col)?;
        let t = match sap {
            0xfe => Pred::eq(nl, op::H, 0xfefe),
            0xf0 => Pred::eq(nl, op::H, 0xf0f0),
            _ => Pred::eq(nl, op::B, sap),
        };
        Ok(Pred::and(len, t))
    }

    /// Ethernet type `et`, or the same protocol in a SNAP header with `oui`.
    fn ether_or_snap(
        &self,
        name: &str,
        et: u32,
        oui: u32,
        col: usize,
    ) -> Result<Pred, FilterError> {
        let (len, nl) = self.ieee8023(name, col)?;
        let snap = Pred::and(
            Pred::eq(nl + 4, op::W, ((oui & 0xffff) << 16) | et),
            Pred::eq(nl, op::W, 0xaaaa_0300 | (oui >> 16)),
        );
        Ok(Pred::or(self.linktype(et, col)?, Pred::and(len, snap)))
    }

    pub(super) fn keyword(&self, name: &str, col: usize) -> Result<Pred, FilterError> {
        let iso = || -> Result<Pred, FilterError> { self.llc_sap("iso", 0xfe, col) };
        let nlpid = |id: u32| -> Result<Pred, FilterError> {
            Ok(Pred::and(iso()?, Pred::eq(self.nl + 3, op::B, id)))
        };
        if let Some(types) = isis_types(name) {
            let t = Pred::any(types.iter().map(|&t| Pred::eq(self.nl + 7, op::B, t)));
            return Ok(Pred::and(nlpid(0x83)?, t));
        }
        if let Some(kind) = name.strip_prefix("llc ") {
            let (len, nl) = self.ieee8023("llc", col)?;
            let llc = Pred::and(len, Pred::not(Pred::eq(nl, op::H, 0xffff)));
            let ctl = match llc_control(kind) {
                Some((mask, v)) => Pred::cmp(nl + 2, op::B, Some(mask), op::JEQ, v),
                None => Pred::not(Pred::cmp(nl + 2, op::B, None, op::JSET, 1)),
            };
            return Ok(Pred::and(llc, ctl));
        }
        Ok(match name {
            "decnet" => self.linktype(0x6003, col)?,
            "lat" => self.linktype(0x6004, col)?,
            "sca" => self.linktype(0x6007, col)?,
            "mopdl" => self.linktype(0x6001, col)?,
            "moprc" => self.linktype(0x6002, col)?,
            "stp" => self.llc_sap("stp", 0x42, col)?,
            "iso" => iso()?,
            "netbeui" => self.llc_sap("netbeui", 0xf0, col)?,
            "clnp" => nlpid(0x81)?,
            "esis" => nlpid(0x82)?,
            "isis" => nlpid(0x83)?,
            "llc" => {
                let (len, nl) = self.ieee8023("llc", col)?;
                Pred::and(len, Pred::not(Pred::eq(nl, op::H, 0xffff)))
            }
            "atalk" => self.ether_or_snap("atalk", 0x809b, 0x08_0007, col)?,
            "aarp" => self.ether_or_snap("aarp", 0x80f3, 0, col)?,
            "ipx" => {
                let (len, nl) = self.ieee8023("ipx", col)?;
                let snap = Pred::and(
                    Pred::eq(nl + 4, op::W, 0x8137),
                    Pred::eq(nl, op::W, 0xaaaa_0300),
                );
                let rest =
                    Pred::any([snap, Pred::eq(nl, op::B, 0xe0), Pred::eq(nl, op::H, 0xffff)]);
                Pred::or(self.linktype(0x8137, col)?, Pred::and(len, rest))
            }
            other => return Err(FilterError::unsupported(col, other)),
        })
    }
}
