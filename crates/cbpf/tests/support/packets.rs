//! Builders for the synthetic packets of the differential tests.

#![allow(dead_code)]

use scry_cbpf::pcapio::Packet;
use std::time::Duration;

pub const MACS: [[u8; 6]; 4] = [
    [0x00, 0x11, 0x22, 0x33, 0x44, 0x55],
    [0x01, 0x02, 0x03, 0x04, 0x05, 0x06],
    [0xff; 6],
    [0x01, 0x00, 0x5e, 0x00, 0x00, 0x01],
];
pub const IP4: [[u8; 4]; 9] = [
    [127, 0, 0, 1],
    [10, 0, 0, 1],
    [10, 0, 0, 2],
    [192, 168, 1, 1],
    [1, 2, 3, 4],
    [5, 6, 7, 8],
    [224, 0, 0, 1],
    [255, 255, 255, 255],
    [172, 16, 5, 4],
];
pub const PORTS: [u16; 9] = [22, 53, 80, 443, 8080, 1000, 1500, 2000, 65535];

pub fn ip6(s: &str) -> [u8; 16] {
    s.parse::<std::net::Ipv6Addr>()
        .map(|a| a.octets())
        .unwrap_or([0; 16])
}

pub fn ip6_addrs() -> Vec<[u8; 16]> {
    [
        "::1",
        "2001:db8::1",
        "2001:db8:0:1::2",
        "fe80::1",
        "ff02::1",
    ]
    .iter()
    .map(|s| ip6(s))
    .collect()
}

/// A deterministic xorshift generator.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[(self.next_u64() % xs.len() as u64) as usize]
    }
}

pub fn tcp(sport: u16, dport: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    v.extend_from_slice(payload);
    v
}

pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(payload);
    v
}

pub fn icmp(ty: u8, code: u8) -> Vec<u8> {
    vec![ty, code, 0, 0, 0, 1, 0, 1, 0xde, 0xad]
}

/// IPv4 with `opts` extra header words, fragment field `frag`.
pub fn ipv4(
    proto: u8,
    src: [u8; 4],
    dst: [u8; 4],
    frag: u16,
    opts: usize,
    payload: &[u8],
) -> Vec<u8> {
    let hl = 20 + 4 * opts;
    let total = (hl + payload.len()) as u16;
    let mut v = vec![0x40 | (hl / 4) as u8, 0];
    v.extend_from_slice(&total.to_be_bytes());
    v.extend_from_slice(&[0x12, 0x34]);
    v.extend_from_slice(&frag.to_be_bytes());
    v.extend_from_slice(&[64, proto, 0, 0]);
    v.extend_from_slice(&src);
    v.extend_from_slice(&dst);
    v.extend(std::iter::repeat_n(1u8, 4 * opts));
    v.extend_from_slice(payload);
    v
}

/// IPv6; `ext` inserts a fragment (44) or hop-by-hop (0) header first.
pub fn ipv6(next: u8, src: [u8; 16], dst: [u8; 16], ext: Option<u8>, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    let first = match ext {
        Some(e) => {
            body.extend_from_slice(&[next, 0, 0, 0, 0, 0, 0, 0]);
            e
        }
        None => next,
    };
    body.extend_from_slice(payload);
    let mut v = vec![0x60, 0, 0, 0];
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(&[first, 64]);
    v.extend_from_slice(&src);
    v.extend_from_slice(&dst);
    v.extend_from_slice(&body);
    v
}

/// IPv6 with a chain of 8-byte extension headers of the given types.
pub fn ipv6_chain(exts: &[u8], last: u8, src: [u8; 16], dst: [u8; 16], payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (i, _) in exts.iter().enumerate() {
        let next = exts.get(i + 1).copied().unwrap_or(last);
        body.extend_from_slice(&[next, 0, 0, 0, 0, 0, 0, 0]);
    }
    body.extend_from_slice(payload);
    let first = exts.first().copied().unwrap_or(last);
    let mut v = vec![0x60, 0, 0, 0];
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(&[first, 64]);
    v.extend_from_slice(&src);
    v.extend_from_slice(&dst);
    v.extend_from_slice(&body);
    v
}

pub fn arp(op: u16, spa: [u8; 4], tpa: [u8; 4]) -> Vec<u8> {
    let mut v = vec![0, 1, 8, 0, 6, 4];
    v.extend_from_slice(&op.to_be_bytes());
    v.extend_from_slice(&MACS[0]);
    v.extend_from_slice(&spa);
    v.extend_from_slice(&[0; 6]);
    v.extend_from_slice(&tpa);
    v
}

pub fn ether(dst: [u8; 6], src: [u8; 6], ty: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&dst);
    v.extend_from_slice(&src);
    v.extend_from_slice(&ty.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

pub fn vlan(tpid: u16, id: u16, ty: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&tpid.to_be_bytes());
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(&ty.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// A network-layer packet and its Ethernet type.
pub struct L3 {
    pub ethertype: u16,
    pub bytes: Vec<u8>,
}

/// A varied set of network-layer packets.
pub fn l3_packets(rng: &mut Rng) -> Vec<L3> {
    let mut out = Vec::new();
    let flag_sets = [0x02u8, 0x12, 0x10, 0x11, 0x04, 0x18, 0x01, 0x29, 0xc2, 0x00];
    for i in 0..120 {
        let (s, d) = (rng.pick(&IP4), rng.pick(&IP4));
        let (sp, dp) = (rng.pick(&PORTS), rng.pick(&PORTS));
        let frag = match i % 9 {
            0 => 0x2000,
            1 => 0x00b9,
            _ => 0x4000,
        };
        let opts = if i % 7 == 0 { 1 } else { 0 };
        let (proto, payload) = match i % 6 {
            0 | 1 => (
                6,
                tcp(
                    sp,
                    dp,
                    flag_sets[i % flag_sets.len()],
                    if i % 4 == 0 { b"GET / HTTP/1.1" } else { b"" },
                ),
            ),
            2 => (17, udp(sp, dp, b"hello")),
            3 => (1, icmp(rng.pick(&[0u8, 3, 8, 11, 13]), (i % 3) as u8)),
            4 => (132, udp(sp, dp, b"sctp-ish-payload")),
            _ => (rng.pick(&[2u8, 50, 51, 103, 112, 47, 9]), vec![0x11; 24]),
        };
        out.push(L3 {
            ethertype: 0x800,
            bytes: ipv4(proto, s, d, frag, opts, &payload),
        });
    }
    let a6 = ip6_addrs();
    for i in 0..60 {
        let (s, d) = (rng.pick(&a6), rng.pick(&a6));
        let (sp, dp) = (rng.pick(&PORTS), rng.pick(&PORTS));
        let ext = match i % 5 {
            0 => Some(44),
            1 => Some(0),
            _ => None,
        };
        let (next, payload) = match i % 5 {
            0 | 2 => (6, tcp(sp, dp, flag_sets[i % flag_sets.len()], b"")),
            1 | 3 => (17, udp(sp, dp, b"x")),
            _ => (58, icmp(rng.pick(&[128u8, 129, 135, 136, 1]), 0)),
        };
        out.push(L3 {
            ethertype: 0x86dd,
            bytes: ipv6(next, s, d, ext, &payload),
        });
    }
    let chains: [&[u8]; 6] = [
        &[0, 60],
        &[0, 43, 44],
        &[60, 43, 60],
        &[44],
        &[0, 60, 43, 44, 60],
        &[43],
    ];
    for (i, chain) in chains.iter().enumerate() {
        for (j, last) in [6u8, 17, 58, 59].into_iter().enumerate() {
            let payload = if last == 17 {
                udp(1000, 53, b"q")
            } else {
                tcp(1000, 80, 0x02, b"")
            };
            let (s, d) = (a6[(i + j) % a6.len()], a6[(i + 2 * j + 1) % a6.len()]);
            out.push(L3 {
                ethertype: 0x86dd,
                bytes: ipv6_chain(chain, last, s, d, &payload),
            });
        }
    }
    for i in 0..16 {
        let ty = if i % 4 == 3 { 0x8035 } else { 0x806 };
        out.push(L3 {
            ethertype: ty,
            bytes: arp(1 + (i % 2) as u16, rng.pick(&IP4), rng.pick(&IP4)),
        });
    }
    out
}

/// Ethernet frames: plain, VLAN, Q-in-Q, MPLS, PPPoE, other ethertypes.
pub fn ethernet_frames(rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (i, l3) in l3_packets(rng).into_iter().enumerate() {
        let (d, s) = (rng.pick(&MACS), rng.pick(&MACS[..2]));
        let frame = match i % 11 {
            3 => ether(
                d,
                s,
                0x8100,
                &vlan_inner(
                    rng.pick(&[1u16, 5, 100, 200, 0x2064]),
                    l3.ethertype,
                    &l3.bytes,
                ),
            ),
            7 => {
                let inner = vlan_inner(rng.pick(&[10u16, 20]), l3.ethertype, &l3.bytes);
                ether(
                    d,
                    s,
                    0x88a8,
                    &vlan_inner(rng.pick(&[100u16, 200]), 0x8100, &inner),
                )
            }
            5 if l3.ethertype == 0x800 => {
                let label: u32 = rng.pick(&[100u32, 200, 16]);
                let mut m = ((label << 12) | 0x100 | 64).to_be_bytes().to_vec();
                m.extend_from_slice(&l3.bytes);
                ether(d, s, 0x8847, &m)
            }
            9 if l3.ethertype != 0x806 => {
                let ppp: u16 = if l3.ethertype == 0x800 { 0x21 } else { 0x57 };
                let mut p = vec![0x11, 0, 0, 5];
                p.extend_from_slice(&((l3.bytes.len() + 2) as u16).to_be_bytes());
                p.extend_from_slice(&ppp.to_be_bytes());
                p.extend_from_slice(&l3.bytes);
                ether(d, s, 0x8864, &p)
            }
            _ => ether(d, s, l3.ethertype, &l3.bytes),
        };
        out.push(frame);
    }
    out.extend(llc_frames());
    out.push(ether(MACS[2], MACS[0], 0x8863, &[0x11, 0x09, 0, 0, 0, 0]));
    out.push(ether(MACS[0], MACS[1], 0x0026, &[0x42, 0x42, 0x03, 0, 0]));
    out.push(ether(MACS[0], MACS[1], 0x88cc, &[0; 30]));
    out
}

fn vlan_inner(tci: u16, ty: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = tci.to_be_bytes().to_vec();
    v.extend_from_slice(&ty.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// Re-frames network-layer packets for another link type (by LINKTYPE number).
pub fn reframe(linktype: u32, l3: &L3) -> Option<Vec<u8>> {
    let et = l3.ethertype;
    let mut v = match linktype {
        101 => {
            if et == 0x806 || et == 0x8035 {
                return None;
            }
            Vec::new()
        }
        113 => {
            // Every other packet is outgoing (packet type 4).
            let pkttype = if l3.bytes.len().is_multiple_of(2) {
                4
            } else {
                0
            };
            let mut h = vec![0, pkttype, 0, 1, 0, 6];
            h.extend_from_slice(&MACS[0]);
            h.extend_from_slice(&[0, 0]);
            h.extend_from_slice(&et.to_be_bytes());
            h
        }
        276 => {
            let mut h = et.to_be_bytes().to_vec();
            let ifindex = 1 + (l3.bytes.len() % 3) as u8;
            let pkttype = if l3.bytes.len().is_multiple_of(2) {
                4
            } else {
                0
            };
            h.extend_from_slice(&[0, 0, 0, 0, 0, ifindex, 0, 1, pkttype, 6]);
            h.extend_from_slice(&MACS[0]);
            h.extend_from_slice(&[0, 0]);
            h
        }
        9 => {
            let proto: u16 = match et {
                0x800 => 0x21,
                0x86dd => 0x57,
                _ => return None,
            };
            let mut h = vec![0xff, 0x03];
            h.extend_from_slice(&proto.to_be_bytes());
            h
        }
        0 | 108 => {
            let af: u32 = match et {
                0x800 => 2,
                0x86dd => 10,
                _ => return None,
            };
            if linktype == 0 {
                af.to_le_bytes().to_vec()
            } else {
                af.to_be_bytes().to_vec()
            }
        }
        _ => return None,
    };
    v.extend_from_slice(&l3.bytes);
    Some(v)
}

/// Whole packets plus truncated copies; timestamps are indices.
pub fn with_truncations(frames: Vec<Vec<u8>>, rng: &mut Rng) -> Vec<Packet> {
    let mut out = Vec::new();
    for f in frames {
        let len = f.len() as u32;
        if rng.next_u64().is_multiple_of(3) && f.len() > 4 {
            let cut = 1 + (rng.next_u64() as usize % (f.len() - 1));
            out.push((f[..cut].to_vec(), len));
        }
        out.push((f, len));
    }
    out.into_iter()
        .enumerate()
        .map(|(i, (data, wirelen))| Packet {
            ts: Duration::from_micros(1_000_000 + i as u64),
            wirelen,
            data,
        })
        .collect()
}

/// IEEE 802.3 frames with 802.2 LLC/SNAP headers, and related Ethernet types.
pub fn llc_frames() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let dot3 = |payload: &[u8]| ether(MACS[3], MACS[0], payload.len() as u16, payload);
    out.push(dot3(&[0x42, 0x42, 0x03, 0, 0, 0, 0, 0]));
    for nlpid in [0x81u8, 0x82, 0x83] {
        for pdu in [0x0fu8, 0x10, 0x11, 0x12, 0x14, 0x18, 0x19, 0x1a, 0x1b, 0x05] {
            out.push(dot3(&[0xfe, 0xfe, 0x03, nlpid, 27, 1, 0, pdu, 1, 0, 0, 0]));
        }
    }
    out.push(dot3(&[0xf0, 0xf0, 0x03, 0, 0, 0]));
    out.push(dot3(&[0xff, 0xff, 0, 30, 0, 0]));
    out.push(dot3(&[0xe0, 0xe0, 0x03, 0xff, 0xff, 0, 30]));
    out.push(dot3(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x81, 0x37, 0, 0]));
    out.push(dot3(&[0xaa, 0xaa, 0x03, 0x08, 0, 0x07, 0x80, 0x9b, 0, 0]));
    out.push(dot3(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x80, 0xf3, 0, 0]));
    out.push(dot3(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 0x45, 0]));
    for ctl in [
        0x00u8, 0x01, 0x03, 0x05, 0x09, 0x13, 0x63, 0x43, 0x6f, 0xe3, 0xaf, 0x87, 0x10,
    ] {
        out.push(dot3(&[0x2a, 0x2a, ctl, 0, 0, 0]));
    }
    for ty in [
        0x8137u16, 0x809b, 0x80f3, 0x6003, 0x6004, 0x6007, 0x6001, 0x6002,
    ] {
        out.push(ether(MACS[0], MACS[1], ty, &[0; 20]));
    }
    out
}

/// IEEE 802.11 frames: every type/subtype family, DS flag combination and
/// address placement, at full length and cut after the addresses.
pub fn wlan_frames(rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let fcs = [
        0x00u8, 0x40, 0x80, 0xb0, 0xc0, 0xa4, 0xb4, 0xc4, 0xd4, 0x08, 0x48, 0x88, 0xc8, 0x0c,
    ];
    for (i, fc) in fcs.into_iter().enumerate() {
        for flags in [0u8, 1, 2, 3, 0x41] {
            let mut f = vec![fc, flags, 0, 0];
            for _ in 0..4 {
                f.extend_from_slice(&rng.pick(&MACS));
            }
            f.truncate(24);
            f.extend_from_slice(&[0x10, 0]);
            f.extend_from_slice(&rng.pick(&MACS));
            f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
            let cut = match (i + usize::from(flags)) % 4 {
                0 => 10,
                1 => 16,
                _ => f.len(),
            };
            f.truncate(cut);
            out.push(f);
        }
    }
    out
}

/// Radiotap-prefixed 802.11 frames (header lengths 8 to 26).
pub fn radiotap_frames(rng: &mut Rng) -> Vec<Vec<u8>> {
    wlan_frames(rng)
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let len = [8u16, 12, 18, 26][i % 4];
            let mut r = vec![0, 0];
            r.extend_from_slice(&len.to_le_bytes());
            r.extend_from_slice(&[0x2e, 0x48, 0, 0]);
            r.extend(std::iter::repeat_n(i as u8, usize::from(len) - 8));
            r.extend_from_slice(&f);
            r
        })
        .collect()
}

/// A Geneve header (version, option words, protocol, VNI) and its options.
pub fn geneve(version: u8, opt_words: u8, proto: u16, vni: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![(version << 6) | opt_words, 0];
    v.extend_from_slice(&proto.to_be_bytes());
    v.extend_from_slice(&(vni << 8).to_be_bytes());
    for w in 0..opt_words {
        v.extend_from_slice(&[0x01, 0x02, 0x80 | w, 0x00]);
    }
    v.extend_from_slice(payload);
    v
}

/// Geneve tunnels over IPv4 (with options and fragments) and IPv6, carrying
/// Ethernet frames or bare IP packets; some with another UDP port or a
/// Geneve version other than 0.
pub fn geneve_frames(rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let a6 = ip6_addrs();
    for (i, l3) in l3_packets(rng)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
    {
        let (version, port) = match i % 23 {
            0 => (1, 6081),
            11 => (0, 4789),
            _ => (0, 6081),
        };
        let opt_words = [0u8, 1, 3, 0, 2][i % 5];
        let vni = rng.pick(&[10u32, 20, 0xab_cdef]);
        let payload = match (i / 2) % 4 {
            // A bare IP packet, typed by Geneve's protocol field.
            3 if l3.ethertype != 0x806 => geneve(version, opt_words, l3.ethertype, vni, &l3.bytes),
            _ => {
                let inner = ether(
                    rng.pick(&MACS),
                    rng.pick(&MACS[..2]),
                    l3.ethertype,
                    &l3.bytes,
                );
                geneve(version, opt_words, 0x6558, vni, &inner)
            }
        };
        let u = udp(40000 + i as u16, port, &payload);
        let frame = if i % 6 == 4 {
            ether(
                MACS[0],
                MACS[1],
                0x86dd,
                &ipv6(17, rng.pick(&a6), rng.pick(&a6), None, &u),
            )
        } else {
            let frag = if i % 13 == 5 { 0x00b9 } else { 0x4000 };
            let opts = usize::from(i % 7 == 2);
            ether(
                MACS[1],
                MACS[0],
                0x800,
                &ipv4(17, rng.pick(&IP4), rng.pick(&IP4), frag, opts, &u),
            )
        };
        out.push(frame);
    }
    out
}
