//! Turns successive readings of the kernel's flow table into per-interval deltas, and
//! retires idle flows from it.

use bytemuck::{Pod, Zeroable};
use peerscope_abi::{FlowKey, FlowStats, KernelNs, UnixNs};

use super::{
    clock::KernelClock,
    error::LiveError,
    maps::{FlowMaps, SlotReading, TableView},
    settle::Settle,
};

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
    /// The table was read (else nothing could have changed: see [`FlowTable`]).
    pub read_table: bool,
}

/// One slot's reading at the last poll: what the next poll's deltas are taken from,
/// and what the agent saves so that a restarted agent continues from it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct SlotBaseline {
    pub key: FlowKey,
    pub stats: FlowStats<KernelNs>,
    pub slot: u32,
    pub _pad: u32,
}

const _: () = assert!(std::mem::size_of::<SlotBaseline>() == 152);

/// The agent's memory of the kernel table: each slot's key and counters at the last
/// poll, in slot order. Slots are read in that order too, so a poll pairs them with a
/// single forward walk, and memory follows the flows present, not the table's size.
///
/// A poll reads the table only when something may have changed ([`Settle`]) or a
/// slot is to be freed or is due to retire: an idle agent neither maps nor walks it.
#[derive(Debug, Default)]
pub struct FlowTable {
    last: Vec<SlotBaseline>,
    clock: KernelClock,
    quiet: Quiet,
}

/// What lets a poll skip reading the table (see [`FlowTable`]).
#[derive(Debug, Default)]
struct Quiet {
    settle: Settle,
    /// The last reading retired slots, to be freed at the next one.
    pending: bool,
    /// When the first flow held becomes idle (Unix ns; `None`: never), for the idle
    /// timeout it was computed with.
    first_idle_ns: Option<u64>,
    idle_ns: Option<u64>,
}

/// What a poll leaves to do in the kernel table: free the slots it read for the last
/// time, retire the idle ones. Deferred so the agent can first save what it read: a
/// crash in between leaves the slots as they were, and the saved baseline still
/// accounts for them.
pub struct Pending<'a> {
    /// `None`: the poll did not read the table.
    view: Option<TableView<'a>>,
    release: Vec<SlotBaseline>,
    retire: Vec<u32>,
}

impl Pending<'_> {
    /// The slots read for the last time, with their final counts: part of the baseline
    /// until they are freed.
    pub fn releasing(&self) -> &[SlotBaseline] {
        &self.release
    }

    /// Nothing to free or retire.
    pub fn is_empty(&self) -> bool {
        self.release.is_empty() && self.retire.is_empty()
    }

    pub fn apply(self) {
        let Some(view) = self.view else { return };
        let release: Vec<u32> = self.release.iter().map(|b| b.slot).collect();
        view.release(&release);
        view.retire(&self.retire);
    }
}

impl FlowTable {
    pub fn new(clock: KernelClock) -> Self {
        FlowTable { clock, last: Vec::new(), quiet: Quiet::default() }
    }

    /// Continues from a saved baseline (slot order): a slot whose key is the same is
    /// counted from the saved reading, any other as new.
    pub fn resume(clock: KernelClock, mut last: Vec<SlotBaseline>) -> Self {
        last.sort_by_key(|b| b.slot);
        FlowTable { clock, last, quiet: Quiet::default() }
    }

    /// Each slot's reading at the last poll.
    pub fn baseline(&self) -> &[SlotBaseline] {
        &self.last
    }

    /// Reads the kernel table and returns what changed. Slots retired at the previous
    /// poll give their last counts and are freed; flows idle for longer than `idle_ns`
    /// (at Unix time `now_unix_ns`) are retired.
    pub fn poll(&mut self, maps: &FlowMaps, now_unix_ns: u64, idle_ns: Option<u64>) -> Result<Poll, LiveError> {
        let (poll, pending) = self.poll_deferred(maps, now_unix_ns, idle_ns)?;
        pending.apply();
        Ok(poll)
    }

    /// [`Self::poll`], leaving the frees and retirements to [`Pending::apply`].
    pub fn poll_deferred<'a>(
        &mut self,
        maps: &'a FlowMaps,
        now_unix_ns: u64,
        idle_ns: Option<u64>,
    ) -> Result<(Poll, Pending<'a>), LiveError> {
        // Read before the table, so a packet counted after it is seen by a later poll.
        let packets = maps.packets_seen()?;
        if self.quiet.settle.unchanged(packets)
            && !self.quiet.pending
            && self.quiet.idle_ns == idle_ns
            && self.quiet.first_idle_ns.is_none_or(|t| now_unix_ns <= t)
        {
            let poll = Poll { flows_in_table: self.last.len(), ..Poll::default() };
            return Ok((poll, Pending { view: None, release: Vec::new(), retire: Vec::new() }));
        }
        let view = maps.view()?;
        let old = std::mem::take(&mut self.last);
        let mut next = Vec::with_capacity(old.len() + old.len() / 8);
        let mut cursor = 0;
        let mut poll = Poll { read_table: true, ..Poll::default() };
        let (mut release, mut retire) = (Vec::new(), Vec::new());
        let mut first_idle_ns: Option<u64> = None;
        view.for_each_slot(|r| {
            poll.flows_in_table += 1;
            while cursor < old.len() && old[cursor].slot < r.slot {
                cursor += 1;
            }
            let prev = match old.get(cursor) {
                // The same flow in the same slot: count from its last reading. Another
                // key means the slot was freed and claimed again meanwhile.
                Some(b) if b.slot == r.slot && b.key == r.key => b.stats,
                _ => FlowStats::default(),
            };
            if let Some(d) = self.delta(r, &prev) {
                poll.deltas.push(d);
            }
            let reading = SlotBaseline { key: r.key, stats: r.stats, slot: r.slot, _pad: 0 };
            if r.draining {
                release.push(reading);
                return;
            }
            next.push(reading);
            // A slot with no packet yet was claimed an instant ago: not idle.
            let seen = r.stats.last_seen;
            let Some(idle) = idle_ns else { return };
            if seen.0 == 0 {
                first_idle_ns = Some(0);
                return;
            }
            let idle_at = self.clock.to_unix(seen).0.saturating_add(idle);
            if now_unix_ns > idle_at {
                retire.push(r.slot);
            } else {
                first_idle_ns = Some(first_idle_ns.map_or(idle_at, |t| t.min(idle_at)));
            }
        });
        self.last = next;
        poll.reaped = retire.len();
        self.quiet.settle.read(packets);
        // Retired slots are freed at the next reading (their last counts read).
        self.quiet = Quiet { settle: self.quiet.settle, pending: !retire.is_empty(), first_idle_ns, idle_ns };
        Ok((poll, Pending { view: Some(view), release, retire }))
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
