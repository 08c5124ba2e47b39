//! Header parsing shared by the kernel program and host tests.
//!
//! The parser reads through raw bounds (`data`, `data_end`) the way the BPF verifier
//! demands: every read is preceded by a check of `offset + N <= data_end`, and every
//! offset is bounded, so the same code verifies in XDP/TC and runs on a host slice.
//! It reads the Ethernet header, up to two VLAN tags (802.1Q, 802.1ad), IPv4 (with
//! options) or IPv6 (with up to [`MAX_IPV6_EXT_HEADERS`] extension headers), then TCP
//! or UDP.

use crate::classify::{IPPROTO_TCP, IPPROTO_UDP};
use crate::flow::FlowKey;

pub const ETH_HLEN: usize = 14;
pub const ETH_P_IPV4: u16 = 0x0800;
pub const ETH_P_IPV6: u16 = 0x86dd;
pub const ETH_P_8021Q: u16 = 0x8100;
pub const ETH_P_8021AD: u16 = 0x88a8;
/// VLAN tags the parser looks through (QinQ).
pub const MAX_VLAN_TAGS: usize = 2;
/// IPv6 extension headers the parser walks before giving up on the chain.
pub const MAX_IPV6_EXT_HEADERS: usize = 6;

const IPPROTO_HOPOPTS: u8 = 0;
const IPPROTO_ROUTING: u8 = 43;
const IPPROTO_FRAGMENT: u8 = 44;
const IPPROTO_AH: u8 = 51;
const IPPROTO_DSTOPTS: u8 = 60;

/// What the parser made of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// An IP packet, with its flow key and lengths.
    Ip(IpPacket),
    /// Not IPv4/IPv6 (after any VLAN tags).
    NonIp,
    /// A header the parser needed ends beyond the frame, or a length field is
    /// inconsistent with the header it sits in.
    Truncated,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpPacket {
    pub key: FlowKey,
    /// Offset of the IP header in the frame.
    pub l3_offset: u32,
    /// IP total length as the header states it (IPv6: 40 + payload length).
    pub ip_len: u32,
    /// Length of the IP header(s) and transport header together.
    pub headers_len: u32,
    /// Transport payload length implied by `ip_len` (0 if headers fill the packet).
    pub payload_len: u32,
    pub tcp_flags: u8,
    /// A non-first fragment: no transport header, ports 0.
    pub non_first_fragment: bool,
    /// The IPv6 extension header chain was longer than the parser walks: ports 0.
    pub ext_chain_too_long: bool,
}

/// A frame in memory, by its bounds.
#[derive(Clone, Copy)]
pub struct Frame {
    data: usize,
    end: usize,
}

impl Frame {
    /// # Safety
    /// `data..end` must be readable memory (a packet given by the kernel, or a slice).
    #[inline(always)]
    pub unsafe fn new(data: usize, end: usize) -> Self {
        Frame { data, end }
    }

    pub fn from_slice(s: &[u8]) -> Self {
        let data = s.as_ptr() as usize;
        Frame { data, end: data + s.len() }
    }

    #[inline(always)]
    pub fn len(&self) -> usize {
        self.end - self.data
    }

    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.end <= self.data
    }

    /// The `N` bytes at `off`, in place (no copy: the BPF stack is 512 bytes), or
    /// `None` past the end.
    #[inline(always)]
    pub fn bytes<const N: usize>(&self, off: usize) -> Option<&[u8; N]> {
        if self.data + off + N > self.end {
            return None;
        }
        // SAFETY: in bounds per the check above; `[u8; N]` has alignment 1.
        Some(unsafe { &*((self.data + off) as *const [u8; N]) })
    }

    #[inline(always)]
    fn be16_at(&self, off: usize) -> Option<u16> {
        self.bytes::<2>(off).map(|b| u16::from_be_bytes(*b))
    }
}

/// Parses a frame that starts with an Ethernet header.
#[inline(always)]
pub fn parse_ethernet(f: &Frame) -> Parsed {
    let mut ethertype = match f.be16_at(12) {
        Some(t) => t,
        None => return Parsed::Truncated,
    };
    let mut off = ETH_HLEN;
    let mut i = 0;
    while i < MAX_VLAN_TAGS {
        if ethertype != ETH_P_8021Q && ethertype != ETH_P_8021AD {
            break;
        }
        ethertype = match f.be16_at(off + 2) {
            Some(t) => t,
            None => return Parsed::Truncated,
        };
        off += 4;
        i += 1;
    }
    match ethertype {
        ETH_P_IPV4 => parse_ipv4(f, off),
        ETH_P_IPV6 => parse_ipv6(f, off),
        _ => Parsed::NonIp,
    }
}

#[inline(always)]
fn parse_ipv4(f: &Frame, l3: usize) -> Parsed {
    let h = match f.bytes::<20>(l3) {
        Some(h) => h,
        None => return Parsed::Truncated,
    };
    let ihl = ((h[0] & 0x0f) as usize) * 4;
    let tot_len = u16::from_be_bytes([h[2], h[3]]) as u32;
    if ihl < 20 || (tot_len as usize) < ihl {
        return Parsed::Truncated;
    }
    let frag_off = u16::from_be_bytes([h[6], h[7]]) & 0x1fff;
    let proto = h[9];
    let src = [h[12], h[13], h[14], h[15]];
    let dst = [h[16], h[17], h[18], h[19]];
    let key = FlowKey::v4(proto, src, dst, 0, 0);
    let mut p = IpPacket {
        key,
        l3_offset: l3 as u32,
        ip_len: tot_len,
        headers_len: ihl as u32,
        payload_len: tot_len - ihl as u32,
        tcp_flags: 0,
        non_first_fragment: frag_off != 0,
        ext_chain_too_long: false,
    };
    if p.non_first_fragment {
        return Parsed::Ip(p);
    }
    // IPv4 options are skipped by IHL; their bytes need not be in the frame for
    // the transport header check below to catch a short frame.
    transport(f, l3 + (ihl & 0x3c), ihl as u32, &mut p)
}

#[inline(always)]
fn parse_ipv6(f: &Frame, l3: usize) -> Parsed {
    let h = match f.bytes::<40>(l3) {
        Some(h) => h,
        None => return Parsed::Truncated,
    };
    let ip_len = 40 + u16::from_be_bytes([h[4], h[5]]) as u32;
    let mut next = h[6];
    // Whole-array reads: byte-wise copies would spill 32 stack slots in BPF.
    let (src, dst) = match (f.bytes::<16>(l3 + 8), f.bytes::<16>(l3 + 24)) {
        (Some(s), Some(d)) => (*s, *d),
        _ => return Parsed::Truncated,
    };
    let mut p = IpPacket {
        key: FlowKey::v6(next, src, dst, 0, 0),
        l3_offset: l3 as u32,
        ip_len,
        headers_len: 40,
        payload_len: ip_len - 40,
        tcp_flags: 0,
        non_first_fragment: false,
        ext_chain_too_long: false,
    };
    let mut hdr_len: usize = 40;
    let mut i = 0;
    while i < MAX_IPV6_EXT_HEADERS {
        let ext_len = match next {
            IPPROTO_HOPOPTS | IPPROTO_ROUTING | IPPROTO_DSTOPTS => match f.bytes::<2>(l3 + hdr_len) {
                Some(e) => {
                    next = e[0];
                    (e[1] as usize + 1) * 8
                }
                None => return Parsed::Truncated,
            },
            IPPROTO_AH => match f.bytes::<2>(l3 + hdr_len) {
                Some(e) => {
                    next = e[0];
                    (e[1] as usize + 2) * 4
                }
                None => return Parsed::Truncated,
            },
            IPPROTO_FRAGMENT => match f.bytes::<8>(l3 + hdr_len) {
                Some(e) => {
                    next = e[0];
                    if u16::from_be_bytes([e[2], e[3]]) >> 3 != 0 {
                        p.non_first_fragment = true;
                    }
                    8
                }
                None => return Parsed::Truncated,
            },
            _ => break,
        };
        hdr_len += ext_len;
        i += 1;
    }
    p.key.proto = next;
    if hdr_len as u32 > ip_len {
        return Parsed::Truncated;
    }
    p.headers_len = hdr_len as u32;
    p.payload_len = ip_len - hdr_len as u32;
    if i == MAX_IPV6_EXT_HEADERS
        && matches!(next, IPPROTO_HOPOPTS | IPPROTO_ROUTING | IPPROTO_DSTOPTS | IPPROTO_AH | IPPROTO_FRAGMENT)
    {
        p.ext_chain_too_long = true;
        return Parsed::Ip(p);
    }
    if p.non_first_fragment {
        return Parsed::Ip(p);
    }
    // The bound keeps the offset provably small for the verifier.
    transport(f, l3 + (hdr_len & 0x3fff), hdr_len as u32, &mut p)
}

/// Reads ports (and TCP flags) for TCP and UDP; other protocols keep ports 0.
#[inline(always)]
fn transport(f: &Frame, l4: usize, ip_hdr_len: u32, p: &mut IpPacket) -> Parsed {
    match p.key.proto {
        IPPROTO_TCP => {
            let t = match f.bytes::<20>(l4) {
                Some(t) => t,
                None => return Parsed::Truncated,
            };
            let doff = ((t[12] >> 4) as u32) * 4;
            if doff < 20 || ip_hdr_len + doff > p.ip_len {
                return Parsed::Truncated;
            }
            p.key.src_port = u16::from_be_bytes([t[0], t[1]]);
            p.key.dst_port = u16::from_be_bytes([t[2], t[3]]);
            p.tcp_flags = t[13];
            p.headers_len = ip_hdr_len + doff;
            p.payload_len = p.ip_len - p.headers_len;
        }
        IPPROTO_UDP => {
            let u = match f.bytes::<8>(l4) {
                Some(u) => u,
                None => return Parsed::Truncated,
            };
            if ip_hdr_len + 8 > p.ip_len {
                return Parsed::Truncated;
            }
            p.key.src_port = u16::from_be_bytes([u[0], u[1]]);
            p.key.dst_port = u16::from_be_bytes([u[2], u[3]]);
            p.headers_len = ip_hdr_len + 8;
            p.payload_len = p.ip_len - p.headers_len;
        }
        _ => {}
    }
    Parsed::Ip(*p)
}

#[cfg(test)]
mod tests;
