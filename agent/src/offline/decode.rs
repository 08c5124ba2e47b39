//! From a captured record to what the classifier needs: the link-layer step
//! ([`super::link`]), then the kernel program's own frame parser
//! ([`peerscope_abi::parse`]) on the record's bytes, bounded by the length the frame
//! had on the wire. Every rule of what counts (fragments, broken headers, lengths) is
//! that parser's, stated once in its documentation.

use pcap_file::DataLink;
use peerscope_abi::classify::{IPPROTO_TCP, IPPROTO_UDP};
use peerscope_abi::parse::{self, Direct, Frame, IpPacket, Note, Options, Parsed};

use super::capture;
use super::link::{self, Stop};

/// What a record turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded {
    /// What the parser made of it (an IP packet, or why not).
    Parsed(Parsed),
    /// A link type peerscope does not read.
    UnsupportedLink(DataLink),
}

impl Decoded {
    pub fn ip(&self) -> Option<&IpPacket> {
        match self {
            Decoded::Parsed(Parsed::Ip(p)) => Some(p),
            _ => None,
        }
    }
}

/// The transport payload of a packet, as far as it was captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payload<'a> {
    pub bytes: &'a [u8],
    /// TCP sequence number of the first payload byte (TCP only).
    pub tcp_seq: Option<u32>,
}

/// Decodes one record.
pub fn decode(frame: &capture::Frame<'_>, opts: Options) -> Decoded {
    decode_bytes(frame.linktype, frame.data, frame.orig_len as usize, opts)
}

/// Decodes `data`, a record of link type `link` that was `wire_len` bytes long on the
/// wire.
pub fn decode_bytes(link: DataLink, data: &[u8], wire_len: usize, opts: Options) -> Decoded {
    let f = Frame::from_slice(data, wire_len);
    let parsed = match link::locate(link, data) {
        Ok(start) => parse::parse(&f, start, opts, &Direct),
        Err(Stop::Truncated) => Parsed::Truncated,
        Err(Stop::NotIp) => Parsed::NonIp,
        Err(Stop::Unsupported(l)) => return Decoded::UnsupportedLink(l),
    };
    Decoded::Parsed(parsed)
}

/// The captured part of a TCP or UDP packet's payload (never past what the IP length
/// counted says), for those that look inside it (`dissect`, the control ledger).
/// `None` when the packet has no readable transport header.
pub fn payload<'a>(data: &'a [u8], p: &IpPacket) -> Option<Payload<'a>> {
    let transport = p.key.proto == IPPROTO_TCP || p.key.proto == IPPROTO_UDP;
    if !transport || p.notes & (Note::TRANSPORT_BROKEN | Note::NON_FIRST_FRAGMENT) != 0 {
        return None;
    }
    let start = (p.l3_offset + p.headers_len) as usize;
    let end = data.len().min(start + p.payload_len as usize);
    let bytes = data.get(start..end).unwrap_or(&[]);
    let tcp_seq = (p.key.proto == IPPROTO_TCP)
        .then(|| data.get(p.l4_offset as usize + 4..p.l4_offset as usize + 8))
        .flatten()
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    Some(Payload { bytes, tcp_seq })
}
