//! Tunnels the parser opens when asked to ([`super::Options::decap`]): where the inner
//! packet of an outer IP packet starts, and what it is.

use super::link::{ip_by_version, ppp_ethertype, Network, ETH_HLEN, ETH_P_IPV4, ETH_P_IPV6};
use super::{bound, Frame, IpPacket, Note};
use crate::classify::IPPROTO_UDP;
use crate::flow::Tunnel;

const IPPROTO_IPIP: u8 = 4;
const IPPROTO_IPV6: u8 = 41;
const IPPROTO_GRE: u8 = 47;
pub const GTPU_PORT: u16 = 2152;
pub const VXLAN_PORT: u16 = 4789;
const GRE_TEB: u16 = 0x6558;
const GRE_PPP: u16 = 0x880b;
/// GTP-U extension headers walked before giving up on the tunnel.
const MAX_GTP_EXTENSIONS: usize = 4;

/// Where a tunnel's inner packet starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inner {
    /// An Ethernet frame (VXLAN, GRE transparent bridging) at this offset.
    Ethernet(usize),
    /// An ethertype (GRE's protocol, or PPP's mapped) and where its header starts.
    Ethertype(u16, usize),
    /// IP, family by the version nibble (GTP-U).
    Ip(usize),
    V4(usize),
    V6(usize),
}

impl Inner {
    /// The inner packet as an ethertype and the offset of the header it names, the
    /// one form every tunnel's inner packet is parsed from.
    #[inline(always)]
    pub fn ethertype(self, f: &Frame) -> Option<(u16, usize)> {
        match self {
            Inner::Ethernet(off) => f.be16(bound(off) + 12).map(|et| (et, off + ETH_HLEN)),
            Inner::Ethertype(et, off) => Some((et, off)),
            Inner::Ip(off) => match ip_by_version(f, bound(off)).ok()? {
                Network::V4(off) => Some((ETH_P_IPV4, off)),
                Network::V6(off) => Some((ETH_P_IPV6, off)),
            },
            Inner::V4(off) => Some((ETH_P_IPV4, off)),
            Inner::V6(off) => Some((ETH_P_IPV6, off)),
        }
    }
}

/// The tunnel an outer packet is, and its inner packet; `None` if it is none (or its
/// header is cut or of a kind not opened: it counts as the outer packet then). `l4`
/// is the outer packet's transport offset.
#[inline(always)]
pub fn open(f: &Frame, outer: &IpPacket, l4: usize) -> Option<(Tunnel, Inner)> {
    if outer.notes & (Note::NON_FIRST_FRAGMENT | Note::TRANSPORT_BROKEN) != 0 {
        return None;
    }
    let l4 = bound(l4);
    match outer.key.proto {
        IPPROTO_IPIP => Some((Tunnel::IpIp, Inner::V4(l4))),
        IPPROTO_IPV6 => Some((Tunnel::SixInFour, Inner::V6(l4))),
        IPPROTO_GRE => gre(f, l4).map(|i| (Tunnel::Gre, i)),
        IPPROTO_UDP => {
            let payload = l4 + 8;
            let (s, d) = (outer.key.src_port, outer.key.dst_port);
            if s == GTPU_PORT || d == GTPU_PORT {
                gtpu(f, payload).map(|i| (Tunnel::GtpU, i))
            } else if s == VXLAN_PORT || d == VXLAN_PORT {
                // Flags with the VNI-valid bit, then the inner Ethernet frame.
                let h = f.bytes::<8>(payload)?;
                (h[0] & 0x08 != 0).then_some((Tunnel::Vxlan, Inner::Ethernet(payload + 8)))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// GRE version 0 (RFC 2784/2890: optional checksum, key, sequence number) or
/// version 1 (PPTP: key, optional sequence and acknowledgement numbers).
#[inline(always)]
fn gre(f: &Frame, off: usize) -> Option<Inner> {
    let h = f.bytes::<4>(off)?;
    let (flags, version) = (h[0], h[1] & 0x07);
    let proto = u16::from_be_bytes([h[2], h[3]]);
    let mut len = 4;
    if version == 0 {
        // Routing present (RFC 1701 source routes) is not opened.
        if flags & 0x40 != 0 {
            return None;
        }
        if flags & 0x80 != 0 {
            len += 4;
        }
        if flags & 0x20 != 0 {
            len += 4;
        }
        if flags & 0x10 != 0 {
            len += 4;
        }
    } else if version == 1 && flags & 0x20 != 0 && proto == GRE_PPP {
        len += 4;
        if flags & 0x10 != 0 {
            len += 4;
        }
        if h[1] & 0x80 != 0 {
            len += 4;
        }
    } else {
        return None;
    }
    let inner = off + len;
    match proto {
        ETH_P_IPV4 | ETH_P_IPV6 => Some(Inner::Ethertype(proto, inner)),
        GRE_TEB => Some(Inner::Ethernet(inner)),
        GRE_PPP => ppp(f, inner),
        _ => None,
    }
}

/// A PPP frame inside GRE: address and control (0xff 0x03) may be left out, and the
/// protocol field compressed to one byte (odd values).
#[inline(always)]
fn ppp(f: &Frame, mut off: usize) -> Option<Inner> {
    let b = f.bytes::<2>(off)?;
    if b[0] == 0xff && b[1] == 0x03 {
        off += 2;
    }
    let p = f.bytes::<2>(off)?;
    let (proto, len) = if p[0] & 0x01 != 0 { (p[0] as u16, 1) } else { (u16::from_be_bytes(*p), 2) };
    match ppp_ethertype(proto) {
        0 => None,
        et => Some(Inner::Ethertype(et, off + len)),
    }
}

/// A GTP-U G-PDU (version 1, message type 255): 8 bytes, 4 more when any of the
/// sequence, N-PDU or extension flags is set, then extension headers.
#[inline(always)]
fn gtpu(f: &Frame, off: usize) -> Option<Inner> {
    let h = f.bytes::<8>(off)?;
    let flags = h[0];
    if flags >> 5 != 1 || flags & 0x10 == 0 || h[1] != 0xff {
        return None;
    }
    if flags & 0x07 == 0 {
        return Some(Inner::Ip(off + 8));
    }
    // Sequence number (2), N-PDU number (1), next extension type (1).
    let opt = f.bytes::<4>(off + 8)?;
    let mut next = if flags & 0x04 != 0 { opt[3] } else { 0 };
    let mut at = off + 12;
    let mut i = 0;
    while i < MAX_GTP_EXTENSIONS {
        if next == 0 {
            return Some(Inner::Ip(at));
        }
        // Length in 4-byte units, the next type in the header's last byte.
        let units = f.bytes::<4>(at)?[0] as usize;
        if units == 0 {
            return None;
        }
        // Masked, so the compiler cannot fold the two reads into one bound that the
        // verifier would not relate to the second.
        let last = bound(at + units * 4 - 4);
        next = f.bytes::<4>(last)?[3];
        at = last + 4;
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use super::{GTPU_PORT, VXLAN_PORT};
    use crate::flow::{FlowKey, Tunnel};
    use crate::frames::*;
    use crate::parse::tests::ip;
    use crate::parse::*;

    const OUTER_A: [u8; 4] = [203, 0, 113, 1];
    const OUTER_B: [u8; 4] = [203, 0, 113, 2];

    fn parse_with(f: &[u8], decap: bool) -> IpPacket {
        ip(parse_ethernet(&Frame::from_slice(f, f.len()), Options { decap }))
    }

    /// The inner packet: UDP 192.0.2.1:4004 -> 198.51.100.2:8008, 58 bytes.
    fn inner() -> Vec<u8> {
        ipv4(17, 0, &udp(4004, 8008, 30), 0)
    }

    fn inner_key(t: Tunnel) -> FlowKey {
        FlowKey { tunnel: t as u8, ..FlowKey::v4(17, [192, 0, 2, 1], [198, 51, 100, 2], 4004, 8008) }
    }

    fn outer(proto: u8, l4: &[u8]) -> Vec<u8> {
        frame(&[&eth(ETH_P_IPV4, &[]), &ipv4_between(OUTER_A, OUTER_B, proto, l4)])
    }

    fn over_udp(port: u16, hdr: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut u = udp(port + 1, port, 0);
        u.extend_from_slice(hdr);
        u.extend_from_slice(payload);
        let len = u.len() as u16;
        u[4..6].copy_from_slice(&len.to_be_bytes());
        outer(17, &u)
    }

    /// Each tunnel: the inner flow counts with the tunnel named when asked to
    /// decapsulate, the outer flow otherwise.
    #[test]
    fn test_decap_every_tunnel() {
        let v4 = inner();
        let eth_v4 = frame(&[&eth(ETH_P_IPV4, &[]), &v4]);
        let cases: [(Tunnel, Vec<u8>, u8); 9] = [
            (Tunnel::IpIp, outer(4, &v4), 4),
            (Tunnel::Gre, outer(47, &[&gre(ETH_P_IPV4, false, false)[..], &v4].concat()), 47),
            (Tunnel::Gre, outer(47, &[&gre(ETH_P_IPV4, true, true)[..], &v4].concat()), 47),
            (Tunnel::Gre, outer(47, &[&gre(0x6558, true, false)[..], &eth_v4].concat()), 47),
            (Tunnel::Gre, outer(47, &[&gre_pptp(v4.len() + 4, 0x0021)[..], &v4].concat()), 47),
            (Tunnel::GtpU, over_udp(GTPU_PORT, &gtpu(v4.len(), false), &v4), 17),
            (Tunnel::GtpU, over_udp(GTPU_PORT, &gtpu(v4.len(), true), &v4), 17),
            (Tunnel::Vxlan, over_udp(VXLAN_PORT, &vxlan(), &eth_v4), 17),
            (Tunnel::Vxlan, over_udp(VXLAN_PORT, &vxlan(), &frame(&[&eth(ETH_P_IPV4, &[ETH_P_8021Q]), &v4])), 17),
        ];
        for (i, (t, f, outer_proto)) in cases.iter().enumerate() {
            let p = parse_with(f, true);
            assert_eq!(p.key, inner_key(*t), "case {i}");
            assert_eq!((p.ip_len, p.payload_len, p.l4_offset as usize), (58, 30, f.len() - 38), "case {i}");
            assert!(p.decapsulated());
            let o = parse_with(f, false);
            assert_eq!((o.key.proto, o.key.tunnel, o.ip_len as usize), (*outer_proto, 0, f.len() - 14), "case {i}");
        }
    }

    #[test]
    fn test_decap_ipv6_inside_and_outside() {
        let v6 = ipv6(17, &[], &udp(5, 6, 10));
        let p = parse_with(&outer(41, &v6), true);
        assert_eq!((p.key.tunnel, p.key.family, p.key.src_port), (Tunnel::SixInFour as u8, 6, 5));
        let p = parse_with(&over_udp(GTPU_PORT, &gtpu(v6.len(), false), &v6), true);
        assert_eq!((p.key.tunnel, p.key.family, p.ip_len), (Tunnel::GtpU as u8, 6, 58));
        // IPv4 in IPv6 (4in6).
        let f = frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(4, &[], &inner())]);
        assert_eq!(parse_with(&f, true).key, inner_key(Tunnel::IpIp));
    }

    /// A tunnel whose inner packet cannot be read counts as the outer packet.
    #[test]
    fn test_decap_unreadable_inner_counts_the_outer() {
        let v4 = inner();
        let cases = [
            outer(4, &v4[..10]),
            outer(47, &[&gre(0x0806, false, false)[..], &[0; 28]].concat()),
            outer(47, &[&[0x40, 0, 0x08, 0][..], &v4].concat()),
            over_udp(GTPU_PORT, &[0x32, 0x01, 0, 4, 0, 0, 0, 1, 0, 1, 0, 0], &[]),
            over_udp(VXLAN_PORT, &[0; 8], &frame(&[&eth(ETH_P_IPV4, &[]), &v4])),
        ];
        for (i, f) in cases.iter().enumerate() {
            let p = parse_with(f, true);
            assert_eq!((p.key.tunnel, &p.key.src_addr[12..]), (0, &OUTER_A[..]), "case {i}");
        }
        // Not a tunnel at all: a fragment of one.
        let frag = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(4, 0, &v4, 0x0010)]);
        assert_eq!(parse_with(&frag, true).key.tunnel, 0);
    }
}
