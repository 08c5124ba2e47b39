//! Frame builders for tests of the parser and the kernel program (feature `test-support`):
//! Ethernet with VLAN tags, IPv4 with options and fragments, IPv6 with extension
//! headers, TCP and UDP. Addresses are from the documentation ranges.

extern crate std;
use std::vec::Vec;

pub use crate::parse::{ETH_P_8021AD, ETH_P_8021Q, ETH_P_IPV4, ETH_P_IPV6};

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
