//! Turns successive map snapshots into per-interval deltas, keeping lifetime totals so
//! that nothing is lost when flows are reaped from the kernel table.

use std::collections::HashMap;

use peerscope_abi::{FlowKey, FlowStats};

use super::{clock::KernelClock, maps::Snapshot};

/// What one flow did since the previous poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowDelta {
    pub key: FlowKey,
    /// Counts added since the previous poll; timestamps in Unix ns.
    pub delta: FlowStats,
    /// Totals since the agent first saw the flow; timestamps in Unix ns.
    pub total: FlowStats,
}

/// The agent's view of every flow it has seen.
#[derive(Debug, Default)]
pub struct FlowTable {
    last: HashMap<FlowKey, FlowStats>,
    totals: HashMap<FlowKey, FlowStats>,
    clock: KernelClock,
}

impl FlowTable {
    pub fn new(clock: KernelClock) -> Self {
        FlowTable { clock, ..Default::default() }
    }

    /// Compares a snapshot to the previous one. Flows whose counters went down were
    /// removed and re-created in the kernel: all of their counts are new.
    pub fn update(&mut self, snap: &Snapshot) -> Vec<FlowDelta> {
        let mut out = Vec::new();
        for (key, now) in &snap.flows {
            let mut delta = match self.last.get(key) {
                Some(prev) => now.since(prev),
                None => *now,
            };
            if delta.is_empty() {
                continue;
            }
            delta.first_seen_ns = self.clock.to_unix_ns(delta.first_seen_ns);
            delta.last_seen_ns = self.clock.to_unix_ns(delta.last_seen_ns);
            let total = self.totals.entry(*key).or_default();
            total.merge(&delta);
            out.push(FlowDelta { key: *key, delta, total: *total });
        }
        self.last.retain(|k, _| snap.flows.contains_key(k));
        for (k, v) in &snap.flows {
            self.last.insert(*k, *v);
        }
        out
    }

    /// Flows idle for longer than `idle_ns` at `now_unix_ns`, to be reaped from the
    /// kernel table; their totals stay here.
    pub fn idle(&self, now_unix_ns: u64, idle_ns: u64) -> Vec<FlowKey> {
        self.last
            .iter()
            .filter(|(_, s)| now_unix_ns.saturating_sub(self.clock.to_unix_ns(s.last_seen_ns)) > idle_ns)
            .map(|(k, _)| *k)
            .collect()
    }

    /// Forgets the kernel-side baseline of reaped flows (their next packets start a
    /// fresh kernel entry, counted in full).
    pub fn forget(&mut self, keys: &[FlowKey]) {
        for k in keys {
            self.last.remove(k);
        }
    }

    pub fn totals(&self) -> &HashMap<FlowKey, FlowStats> {
        &self.totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::{flow::ipv4, PacketObservation, Thresholds};

    fn snap(entries: &[(FlowKey, FlowStats)]) -> Snapshot {
        Snapshot { flows: entries.iter().copied().collect(), counters: vec![] }
    }

    #[test]
    fn test_deltas_between_polls_and_after_reap() {
        let t = Thresholds::STUDIES;
        let k = FlowKey::new(17, ipv4(192, 0, 2, 1), 1, ipv4(192, 0, 2, 2), 2);
        let mut s = FlowStats::default();
        s.record(&PacketObservation::new(&t, 17, 100, 72, 0, 10));
        let mut table = FlowTable::new(KernelClock::new());
        let d = table.update(&snap(&[(k, s)]));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].delta.packets, [0, 1, 0]);
        // No change: no delta.
        assert!(table.update(&snap(&[(k, s)])).is_empty());
        s.record(&PacketObservation::new(&t, 17, 1100, 1072, 0, 20));
        let d = table.update(&snap(&[(k, s)]));
        assert_eq!(d[0].delta.packets, [0, 0, 1]);
        assert_eq!(d[0].total.packets, [0, 1, 1]);
        // Reaped, then re-created with one packet: that packet counts once.
        table.forget(&[k]);
        let mut fresh = FlowStats::default();
        fresh.record(&PacketObservation::new(&t, 17, 100, 72, 0, 30));
        let d = table.update(&snap(&[(k, fresh)]));
        assert_eq!(d[0].delta.packets, [0, 1, 0]);
        assert_eq!(d[0].total.packets, [0, 2, 1]);
    }
}
