//! The Information Elements peerscope exports: IANA's where one exists (RFC 7012's
//! registry), enterprise-specific ones (the enterprise bit set, RFC 7011 §3.2) for
//! what IANA has none of: packets and bytes per size class, large packets, payload
//! bytes, and the class thresholds.

/// The Private Enterprise Number RFC 5612 reserves for documentation: the default,
/// so that nothing peerscope exports claims a number it was not assigned.
pub const DOCUMENTATION_ENTERPRISE: u32 = 32473;

/// One Information Element as a template names it: its number, its length in the
/// records, and whether it is enterprise-specific (then the exporter's enterprise
/// number follows it in the template).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Element {
    pub id: u16,
    pub len: u16,
    pub enterprise: bool,
    /// Its name in IANA's registry, or peerscope's for its own.
    pub name: &'static str,
}

const fn iana(id: u16, len: u16, name: &'static str) -> Element {
    Element { id, len, enterprise: false, name }
}

const fn own(id: u16, len: u16, name: &'static str) -> Element {
    Element { id, len, enterprise: true, name }
}

pub const OCTET_DELTA_COUNT: Element = iana(1, 8, "octetDeltaCount");
pub const PACKET_DELTA_COUNT: Element = iana(2, 8, "packetDeltaCount");
pub const PROTOCOL_IDENTIFIER: Element = iana(4, 1, "protocolIdentifier");
/// RFC 7125's two-byte encoding.
pub const TCP_CONTROL_BITS: Element = iana(6, 2, "tcpControlBits");
pub const SOURCE_TRANSPORT_PORT: Element = iana(7, 2, "sourceTransportPort");
pub const SOURCE_IPV4_ADDRESS: Element = iana(8, 4, "sourceIPv4Address");
pub const INGRESS_INTERFACE: Element = iana(10, 4, "ingressInterface");
pub const DESTINATION_TRANSPORT_PORT: Element = iana(11, 2, "destinationTransportPort");
pub const DESTINATION_IPV4_ADDRESS: Element = iana(12, 4, "destinationIPv4Address");
pub const EGRESS_INTERFACE: Element = iana(14, 4, "egressInterface");
pub const SOURCE_IPV6_ADDRESS: Element = iana(27, 16, "sourceIPv6Address");
pub const DESTINATION_IPV6_ADDRESS: Element = iana(28, 16, "destinationIPv6Address");
pub const FLOW_DIRECTION: Element = iana(61, 1, "flowDirection");
pub const FLOW_END_REASON: Element = iana(136, 1, "flowEndReason");
pub const OBSERVATION_DOMAIN_ID: Element = iana(149, 4, "observationDomainId");
pub const FLOW_START_MILLISECONDS: Element = iana(152, 8, "flowStartMilliseconds");
pub const FLOW_END_MILLISECONDS: Element = iana(153, 8, "flowEndMilliseconds");

/// Packets and IP bytes per size class ([M] §II-D: ack, control, data), as
/// `FlowCounts` has them.
pub const ACK_PACKET_DELTA_COUNT: Element = own(1, 8, "ackPacketDeltaCount");
pub const ACK_OCTET_DELTA_COUNT: Element = own(2, 8, "ackOctetDeltaCount");
pub const CONTROL_PACKET_DELTA_COUNT: Element = own(3, 8, "controlPacketDeltaCount");
pub const CONTROL_OCTET_DELTA_COUNT: Element = own(4, 8, "controlOctetDeltaCount");
pub const DATA_PACKET_DELTA_COUNT: Element = own(5, 8, "dataPacketDeltaCount");
pub const DATA_OCTET_DELTA_COUNT: Element = own(6, 8, "dataOctetDeltaCount");
/// Packets above the large threshold ([H]'s video packets) and their IP bytes.
pub const LARGE_PACKET_DELTA_COUNT: Element = own(7, 8, "largePacketDeltaCount");
pub const LARGE_OCTET_DELTA_COUNT: Element = own(8, 8, "largeOctetDeltaCount");
/// Transport payload bytes (after the TCP/UDP header).
pub const PAYLOAD_OCTET_DELTA_COUNT: Element = own(9, 8, "payloadOctetDeltaCount");
/// The class thresholds (options record): IP length from which a packet is data,
/// and above which it is large.
pub const DATA_MIN_IP_LENGTH: Element = own(10, 4, "dataMinIpLength");
pub const LARGE_ABOVE_IP_LENGTH: Element = own(11, 4, "largeAboveIpLength");

/// flowEndReason values (IANA registry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum EndReason {
    /// The flow went idle (reaped by the agent).
    IdleTimeout = 0x01,
    /// The window closed and the flow goes on: a record of one window's deltas.
    ActiveTimeout = 0x02,
    /// The measurement ended (end of the capture, the agent stopping).
    ForcedEnd = 0x04,
}
