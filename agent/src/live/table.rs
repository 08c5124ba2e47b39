//! Turns successive readings of the kernel's flow table into per-interval deltas.

use std::collections::HashMap;

use peerscope_abi::{FlowKey, FlowStats};

use super::{clock::KernelClock, error::LiveError, maps::FlowMaps, maps::Snapshot};

/// What one flow did since the previous poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowDelta {
    pub key: FlowKey,
    /// Counts added since the previous poll; timestamps in Unix ns.
    pub delta: FlowStats,
    /// The kernel's counters of the flow since its entry was created; timestamps in
    /// Unix ns. (Lifetime totals across reaping live in the engine's flow ledger.)
    pub total: FlowStats,
}

/// The agent's memory of the kernel table: each flow's counters at the last poll,
/// stamped with the poll that last saw it.
#[derive(Debug, Default)]
pub struct FlowTable {
    last: HashMap<FlowKey, (FlowStats, u32)>,
    generation: u32,
    clock: KernelClock,
}

impl FlowTable {
    pub fn new(clock: KernelClock) -> Self {
        FlowTable { clock, ..Default::default() }
    }

    /// Reads the kernel table (streamed in batches) and returns what changed.
    pub fn poll(&mut self, maps: &FlowMaps) -> Result<Vec<FlowDelta>, LiveError> {
        self.generation = self.generation.wrapping_add(1);
        let mut out = Vec::new();
        maps.for_each_flow(|k, s| self.observe(k, s, &mut out))?;
        self.sweep();
        Ok(out)
    }

    /// [`Self::poll`] on a reading already taken.
    pub fn update(&mut self, snap: &Snapshot) -> Vec<FlowDelta> {
        self.generation = self.generation.wrapping_add(1);
        let mut out = Vec::new();
        for (k, s) in &snap.flows {
            self.observe(k, s, &mut out);
        }
        self.sweep();
        out
    }

    /// Flows whose counters went down were removed and re-created in the kernel: all
    /// of their counts are new.
    fn observe(&mut self, key: &FlowKey, now: &FlowStats, out: &mut Vec<FlowDelta>) {
        let generation = self.generation;
        let entry = self.last.entry(*key).or_insert((FlowStats::default(), generation));
        let mut delta = now.since(&entry.0);
        *entry = (*now, generation);
        if delta.is_empty() {
            return;
        }
        delta.first_seen_ns = self.clock.to_unix_ns(delta.first_seen_ns);
        delta.last_seen_ns = self.clock.to_unix_ns(delta.last_seen_ns);
        let mut total = *now;
        total.first_seen_ns = self.clock.to_unix_ns(total.first_seen_ns);
        total.last_seen_ns = self.clock.to_unix_ns(total.last_seen_ns);
        out.push(FlowDelta { key: *key, delta, total });
    }

    /// Forgets flows the last reading did not contain.
    fn sweep(&mut self) {
        let generation = self.generation;
        self.last.retain(|_, (_, g)| *g == generation);
    }

    pub fn len(&self) -> usize {
        self.last.len()
    }

    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }

    /// Flows idle for longer than `idle_ns` at `now_unix_ns`, to be reaped from the
    /// kernel table (after this poll read their last counts).
    pub fn idle(&self, now_unix_ns: u64, idle_ns: u64) -> Vec<FlowKey> {
        self.last
            .iter()
            .filter(|(_, (s, _))| now_unix_ns.saturating_sub(self.clock.to_unix_ns(s.last_seen_ns)) > idle_ns)
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
        // A flow missing from a reading is forgotten.
        assert!(table.update(&snap(&[])).is_empty());
        assert!(table.is_empty());
    }
}
