//! From a captured frame to what the classifier needs: the flow key, IP length,
//! transport payload length and TCP flags. Header parsing is etherparse's; the
//! link types are Ethernet (with VLAN tags), Linux cooked capture v1 and v2, raw
//! IP and BSD loopback.
//!
//! Lengths come from the IP header, not from the captured bytes, so a capture cut
//! by its snap length still counts whole packets, as the kernel does. Non-first
//! fragments (and IPv6 fragments, whose first-fragment test needs the extension
//! chain) are counted under ports 0, like the kernel program.

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TcpHeaderSlice, UdpHeaderSlice};
use pcap_file::DataLink;
use peerscope_abi::classify::{IPPROTO_TCP, IPPROTO_UDP};
use peerscope_abi::FlowKey;

/// One IP packet as the classifier sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpPacket {
    pub key: FlowKey,
    pub ip_len: u32,
    pub payload_len: u32,
    pub tcp_flags: u8,
}

/// What a frame turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded {
    Ip(IpPacket),
    /// Not IPv4/IPv6 (ARP, LLDP, …).
    NotIp,
    /// Cut short inside a header that was needed.
    Truncated,
    /// A link type peerscope does not read.
    UnsupportedLink(u32),
}

/// The transport payload of a packet, as far as it was captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payload<'a> {
    pub bytes: &'a [u8],
    /// TCP sequence number of the first payload byte (TCP only).
    pub tcp_seq: Option<u32>,
}

pub fn decode(link: DataLink, data: &[u8]) -> Decoded {
    decode_with_payload(link, data).0
}

/// [`decode`], and the transport payload for those that look inside it (`dissect`,
/// the control-message ledger).
pub fn decode_with_payload(link: DataLink, data: &[u8]) -> (Decoded, Option<Payload<'_>>) {
    let sliced = match link {
        DataLink::ETHERNET => match LaxSlicedPacket::from_ethernet(data) {
            Ok(p) => p,
            Err(_) => return (Decoded::Truncated, None),
        },
        DataLink::LINUX_SLL => {
            if data.len() < 16 {
                return (Decoded::Truncated, None);
            }
            LaxSlicedPacket::from_ether_type(EtherType(u16::from_be_bytes([data[14], data[15]])), &data[16..])
        }
        DataLink::LINUX_SLL2 => {
            if data.len() < 20 {
                return (Decoded::Truncated, None);
            }
            LaxSlicedPacket::from_ether_type(EtherType(u16::from_be_bytes([data[0], data[1]])), &data[20..])
        }
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => from_ip(data),
        DataLink::NULL | DataLink::LOOP => {
            if data.len() < 4 {
                return (Decoded::Truncated, None);
            }
            from_ip(&data[4..])
        }
        other => return (Decoded::UnsupportedLink(u32::from(other)), None),
    };
    match sliced.net {
        Some(net) => ip_packet(&net),
        None if sliced.stop_err.is_some() => (Decoded::Truncated, None),
        None => (Decoded::NotIp, None),
    }
}

fn from_ip(data: &[u8]) -> LaxSlicedPacket<'_> {
    match data.first().map(|b| b >> 4) {
        Some(4) => LaxSlicedPacket::from_ether_type(EtherType::IPV4, data),
        Some(6) => LaxSlicedPacket::from_ether_type(EtherType::IPV6, data),
        _ => LaxSlicedPacket { link: None, vlan: None, net: None, transport: None, stop_err: None },
    }
}

fn ip_packet<'a>(net: &LaxNetSlice<'a>) -> (Decoded, Option<Payload<'a>>) {
    // (key without ports, ip_len, proto, IP header bytes before the transport header,
    //  transport bytes captured, whether this is a non-first fragment)
    let (mut key, ip_len, proto, hdr_len, payload, later_fragment) = match net {
        LaxNetSlice::Ipv4(v4) => {
            let h = v4.header();
            let p = v4.payload();
            let hdr_len = p.payload.as_ptr() as usize - h.slice().as_ptr() as usize;
            let ip_len = match h.total_len() {
                // Segmentation offload leaves 0 in captures taken on the sender.
                0 => (hdr_len + p.payload.len()) as u32,
                n => n as u32,
            };
            let proto = p.ip_number.0;
            let key = FlowKey::v4(proto, h.source(), h.destination(), 0, 0);
            (key, ip_len, proto, hdr_len, p.payload, h.fragments_offset().value() != 0)
        }
        LaxNetSlice::Ipv6(v6) => {
            let h = v6.header();
            let p = v6.payload();
            let hdr_len = p.payload.as_ptr() as usize - h.slice().as_ptr() as usize;
            let ip_len = 40 + h.payload_length() as u32;
            let proto = p.ip_number.0;
            let key = FlowKey::v6(proto, h.source(), h.destination(), 0, 0);
            (key, ip_len, proto, hdr_len, p.payload, p.fragmented)
        }
    };
    let ip_payload = ip_len.saturating_sub(hdr_len as u32);
    if later_fragment {
        return (Decoded::Ip(IpPacket { key, ip_len, payload_len: ip_payload, tcp_flags: 0 }), None);
    }
    // The captured part of the transport payload, never past what the IP length says.
    let body = |hdr: usize, len: u32| payload.get(hdr..).map(|b| &b[..b.len().min(len as usize)]);
    match proto {
        IPPROTO_TCP => {
            let Ok(t) = TcpHeaderSlice::from_slice(payload) else { return (Decoded::Truncated, None) };
            key.src_port = t.source_port();
            key.dst_port = t.destination_port();
            let th = t.data_offset() as u32 * 4;
            let flags = t.slice()[13];
            let payload_len = ip_payload.saturating_sub(th);
            let p = body(th as usize, payload_len).map(|bytes| Payload { bytes, tcp_seq: Some(t.sequence_number()) });
            (Decoded::Ip(IpPacket { key, ip_len, payload_len, tcp_flags: flags }), p)
        }
        IPPROTO_UDP => {
            let Ok(u) = UdpHeaderSlice::from_slice(payload) else { return (Decoded::Truncated, None) };
            key.src_port = u.source_port();
            key.dst_port = u.destination_port();
            let payload_len = ip_payload.saturating_sub(8);
            let p = body(8, payload_len).map(|bytes| Payload { bytes, tcp_seq: None });
            (Decoded::Ip(IpPacket { key, ip_len, payload_len, tcp_flags: 0 }), p)
        }
        _ => (Decoded::Ip(IpPacket { key, ip_len, payload_len: ip_payload, tcp_flags: 0 }), None),
    }
}
