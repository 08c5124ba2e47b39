//! Lifetime totals and duration of every flow ([M] §III-A).
//!
//! Duration of a flow: first packet to last packet, gaps included
//! (`last_seen − first_seen`).

use std::collections::HashMap;

use peerscope_abi::{FlowKey, FlowStats};

use super::host::MonitoredHost;
use crate::schema::Flow;

/// Cumulative counters of every flow seen (memory grows with flows, not time).
#[derive(Clone, Debug, Default)]
pub struct FlowLedger {
    flows: HashMap<FlowKey, FlowStats>,
}

impl FlowLedger {
    pub fn add(&mut self, key: &FlowKey, delta: &FlowStats) {
        self.flows.entry(*key).or_default().merge(delta);
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&FlowKey, &FlowStats)> {
        self.flows.iter()
    }

    /// Every flow as a report record, ordered by key.
    pub fn records(&self, host: &MonitoredHost) -> Vec<Flow> {
        let mut v: Vec<_> = self.flows.iter().map(|(k, s)| Flow::new(k, s, Some(host))).collect();
        v.sort_by_key(|a| (a.src_ip, a.src_port, a.dst_ip, a.dst_port, a.ip_protocol));
        v
    }
}

/// Duration of a flow in ns: first to last packet, gaps included.
pub fn duration_ns(s: &FlowStats) -> u64 {
    s.last_seen_ns.saturating_sub(s.first_seen_ns)
}
