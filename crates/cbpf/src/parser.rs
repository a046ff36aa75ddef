//! Recursive-descent parser for the pcap-filter language, with libpcap's
//! qualifier inheritance (`host a or b` means `host a or host b`).

use crate::ast::{ArOp, Arith, Dir, Expr, Id, Kind, Qual, RelOp, Special};
use crate::error::FilterError;
use crate::lexer::{Tok, Token, lex};

mod keywords;

use keywords::{
    LINK_KEYWORDS, LLC_KINDS, UNSUPPORTED, is_keyword, wlan_dir, wlan_subtype, wlan_type,
};
pub use keywords::{named_constant, proto_keyword};

/// Parses a filter expression into a syntax tree.
pub fn parse(src: &str) -> Result<Expr, FilterError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        last: Qual::default(),
        depth: 0,
    };
    if p.peek() == &Tok::Eof {
        return Ok(Expr::Empty);
    }
    let e = p.expr()?;
    if p.peek() != &Tok::Eof {
        return Err(p.expected("'and', 'or' or the end of the expression"));
    }
    Ok(e)
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    last: Qual,
    /// Current nesting of parentheses, `not` and unary minus.
    depth: u32,
}

/// Deepest nesting accepted (keeps recursion far from the stack's end).
const MAX_DEPTH: u32 = 200;

fn describe(t: &Tok) -> String {
    match t {
        Tok::Num(n) => format!("number {n}"),
        Tok::Ip4(p) => format!(
            "address {}",
            p.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(".")
        ),
        Tok::Ip6(a) => format!("address {a}"),
        Tok::Mac(_) => "an ethernet address".into(),
        Tok::Name { text, .. } => format!("'{text}'"),
        Tok::Punct(p) => format!("'{p}'"),
        Tok::Eof => "end of expression".into(),
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }
    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].tok
    }
    fn col(&self) -> usize {
        self.toks[self.pos].col
    }
    fn bump(&mut self) -> Tok {
        let t = self.toks[self.pos].tok.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn expected(&self, what: &str) -> FilterError {
        FilterError::at(
            self.col(),
            format!("expected {what}, found {}", describe(self.peek())),
        )
    }
    /// The keyword at the cursor (a non-escaped name), if any.
    fn kw(&self) -> Option<&str> {
        self.kw_at(0)
    }
    fn kw_at(&self, n: usize) -> Option<&str> {
        match self.peek_at(n) {
            Tok::Name {
                text,
                escaped: false,
            } => Some(text.as_str()),
            _ => None,
        }
    }
    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }
    fn eat_punct(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.bump();
            true
        } else {
            false
        }
    }
    fn expect_punct(&mut self, p: &str) -> Result<(), FilterError> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            Err(self.expected(&format!("'{p}'")))
        }
    }

    fn expr(&mut self) -> Result<Expr, FilterError> {
        let mut lhs = self.term()?;
        loop {
            let is_and = matches!(self.kw(), Some("and")) || self.is_punct("&&");
            let is_or = matches!(self.kw(), Some("or")) || self.is_punct("||");
            if !is_and && !is_or {
                return Ok(lhs);
            }
            self.bump();
            let rhs = self.term()?;
            lhs = if is_and {
                Expr::And(Box::new(lhs), Box::new(rhs))
            } else {
                Expr::Or(Box::new(lhs), Box::new(rhs))
            };
        }
    }

    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, FilterError>,
    ) -> Result<T, FilterError> {
        if self.depth >= MAX_DEPTH {
            return Err(FilterError::at(self.col(), "expression nested too deeply"));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn term(&mut self) -> Result<Expr, FilterError> {
        self.nested(Self::term_inner)
    }

    fn term_inner(&mut self) -> Result<Expr, FilterError> {
        if matches!(self.kw(), Some("not")) || self.is_punct("!") {
            self.bump();
            return Ok(Expr::Not(Box::new(self.term()?)));
        }
        if self.is_punct("(") {
            let start = self.pos;
            let rel_err = match self.relation() {
                Ok(e) => return Ok(e),
                Err(e) => e,
            };
            self.pos = start;
            self.bump();
            let inner = self.expr().and_then(|e| {
                self.expect_punct(")")?;
                Ok(e)
            });
            return match inner {
                Ok(e) => Ok(e),
                Err(e) => Err(if err_col(&rel_err) > err_col(&e) {
                    rel_err
                } else {
                    e
                }),
            };
        }
        self.primitive()
    }

    fn starts_arith(&self) -> bool {
        match self.peek() {
            Tok::Num(_) => {
                matches!(self.peek_at(1), Tok::Punct(p) if *p != "(" && *p != ")" && *p != "!" && *p != "&&" && *p != "||")
            }
            Tok::Punct("-") => true,
            Tok::Name {
                text,
                escaped: false,
            } => {
                named_constant(text).is_some()
                    || matches!(text.as_str(), "len" | "length")
                    || ((proto_keyword(text).is_some() || text == "radio")
                        && matches!(self.peek_at(1), Tok::Punct("[")))
            }
            _ => false,
        }
    }

    fn primitive(&mut self) -> Result<Expr, FilterError> {
        let col = self.col();
        if self.starts_arith() {
            return self.relation();
        }
        let Some(word) = self.kw().map(str::to_string) else {
            return self.bare_id(col);
        };
        match word.as_str() {
            "less" | "greater" => {
                self.bump();
                let n = self.number("a length")?;
                let what = if word == "less" {
                    Special::Less(n)
                } else {
                    Special::Greater(n)
                };
                return Ok(Expr::Special { what, col });
            }
            "broadcast" | "multicast" => {
                self.bump();
                let what = if word == "broadcast" {
                    Special::Broadcast(None)
                } else {
                    Special::Multicast(None)
                };
                return Ok(Expr::Special { what, col });
            }
            "vlan" | "mpls" | "pppoes" | "geneve" => {
                self.bump();
                let n = if let Tok::Num(n) = self.peek() {
                    let n = *n;
                    self.bump();
                    Some(n)
                } else {
                    None
                };
                let what = match word.as_str() {
                    "vlan" => Special::Vlan(n),
                    "mpls" => Special::Mpls(n),
                    "geneve" => Special::Geneve(n),
                    _ => Special::Pppoes(n),
                };
                return Ok(Expr::Special { what, col });
            }
            "pppoed" => {
                self.bump();
                return Ok(Expr::Special {
                    what: Special::Pppoed,
                    col,
                });
            }
            "inbound" | "outbound" => {
                self.bump();
                let what = if word == "inbound" {
                    Special::Inbound
                } else {
                    Special::Outbound
                };
                return Ok(Expr::Special { what, col });
            }
            "ifindex" => {
                self.bump();
                let n = self.number("an interface index")?;
                return Ok(Expr::Special {
                    what: Special::Ifindex(n),
                    col,
                });
            }
            _ => {}
        }
        if matches!(word.as_str(), "type" | "subtype" | "dir" | "direction") {
            self.bump();
            return self.wlan(&word, col);
        }
        if LINK_KEYWORDS.contains(&word.as_str()) {
            self.bump();
            // Qualifier uses (`decnet host 1.2`, `iso proto 4`) are not supported.
            if self.is_value()
                || matches!(self.kw(), Some("src" | "dst" | "host" | "net" | "proto"))
            {
                return Err(FilterError::unsupported(
                    col,
                    &format!("{word} {}", self.kw().unwrap_or("value")),
                ));
            }
            let mut name = word.replace("es-is", "esis").replace("is-is", "isis");
            if let Some(k) = self
                .kw()
                .filter(|k| name == "llc" && LLC_KINDS.contains(k))
                .map(str::to_string)
            {
                self.bump();
                name = format!("llc {k}");
            }
            return Ok(Expr::Special {
                what: Special::Keyword(name),
                col,
            });
        }
        if UNSUPPORTED.contains(&word.as_str()) {
            return Err(FilterError::unsupported(col, &word));
        }
        let mut qual = Qual::default();
        if let Some(p) = proto_keyword(&word) {
            self.bump();
            qual.proto = Some(p);
            match self.kw() {
                Some("broadcast") | Some("multicast") => {
                    let b = self.kw() == Some("broadcast");
                    self.bump();
                    let what = if b {
                        Special::Broadcast(Some(p))
                    } else {
                        Special::Multicast(Some(p))
                    };
                    return Ok(Expr::Special { what, col });
                }
                _ => {}
            }
        }
        // Direction.
        match self.kw() {
            Some("src") | Some("dst") => {
                let first = if self.kw() == Some("src") {
                    Dir::Src
                } else {
                    Dir::Dst
                };
                self.bump();
                let combo = matches!(self.kw(), Some("or") | Some("and"))
                    && matches!(self.kw_at(1), Some("src") | Some("dst"));
                if combo {
                    let or = self.kw() == Some("or");
                    self.bump();
                    self.bump();
                    qual.dir = Some(if or { Dir::Or } else { Dir::And });
                } else {
                    qual.dir = Some(first);
                }
            }
            Some(
                d @ ("ra" | "ta" | "addr1" | "addr2" | "addr3" | "addr4" | "address1" | "address2"
                | "address3" | "address4"),
            ) => {
                qual.dir = Some(match d {
                    "ra" => Dir::Ra,
                    "ta" => Dir::Ta,
                    _ => Dir::Addr(d.as_bytes()[d.len() - 1] - b'0'),
                });
                self.bump();
            }
            _ => {}
        }
        // Type.
        let kind = match self.kw() {
            Some("host") => Some(Kind::Host),
            Some("net") => Some(Kind::Net),
            Some("port") => Some(Kind::Port),
            Some("portrange") => Some(Kind::Portrange),
            Some("proto") => Some(Kind::Proto),
            Some("protochain") => Some(Kind::Protochain),
            Some("gateway") => return Err(FilterError::unsupported(self.col(), "gateway")),
            _ => None,
        };
        if kind.is_some() {
            self.bump();
            qual.kind = kind;
        }
        if qual.dir.is_none()
            && qual.kind.is_none()
            && let Some(p) = qual.proto
            && !self.is_value()
        {
            return Ok(Expr::Abbrev { proto: p, col });
        }
        if !self.is_value() {
            return Err(self.expected("a host, network, port or protocol value"));
        }
        self.last = qual;
        let id = self.value(qual.kind)?;
        Ok(Expr::Prim { qual, id, col })
    }

    /// `type T [subtype S]`, `subtype S`, `dir D` (802.11).
    fn wlan(&mut self, word: &str, col: usize) -> Result<Expr, FilterError> {
        let vcol = self.col();
        let what = match (word, self.bump()) {
            ("type", Tok::Num(n)) if n & !0x0c == 0 => Special::WlanFc {
                mask: 0x0c,
                value: n,
            },
            ("type", Tok::Num(n)) => {
                return Err(FilterError::at(
                    vcol,
                    format!("invalid 802.11 type value 0x{n:02x}"),
                ));
            }
            ("type", Tok::Name { text, .. }) => {
                let ty = wlan_type(&text).ok_or_else(|| {
                    FilterError::at(vcol, format!("unknown 802.11 type name \"{text}\""))
                })?;
                if self.kw() != Some("subtype") {
                    return Ok(Expr::Special {
                        what: Special::WlanFc {
                            mask: 0x0c,
                            value: ty,
                        },
                        col,
                    });
                }
                self.bump();
                let scol = self.col();
                let st = match self.bump() {
                    Tok::Num(n) if n & !0xf0 == 0 => n,
                    Tok::Num(n) => {
                        return Err(FilterError::at(
                            scol,
                            format!("invalid 802.11 subtype value 0x{n:02x}"),
                        ));
                    }
                    Tok::Name { text, .. } => wlan_subtype(Some(ty), &text)
                        .map(|(_, st)| st)
                        .ok_or_else(|| {
                            FilterError::at(scol, format!("unknown 802.11 subtype name \"{text}\""))
                        })?,
                    _ => return Err(FilterError::at(scol, "expected an 802.11 subtype")),
                };
                Special::WlanFc {
                    mask: 0xfc,
                    value: ty | st,
                }
            }
            ("subtype", Tok::Name { text, .. }) => {
                let (ty, st) = wlan_subtype(None, &text).ok_or_else(|| {
                    FilterError::at(vcol, format!("unknown 802.11 subtype name \"{text}\""))
                })?;
                Special::WlanFc {
                    mask: 0xfc,
                    value: ty | st,
                }
            }
            ("dir" | "direction", Tok::Num(n)) if n <= 3 => Special::WlanDir(n),
            ("dir" | "direction", Tok::Name { text, .. }) if wlan_dir(&text).is_some() => {
                Special::WlanDir(wlan_dir(&text).unwrap_or(0))
            }
            _ => {
                return Err(FilterError::at(
                    vcol,
                    format!("expected an 802.11 {word} value"),
                ));
            }
        };
        Ok(Expr::Special { what, col })
    }

    fn is_value(&self) -> bool {
        match self.peek() {
            Tok::Num(_) | Tok::Ip4(_) | Tok::Ip6(_) | Tok::Mac(_) => true,
            Tok::Name { text, escaped } => *escaped || !is_keyword(text),
            _ => false,
        }
    }

    fn bare_id(&mut self, col: usize) -> Result<Expr, FilterError> {
        if !self.is_value() {
            return Err(self.expected("a primitive, '(' or 'not'"));
        }
        let qual = self.last;
        let id = self.value(qual.kind)?;
        Ok(Expr::Prim { qual, id, col })
    }

    fn number(&mut self, what: &str) -> Result<u32, FilterError> {
        match self.peek() {
            Tok::Num(n) => {
                let n = *n;
                self.bump();
                Ok(n)
            }
            _ => Err(self.expected(what)),
        }
    }

    fn value(&mut self, kind: Option<Kind>) -> Result<Id, FilterError> {
        let id = match self.bump() {
            Tok::Num(n) => Id::Num(n),
            Tok::Ip4(p) => Id::Ip4(p),
            Tok::Ip6(a) => Id::Ip6(a),
            Tok::Mac(m) => Id::Mac(m),
            Tok::Name { text, .. } => Id::Name(text),
            _ => return Err(self.expected("a value")),
        };
        if self.is_punct("/") {
            let col = self.col();
            self.bump();
            let len = self.number("a prefix length")?;
            return match id {
                Id::Ip4(p) => Ok(Id::Net4Len(p, len)),
                Id::Num(n) => Ok(Id::Net4Len(
                    vec![n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255],
                    len,
                )),
                Id::Ip6(a) => Ok(Id::Net6(a, len)),
                _ => Err(FilterError::at(
                    col,
                    "a /prefix length needs an IPv4 or IPv6 address",
                )),
            };
        }
        if self.kw() == Some("mask") {
            let col = self.col();
            self.bump();
            let m = match self.bump() {
                Tok::Ip4(m) => m,
                _ => {
                    return Err(FilterError::at(
                        self.col(),
                        "expected a dotted netmask after 'mask'",
                    ));
                }
            };
            return match id {
                Id::Ip4(p) => Ok(Id::Net4Mask(p, m)),
                _ => Err(FilterError::at(col, "'mask' needs an IPv4 network")),
            };
        }
        let _ = kind;
        Ok(id)
    }

    // ---- arithmetic ----

    fn relation(&mut self) -> Result<Expr, FilterError> {
        let col = self.col();
        let lhs = self.arith(0)?;
        let op = match self.peek() {
            Tok::Punct(">") => RelOp::Gt,
            Tok::Punct(">=") => RelOp::Ge,
            Tok::Punct("<") => RelOp::Lt,
            Tok::Punct("<=") => RelOp::Le,
            Tok::Punct("=") => RelOp::Eq,
            Tok::Punct("!=") => RelOp::Ne,
            _ => return Err(self.expected("a comparison operator")),
        };
        self.bump();
        let rhs = self.arith(0)?;
        Ok(Expr::Rel { lhs, op, rhs, col })
    }

    fn binop(&self) -> Option<(ArOp, u8)> {
        let Tok::Punct(p) = self.peek() else {
            return None;
        };
        Some(match *p {
            "|" => (ArOp::Or, 1),
            "^" => (ArOp::Xor, 1),
            "&" => (ArOp::And, 2),
            "<<" => (ArOp::Lsh, 3),
            ">>" => (ArOp::Rsh, 3),
            "+" => (ArOp::Add, 4),
            "-" => (ArOp::Sub, 4),
            "*" => (ArOp::Mul, 5),
            "/" => (ArOp::Div, 5),
            "%" => (ArOp::Mod, 5),
            _ => return None,
        })
    }

    fn arith(&mut self, min_prec: u8) -> Result<Arith, FilterError> {
        let mut lhs = self.arith_atom()?;
        while let Some((op, prec)) = self.binop() {
            if prec < min_prec {
                break;
            }
            let col = self.col();
            self.bump();
            let rhs = self.arith(prec + 1)?;
            lhs = Arith::Bin(op, Box::new(lhs), Box::new(rhs), col);
        }
        Ok(lhs)
    }

    /// `[idx]` or `[idx:size]` after an accessor name.
    fn accessor(&mut self) -> Result<(Arith, u32), FilterError> {
        self.expect_punct("[")?;
        let idx = self.arith(0)?;
        let size = if self.eat_punct(":") {
            let scol = self.col();
            let s = self.number("a size (1, 2 or 4)")?;
            if !matches!(s, 1 | 2 | 4) {
                return Err(FilterError::at(scol, "data size must be 1, 2, or 4"));
            }
            s
        } else {
            1
        };
        self.expect_punct("]")?;
        Ok((idx, size))
    }

    fn arith_atom(&mut self) -> Result<Arith, FilterError> {
        self.nested(Self::arith_atom_inner)
    }

    fn arith_atom_inner(&mut self) -> Result<Arith, FilterError> {
        let col = self.col();
        match self.peek().clone() {
            Tok::Num(n) => {
                self.bump();
                Ok(Arith::Num(n))
            }
            Tok::Punct("-") => {
                self.bump();
                Ok(Arith::Neg(Box::new(self.arith_atom()?)))
            }
            Tok::Punct("(") => {
                self.bump();
                let e = self.arith(0)?;
                self.expect_punct(")")?;
                Ok(e)
            }
            Tok::Name {
                text,
                escaped: false,
            } => {
                if let Some(v) = named_constant(&text) {
                    self.bump();
                    return Ok(Arith::Num(v));
                }
                if text == "len" || text == "length" {
                    self.bump();
                    return Ok(Arith::Len);
                }
                if let Some(proto) = proto_keyword(&text) {
                    self.bump();
                    let (idx, size) = self.accessor()?;
                    return Ok(Arith::Load {
                        proto,
                        idx: Box::new(idx),
                        size,
                        col,
                    });
                }
                if text == "radio" {
                    self.bump();
                    let (idx, size) = self.accessor()?;
                    return Ok(Arith::Radio {
                        idx: Box::new(idx),
                        size,
                        col,
                    });
                }
                Err(self.expected("a number, 'len' or a packet accessor"))
            }
            _ => Err(self.expected("a number, 'len' or a packet accessor")),
        }
    }
}

fn err_col(e: &FilterError) -> usize {
    match e {
        FilterError::At { col, .. } => *col,
        FilterError::General(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Proto;

    #[test]
    fn inherits_qualifiers() {
        let e = parse("tcp dst port 80 or 8080").unwrap();
        let Expr::Or(_, r) = e else {
            panic!("not an or")
        };
        let Expr::Prim { qual, id, .. } = *r else {
            panic!("not a prim")
        };
        assert_eq!(qual.proto, Some(Proto::Tcp));
        assert_eq!(qual.dir, Some(Dir::Dst));
        assert_eq!(qual.kind, Some(Kind::Port));
        assert_eq!(id, Id::Num(8080));
    }

    #[test]
    fn parses_relations_and_parens() {
        assert!(matches!(
            parse("(ip[0] & 0xf) * 4 > 20").unwrap(),
            Expr::Rel { .. }
        ));
        assert!(matches!(
            parse("(tcp or udp) and not port 22").unwrap(),
            Expr::And(..)
        ));
        assert!(matches!(parse("1 = 1").unwrap(), Expr::Rel { .. }));
        assert_eq!(parse("   ").unwrap(), Expr::Empty);
    }

    #[test]
    fn errors_have_columns() {
        let e = parse("port 80 443").unwrap_err().to_string();
        assert_eq!(
            e,
            "expected 'and', 'or' or the end of the expression, found number 443 at column 9"
        );
        assert!(
            parse("tcp and")
                .unwrap_err()
                .to_string()
                .contains("column 8")
        );
        assert!(
            parse("ip[1:3] = 0")
                .unwrap_err()
                .to_string()
                .contains("data size must be 1, 2, or 4")
        );
        assert_eq!(
            parse("decnet host 1.2").unwrap_err().to_string(),
            "'decnet host' is not supported by scry yet at column 1"
        );
        assert!(
            parse("(host 1.2.3.4")
                .unwrap_err()
                .to_string()
                .contains("expected ')'")
        );
    }
}
