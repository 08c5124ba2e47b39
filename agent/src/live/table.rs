//! Turns successive readings of the kernel's flow table into per-interval deltas, and
//! retires idle flows from it.

use peerscope_abi::{FlowKey, FlowStats, KernelNs, UnixNs};

use super::{clock::KernelClock, error::LiveError, maps::FlowMaps, maps::SlotReading};

/// What one flow did since the previous poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowDelta {
    pub key: FlowKey,
    /// Counts added since the previous poll, timestamps in Unix time.
    pub delta: FlowStats<UnixNs>,
    /// The kernel's counters of the flow since its slot was claimed, timestamps in
    /// Unix time. (Lifetime totals across reaping live in the engine's flow ledger.)
    pub total: FlowStats<UnixNs>,
}

/// What one poll found.
#[derive(Debug, Default)]
pub struct Poll {
    /// Flows with new counts (a flow may rarely appear twice: see
    /// [`peerscope_abi::table`]; consumers sum by key).
    pub deltas: Vec<FlowDelta>,
    /// Slots in use when the table was read.
    pub flows_in_table: usize,
    /// Flows retired at this poll for being idle.
    pub reaped: usize,
}

/// The agent's memory of the kernel table: each slot's counters at the last poll, in
/// slot order. Slots are read in that order too, so a poll pairs them with a single
/// forward walk, and memory follows the flows present, not the table's size.
#[derive(Debug, Default)]
pub struct FlowTable {
    last: Vec<(u32, FlowStats<KernelNs>)>,
    clock: KernelClock,
}

impl FlowTable {
    pub fn new(clock: KernelClock) -> Self {
        FlowTable { clock, last: Vec::new() }
    }

    /// Reads the kernel table and returns what changed. Slots retired at the previous
    /// poll give their last counts and are freed; flows idle for longer than `idle_ns`
    /// (at Unix time `now_unix_ns`) are retired.
    pub fn poll(&mut self, maps: &FlowMaps, now_unix_ns: u64, idle_ns: Option<u64>) -> Result<Poll, LiveError> {
        let view = maps.view()?;
        let old = std::mem::take(&mut self.last);
        let mut next = Vec::with_capacity(old.len() + old.len() / 8);
        let mut cursor = 0;
        let mut poll = Poll::default();
        let (mut release, mut retire) = (Vec::new(), Vec::new());
        view.for_each_slot(|r| {
            poll.flows_in_table += 1;
            while cursor < old.len() && old[cursor].0 < r.slot {
                cursor += 1;
            }
            let prev = match old.get(cursor) {
                Some((slot, s)) if *slot == r.slot => *s,
                _ => FlowStats::default(),
            };
            if let Some(d) = self.delta(r, &prev) {
                poll.deltas.push(d);
            }
            if r.draining {
                release.push(r.slot);
                return;
            }
            next.push((r.slot, r.stats));
            // A slot with no packet yet was claimed an instant ago: not idle.
            let seen = r.stats.last_seen;
            if seen.0 != 0 && idle_ns.is_some_and(|idle| now_unix_ns.saturating_sub(self.clock.to_unix(seen).0) > idle)
            {
                retire.push(r.slot);
            }
        });
        view.release(&release);
        view.retire(&retire);
        self.last = next;
        poll.reaped = retire.len();
        Ok(poll)
    }

    /// One slot's change since `prev`, its reading at the last poll. A slot whose
    /// counters went down was freed and claimed again meanwhile (by an earlier agent):
    /// all of it is new.
    fn delta(&self, r: &SlotReading, prev: &FlowStats<KernelNs>) -> Option<FlowDelta> {
        let delta = r.stats.since(prev);
        if delta.is_empty() {
            return None;
        }
        Some(FlowDelta {
            key: r.key,
            delta: self.clock.stats_to_unix(&delta),
            total: self.clock.stats_to_unix(&r.stats),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::{flow::ipv4, PacketObservation, Thresholds};

    fn reading(slot: u32, key: FlowKey, stats: FlowStats<KernelNs>, draining: bool) -> SlotReading {
        SlotReading { slot, key, stats, draining }
    }

    #[test]
    fn test_deltas_between_readings_of_a_slot() {
        let t = Thresholds::STUDIES;
        let k = FlowKey::new(17, ipv4(192, 0, 2, 1), 1, ipv4(192, 0, 2, 2), 2);
        let mut s = FlowStats::default();
        s.record(&PacketObservation::new(&t, 17, 100, 72, 0, KernelNs(10)));
        let table = FlowTable::new(KernelClock::new());
        let zero = FlowStats::default();
        let d = table.delta(&reading(3, k, s, false), &zero).unwrap();
        assert_eq!(d.delta.packets, [0, 1, 0]);
        // The kernel's stamp arrives in Unix time.
        assert_eq!(d.delta.first_seen, table.clock.to_unix(KernelNs(10)));
        assert!(d.delta.first_seen.0 > 10);
        // No change: no delta.
        assert!(table.delta(&reading(3, k, s, false), &s).is_none());
        let before = s;
        s.record(&PacketObservation::new(&t, 17, 1100, 1072, 0, KernelNs(20)));
        let d = table.delta(&reading(3, k, s, true), &before).unwrap();
        assert_eq!(d.delta.packets, [0, 0, 1]);
        assert_eq!(d.total.packets, [0, 1, 1]);
        // The slot reused for a new flow with fewer packets: all of them are new.
        let mut fresh = FlowStats::default();
        fresh.record(&PacketObservation::new(&t, 17, 100, 72, 0, KernelNs(30)));
        let d = table.delta(&reading(3, k.reversed(), fresh, false), &s).unwrap();
        assert_eq!(d.delta.packets, [0, 1, 0]);
        assert_eq!(d.key, k.reversed());
    }
}
