//! Link-layer types (`-y NAME`), their pcap LINKTYPE numbers and header layout.

use std::fmt;

/// A supported link-layer header type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// Ethernet (DLT_EN10MB).
    En10mb,
    /// Raw IPv4/IPv6 (DLT_RAW).
    Raw,
    /// Linux cooked capture v1.
    LinuxSll,
    /// Linux cooked capture v2.
    LinuxSll2,
    /// BSD loopback, address family in host byte order.
    Null,
    /// OpenBSD loopback, address family in network byte order.
    Loop,
    /// PPP with address/control bytes.
    Ppp,
    /// IEEE 802.11 without radio information.
    Ieee80211,
    /// IEEE 802.11 after a radiotap header.
    Ieee80211Radio,
}

/// Every supported link type.
pub const ALL: [LinkType; 9] = [
    LinkType::En10mb,
    LinkType::Raw,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Null,
    LinkType::Loop,
    LinkType::Ppp,
    LinkType::Ieee80211,
    LinkType::Ieee80211Radio,
];

impl LinkType {
    /// Parses a tcpdump `-y` name (case-insensitive).
    pub fn from_name(name: &str) -> Option<LinkType> {
        ALL.iter()
            .copied()
            .find(|l| l.name().eq_ignore_ascii_case(name))
    }
    /// The tcpdump `-y` name.
    pub fn name(self) -> &'static str {
        match self {
            LinkType::En10mb => "EN10MB",
            LinkType::Raw => "RAW",
            LinkType::LinuxSll => "LINUX_SLL",
            LinkType::LinuxSll2 => "LINUX_SLL2",
            LinkType::Null => "NULL",
            LinkType::Loop => "LOOP",
            LinkType::Ppp => "PPP",
            LinkType::Ieee80211 => "IEEE802_11",
            LinkType::Ieee80211Radio => "IEEE802_11_RADIO",
        }
    }
    /// The LINKTYPE number stored in pcap file headers.
    pub fn linktype(self) -> u32 {
        match self {
            LinkType::En10mb => 1,
            LinkType::Raw => 101,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::Null => 0,
            LinkType::Loop => 108,
            LinkType::Ppp => 9,
            LinkType::Ieee80211 => 105,
            LinkType::Ieee80211Radio => 127,
        }
    }
    /// Maps a pcap LINKTYPE number (or a Linux DLT alias) to a link type.
    pub fn from_linktype(n: u32) -> Option<LinkType> {
        Some(match n {
            1 => LinkType::En10mb,
            101 | 12 | 14 => LinkType::Raw,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            0 => LinkType::Null,
            108 => LinkType::Loop,
            9 => LinkType::Ppp,
            105 => LinkType::Ieee80211,
            127 => LinkType::Ieee80211Radio,
            _ => return None,
        })
    }
    /// Offset of the network-layer header.
    pub fn net_offset(self) -> u32 {
        match self {
            LinkType::En10mb => 14,
            LinkType::Raw => 0,
            LinkType::LinuxSll => 16,
            LinkType::LinuxSll2 => 20,
            LinkType::Null | LinkType::Loop | LinkType::Ppp => 4,
            // Variable (24-30 bytes plus LLC/SNAP); network-layer tests are
            // not supported on it yet.
            LinkType::Ieee80211 | LinkType::Ieee80211Radio => 0,
        }
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for l in ALL {
            assert_eq!(LinkType::from_name(l.name()), Some(l));
            assert_eq!(LinkType::from_linktype(l.linktype()), Some(l));
        }
        assert_eq!(LinkType::from_name("en10mb"), Some(LinkType::En10mb));
        assert_eq!(LinkType::from_name("FOO"), None);
    }
}
