//! IPv4 and IPv6 headers (with IPv6 extension headers), then the TCP or UDP header.

use super::{bound, Frame, IpPacket, Note, Parsed, MAX_IPV6_EXT_HEADERS};
use crate::classify::{IPPROTO_TCP, IPPROTO_UDP};
use crate::flow::FlowKey;

const IPPROTO_HOPOPTS: u8 = 0;
const IPPROTO_ROUTING: u8 = 43;
const IPPROTO_FRAGMENT: u8 = 44;
const IPPROTO_DSTOPTS: u8 = 60;

/// The IP length to count: the header's claim bounded by the wire bytes from `l3`
/// on; a claim of 0 (segmentation offload, jumbograms) takes the wire's.
#[inline(always)]
fn counted_len(f: &Frame, l3: usize, claim: u32, notes: &mut u8) -> (u32, u32) {
    let wire = f.wire_from(l3);
    if claim == 0 {
        *notes |= Note::LENGTH_FROM_FRAME;
        return (wire, wire);
    }
    if claim > wire {
        *notes |= Note::LENGTH_EXCEEDS_FRAME;
        return (claim, wire);
    }
    (claim, claim)
}

#[inline(always)]
pub fn ipv4(f: &Frame, l3: usize) -> Parsed {
    let Some(h) = f.bytes::<20>(l3) else { return Parsed::Truncated };
    let ihl = ((h[0] & 0x0f) as u32) * 4;
    if h[0] >> 4 != 4 || ihl < 20 {
        return Parsed::Truncated;
    }
    let mut notes = 0;
    let (claim, ip_len) = counted_len(f, l3, u16::from_be_bytes([h[2], h[3]]) as u32, &mut notes);
    if claim < ihl {
        return Parsed::Truncated;
    }
    if u16::from_be_bytes([h[6], h[7]]) & 0x1fff != 0 {
        notes |= Note::NON_FIRST_FRAGMENT;
    }
    let key = FlowKey::v4(h[9], [h[12], h[13], h[14], h[15]], [h[16], h[17], h[18], h[19]], 0, 0);
    let mut p = IpPacket::new(key, l3, l3 + ihl as usize, claim, ip_len, notes);
    if notes & Note::NON_FIRST_FRAGMENT == 0 {
        // Options are skipped by IHL; their bytes need not be captured.
        transport(f, &mut p);
    }
    Parsed::Ip(p)
}

#[inline(always)]
pub fn ipv6(f: &Frame, l3: usize) -> Parsed {
    let Some(h) = f.bytes::<8>(l3) else { return Parsed::Truncated };
    if h[0] >> 4 != 6 {
        return Parsed::Truncated;
    }
    // Whole-array reads: byte-wise copies would spill 32 stack slots in BPF.
    let (src, dst) = match (f.bytes::<16>(l3 + 8), f.bytes::<16>(l3 + 24)) {
        (Some(s), Some(d)) => (*s, *d),
        _ => return Parsed::Truncated,
    };
    let mut notes = 0;
    let (claim, ip_len) = counted_len(f, l3, 40 + u16::from_be_bytes([h[4], h[5]]) as u32, &mut notes);
    let mut next = h[6];
    let mut hdr_len: usize = 40;
    let mut i = 0;
    while i < MAX_IPV6_EXT_HEADERS {
        let ext_len = match next {
            IPPROTO_HOPOPTS | IPPROTO_ROUTING | IPPROTO_DSTOPTS => match f.bytes::<2>(l3 + hdr_len) {
                Some(e) => {
                    next = e[0];
                    (e[1] as usize + 1) * 8
                }
                None => break,
            },
            IPPROTO_FRAGMENT => match f.bytes::<8>(l3 + hdr_len) {
                Some(e) => {
                    next = e[0];
                    if u16::from_be_bytes([e[2], e[3]]) >> 3 != 0 {
                        notes |= Note::NON_FIRST_FRAGMENT;
                    }
                    8
                }
                None => break,
            },
            _ => break,
        };
        hdr_len += ext_len;
        i += 1;
    }
    let key = FlowKey::v6(next, src, dst, 0, 0);
    let mut p = IpPacket::new(key, l3, l3 + bound(hdr_len), claim, ip_len, notes);
    if is_extension(next) {
        // The chain is longer than the parser walks, or cut short: the transport
        // protocol is unknown, the packet still counts in its address pair.
        p.notes |= if i == MAX_IPV6_EXT_HEADERS { Note::IPV6_CHAIN_TOO_LONG } else { Note::TRANSPORT_BROKEN };
        return Parsed::Ip(p);
    }
    if hdr_len as u32 > claim {
        p.notes |= Note::TRANSPORT_BROKEN;
        p.set_headers(claim as usize);
        return Parsed::Ip(p);
    }
    if notes & Note::NON_FIRST_FRAGMENT == 0 {
        transport(f, &mut p);
    }
    Parsed::Ip(p)
}

#[inline(always)]
fn is_extension(next: u8) -> bool {
    matches!(next, IPPROTO_HOPOPTS | IPPROTO_ROUTING | IPPROTO_DSTOPTS | IPPROTO_FRAGMENT)
}

/// Reads ports (and TCP flags) for TCP and UDP; other protocols keep ports 0. A header
/// that is not all captured, or whose length does not fit the IP length claimed, is
/// broken: ports 0, noted.
#[inline(always)]
fn transport(f: &Frame, p: &mut IpPacket) {
    let l4 = p.l4_offset as usize;
    let ip_hdr = p.l4_offset - p.l3_offset;
    match p.key.proto {
        IPPROTO_TCP => {
            let Some(t) = f.bytes::<20>(l4) else { return p.broken() };
            let doff = ((t[12] >> 4) as u32) * 4;
            if doff < 20 || ip_hdr + doff > p.claim {
                return p.broken();
            }
            p.key.src_port = u16::from_be_bytes([t[0], t[1]]);
            p.key.dst_port = u16::from_be_bytes([t[2], t[3]]);
            p.tcp_flags = t[13];
            p.set_headers((ip_hdr + doff) as usize);
        }
        IPPROTO_UDP => {
            let Some(u) = f.bytes::<8>(l4) else { return p.broken() };
            if ip_hdr + 8 > p.claim {
                return p.broken();
            }
            p.key.src_port = u16::from_be_bytes([u[0], u[1]]);
            p.key.dst_port = u16::from_be_bytes([u[2], u[3]]);
            p.set_headers((ip_hdr + 8) as usize);
        }
        _ => {}
    }
}
