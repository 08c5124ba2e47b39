//! What `peerscope flows --json` prints: the flows of the kernel table of a running
//! agent, read from its pins, and the kernel's counters.

use peerscope_abi::Counter;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{document, SchemaVersion};
use super::flow::Flow;

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct FlowsDocument {
    pub schema_version: SchemaVersion,
    pub document: FlowsTag,
    pub iface: String,
    /// When the table was read.
    pub time_unix_ns: u64,
    /// Flows in the kernel table, and its capacity.
    pub flows_in_table: usize,
    pub table_capacity: u32,
    /// The busiest flows (`--top`), largest first; totals since each flow's slot
    /// was claimed.
    pub flows: Vec<Flow>,
    pub counters: KernelCounters,
}

document!(FlowsDocument, FlowsTag, "flows", "`peerscope flows --json`");

/// The kernel program's global counters, since it was loaded (names as in the
/// OpenMetrics `peerscope_kernel_events_total{event}`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KernelCounters {
    /// Frames that are not IPv4 or IPv6 (ARP, LLDP, …).
    pub non_ip: u64,
    /// Frames cut short inside a header the program needed; passed, not counted in a flow.
    pub truncated: u64,
    /// IPv4/IPv6 fragments that are not the first one (counted under ports 0).
    pub non_first_fragments: u64,
    /// New flows that could not be inserted because the flow table was full ...
    pub flow_insert_failures: u64,
    /// ... and their packets and IP bytes, counted here instead.
    pub overflow_packets: u64,
    pub overflow_bytes: u64,
    /// Egress super-packets (GSO/TSO) split into their wire packets.
    pub gso_skbs: u64,
    /// IPv6 packets whose extension-header chain was longer than the program walks.
    pub ipv6_header_chain_too_long: u64,
    /// Control-class samples written to the ring buffer, dropped (buffer full),
    /// skipped by the rate limit.
    pub samples_sent: u64,
    pub samples_dropped: u64,
    pub samples_rate_limited: u64,
    /// Packets seen, per direction.
    pub ingress_packets: u64,
    pub egress_packets: u64,
}

impl KernelCounters {
    /// From the counter values indexed by [`Counter`] (a missing one is 0).
    pub fn new(values: &[u64]) -> Self {
        let v = |c: Counter| values.get(c as usize).copied().unwrap_or(0);
        KernelCounters {
            non_ip: v(Counter::NonIp),
            truncated: v(Counter::Truncated),
            non_first_fragments: v(Counter::NonFirstFragments),
            flow_insert_failures: v(Counter::FlowInsertFailures),
            overflow_packets: v(Counter::OverflowPackets),
            overflow_bytes: v(Counter::OverflowBytes),
            gso_skbs: v(Counter::GsoSkbs),
            ipv6_header_chain_too_long: v(Counter::Ipv6HeaderChainTooLong),
            samples_sent: v(Counter::SamplesSent),
            samples_dropped: v(Counter::SamplesDropped),
            samples_rate_limited: v(Counter::SamplesRateLimited),
            ingress_packets: v(Counter::IngressPackets),
            egress_packets: v(Counter::EgressPackets),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_every_kernel_counter_has_its_field_under_its_name() {
        let values: Vec<u64> = (1..=Counter::COUNT as u64).collect();
        let json = serde_json::to_value(KernelCounters::new(&values)).unwrap();
        let fields = json.as_object().unwrap();
        assert_eq!(fields.len(), Counter::ALL.len(), "{json}");
        for c in Counter::ALL {
            assert_eq!(fields.get(c.name()).and_then(|v| v.as_u64()), Some(c as u64 + 1), "{}", c.name());
        }
    }
}
