extern crate std;
use std::vec::Vec;

use super::*;
use crate::flow::FlowKey;
use crate::frames::*;

fn ip(p: Parsed) -> IpPacket {
    match p {
        Parsed::Ip(ip) => ip,
        other => panic!("expected an IP packet, got {other:?}"),
    }
}

#[test]
fn test_parse_udp_ipv4() {
    let f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &udp(4004, 8008, 100), 0)]);
    let p = ip(parse_ethernet(&Frame::from_slice(&f)));
    assert_eq!(p.key, FlowKey::v4(17, [192, 0, 2, 1], [198, 51, 100, 2], 4004, 8008));
    assert_eq!((p.ip_len, p.headers_len, p.payload_len, p.l3_offset), (128, 28, 100, 14));
}

#[test]
fn test_parse_tcp_with_ip_and_tcp_options() {
    let f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(6, 8, &tcp(8008, 50000, 0x18, 12, 10), 0)]);
    let p = ip(parse_ethernet(&Frame::from_slice(&f)));
    assert_eq!((p.key.src_port, p.key.dst_port, p.tcp_flags), (8008, 50000, 0x18));
    assert_eq!((p.ip_len, p.headers_len, p.payload_len), (28 + 32 + 10, 60, 10));
}

#[test]
fn test_parse_vlan_and_qinq() {
    for vlans in [&[ETH_P_8021Q][..], &[ETH_P_8021AD, ETH_P_8021Q][..]] {
        let f = frame(&[&eth(ETH_P_IPV4, vlans), &ipv4(17, 0, &udp(1, 2, 3), 0)]);
        let p = ip(parse_ethernet(&Frame::from_slice(&f)));
        assert_eq!(p.l3_offset as usize, 14 + 4 * vlans.len());
        assert_eq!((p.key.src_port, p.key.dst_port, p.payload_len), (1, 2, 3));
    }
}

#[test]
fn test_parse_three_vlan_tags_is_not_ip() {
    let f = frame(&[&eth(ETH_P_8021Q, &[ETH_P_8021Q, ETH_P_8021Q]), &ipv4(17, 0, &udp(1, 2, 3), 0)]);
    assert_eq!(parse_ethernet(&Frame::from_slice(&f)), Parsed::NonIp);
}

#[test]
fn test_parse_non_ip() {
    let mut f = eth(0x0806, &[]);
    f.extend_from_slice(&[0; 28]);
    assert_eq!(parse_ethernet(&Frame::from_slice(&f)), Parsed::NonIp);
}

#[test]
fn test_parse_ipv4_fragments() {
    // First fragment (MF set, offset 0) carries ports; a later one does not.
    let first = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &udp(5, 6, 20), 0x2000)]);
    let p = ip(parse_ethernet(&Frame::from_slice(&first)));
    assert!(!p.non_first_fragment);
    assert_eq!(p.key.src_port, 5);
    let later = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &[0xee; 40], 0x0003)]);
    let p = ip(parse_ethernet(&Frame::from_slice(&later)));
    assert!(p.non_first_fragment);
    assert_eq!((p.key.src_port, p.key.dst_port, p.payload_len), (0, 0, 40));
}

#[test]
fn test_parse_ipv6_extension_headers() {
    // Hop-by-hop (8 bytes), destination options (16 bytes), then UDP.
    let mut ext = std::vec![60, 0, 1, 4, 0, 0, 0, 0];
    ext.extend_from_slice(&[17, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let f = frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(0, &ext, &udp(4004, 4005, 50))]);
    let p = ip(parse_ethernet(&Frame::from_slice(&f)));
    assert_eq!(p.key.proto, 17);
    assert_eq!(p.key.family, crate::flow::FAMILY_V6);
    assert_eq!((p.key.src_port, p.key.dst_port), (4004, 4005));
    assert_eq!((p.ip_len, p.headers_len, p.payload_len), (40 + 24 + 58, 72, 50));
}

#[test]
fn test_parse_ipv6_fragments() {
    let first = std::vec![6, 0, 0, 1, 0, 0, 0, 7];
    let f = frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(44, &first, &tcp(80, 81, 0x10, 0, 5))]);
    let p = ip(parse_ethernet(&Frame::from_slice(&f)));
    assert_eq!((p.key.proto, p.key.src_port, p.non_first_fragment), (6, 80, false));
    let later = std::vec![6, 0, 0x05, 0x00, 0, 0, 0, 7];
    let f = frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(44, &later, &[0x11; 64])]);
    let p = ip(parse_ethernet(&Frame::from_slice(&f)));
    assert!(p.non_first_fragment);
    assert_eq!((p.key.proto, p.key.src_port, p.payload_len), (6, 0, 64));
}

#[test]
fn test_parse_ipv6_chain_too_long() {
    let mut ext = Vec::new();
    for _ in 0..MAX_IPV6_EXT_HEADERS {
        ext.extend_from_slice(&[60, 0, 0, 0, 0, 0, 0, 0]);
    }
    ext.extend_from_slice(&[17, 0, 0, 0, 0, 0, 0, 0]);
    let f = frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(60, &ext, &udp(1, 2, 3))]);
    let p = ip(parse_ethernet(&Frame::from_slice(&f)));
    assert!(p.ext_chain_too_long);
    assert_eq!((p.key.src_port, p.key.dst_port), (0, 0));
}

#[test]
fn test_impossible_len_truncated_at_every_header_boundary() {
    let cases = [
        frame(&[&eth(ETH_P_IPV4, &[ETH_P_8021Q]), &ipv4(6, 4, &tcp(1, 2, 0x10, 0, 0), 0)]),
        frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(17, &[], &udp(1, 2, 0))]),
        frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &udp(1, 2, 0), 0)]),
    ];
    for full in &cases {
        assert!(matches!(parse_ethernet(&Frame::from_slice(full)), Parsed::Ip(_)));
        for cut in 0..full.len() {
            let p = parse_ethernet(&Frame::from_slice(&full[..cut]));
            assert_eq!(p, Parsed::Truncated, "cut at {cut} of {}", full.len());
        }
    }
}

#[test]
fn test_impossible_len_fields_inconsistent() {
    // IPv4 total length shorter than its own header.
    let mut f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &udp(1, 2, 0), 0)]);
    f[14 + 2] = 0;
    f[14 + 3] = 19;
    assert_eq!(parse_ethernet(&Frame::from_slice(&f)), Parsed::Truncated);
    // TCP data offset below 20.
    let mut f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(6, 0, &tcp(1, 2, 0, 0, 0), 0)]);
    f[14 + 20 + 12] = 0x40;
    assert_eq!(parse_ethernet(&Frame::from_slice(&f)), Parsed::Truncated);
}
