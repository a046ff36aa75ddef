//! scry-cbpf: tcpdump's filter language compiled to classic BPF in pure Rust.
//!
//! Pipeline: [`lexer`] → [`parser`] (syntax tree with qualifier inheritance) →
//! `lower` (predicates with libpcap's loads and evaluation order) →
//! [`cfg`](mod@cfg) (basic blocks) → [`opt`] (optimizer) → classic BPF,
//! printable as `tcpdump -d/-dd/-ddd` listings ([`insn`]) and runnable by the
//! [`interp`] interpreter, over pcap/pcapng files ([`pcapio`], [`session`]) or
//! live with the kernel filtering ([`capture`]).
//!
//! Supported: `host`/`net` (`/len`, `mask`, /etc/hosts names)/`port`/
//! `portrange` with every direction, `proto`, `protochain`, the protocol
//! keywords (`ether ip ip6 arp rarp tcp udp sctp icmp icmp6 igmp igrp pim vrrp
//! carp ah esp`, 802.3/LLC ones such as `stp iso ipx atalk llc` and IS-IS PDU
//! types), `ether host/src/dst/proto`, `broadcast`/`multicast`, `less`/
//! `greater`/`len`, accessors with arithmetic, named constants, `vlan`,
//! `mpls`, `pppoed`/`pppoes`, `geneve [vni]` (later primitives test the
//! encapsulated packet, through offsets kept in scratch memory),
//! `inbound`/`outbound`/`ifindex`, and 802.11
//! `type`/`subtype`/`dir`/`wlan ra|ta|addrN`; link types EN10MB, RAW,
//! LINUX_SLL, LINUX_SLL2, NULL, LOOP, PPP, IEEE802_11 and IEEE802_11_RADIO.
//! Not yet: `vxlan` (not in libpcap 1.10), `gateway`, DECnet addresses,
//! ATM/SS7/pf keywords, network-layer tests over 802.11, and after `geneve`
//! nested `geneve`, `protochain` and arithmetic on packet data; they fail
//! with "... is not supported by scry yet".

pub mod ast;
pub mod capture;
pub mod cfg;
pub mod error;
pub mod insn;
pub mod interp;
pub mod ir;
pub mod lexer;
pub mod linktype;
mod lower;
pub mod opt;
pub mod parser;
pub mod pcapio;
pub mod session;
pub mod summary;

pub use error::FilterError;
pub use insn::Insn;
pub use linktype::LinkType;

/// tcpdump's default snapshot length, returned for accepted packets.
pub const DEFAULT_SNAPLEN: u32 = 262_144;

/// Compilation options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub linktype: LinkType,
    /// Run the optimizer (tcpdump's default; `-O` turns it off).
    pub optimize: bool,
    /// Value returned for accepted packets.
    pub snaplen: u32,
    /// Compile for filtering a savefile (`-r`) rather than for `-d` or a live
    /// capture; only DLT_NULL/LOOP `ip6` differ (BSD address families).
    pub savefile: bool,
    /// Optimize without changing any verdict of the unoptimized program, even
    /// on truncated packets (no reordering of tests, no dropped loads). The
    /// default optimizes like libpcap, which may change verdicts on packets
    /// too short for the loads it drops.
    pub strict: bool,
    /// Only forward jumps (unrolled `protochain`), as the kernel requires;
    /// set it for programs to attach. libpcap's layout loops backward.
    pub forward_only: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            linktype: LinkType::En10mb,
            optimize: true,
            snaplen: DEFAULT_SNAPLEN,
            savefile: false,
            strict: false,
            forward_only: false,
        }
    }
}

/// Compiles a filter expression to classic BPF.
pub fn compile(expr: &str, opts: &Options) -> Result<Vec<Insn>, FilterError> {
    let ast = parser::parse(expr)?;
    let mut lower = lower::Lower::new(opts.linktype, opts.savefile);
    let pred = lower.expr(&ast)?;
    let mut g = cfg::Graph::build(&pred, opts.snaplen, opts.forward_only);
    // Like libpcap, no optimization for filters that walk header chains: their
    // blocks depend on registers set by earlier blocks.
    if opts.optimize && !pred.has_protochain() {
        opt::optimize(&mut g, opts.strict);
        if matches!(g.nodes[g.root], cfg::Node::Ret(0)) {
            return Err(FilterError::General(
                "expression rejects all packets".into(),
            ));
        }
    } else if opts.optimize {
        opt::dedupe(&mut g);
    }
    // Run-time link-header offsets (radiotap) are computed once, first; the
    // `geneve` offsets start as zeros where a path may read them unset.
    let needs = g.nodes.iter().any(|n| match n {
        cfg::Node::Block { stmts, .. } => stmts
            .iter()
            .any(|i| i.code == insn::op::LDX | insn::op::MEM && i.k == lower::LL_MEM),
        cfg::Node::Ret(_) | cfg::Node::Raw { .. } => false,
    });
    let mut prologue = lower.prologue().filter(|_| needs);
    let unset = g.unset_reads(&lower::GENEVE_SLOTS);
    if !unset.is_empty() {
        let code = prologue.get_or_insert_with(Vec::new);
        code.push(Insn::stmt(insn::op::LD | insn::op::IMM, 0));
        code.extend(unset.iter().map(|&k| Insn::stmt(insn::op::ST, k)));
    }
    match (prologue, &mut g.nodes[g.root]) {
        (Some(pro), cfg::Node::Block { stmts, .. }) => {
            stmts.splice(0..0, pro);
            if opts.optimize && !pred.has_protochain() {
                opt::tidy(&mut g);
            }
        }
        // A `protochain` walk first: a block of its own, always passed.
        (Some(pro), cfg::Node::Raw { .. }) => {
            g.nodes.push(cfg::Node::Block {
                stmts: pro,
                jop: insn::op::JGE,
                src: ir::Src::K(0),
                jt: g.root,
                jf: g.root,
            });
            g.root = g.nodes.len() - 1;
        }
        (None, _) | (Some(_), cfg::Node::Ret(_)) => {}
    }
    g.emit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(expr: &str) -> String {
        insn::listing(&compile(expr, &Options::default()).unwrap())
    }

    #[test]
    fn tcp_port_80_matches_libpcap_listing() {
        assert_eq!(
            d("tcp port 80"),
            "(000) ldh      [12]\n(001) jeq      #0x86dd          jt 2\tjf 8\n\
(002) ldb      [20]\n(003) jeq      #0x6             jt 4\tjf 19\n\
(004) ldh      [54]\n(005) jeq      #0x50            jt 18\tjf 6\n\
(006) ldh      [56]\n(007) jeq      #0x50            jt 18\tjf 19\n\
(008) jeq      #0x800           jt 9\tjf 19\n(009) ldb      [23]\n\
(010) jeq      #0x6             jt 11\tjf 19\n(011) ldh      [20]\n\
(012) jset     #0x1fff          jt 19\tjf 13\n(013) ldxb     4*([14]&0xf)\n\
(014) ldh      [x + 14]\n(015) jeq      #0x50            jt 18\tjf 16\n\
(016) ldh      [x + 16]\n(017) jeq      #0x50            jt 18\tjf 19\n\
(018) ret      #262144\n(019) ret      #0\n"
        );
    }

    #[test]
    fn empty_accepts_everything_and_false_is_an_error() {
        assert_eq!(d(""), "(000) ret      #262144\n");
        let e = compile("ip and arp", &Options::default()).unwrap_err();
        assert_eq!(e.to_string(), "expression rejects all packets");
        let o = Options {
            optimize: false,
            ..Options::default()
        };
        assert!(compile("ip and arp", &o).is_ok());
    }
}
