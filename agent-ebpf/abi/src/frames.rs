//! Frame builders for tests of the parser and the kernel program (feature `test-support`):
//! Ethernet with VLAN tags, IPv4 with options and fragments, IPv6 with extension
//! headers, TCP and UDP. Addresses are from the documentation ranges.

extern crate std;
use std::vec::Vec;

pub use crate::parse::{ETH_P_8021AD, ETH_P_8021Q, ETH_P_IPV4, ETH_P_IPV6, ETH_P_MPLS_UC, ETH_P_PPP_SES};

pub fn eth(ethertype: u16, vlans: &[u16]) -> Vec<u8> {
    let mut f = std::vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    let mut tpid_next = ethertype;
    let mut tags = Vec::new();
    for (i, &tpid) in vlans.iter().enumerate() {
        let inner = if i + 1 < vlans.len() { vlans[i + 1] } else { ethertype };
        tags.extend_from_slice(&[0x00, 0x05]);
        tags.extend_from_slice(&inner.to_be_bytes());
        if i == 0 {
            tpid_next = tpid;
        }
    }
    f.extend_from_slice(&tpid_next.to_be_bytes());
    f.extend_from_slice(&tags);
    f
}

pub fn ipv4(proto: u8, options: usize, l4: &[u8], frag: u16) -> Vec<u8> {
    let ihl = 20 + options;
    let tot = (ihl + l4.len()) as u16;
    let mut h = std::vec![0x40 | (ihl / 4) as u8, 0];
    h.extend_from_slice(&tot.to_be_bytes());
    h.extend_from_slice(&[0, 0]);
    h.extend_from_slice(&frag.to_be_bytes());
    h.extend_from_slice(&[64, proto, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2]);
    h.extend(core::iter::repeat_n(1u8, options));
    h.extend_from_slice(l4);
    h
}

pub fn udp(sport: u16, dport: u16, payload: usize) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend(core::iter::repeat_n(0xab, payload));
    u
}

pub fn tcp(sport: u16, dport: u16, flags: u8, options: usize, payload: usize) -> Vec<u8> {
    let doff = 20 + options;
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&[0; 8]);
    t.push(((doff / 4) as u8) << 4);
    t.push(flags);
    t.extend_from_slice(&[0; 6]);
    t.extend(core::iter::repeat_n(1, options));
    t.extend(core::iter::repeat_n(0xcd, payload));
    t
}

pub fn ipv6(next: u8, ext: &[u8], l4: &[u8]) -> Vec<u8> {
    let mut h = std::vec![0x60, 0, 0, 0];
    h.extend_from_slice(&((ext.len() + l4.len()) as u16).to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    h.extend_from_slice(ext);
    h.extend_from_slice(l4);
    h
}

pub fn frame(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// IPv4 between given addresses, no options, not fragmented.
pub fn ipv4_between(src: [u8; 4], dst: [u8; 4], proto: u8, l4: &[u8]) -> Vec<u8> {
    let mut h = ipv4(proto, 0, l4, 0);
    h[12..16].copy_from_slice(&src);
    h[16..20].copy_from_slice(&dst);
    h
}

/// A PPPoE session header (code 0, session 0x1234) and the PPP protocol number.
pub fn pppoe(ppp_proto: u16, payload_len: usize) -> Vec<u8> {
    let mut h = std::vec![0x11, 0x00, 0x12, 0x34];
    h.extend_from_slice(&((payload_len + 2) as u16).to_be_bytes());
    h.extend_from_slice(&ppp_proto.to_be_bytes());
    h
}

/// An MPLS label stack: labels 100, 101, ... with the last one bottom-of-stack.
pub fn mpls(labels: usize) -> Vec<u8> {
    let mut h = Vec::new();
    for i in 0..labels {
        let label = 100 + i as u32;
        let bos = if i + 1 == labels { 1 } else { 0 };
        h.extend_from_slice(&((label << 12) | (bos << 8) | 64).to_be_bytes());
    }
    h
}

/// A GRE header (version 0) with the given protocol, optionally a key and a sequence
/// number.
pub fn gre(proto: u16, key: bool, seq: bool) -> Vec<u8> {
    let flags = if key { 0x20 } else { 0 } | if seq { 0x10 } else { 0 };
    let mut h = std::vec![flags, 0];
    h.extend_from_slice(&proto.to_be_bytes());
    if key {
        h.extend_from_slice(&[0, 0, 0, 7]);
    }
    if seq {
        h.extend_from_slice(&[0, 0, 0, 1]);
    }
    h
}

/// PPTP's enhanced GRE (version 1, key, sequence number) carrying PPP with address and
/// control bytes: `ff 03` and the protocol.
pub fn gre_pptp(payload_len: usize, ppp_proto: u16) -> Vec<u8> {
    let mut h = std::vec![0x30, 0x01, 0x88, 0x0b];
    h.extend_from_slice(&((payload_len + 4) as u16).to_be_bytes());
    h.extend_from_slice(&[0, 9, 0, 0, 0, 1, 0xff, 0x03]);
    h.extend_from_slice(&ppp_proto.to_be_bytes());
    h
}

/// A GTP-U G-PDU header for `inner_len` bytes, with the optional sequence field (and
/// one PDU-session extension header) when `ext`.
pub fn gtpu(inner_len: usize, ext: bool) -> Vec<u8> {
    let extra = if ext { 4 + 8 } else { 0 };
    let mut h = std::vec![if ext { 0x36 } else { 0x30 }, 0xff];
    h.extend_from_slice(&((inner_len + extra) as u16).to_be_bytes());
    h.extend_from_slice(&[0, 0, 0, 42]);
    if ext {
        // Sequence 0, N-PDU 0, next: PDU session container (0x85), 8 bytes, then none.
        h.extend_from_slice(&[0, 0, 0, 0x85]);
        h.extend_from_slice(&[2, 0x10, 0x09, 0, 0, 0, 0, 0]);
    }
    h
}

/// A VXLAN header (VNI 42).
pub fn vxlan() -> Vec<u8> {
    std::vec![0x08, 0, 0, 0, 0, 0, 42, 0]
}

/// A Cisco FabricPath outer header (addresses, ethertype 0x8903, FTag/TTL).
pub fn fabricpath() -> Vec<u8> {
    let mut h = std::vec![0x02, 0, 0, 0, 0, 3, 0x02, 0, 0, 0, 0, 4, 0x89, 0x03, 0x00, 0x3f];
    h.extend_from_slice(&eth(0, &[])[..12]);
    h
}
