extern crate std;
use std::vec::Vec;

use super::*;
use crate::flow::FlowKey;
use crate::frames::*;

/// Parses a whole frame (as long on the wire as it is in memory).
pub(super) fn parse(f: &[u8]) -> Parsed {
    parse_ethernet(&Frame::from_slice(f, f.len()), Options::default())
}

pub(super) fn ip(p: Parsed) -> IpPacket {
    match p {
        Parsed::Ip(ip) => ip,
        other => panic!("expected an IP packet, got {other:?}"),
    }
}

#[test]
fn test_parse_udp_ipv4() {
    let f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &udp(4004, 8008, 100), 0)]);
    let p = ip(parse(&f));
    assert_eq!(p.key, FlowKey::v4(17, [192, 0, 2, 1], [198, 51, 100, 2], 4004, 8008));
    assert_eq!((p.ip_len, p.headers_len, p.payload_len, p.l3_offset, p.l4_offset), (128, 28, 100, 14, 34));
    assert_eq!(p.notes, 0);
}

#[test]
fn test_parse_tcp_with_ip_and_tcp_options() {
    let f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(6, 8, &tcp(8008, 50000, 0x18, 12, 10), 0)]);
    let p = ip(parse(&f));
    assert_eq!((p.key.src_port, p.key.dst_port, p.tcp_flags), (8008, 50000, 0x18));
    assert_eq!((p.ip_len, p.headers_len, p.payload_len), (28 + 32 + 10, 60, 10));
}

#[test]
fn test_parse_non_ip() {
    let mut f = eth(0x0806, &[]);
    f.extend_from_slice(&[0; 28]);
    assert_eq!(parse(&f), Parsed::NonIp);
}

#[test]
fn test_parse_ipv4_fragments() {
    // First fragment (MF set, offset 0) carries ports; a later one does not.
    let first = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &udp(5, 6, 20), 0x2000)]);
    let p = ip(parse(&first));
    assert_eq!((p.key.src_port, p.notes), (5, 0));
    let later = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &[0xee; 40], 0x0003)]);
    let p = ip(parse(&later));
    assert_eq!(p.notes, Note::NON_FIRST_FRAGMENT);
    assert_eq!((p.key.src_port, p.key.dst_port, p.payload_len), (0, 0, 40));
}

#[test]
fn test_parse_ipv6_extension_headers() {
    // Hop-by-hop (8 bytes), destination options (16 bytes), then UDP.
    let mut ext = std::vec![60, 0, 1, 4, 0, 0, 0, 0];
    ext.extend_from_slice(&[17, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let f = frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(0, &ext, &udp(4004, 4005, 50))]);
    let p = ip(parse(&f));
    assert_eq!(p.key.proto, 17);
    assert_eq!(p.key.family, crate::flow::FAMILY_V6);
    assert_eq!((p.key.src_port, p.key.dst_port), (4004, 4005));
    assert_eq!((p.ip_len, p.headers_len, p.payload_len, p.l4_offset), (40 + 24 + 58, 72, 50, 14 + 64));
}

#[test]
fn test_parse_ipv6_fragments_first_keeps_its_ports() {
    let first = std::vec![6, 0, 0, 1, 0, 0, 0, 7];
    let f = frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(44, &first, &tcp(80, 81, 0x10, 0, 5))]);
    let p = ip(parse(&f));
    assert_eq!((p.key.proto, p.key.src_port, p.notes), (6, 80, 0));
    let later = std::vec![6, 0, 0x05, 0x00, 0, 0, 0, 7];
    let f = frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(44, &later, &[0x11; 64])]);
    let p = ip(parse(&f));
    assert_eq!(p.notes, Note::NON_FIRST_FRAGMENT);
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
    let p = ip(parse(&f));
    assert_eq!(p.notes, Note::IPV6_CHAIN_TOO_LONG);
    assert_eq!((p.key.src_port, p.key.dst_port), (0, 0));
}

#[test]
fn test_parse_ah_is_the_protocol_in_both_families() {
    let ah = [17, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let l4 = [&ah[..], &udp(1, 2, 3)].concat();
    let p = ip(parse(&frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(51, 0, &l4, 0)])));
    assert_eq!((p.key.proto, p.key.src_port, p.notes), (51, 0, 0));
    let p = ip(parse(&frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(51, &[], &l4)])));
    assert_eq!((p.key.proto, p.key.src_port, p.notes), (51, 0, 0));
}

/// Frames with the fixed IP header cut: truncated, in both families, behind VLAN tags.
#[test]
fn test_impossible_len_fixed_header_cut_is_truncated() {
    let cases = [
        (frame(&[&eth(ETH_P_IPV4, &[ETH_P_8021Q]), &ipv4(6, 4, &tcp(1, 2, 0x10, 0, 0), 0)]), 18 + 20),
        (frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(17, &[], &udp(1, 2, 0))]), 14 + 40),
        (frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &udp(1, 2, 0), 0)]), 14 + 20),
    ];
    for (full, ip_end) in &cases {
        assert!(matches!(parse(full), Parsed::Ip(_)));
        for cut in 0..*ip_end {
            for wire in [cut, full.len()] {
                let p = parse_ethernet(&Frame::from_slice(&full[..cut], wire), Options::default());
                assert_eq!(p, Parsed::Truncated, "cut at {cut} of {}, wire {wire}", full.len());
            }
        }
    }
}

/// A capture cut by its snap length inside the transport header: the packet counts
/// its claimed length in its address pair, ports 0, noted.
#[test]
fn test_impossible_len_snaplen_cut_in_transport_counts_the_claim() {
    let full = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(6, 0, &tcp(1, 2, 0x10, 0, 100), 0)]);
    for cut in 34..54 {
        let p = ip(parse_ethernet(&Frame::from_slice(&full[..cut], full.len()), Options::default()));
        assert_eq!((p.ip_len, p.key.src_port, p.notes), (140, 0, Note::TRANSPORT_BROKEN), "cut at {cut}");
        assert_eq!(p.key.proto, 6);
    }
    // Cut after the TCP header: nothing broken, the whole packet counted.
    let p = ip(parse_ethernet(&Frame::from_slice(&full[..60], full.len()), Options::default()));
    assert_eq!((p.ip_len, p.payload_len, p.key.src_port, p.notes), (140, 100, 1, 0));
}

/// A frame shorter on the wire than its IP header claims (62 bytes claiming 1400):
/// what it carried is counted, and noted.
#[test]
fn test_impossible_len_claim_beyond_the_frame_counts_the_frame() {
    let mut f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &udp(7, 8, 20), 0)]);
    f.resize(62, 0);
    f[16..18].copy_from_slice(&1400u16.to_be_bytes());
    let p = ip(parse(&f));
    assert_eq!((p.claim, p.ip_len, p.payload_len), (1400, 48, 20));
    assert_eq!((p.key.src_port, p.notes), (7, Note::LENGTH_EXCEEDS_FRAME));
    // IPv6 alike.
    let mut f = frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(17, &[], &udp(7, 8, 20))]);
    f[18..20].copy_from_slice(&27738u16.to_be_bytes());
    let p = ip(parse(&f));
    assert_eq!((p.claim, p.ip_len, p.notes), (27778, 68, Note::LENGTH_EXCEEDS_FRAME));
}

#[test]
fn test_impossible_len_ethernet_padding_is_not_counted() {
    let mut f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(6, 0, &tcp(1, 2, 0x10, 0, 0), 0)]);
    f.resize(60, 0);
    let p = ip(parse(&f));
    assert_eq!((p.ip_len, p.payload_len, p.notes), (40, 0, 0));
}

#[test]
fn test_impossible_len_fields_inconsistent() {
    // IPv4 total length shorter than its own header: not an IP packet anyone trusts.
    let mut f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &udp(1, 2, 0), 0)]);
    f[14 + 2..14 + 4].copy_from_slice(&19u16.to_be_bytes());
    assert_eq!(parse(&f), Parsed::Truncated);
    // IHL below 5, and a version that is not the ethertype's.
    let mut g = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &udp(1, 2, 0), 0)]);
    g[14] = 0x44;
    assert_eq!(parse(&g), Parsed::Truncated);
    g[14] = 0x65;
    assert_eq!(parse(&g), Parsed::Truncated);
    // TCP data offset below 20, or beyond the IP length: broken, still counted.
    let mut f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(6, 0, &tcp(1, 2, 0, 0, 8), 0)]);
    f[14 + 20 + 12] = 0x40;
    let p = ip(parse(&f));
    assert_eq!((p.ip_len, p.key.src_port, p.notes), (48, 0, Note::TRANSPORT_BROKEN));
    f[14 + 20 + 12] = 0x80;
    assert_eq!(ip(parse(&f)).notes, Note::TRANSPORT_BROKEN);
    // UDP header beyond the IP length.
    let mut f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &udp(1, 2, 0), 0)]);
    f[14 + 2..14 + 4].copy_from_slice(&24u16.to_be_bytes());
    let p = ip(parse(&f));
    assert_eq!((p.ip_len, p.key.src_port, p.notes), (24, 0, Note::TRANSPORT_BROKEN));
    // IPv6 extension header beyond the payload length.
    let mut f = frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(0, &[17, 2, 0, 0, 0, 0, 0, 0], &udp(1, 2, 40))]);
    f[18..20].copy_from_slice(&16u16.to_be_bytes());
    let p = ip(parse(&f));
    assert_eq!((p.ip_len, p.key.proto, p.notes), (56, 17, Note::TRANSPORT_BROKEN));
}

#[test]
fn test_parse_zero_length_takes_the_frame() {
    let mut f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(6, 0, &tcp(1, 2, 0x10, 0, 3000), 0)]);
    f[16..18].copy_from_slice(&[0, 0]);
    let p = ip(parse(&f));
    assert_eq!((p.ip_len, p.payload_len, p.key.src_port), (3040, 3000, 1));
    assert_eq!(p.notes, Note::LENGTH_FROM_FRAME);
}
