//! Lifetime totals and duration of every flow ([M] §III-A).
//!
//! Duration of a flow: first packet to last packet, gaps included
//! (`last_seen − first_seen`).

use std::collections::HashMap;

use peerscope_abi::{FlowKey, FlowStats, UnixNs};

use super::host::MonitoredHost;
use crate::schema::Flow;

/// Cumulative counters of every flow seen (memory grows with flows, not time).
#[derive(Clone, Debug, Default)]
pub struct FlowLedger {
    flows: HashMap<FlowKey, FlowStats<UnixNs>>,
}

impl FlowLedger {
    pub fn add(&mut self, key: &FlowKey, delta: &FlowStats<UnixNs>) {
        self.flows.entry(*key).or_default().merge(delta);
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&FlowKey, &FlowStats<UnixNs>)> {
        self.flows.iter()
    }

    /// Every flow as a report record, ordered by key.
    pub fn records(&self, host: &MonitoredHost) -> Vec<Flow> {
        let mut v: Vec<_> = self.flows.iter().map(|(k, s)| Flow::new(k, s, Some(host))).collect();
        v.sort_by_key(|a| (a.key.src_ip, a.key.src_port, a.key.dst_ip, a.key.dst_port, a.key.ip_protocol));
        v
    }
}

/// Duration of a flow in ns: first to last packet, gaps included.
pub fn duration_ns(s: &FlowStats<UnixNs>) -> u64 {
    s.last_seen.0.saturating_sub(s.first_seen.0)
}

#[cfg(test)]
mod tests {

    use crate::testing::scenario::{rates, RA};
    use crate::testing::*;

    /// See [`rates`]: RA:1 → X sends 60 + 100 + 100 packets of 1000 B in windows 0, 2
    /// and 3, the first at T0 and the last at T0 + 60 s + 99 × 0.1 s.
    #[test]
    fn test_flow_spanning_windows_keeps_one_record_and_its_duration() {
        let r = analyze(&rates(), window_config(20)).report;
        let f = r.flows.iter().find(|f| f.key.src_ip == ip(RA) && f.key.src_port == 1).unwrap();
        assert_eq!(f.total.classes.packets, 60 + 100 + 100);
        assert_eq!(f.total.classes.bytes, 260_000);
        assert_eq!(f.direction, Some(crate::schema::FlowDirection::Download));
        assert_eq!(f.total.first_seen_unix_ns, Some(T0));
        assert_eq!(f.total.last_seen_unix_ns, Some(T0 + 60 * S + 99 * (S / 10)));
        assert_close(f.total.duration_s, 69.9);
        // Every packet is in exactly one flow.
        assert_eq!(r.flows.iter().map(|f| f.total.classes.packets).sum::<u64>(), 560);
    }
}
