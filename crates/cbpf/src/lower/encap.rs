//! Encapsulation keywords that shift the offsets of everything parsed after
//! them: `vlan`, `mpls` and `pppoes` (libpcap's stateful semantics).

use super::{Lower, TypeField};
use crate::error::FilterError;
use crate::insn::op;
use crate::ir::Pred;
use crate::linktype::LinkType;

impl Lower {
    pub(super) fn vlan(&mut self, id: Option<u32>, col: usize) -> Result<Pred, FilterError> {
        let off = match self.field {
            TypeField::Ether(off) => off,
            TypeField::Ppp(_) => return Err(FilterError::at(col, "no VLAN support for PPP")),
            TypeField::Mpls(_) => return Err(FilterError::at(col, "no VLAN match after MPLS")),
            _ => {
                return Err(FilterError::at(
                    col,
                    format!("no VLAN support for link type {}", self.link),
                ));
            }
        };
        if self.link != LinkType::En10mb {
            return Err(FilterError::at(
                col,
                format!("no VLAN support for link type {}", self.link),
            ));
        }
        let mut p = Pred::any([0x8100, 0x88a8, 0x9100].map(|t| Pred::eq(off, op::H, t)));
        if let Some(v) = id {
            if v > 4095 {
                return Err(FilterError::at(
                    col,
                    format!("VLAN tag {v} greater than maximum 4095"),
                ));
            }
            p = Pred::and(p, Pred::cmp(self.nl, op::H, Some(0xfff), op::JEQ, v));
        }
        self.field = TypeField::Ether(off + 4);
        self.nl += 4;
        Ok(p)
    }

    pub(super) fn mpls(&mut self, label: Option<u32>, col: usize) -> Result<Pred, FilterError> {
        let mut p = match self.field {
            TypeField::Ether(off) => Pred::eq(off, op::H, 0x8847),
            TypeField::Ppp(off) => Pred::eq(off, op::H, 0x281),
            TypeField::Mpls(prev) => Pred::not(Pred::cmp(prev + 2, op::B, None, op::JSET, 1)),
            _ => {
                return Err(FilterError::at(
                    col,
                    format!("no MPLS support for link type {}", self.link),
                ));
            }
        };
        if let Some(l) = label {
            if l > 0xfffff {
                return Err(FilterError::at(
                    col,
                    format!("MPLS label {l} greater than maximum 1048575"),
                ));
            }
            p = Pred::and(
                p,
                Pred::cmp(self.nl, op::W, Some(0xffff_f000), op::JEQ, l << 12),
            );
        }
        self.field = TypeField::Mpls(self.nl);
        self.nl += 4;
        self.mpls_depth += 1;
        Ok(p)
    }

    pub(super) fn pppoes(&mut self, sid: Option<u32>, col: usize) -> Result<Pred, FilterError> {
        let mut p = self.linktype(0x8864, col)?;
        if let Some(s) = sid {
            if s > 0xffff {
                return Err(FilterError::at(
                    col,
                    format!("PPPoE session number {s} greater than maximum 65535"),
                ));
            }
            p = Pred::and(p, Pred::cmp(self.nl, op::W, Some(0xffff), op::JEQ, s));
        }
        self.field = TypeField::Ppp(self.nl + 6);
        self.nl += 8;
        Ok(p)
    }
}
