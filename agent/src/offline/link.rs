//! The link-layer step of the pcap path: from a record of a given link type to where
//! its network header starts. Everything from there on is the kernel's own parser
//! (`peerscope_abi::parse`), so a frame counts the same live and offline.
//!
//! Link types: Ethernet (with what the parser reads behind it: VLAN, PPPoE, MPLS,
//! FabricPath), Linux cooked capture v1 and v2, raw IPv4/IPv6, BSD null and loopback,
//! PPP (plain, in HDLC-like framing, with a direction byte), PPPoE without Ethernet,
//! Cisco HDLC, 802.11 data frames (plain, with radiotap
//! or inside PPI), and PPI around any of these.

use pcap_file::DataLink;
use peerscope_abi::parse::link::ppp_ethertype;
use peerscope_abi::parse::{Start, ETH_P_IPV4, ETH_P_IPV6, ETH_P_PPP_SES};

/// Why a record has no network layer for the parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Shorter than its link header.
    Truncated,
    /// A link header that carries no IP (802.11 management, an encrypted data frame,
    /// PPP control protocols, ...).
    NotIp,
    /// A link type peerscope does not read.
    Unsupported(DataLink),
}

/// Linux DLT_LINUX_SLL: packet type, ARPHRD, address length, address (8), protocol.
const SLL_LEN: usize = 16;
const SLL2_LEN: usize = 20;
const LLC_SNAP: [u8; 6] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00];

/// Finds the network header of a record of link type `link`.
pub fn locate(link: DataLink, data: &[u8]) -> Result<Start, Stop> {
    locate_in(link, data, true)
}

fn locate_in(link: DataLink, d: &[u8], outer: bool) -> Result<Start, Stop> {
    let be16 = |off: usize| d.get(off..off + 2).map(|b| u16::from_be_bytes([b[0], b[1]])).ok_or(Stop::Truncated);
    let le16 = |off: usize| d.get(off..off + 2).map(|b| u16::from_le_bytes([b[0], b[1]])).ok_or(Stop::Truncated);
    match link {
        DataLink::ETHERNET => Ok(Start::Ethernet),
        DataLink::LINUX_SLL => Ok(Start::Ethertype(be16(14)?, SLL_LEN)),
        DataLink::LINUX_SLL2 => {
            let et = be16(0)?;
            d.get(..SLL2_LEN).ok_or(Stop::Truncated)?;
            Ok(Start::Ethertype(et, SLL2_LEN))
        }
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => Ok(Start::Ip(0)),
        DataLink::NULL | DataLink::LOOP => null_family(link, d),
        DataLink::PPP | DataLink::PPP_HDLC => ppp(d, 0),
        DataLink::PPP_WITH_DIR => ppp(d, 1),
        DataLink::PPP_ETHER => Ok(Start::Ethertype(ETH_P_PPP_SES, 0)),
        DataLink::C_HDLC => Ok(Start::Ethertype(be16(2)?, 4)),
        DataLink::IEEE802_11 => wifi(d, 0),
        DataLink::IEEE802_11_RADIOTAP => wifi(d, le16(2)? as usize),
        DataLink::PPI if outer => {
            // Version, flags, header length (LE), the inner link type (LE).
            let len = le16(2)? as usize;
            let dlt = d.get(4..8).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok_or(Stop::Truncated)?;
            let inner = d.get(len..).ok_or(Stop::Truncated)?;
            Ok(match locate_in(DataLink::from(dlt), inner, false)? {
                // The parser reads Ethernet from the frame's start: name its ethertype here.
                Start::Ethernet => Start::Ethertype(be16(len + 12)?, len + 14),
                Start::Ethertype(et, off) => Start::Ethertype(et, off + len),
                Start::Ip(off) => Start::Ip(off + len),
            })
        }
        other => Err(Stop::Unsupported(other)),
    }
}

/// BSD null/loopback: a 4-byte address family, in the capturing host's byte order
/// (null) or in network order (loop). Each BSD numbers AF_INET6 its own way.
fn null_family(link: DataLink, d: &[u8]) -> Result<Start, Stop> {
    let b: [u8; 4] = d.get(..4).ok_or(Stop::Truncated)?.try_into().expect("4 bytes");
    let family = match link {
        DataLink::LOOP => u32::from_be_bytes(b),
        // Whichever order gives a small number is the writer's.
        _ => u32::from_le_bytes(b).min(u32::from_be_bytes(b)),
    };
    match family {
        2 => Ok(Start::Ethertype(ETH_P_IPV4, 4)),
        10 | 24 | 28 | 30 => Ok(Start::Ethertype(ETH_P_IPV6, 4)),
        _ => Err(Stop::NotIp),
    }
}

/// PPP: address and control (0xff 0x03) when present, then the protocol, compressed
/// to one byte when odd.
fn ppp(d: &[u8], mut off: usize) -> Result<Start, Stop> {
    if d.get(off..off + 2) == Some(&[0xff, 0x03]) {
        off += 2;
    }
    let first = *d.get(off).ok_or(Stop::Truncated)?;
    let (proto, len) = if first & 0x01 != 0 {
        (first as u16, 1)
    } else {
        (u16::from_be_bytes([first, *d.get(off + 1).ok_or(Stop::Truncated)?]), 2)
    };
    match ppp_ethertype(proto) {
        0 => Err(Stop::NotIp),
        et => Ok(Start::Ethertype(et, off + len)),
    }
}

/// An 802.11 data frame at `off`: its header (24 bytes, 30 with four addresses, QoS
/// and HT control fields when present), then LLC/SNAP and the ethertype.
fn wifi(d: &[u8], off: usize) -> Result<Start, Stop> {
    let fc = d.get(off..off + 2).ok_or(Stop::Truncated)?;
    let (ftype, subtype, flags) = ((fc[0] >> 2) & 0x03, fc[0] >> 4, fc[1]);
    // Data frames only; subtypes with bit 2 set carry no data (null, CF-ack/poll only);
    // protected frames are encrypted.
    if ftype != 2 || subtype & 0x04 != 0 || flags & 0x40 != 0 {
        return Err(Stop::NotIp);
    }
    let qos = subtype & 0x08 != 0;
    let mut hdr = 24;
    if flags & 0x03 == 0x03 {
        hdr += 6;
    }
    if qos {
        // An A-MSDU (QoS control bit 7) holds subframes, not one LLC payload.
        if d.get(off + hdr).ok_or(Stop::Truncated)? & 0x80 != 0 {
            return Err(Stop::NotIp);
        }
        hdr += 2;
        if flags & 0x80 != 0 {
            hdr += 4;
        }
    }
    let llc = off + hdr;
    match d.get(llc..llc + 8) {
        Some(s) if s[..6] == LLC_SNAP || s[..6] == [0xaa, 0xaa, 0x03, 0x00, 0x00, 0xf8] => {
            Ok(Start::Ethertype(u16::from_be_bytes([s[6], s[7]]), llc + 8))
        }
        Some(_) => Err(Stop::NotIp),
        None => Err(Stop::Truncated),
    }
}

/// How a link type is named in messages: libpcap's name and number.
pub fn name(link: DataLink) -> String {
    match link {
        DataLink::Unknown(n) => format!("link type {n}"),
        other => format!("{other:?} (link type {})", u32::from(other)),
    }
}

#[cfg(test)]
mod tests {
    use peerscope_abi::frames::{ipv4, ipv6, tcp, udp};
    use peerscope_abi::parse::{Options, Parsed};

    use super::*;
    use crate::offline::decode::{decode_bytes, Decoded};
    use crate::offline::link_frames::Wrap;

    #[test]
    fn test_every_link_type_reaches_the_same_packet() {
        let v4 = ipv4(17, 0, &udp(4004, 8008, 100), 0);
        let v6 = ipv6(6, &[], &tcp(80, 5000, 0x18, 0, 30));
        for wrap in Wrap::ALL {
            for (ip, v6_, port) in [(&v4, false, 4004), (&v6, true, 80)] {
                let rec = wrap.wrap(ip, v6_);
                let d = decode_bytes(wrap.link(v6_), &rec, rec.len(), Options::default());
                let p = d.ip().unwrap_or_else(|| panic!("{wrap:?} (IPv6 {v6_}): {d:?}"));
                assert_eq!((p.key.src_port, p.ip_len as usize), (port, ip.len()), "{wrap:?}");
                assert_eq!(p.l3_offset as usize, wrap.l3_offset(v6_), "{wrap:?}");
                // Cut inside the link header: truncated, never another packet.
                let cut = &rec[..wrap.l3_offset(v6_).saturating_sub(1)];
                let d = decode_bytes(wrap.link(v6_), cut, cut.len(), Options::default());
                assert!(d.ip().is_none(), "{wrap:?} cut: {d:?}");
            }
        }
    }

    #[test]
    fn test_link_headers_without_ip() {
        let not_ip = |link, rec: &[u8]| decode_bytes(link, rec, rec.len(), Options::default());
        // 802.11: a beacon, a protected data frame, a null-data frame.
        let mut beacon = vec![0x80, 0, 0, 0];
        beacon.extend_from_slice(&[0; 30]);
        assert_eq!(not_ip(DataLink::IEEE802_11, &beacon), Decoded::Parsed(Parsed::NonIp));
        let mut protected = Wrap::Wifi.wrap(&[0x45; 28], false);
        protected[1] |= 0x40;
        assert_eq!(not_ip(DataLink::IEEE802_11, &protected), Decoded::Parsed(Parsed::NonIp));
        let null = [0x48, 0x01, 0, 0].iter().chain(&[0u8; 20]).copied().collect::<Vec<_>>();
        assert_eq!(not_ip(DataLink::IEEE802_11, &null), Decoded::Parsed(Parsed::NonIp));
        // PPP's LCP, a null family that is not IP.
        assert_eq!(not_ip(DataLink::PPP, &[0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4]), Decoded::Parsed(Parsed::NonIp));
        assert_eq!(not_ip(DataLink::NULL, &[7, 0, 0, 0, 0x45]), Decoded::Parsed(Parsed::NonIp));
        // A link type peerscope does not read.
        assert_eq!(not_ip(DataLink::USER0, &[0x45; 40]), Decoded::UnsupportedLink(DataLink::USER0));
    }

    #[test]
    fn test_names_of_link_types() {
        assert_eq!(name(DataLink::USER0), "USER0 (link type 147)");
        assert_eq!(name(DataLink::Unknown(300)), "link type 300");
    }
}
