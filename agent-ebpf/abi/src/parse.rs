//! The frame parser: the one the kernel program runs on every packet and the pcap
//! reader runs on every record (after its link-layer step), so that live and
//! offline counts agree by construction.
//!
//! It reads through raw bounds ([`Frame`]) the way the BPF verifier demands: every
//! read is preceded by a check of `offset + N <= end`, every offset is bounded and
//! every loop has a constant bound, so the same code verifies in XDP/TC and runs on
//! a host slice.
//!
//! # What it reads
//! - From an Ethernet header, or from an ethertype another link header gave
//!   ([`Start`]): a Cisco FabricPath header, up to
//!   [`MAX_VLAN_TAGS`] 802.1Q/802.1ad tags, then a PPPoE session header or an MPLS
//!   stack of up to [`MAX_MPLS_LABELS`] labels, then IPv4 or IPv6. More tags or labels
//!   than that: [`Parsed::VlanTooDeep`], [`Parsed::MplsTooDeep`].
//! - IPv4 with options; IPv6 with up to [`MAX_IPV6_EXT_HEADERS`] hop-by-hop, routing,
//!   fragment and destination-options headers. AH and ESP are the packet's protocol
//!   (51, 50; ports 0), as tshark's `ip.proto` has them, in both families.
//! - TCP and UDP ports and TCP flags; every other protocol has ports 0.
//! - With [`Options::decap`], one level of tunnel ([`tunnel`]): GRE (IP, Ethernet or
//!   PPP inside, PPTP's GRE too), IP-in-IP (protocol 4), IPv6-in-IP (41, 6in4), GTP-U
//!   (UDP port 2152) and VXLAN (UDP port 4789). Such a packet counts once, in its inner
//!   flow, whose key names the tunnel ([`crate::flow::Tunnel`]); the outer flow does not
//!   count it. A tunnel whose inner packet cannot be read counts as the outer packet.
//!
//! # How it counts (tshark's accounting)
//! - Once the fixed IP header is whole and sane (version, IHL ≥ 5, total length ≥ IHL),
//!   the packet counts in its IP flow. Anything less is [`Parsed::Truncated`]: cut
//!   inside a header, or a header no reader would trust. IPv4 and IPv6 alike.
//! - A transport header that is cut, or whose length does not fit the IP length the
//!   header claims (TCP data offset < 5 or beyond it, UDP beyond it, an IPv6 extension
//!   chain cut or beyond it), leaves ports 0 and is noted [`Note::TRANSPORT_BROKEN`]:
//!   the packet is not lost from its address pair.
//! - Fragments: a first fragment (offset 0) carries the transport header and keeps its
//!   ports, in IPv4 and IPv6 alike; later fragments have ports 0
//!   ([`Note::NON_FIRST_FRAGMENT`]). Fragments are not reassembled.
//! - The IP length counted is the header's claim (IPv4 total length, IPv6 40 + payload
//!   length), bounded by the bytes the frame carried on the wire from the IP header on
//!   ([`Frame::wire_len`]). A claim beyond that is noted [`Note::LENGTH_EXCEEDS_FRAME`]
//!   and the frame counts what it carried. Live, the kernel sees whole frames (XDP the
//!   frame, TC `skb->len`), so such a claim is forged or broken and counting it would
//!   invent bytes. Offline, the wire length is the record's original length, not the
//!   bytes stored: a capture cut by its snap length still counts the header's length,
//!   as tshark does. A claim of 0 (IPv4 from a sender's capture with segmentation
//!   offload; IPv6 jumbograms) takes the wire length ([`Note::LENGTH_FROM_FRAME`]).
//! - The transport payload length is the IP length counted minus the IP and transport
//!   headers (0 if they fill it).

pub mod frame;
pub mod ip;
pub mod link;
pub mod tunnel;

pub use frame::Frame;
pub use link::{
    Network, ETH_HLEN, ETH_P_8021AD, ETH_P_8021Q, ETH_P_FABRICPATH, ETH_P_IPV4, ETH_P_IPV6, ETH_P_MPLS_MC,
    ETH_P_MPLS_UC, ETH_P_PPP_SES, ETH_P_QINQ_9100,
};

use crate::counters::Counter;
use crate::flow::FlowKey;

/// VLAN tags the parser looks through (QinQ).
pub const MAX_VLAN_TAGS: usize = 2;
/// MPLS labels the parser looks through.
pub const MAX_MPLS_LABELS: usize = 4;
/// IPv6 extension headers the parser walks before giving up on the chain.
pub const MAX_IPV6_EXT_HEADERS: usize = 6;

/// Offsets are masked to this at each header start: provably small for the verifier,
/// and far above any header stack the parser walks.
const OFFSET_MASK: usize = 0x3fff;

#[inline(always)]
fn bound(off: usize) -> usize {
    off & OFFSET_MASK
}

/// How to parse.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Open tunnels and count their inner packets ([`tunnel`]).
    pub decap: bool,
}

/// What the parser made of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// An IP packet, with its flow key and lengths.
    Ip(IpPacket),
    /// Not IPv4/IPv6 (after any encapsulation the parser reads).
    NonIp,
    /// Cut inside a header the parser needed, or a fixed IP header no reader would
    /// trust (see the module's rules).
    Truncated,
    /// More than [`MAX_VLAN_TAGS`] VLAN tags.
    VlanTooDeep,
    /// More than [`MAX_MPLS_LABELS`] MPLS labels.
    MplsTooDeep,
}

impl Parsed {
    /// The counter a frame that is not an IP packet adds to.
    #[inline(always)]
    pub fn counter(&self) -> Option<Counter> {
        match self {
            Parsed::Ip(_) => None,
            Parsed::NonIp => Some(Counter::NonIp),
            Parsed::Truncated => Some(Counter::Truncated),
            Parsed::VlanTooDeep => Some(Counter::VlanTooDeep),
            Parsed::MplsTooDeep => Some(Counter::MplsTooDeep),
        }
    }
}

/// What the parser noted about an IP packet (bits of [`IpPacket::notes`], OR-ed into
/// [`crate::FlowStats::notes`]).
pub struct Note;

impl Note {
    /// A fragment that is not the first: no transport header, ports 0.
    pub const NON_FIRST_FRAGMENT: u8 = 0x01;
    /// The IPv6 extension header chain is longer than the parser walks: ports 0.
    pub const IPV6_CHAIN_TOO_LONG: u8 = 0x02;
    /// The transport header is cut or bogus: ports 0.
    pub const TRANSPORT_BROKEN: u8 = 0x04;
    /// The IP header claims more bytes than the frame carried: the frame's are counted.
    pub const LENGTH_EXCEEDS_FRAME: u8 = 0x08;
    /// The IP header claims 0 bytes (offload, jumbogram): the frame's are counted.
    pub const LENGTH_FROM_FRAME: u8 = 0x10;

    /// Notes that have a counter of their own.
    pub const COUNTED: [(u8, Counter); 4] = [
        (Note::NON_FIRST_FRAGMENT, Counter::NonFirstFragments),
        (Note::IPV6_CHAIN_TOO_LONG, Counter::Ipv6HeaderChainTooLong),
        (Note::TRANSPORT_BROKEN, Counter::TransportHeaderBroken),
        (Note::LENGTH_EXCEEDS_FRAME, Counter::IpLengthExceedsFrame),
    ];

    /// Every note with its name (for flow records).
    pub const NAMES: [(u8, &'static str); 5] = [
        (Note::NON_FIRST_FRAGMENT, "non_first_fragment"),
        (Note::IPV6_CHAIN_TOO_LONG, "ipv6_header_chain_too_long"),
        (Note::TRANSPORT_BROKEN, "transport_header_broken"),
        (Note::LENGTH_EXCEEDS_FRAME, "ip_length_exceeds_frame"),
        (Note::LENGTH_FROM_FRAME, "ip_length_from_frame"),
    ];

    /// The names of the notes set in `bits`.
    pub fn names(bits: u16) -> impl Iterator<Item = &'static str> {
        Note::NAMES.into_iter().filter(move |(b, _)| bits & *b as u16 != 0).map(|(_, n)| n)
    }
}

/// An IP packet as the classifier and the flow table see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpPacket {
    /// The flow: ports 0 when there are none to read; the tunnel when decapsulated.
    pub key: FlowKey,
    /// Offset of the IP header in the frame (the inner one when decapsulated).
    pub l3_offset: u32,
    /// Offset of the transport header (after IPv4 options and IPv6 extension headers).
    pub l4_offset: u32,
    /// The IP length the header claims (IPv6: 40 + payload length).
    pub claim: u32,
    /// The IP length counted: the claim bounded by the frame ([module rules](self)).
    pub ip_len: u32,
    /// Length of the IP header(s) and the transport header together.
    pub headers_len: u32,
    /// Transport payload counted: `ip_len - headers_len`, or 0.
    pub payload_len: u32,
    pub tcp_flags: u8,
    /// Bits of [`Note`].
    pub notes: u8,
}

impl IpPacket {
    #[inline(always)]
    fn new(key: FlowKey, l3: usize, l4: usize, claim: u32, ip_len: u32, notes: u8) -> Self {
        let mut p = IpPacket {
            key,
            l3_offset: l3 as u32,
            l4_offset: l4 as u32,
            claim,
            ip_len,
            headers_len: 0,
            payload_len: 0,
            tcp_flags: 0,
            notes,
        };
        p.set_headers(l4 - l3);
        p
    }

    #[inline(always)]
    fn set_headers(&mut self, len: usize) {
        self.headers_len = len as u32;
        self.payload_len = self.ip_len.saturating_sub(len as u32);
    }

    #[inline(always)]
    fn broken(&mut self) {
        self.notes |= Note::TRANSPORT_BROKEN;
    }

    /// Packets counted in an inner flow ([`Counter::Decapsulated`]).
    #[inline(always)]
    pub fn decapsulated(&self) -> bool {
        self.key.tunnel != 0
    }
}

/// Where a frame's network layer begins, as its link layer tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// The frame starts with an Ethernet header.
    Ethernet,
    /// An ethertype (from Linux cooked capture, Cisco HDLC, a PPP protocol mapped by
    /// [`link::ppp_ethertype`], ...) and the offset of the header it names.
    Ethertype(u16, usize),
    /// IP at this offset, its family told by the version nibble (raw IP).
    Ip(usize),
}

/// A point where the parser lets go of what it knows about an offset.
///
/// The BPF verifier follows every path through the parser, and each path arrives at
/// the IP header with its own exact offset: without a point where those paths become
/// one, everything after would be verified once per path (the kernel program passes
/// the offset through map memory, which the verifier does not track). On the host
/// this is the identity ([`Direct`]).
pub trait Converge {
    fn offset(&self, off: usize) -> usize;
    /// The same for what a parsed packet's lengths and notes (before a tunnel is
    /// opened, when the outer packet may still be the result).
    fn packet(&self, p: &mut IpPacket);
}

/// The host's [`Converge`]: nothing to forget.
pub struct Direct;

impl Converge for Direct {
    #[inline(always)]
    fn offset(&self, off: usize) -> usize {
        off
    }

    #[inline(always)]
    fn packet(&self, _: &mut IpPacket) {}
}

/// Parses a frame from where its network layer begins.
#[inline(always)]
pub fn parse(f: &Frame, start: Start, opts: Options, c: &impl Converge) -> Parsed {
    let net = match start {
        Start::Ethernet => match f.be16(12) {
            Some(et) => link::to_network(f, ETH_HLEN, et),
            None => return Parsed::Truncated,
        },
        Start::Ethertype(et, off) => link::to_network(f, off, et),
        Start::Ip(off) => link::ip_by_version(f, off),
    };
    match net {
        Ok(net) => parse_network(f, net, opts, c),
        Err(p) => p,
    }
}

/// Parses a frame that starts with an Ethernet header (on the host).
pub fn parse_ethernet(f: &Frame, opts: Options) -> Parsed {
    parse(f, Start::Ethernet, opts, &Direct)
}

/// Parses an IP packet whose header the link layer located.
#[inline(always)]
pub fn parse_network(f: &Frame, net: Network, opts: Options, c: &impl Converge) -> Parsed {
    let outer = ip_packet(f, net, c);
    if !opts.decap {
        return outer;
    }
    match outer {
        Parsed::Ip(mut o) => {
            c.packet(&mut o);
            match decap(f, &o, c) {
                Some(inner) => Parsed::Ip(inner),
                None => Parsed::Ip(o),
            }
        }
        other => other,
    }
}

#[inline(always)]
fn ip_packet(f: &Frame, net: Network, c: &impl Converge) -> Parsed {
    match net {
        Network::V4(off) => ip::ipv4(f, bound(c.offset(off))),
        Network::V6(off) => ip::ipv6(f, bound(c.offset(off))),
    }
}

/// The inner packet of a tunnel, its key naming the tunnel.
#[inline(always)]
fn decap(f: &Frame, outer: &IpPacket, c: &impl Converge) -> Option<IpPacket> {
    let (kind, inner) = tunnel::open(f, outer, outer.l4_offset as usize)?;
    let (et, off) = inner.ethertype(f)?;
    // Every tunnel's inner packet is parsed by one path: its kind, ethertype and
    // offset pass the convergence point together.
    let (kind, et, off) = (c.offset(kind as usize) as u8, c.offset(et as usize) as u16, c.offset(off));
    let net = link::to_network(f, off, et).ok()?;
    match ip_packet(f, net, c) {
        Parsed::Ip(mut p) => {
            p.key.tunnel = kind;
            Some(p)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
