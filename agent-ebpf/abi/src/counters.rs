//! Global counters the kernel program keeps beside the flow map (a per-CPU array
//! indexed by [`Counter`]). Discriminants are explicit: they cross the kernel/user
//! boundary. New counters are appended; none is ever renumbered.

#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Counter {
    /// Frames that are not IPv4 or IPv6 (ARP, LLDP, …).
    NonIp = 0,
    /// Frames cut short inside a header the program needed; passed, not counted in a flow.
    Truncated = 1,
    /// IPv4/IPv6 fragments that are not the first one (counted under ports 0).
    NonFirstFragments = 2,
    /// A new flow could not be inserted because the flow map was full.
    FlowInsertFailures = 3,
    /// Packets and IP bytes of those flows: counted here instead, never lost.
    OverflowPackets = 4,
    OverflowBytes = 5,
    /// Egress super-packets (GSO/TSO) split into their wire packets.
    GsoSkbs = 6,
    /// IPv6 packets whose extension-header chain was longer than the program walks.
    Ipv6HeaderChainTooLong = 7,
    /// Control-class samples written to the ring buffer, dropped (buffer full) and
    /// skipped by the rate limit.
    SamplesSent = 8,
    SamplesDropped = 9,
    SamplesRateLimited = 10,
    /// Packets seen, per direction.
    IngressPackets = 11,
    EgressPackets = 12,
}

impl Counter {
    pub const COUNT: u32 = 13;
    pub const ALL: [Counter; 13] = [
        Counter::NonIp,
        Counter::Truncated,
        Counter::NonFirstFragments,
        Counter::FlowInsertFailures,
        Counter::OverflowPackets,
        Counter::OverflowBytes,
        Counter::GsoSkbs,
        Counter::Ipv6HeaderChainTooLong,
        Counter::SamplesSent,
        Counter::SamplesDropped,
        Counter::SamplesRateLimited,
        Counter::IngressPackets,
        Counter::EgressPackets,
    ];

    /// Snake-case name used in JSON and metrics.
    pub const fn name(self) -> &'static str {
        match self {
            Counter::NonIp => "non_ip",
            Counter::Truncated => "truncated",
            Counter::NonFirstFragments => "non_first_fragments",
            Counter::FlowInsertFailures => "flow_insert_failures",
            Counter::OverflowPackets => "overflow_packets",
            Counter::OverflowBytes => "overflow_bytes",
            Counter::GsoSkbs => "gso_skbs",
            Counter::Ipv6HeaderChainTooLong => "ipv6_header_chain_too_long",
            Counter::SamplesSent => "samples_sent",
            Counter::SamplesDropped => "samples_dropped",
            Counter::SamplesRateLimited => "samples_rate_limited",
            Counter::IngressPackets => "ingress_packets",
            Counter::EgressPackets => "egress_packets",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_all_lists_every_counter_in_order() {
        for (i, c) in Counter::ALL.iter().enumerate() {
            assert_eq!(*c as u32, i as u32, "{}", c.name());
        }
        assert_eq!(Counter::ALL.len() as u32, Counter::COUNT);
    }
}
