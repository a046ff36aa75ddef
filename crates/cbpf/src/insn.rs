//! Classic BPF instructions: encoding constants, the instruction type and the
//! `tcpdump -d`/`-dd`/`-ddd` listing formats.

use std::fmt::Write as _;

/// Instruction classes and fields (the `BPF_*` constants of `<linux/filter.h>`).
pub mod op {
    pub const LD: u16 = 0x00;
    pub const LDX: u16 = 0x01;
    pub const ST: u16 = 0x02;
    pub const STX: u16 = 0x03;
    pub const ALU: u16 = 0x04;
    pub const JMP: u16 = 0x05;
    pub const RET: u16 = 0x06;
    pub const MISC: u16 = 0x07;
    pub const W: u16 = 0x00;
    pub const H: u16 = 0x08;
    pub const B: u16 = 0x10;
    pub const IMM: u16 = 0x00;
    pub const ABS: u16 = 0x20;
    pub const IND: u16 = 0x40;
    pub const MEM: u16 = 0x60;
    pub const LEN: u16 = 0x80;
    pub const MSH: u16 = 0xa0;
    pub const ADD: u16 = 0x00;
    pub const SUB: u16 = 0x10;
    pub const MUL: u16 = 0x20;
    pub const DIV: u16 = 0x30;
    pub const OR: u16 = 0x40;
    pub const AND: u16 = 0x50;
    pub const LSH: u16 = 0x60;
    pub const RSH: u16 = 0x70;
    pub const NEG: u16 = 0x80;
    pub const MOD: u16 = 0x90;
    pub const XOR: u16 = 0xa0;
    pub const JA: u16 = 0x00;
    pub const JEQ: u16 = 0x10;
    pub const JGT: u16 = 0x20;
    pub const JGE: u16 = 0x30;
    pub const JSET: u16 = 0x40;
    pub const K: u16 = 0x00;
    pub const X: u16 = 0x08;
    pub const A: u16 = 0x10;
    pub const TAX: u16 = 0x00;
    pub const TXA: u16 = 0x80;
}

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

impl Insn {
    /// A non-jump statement.
    pub const fn stmt(code: u16, k: u32) -> Self {
        Insn {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }
    /// A jump with relative offsets.
    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Self {
        Insn { code, jt, jf, k }
    }
    /// The class bits.
    pub fn class(&self) -> u16 {
        self.code & 0x07
    }
}

fn ancillary_name(k: u32) -> Option<&'static str> {
    const NAMES: [&str; 16] = [
        "proto",
        "type",
        "ifidx",
        "nla",
        "nlan",
        "mark",
        "queue",
        "hatype",
        "rxhash",
        "cpu",
        "xor_x",
        "vlan_tci",
        "vlanp",
        "poff",
        "random",
        "vlan_tpid",
    ];
    let off = k.checked_sub(0xffff_f000)?;
    if off % 4 == 0 {
        NAMES.get((off / 4) as usize).copied()
    } else {
        None
    }
}

/// Renders one instruction like libpcap's `bpf_image` (`n` is its index).
pub fn image(insn: &Insn, n: usize) -> String {
    use op::*;
    let k = insn.k;
    let abs = |k: u32| match ancillary_name(k) {
        Some(name) => format!("[{name}]"),
        None => format!("[{}]", k as i32),
    };
    let (mnem, operand): (&str, String) = match insn.code {
        c if c == RET | K => ("ret", format!("#{}", k as i32)),
        c if c == RET | A => ("ret", String::new()),
        c if c == LD | W | ABS => ("ld", abs(k)),
        c if c == LD | H | ABS => ("ldh", abs(k)),
        c if c == LD | B | ABS => ("ldb", abs(k)),
        c if c == LD | W | LEN => ("ld", "#pktlen".into()),
        c if c == LD | W | IND => ("ld", format!("[x + {}]", k as i32)),
        c if c == LD | H | IND => ("ldh", format!("[x + {}]", k as i32)),
        c if c == LD | B | IND => ("ldb", format!("[x + {}]", k as i32)),
        c if c == LD | IMM => ("ld", format!("#0x{k:x}")),
        c if c == LDX | IMM => ("ldx", format!("#0x{k:x}")),
        c if c == LDX | MSH | B => ("ldxb", format!("4*([{}]&0xf)", k as i32)),
        c if c == LD | MEM => ("ld", format!("M[{}]", k as i32)),
        c if c == LDX | MEM => ("ldx", format!("M[{}]", k as i32)),
        c if c == LDX | W | LEN => ("ldx", "#pktlen".into()),
        c if c == ST => ("st", format!("M[{}]", k as i32)),
        c if c == STX => ("stx", format!("M[{}]", k as i32)),
        c if c == JMP | JA => {
            let target = (n as i64) + 1 + i64::from(k as i32);
            return format!("({n:03}) {:<8} {target}", "ja");
        }
        c if c == MISC | TAX => ("tax", String::new()),
        c if c == MISC | TXA => ("txa", String::new()),
        c if c & 0x07 == JMP => {
            let m = match c & 0xf0 {
                JEQ => "jeq",
                JGT => "jgt",
                JGE => "jge",
                JSET => "jset",
                _ => return format!("({n:03}) unimp 0x{:x}", c),
            };
            let operand = if c & X != 0 {
                "x".to_string()
            } else {
                format!("#0x{k:x}")
            };
            return format!(
                "({n:03}) {:<8} {:<16} jt {}\tjf {}",
                m,
                operand,
                n + 1 + insn.jt as usize,
                n + 1 + insn.jf as usize
            );
        }
        c if c & 0x07 == ALU => {
            let m = match c & 0xf0 {
                ADD => "add",
                SUB => "sub",
                MUL => "mul",
                DIV => "div",
                MOD => "mod",
                AND => "and",
                OR => "or",
                XOR => "xor",
                LSH => "lsh",
                RSH => "rsh",
                NEG => return format!("({n:03}) {:<8} ", "neg"),
                _ => return format!("({n:03}) unimp 0x{:x}", c),
            };
            let operand = if c & X != 0 {
                "x".to_string()
            } else if matches!(c & 0xf0, AND | OR | XOR) {
                format!("#0x{k:x}")
            } else {
                format!("#{}", k as i32)
            };
            (m, operand)
        }
        c => return format!("({n:03}) unimp 0x{c:x}"),
    };
    format!("({n:03}) {mnem:<8} {operand}")
}

/// The `tcpdump -d` listing, one line per instruction, each ending in a newline.
pub fn listing(prog: &[Insn]) -> String {
    let mut s = String::new();
    for (n, i) in prog.iter().enumerate() {
        s.push_str(&image(i, n));
        s.push('\n');
    }
    s
}

/// The `tcpdump -dd` listing (a C array body).
pub fn listing_c(prog: &[Insn]) -> String {
    let mut s = String::new();
    for i in prog {
        let _ = writeln!(
            s,
            "{{ 0x{:x}, {}, {}, 0x{:08x} }},",
            i.code, i.jt, i.jf, i.k
        );
    }
    s
}

/// The `tcpdump -ddd` listing (count, then decimal quadruples).
pub fn listing_decimal(prog: &[Insn]) -> String {
    let mut s = format!("{}\n", prog.len());
    for i in prog {
        let _ = writeln!(s, "{} {} {} {}", i.code, i.jt, i.jf, i.k);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::op::*;
    use super::*;

    #[test]
    fn images_match_tcpdump_layout() {
        let p = [
            Insn::stmt(LD | H | ABS, 12),
            Insn::jump(JMP | JEQ | K, 0x800, 0, 1),
            Insn::stmt(LDX | MSH | B, 14),
            Insn::stmt(LD | H | IND, 14),
            Insn::stmt(MISC | TAX, 0),
            Insn::stmt(ALU | AND | K, 0xf0),
            Insn::stmt(RET | K, 262144),
            Insn::stmt(LD | W | ABS, 0xffff_f004),
        ];
        assert_eq!(
            listing(&p),
            "(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 3\n\
             (002) ldxb     4*([14]&0xf)\n(003) ldh      [x + 14]\n(004) tax      \n\
             (005) and      #0xf0\n(006) ret      #262144\n(007) ld       [type]\n"
        );
        assert_eq!(listing_c(&p[..1]), "{ 0x28, 0, 0, 0x0000000c },\n");
        assert_eq!(listing_decimal(&p[..2]), "2\n40 0 0 12\n21 0 1 2048\n");
    }
}
