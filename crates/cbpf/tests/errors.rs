//! Invalid and not-yet-supported expressions: scry must return an error (with
//! a column for lexical, syntax and semantic errors), never panic, and libpcap
//! must reject the same invalid expressions.

use scry_cbpf::{Options, compile};
use std::process::Command;

/// Invalid expressions and a fragment of scry's message.
const INVALID: &[(&str, &str)] = &[
    (
        "port 80 443",
        "expected 'and', 'or' or the end of the expression, found number 443 at column 9",
    ),
    ("tcp and", "at column 8"),
    ("host", "expected a host, network, port or protocol value"),
    ("ip[0:3] = 1", "data size must be 1, 2, or 4 at column 6"),
    ("ip[1 = 2", "expected ']', found '=' at column 6"),
    ("port 70000", "illegal port number 70000 > 65535"),
    ("vlan 5000", "VLAN tag 5000 greater than maximum 4095"),
    ("ip[0] / 0 = 1", "division by zero at column 7"),
    ("ip[0] % 0 = 1", "modulus by zero"),
    ("ip[0] << 33 = 1", "more than 31 bits"),
    ("08", "number 08 contains non-octal digit at column 1"),
    (
        "ip[4294967296] = 1",
        "number 4294967296 overflows 32 bits at column 4",
    ),
    ("tcp host 1.2.3.4", "'tcp' modifier applied to host"),
    ("ether host 1.2.3.4", "needs an ethernet address"),
    ("net 10.1.2.3/8", "non-network bits set"),
    ("ip6 host 1.2.3.4", "'ip6' modifier applied to ip host"),
    ("ip host ::1", "'ip' modifier applied to ip6 host"),
    ("(tcp", "expected ')'"),
    ("tcp)", "found ')' at column 4"),
    ("and", "at column 1"),
    ("not", "at column 4"),
    ("ip6 broadcast", "broadcast"),
    ("arp port 80", "illegal qualifier 'arp' of 'port'"),
    ("ip portrange 1-2", "illegal qualifier 'ip' of 'portrange'"),
    (
        "mpls 1048576",
        "MPLS label 1048576 greater than maximum 1048575",
    ),
    (
        "geneve 16777216",
        "Geneve VNI 16777216 greater than maximum 16777215 at column 1",
    ),
    (
        "pppoes 70000",
        "PPPoE session number 70000 greater than maximum 65535",
    ),
    ("host 1.2.3.256", "bogus IPv4 address 1.2.3.256 at column 6"),
    ("ip6 net ::/129", "mask length must be <= 128"),
    ("net 1.2.3.4/33", "mask length must be <= 32"),
    ("= 1", "at column 1"),
    ("ip[0] =", "at column 8"),
    ("len >", "at column 6"),
    ("tcp[0] & = 1", "at column 10"),
    ("port foo", "unknown port name 'foo'"),
    ("ip proto nosuch", "unknown ip proto 'nosuch'"),
    ("less", "expected a length"),
    ("greater x", "expected a length"),
    ("ip multicast and", "at column 17"),
    ("1 +", "at column 4"),
    ("ip[0:4:2] = 1", "bogus address 0:4:2 at column 4"),
    ("ip6 and tcp[0] = 1", "expression rejects all packets"),
    ("ip and arp", "expression rejects all packets"),
    ("1 = 0", "expression rejects all packets"),
    (
        "host 1.2.3.4 mask 255.0.0.0",
        "mask syntax for networks only",
    ),
    ("src or", "at column 5"),
    ("ether src", "at column 10"),
    ("tcp[0] = 1 and (udp or", "at column 23"),
    ("ip[0] & 0xf > > 5", "at column 15"),
    ("a $ b", "unexpected character '$' at column 3"),
    ("tcp protochain 6", "bad protocol applied for 'protochain'"),
    (
        "type mgt",
        "802.11 link-layer types supported only on 802.11",
    ),
    (
        "wlan ra 1:2:3:4:5:6",
        "802.11 address qualifiers need an 802.11 link",
    ),
    ("type foo", "unknown 802.11 type name \"foo\" at column 6"),
    ("dir 7", "expected an 802.11 dir value at column 5"),
    (
        "radio[0] = 1",
        "'radio' accessor needs link type IEEE802_11_RADIO at column 1",
    ),
];

/// Constructs of the language that scry does not implement yet.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "decnet host 1.2",
        "'decnet host' is not supported by scry yet",
    ),
    ("gateway foo", "'gateway' is not supported by scry yet"),
    (
        "geneve and geneve",
        "'geneve' inside geneve is not supported by scry yet at column 12",
    ),
    (
        "geneve and ip[ip[0]] = 1",
        "computed offsets on packet data after 'geneve' are not supported by scry yet",
    ),
    (
        "geneve and ip[0] = ip[1]",
        "arithmetic or computed offsets on packet data after 'geneve' are not supported",
    ),
    (
        "host example.invalid",
        "unknown host 'example.invalid' (scry resolves names through /etc/hosts only)",
    ),
    ("vxlan", "'vxlan' is not supported by scry yet"),
];

fn libpcap_rejects(expr: &str) -> Option<bool> {
    let out = Command::new("tcpdump")
        .args(["-d", "-y", "EN10MB", "--", expr])
        .output()
        .ok()?;
    Some(!out.status.success())
}

#[test]
fn invalid_expressions_fail_with_positions() {
    let have = libpcap_rejects("ip").is_some();
    if !have && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("tcpdump is required in CI");
    }
    for (expr, want) in INVALID {
        let err = compile(expr, &Options::default())
            .expect_err(expr)
            .to_string();
        assert!(err.contains(want), "{expr:?}: got {err:?}, want {want:?}");
        if !err.contains("rejects all packets") {
            assert!(
                err.contains(" at column "),
                "{expr:?}: no position in {err:?}"
            );
        }
        if have {
            assert_eq!(
                libpcap_rejects(expr),
                Some(true),
                "libpcap accepts {expr:?}"
            );
        }
    }
}

#[test]
fn unsupported_constructs_are_named() {
    let raw = Options {
        linktype: scry_cbpf::LinkType::Raw,
        ..Options::default()
    };
    let err = compile("stp", &raw).expect_err("stp on RAW").to_string();
    assert_eq!(
        err,
        "'stp' on link type RAW is not supported by scry yet at column 1"
    );
    for (expr, want) in UNSUPPORTED {
        let err = compile(expr, &Options::default())
            .expect_err(expr)
            .to_string();
        assert!(err.contains(want), "{expr:?}: got {err:?}, want {want:?}");
    }
}

#[test]
fn random_token_soup_never_panics() {
    const TOKENS: &[&str] = &[
        "ip",
        "tcp",
        "udp",
        "host",
        "net",
        "port",
        "src",
        "dst",
        "and",
        "or",
        "not",
        "(",
        ")",
        "[",
        "]",
        ":",
        "1",
        "0",
        "80",
        "0x10",
        "1.2.3.4",
        "10",
        "::1",
        "1:2:3:4:5:6",
        "/",
        "mask",
        "=",
        "!=",
        ">",
        "<",
        "+",
        "-",
        "*",
        "&",
        "|",
        "<<",
        ">>",
        "len",
        "vlan",
        "mpls",
        "pppoes",
        "ether",
        "proto",
        "less",
        "greater",
        "broadcast",
        "multicast",
        "tcpflags",
        "tcp-syn",
        "icmp",
        "ip6",
        "portrange",
        "1-2",
        "\\ip",
        "!",
        "%",
    ];
    let mut x: u64 = 0x1234_5678_9abc_def1;
    for _ in 0..20_000 {
        let mut s = String::new();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for _ in 0..(x % 9) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push_str(TOKENS[(x % TOKENS.len() as u64) as usize]);
            s.push(' ');
        }
        for optimize in [true, false] {
            if let Ok(p) = compile(
                &s,
                &Options {
                    optimize,
                    ..Options::default()
                },
            ) {
                scry_cbpf::interp::validate(&p).unwrap_or_else(|e| panic!("{s:?}: {e}"));
            }
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    // Runs on a test thread (2 MiB stack by default).
    let deep = format!("{}ip{}", "(".repeat(100_000), ")".repeat(100_000));
    let err = compile(&deep, &Options::default()).unwrap_err().to_string();
    assert!(err.contains("nested too deeply"), "{err}");
    let nots = format!("{}ip", "not ".repeat(100_000));
    assert!(compile(&nots, &Options::default()).is_err());
    let minus = format!("{}1 = 1", "-".repeat(100_000));
    assert!(compile(&minus, &Options::default()).is_err());
}

#[test]
fn long_expressions_compile() {
    let long: Vec<String> = (0..5_000)
        .map(|i| format!("ip[{}] = {}", i % 60, i % 7))
        .collect();
    let prog = compile(&long.join(" or "), &Options::default()).expect("compiles");
    assert!(prog.len() > 100);
}
