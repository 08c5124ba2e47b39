//! From an ethertype to the IP header: Cisco FabricPath, VLAN tags, a PPPoE session
//! header or an MPLS label stack, in the order they nest on the wire. Written as
//! straight-line steps (no general loop over encapsulations) so the verifier sees a
//! handful of paths rather than every permutation.

use super::{bound, Frame, Parsed, MAX_MPLS_LABELS, MAX_VLAN_TAGS};

pub const ETH_HLEN: usize = 14;
pub const ETH_P_IPV4: u16 = 0x0800;
pub const ETH_P_IPV6: u16 = 0x86dd;
pub const ETH_P_8021Q: u16 = 0x8100;
pub const ETH_P_8021AD: u16 = 0x88a8;
/// The pre-standard QinQ outer tag some switches still send.
pub const ETH_P_QINQ_9100: u16 = 0x9100;
pub const ETH_P_PPP_SES: u16 = 0x8864;
pub const ETH_P_MPLS_UC: u16 = 0x8847;
pub const ETH_P_MPLS_MC: u16 = 0x8848;
/// Cisco FabricPath (DCE): a 16-byte outer header before the classic Ethernet frame.
pub const ETH_P_FABRICPATH: u16 = 0x8903;

/// PPP protocol numbers (PPPoE sessions, PPP links, PPTP's GRE).
pub const PPP_IPV4: u16 = 0x0021;
pub const PPP_IPV6: u16 = 0x0057;
pub const PPP_MPLS_UC: u16 = 0x0281;
pub const PPP_MPLS_MC: u16 = 0x0283;

/// The network header the link layer leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    V4(usize),
    V6(usize),
}

/// The ethertype a PPP protocol number stands for (0: none peerscope reads).
#[inline(always)]
pub fn ppp_ethertype(proto: u16) -> u16 {
    match proto {
        PPP_IPV4 => ETH_P_IPV4,
        PPP_IPV6 => ETH_P_IPV6,
        PPP_MPLS_UC => ETH_P_MPLS_UC,
        PPP_MPLS_MC => ETH_P_MPLS_MC,
        _ => 0,
    }
}

#[inline(always)]
fn is_vlan(et: u16) -> bool {
    et == ETH_P_8021Q || et == ETH_P_8021AD || et == ETH_P_QINQ_9100
}

/// Walks the encapsulations that follow an ethertype `et` found just before `off`.
#[inline(always)]
pub fn to_network(f: &Frame, off: usize, et: u16) -> Result<Network, Parsed> {
    let (mut off, mut et) = (bound(off), et);
    if et == ETH_P_FABRICPATH {
        // FTag/TTL (2), then the inner frame's addresses (12) and its ethertype.
        et = f.be16(off + 14).ok_or(Parsed::Truncated)?;
        off += 16;
    }
    let mut i = 0;
    while i < MAX_VLAN_TAGS {
        if !is_vlan(et) {
            break;
        }
        et = f.be16(off + 2).ok_or(Parsed::Truncated)?;
        off += 4;
        i += 1;
    }
    if is_vlan(et) {
        return Err(Parsed::VlanTooDeep);
    }
    if et == ETH_P_PPP_SES {
        // Version/type 0x11, code 0 (session data), session id, length, PPP protocol.
        let h = f.bytes::<8>(off).ok_or(Parsed::Truncated)?;
        if h[0] != 0x11 || h[1] != 0 {
            return Err(Parsed::NonIp);
        }
        et = ppp_ethertype(u16::from_be_bytes([h[6], h[7]]));
        off += 8;
    }
    if et == ETH_P_MPLS_UC || et == ETH_P_MPLS_MC {
        return mpls(f, off);
    }
    match et {
        ETH_P_IPV4 => Ok(Network::V4(off)),
        ETH_P_IPV6 => Ok(Network::V6(off)),
        _ => Err(Parsed::NonIp),
    }
}

/// An MPLS label stack to its bottom, then IP by its version nibble (anything else
/// under the stack, e.g. a pseudowire, is not IP).
#[inline(always)]
fn mpls(f: &Frame, mut off: usize) -> Result<Network, Parsed> {
    let mut i = 0;
    while i < MAX_MPLS_LABELS {
        let l = f.bytes::<4>(off).ok_or(Parsed::Truncated)?;
        off += 4;
        if l[2] & 0x01 != 0 {
            return ip_by_version(f, off);
        }
        i += 1;
    }
    Err(Parsed::MplsTooDeep)
}

/// IP at `off`, its family told by the version nibble (raw IP, MPLS, GTP-U).
#[inline(always)]
pub fn ip_by_version(f: &Frame, off: usize) -> Result<Network, Parsed> {
    match f.bytes::<2>(off).ok_or(Parsed::Truncated)?[0] >> 4 {
        4 => Ok(Network::V4(off)),
        6 => Ok(Network::V6(off)),
        _ => Err(Parsed::NonIp),
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::{PPP_IPV4, PPP_IPV6, PPP_MPLS_UC};
    use crate::frames::*;
    use crate::parse::tests::{ip, parse};
    use crate::parse::*;

    fn udp4() -> std::vec::Vec<u8> {
        ipv4(17, 0, &udp(4004, 8008, 30), 0)
    }

    #[test]
    fn test_parse_vlan_qinq_and_the_9100_tag() {
        for vlans in [&[ETH_P_8021Q][..], &[ETH_P_8021AD, ETH_P_8021Q][..], &[ETH_P_QINQ_9100, ETH_P_8021Q][..]] {
            let p = ip(parse(&frame(&[&eth(ETH_P_IPV4, vlans), &udp4()])));
            assert_eq!(p.l3_offset as usize, 14 + 4 * vlans.len());
            assert_eq!((p.key.src_port, p.key.dst_port, p.payload_len), (4004, 8008, 30));
        }
    }

    #[test]
    fn test_parse_three_vlan_tags_are_too_deep() {
        let f = frame(&[&eth(ETH_P_IPV4, &[ETH_P_8021AD, ETH_P_8021Q, ETH_P_8021Q]), &udp4()]);
        assert_eq!(parse(&f), Parsed::VlanTooDeep);
    }

    #[test]
    fn test_parse_pppoe_session() {
        let inner = udp4();
        for vlans in [&[][..], &[ETH_P_8021Q][..]] {
            let f = frame(&[&eth(ETH_P_PPP_SES, vlans), &pppoe(PPP_IPV4, inner.len()), &inner]);
            let p = ip(parse(&f));
            assert_eq!((p.l3_offset as usize, p.key.dst_port, p.ip_len), (14 + 4 * vlans.len() + 8, 8008, 58));
        }
        let v6 = ipv6(17, &[], &udp(1, 2, 3));
        let p = ip(parse(&frame(&[&eth(ETH_P_PPP_SES, &[]), &pppoe(PPP_IPV6, v6.len()), &v6])));
        assert_eq!(p.key.family, crate::flow::FAMILY_V6);
        // LCP inside the session is not IP; a discovery-stage code is not a session.
        let lcp = frame(&[&eth(ETH_P_PPP_SES, &[]), &pppoe(0xc021, 4), &[1, 1, 0, 4]]);
        assert_eq!(parse(&lcp), Parsed::NonIp);
        let mut padi = frame(&[&eth(ETH_P_PPP_SES, &[]), &pppoe(PPP_IPV4, inner.len()), &inner]);
        padi[15] = 0x09;
        assert_eq!(parse(&padi), Parsed::NonIp);
        // Cut in the PPPoE header.
        let f = frame(&[&eth(ETH_P_PPP_SES, &[]), &pppoe(PPP_IPV4, inner.len())]);
        assert_eq!(parse(&f[..20]), Parsed::Truncated);
    }

    #[test]
    fn test_parse_mpls_stacks() {
        let v4 = udp4();
        let v6 = ipv6(6, &[], &tcp(1, 2, 0x10, 0, 0));
        for labels in 1..=MAX_MPLS_LABELS {
            let p = ip(parse(&frame(&[&eth(ETH_P_MPLS_UC, &[]), &mpls(labels), &v4])));
            assert_eq!((p.l3_offset as usize, p.key.dst_port), (14 + 4 * labels, 8008));
            let p = ip(parse(&frame(&[&eth(ETH_P_MPLS_MC, &[ETH_P_8021Q]), &mpls(labels), &v6])));
            assert_eq!((p.key.family, p.key.src_port), (crate::flow::FAMILY_V6, 1));
        }
        let deep = frame(&[&eth(ETH_P_MPLS_UC, &[]), &mpls(MAX_MPLS_LABELS + 1), &v4]);
        assert_eq!(parse(&deep), Parsed::MplsTooDeep);
        // An Ethernet pseudowire (control word 0) under the stack is not IP.
        let pw = frame(&[&eth(ETH_P_MPLS_UC, &[]), &mpls(2), &[0, 0, 0, 0], &eth(ETH_P_IPV4, &[]), &v4]);
        assert_eq!(parse(&pw), Parsed::NonIp);
        // MPLS inside a PPPoE session.
        let f = frame(&[&eth(ETH_P_PPP_SES, &[]), &pppoe(PPP_MPLS_UC, 4 + v4.len()), &mpls(1), &v4]);
        assert_eq!(ip(parse(&f)).key.dst_port, 8008);
    }

    #[test]
    fn test_parse_fabricpath() {
        let v4 = udp4();
        let f = frame(&[&fabricpath(), &ETH_P_IPV4.to_be_bytes(), &v4]);
        let p = ip(parse(&f));
        assert_eq!((p.l3_offset, p.key.src_port), (30, 4004));
        let f = frame(&[&fabricpath(), &ETH_P_8021Q.to_be_bytes(), &[0, 5, 0x08, 0x00], &v4]);
        assert_eq!(ip(parse(&f)).l3_offset, 34);
    }

    #[test]
    fn test_parse_ethertype_after_another_link_header() {
        // As a Linux cooked capture gives it: the ethertype, then the network header.
        let mut f = std::vec![0u8; 16];
        f.extend_from_slice(&udp4());
        let fr = Frame::from_slice(&f, f.len());
        let p = crate::parse::parse(&fr, Start::Ethertype(ETH_P_IPV4, 16), Options::default(), &Direct);
        assert_eq!(ip(p).key.dst_port, 8008);
        assert_eq!(ip(crate::parse::parse(&fr, Start::Ip(16), Options::default(), &Direct)).l3_offset, 16);
        let p = parse_network(&fr, Network::V4(16), Options::default(), &Direct);
        assert_eq!(ip(p).l3_offset, 16);
    }
}
