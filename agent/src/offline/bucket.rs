//! Buckets packets into windows by timestamp: the offline producer of
//! [`WindowFlows`], so that pcap files go through the same engine as live traffic.
//!
//! The grid starts at the first packet and advances by Δ; every window is
//! emitted, empty ones included. A packet older than the current window (captures
//! are not always in time order) is counted in the current window. A jump forward
//! by more than [`MAX_EMPTY_WINDOWS`] windows (a corrupt or reset clock) restarts
//! the grid at that packet instead of emitting millions of empty windows; such
//! jumps are counted.
//!
//! The measured interval runs from the first packet to the last one, not to the
//! end of the grid: the last window ends at the last packet (its observed length,
//! shorter than Δ when the capture ends mid-window). A last packet exactly on a
//! window boundary closes the window before it (a window of length zero would have
//! no rate), so a capture 900.0 s long is 45 windows of 20 s.

use std::collections::HashMap;

use peerscope_abi::{FlowKey, FlowStats, PacketObservation, UnixNs};

use crate::engine::WindowFlows;

/// Longest run of empty windows emitted for one gap (about 23 days at Δ = 20 s).
pub const MAX_EMPTY_WINDOWS: u64 = 100_000;

#[derive(Debug)]
pub struct WindowBucketer {
    len_ns: u64,
    start_ns: Option<u64>,
    cur: HashMap<FlowKey, FlowStats<UnixNs>>,
    /// The window before `cur`, held back until the next one is known not to be
    /// the zero-length last window.
    pending: Option<WindowFlows>,
    last_ts_ns: u64,
    jumps: u64,
}

impl WindowBucketer {
    pub fn new(len_ns: u64) -> Self {
        WindowBucketer {
            len_ns: len_ns.max(1),
            start_ns: None,
            cur: HashMap::new(),
            pending: None,
            last_ts_ns: 0,
            jumps: 0,
        }
    }

    /// Counts one packet; emits the windows that end before it.
    pub fn push(&mut self, key: FlowKey, obs: &PacketObservation<UnixNs>, emit: &mut impl FnMut(WindowFlows)) {
        let mut start = *self.start_ns.get_or_insert(obs.ts.0);
        if obs.ts.0.saturating_sub(start) / self.len_ns > MAX_EMPTY_WINDOWS {
            self.close(start, emit);
            self.jumps += 1;
            start = obs.ts.0;
        }
        while obs.ts.0 >= start + self.len_ns {
            self.close(start, emit);
            start += self.len_ns;
        }
        self.start_ns = Some(start);
        self.last_ts_ns = self.last_ts_ns.max(obs.ts.0);
        self.cur.entry(key).or_default().record(obs);
    }

    /// Closes the current window (a full Δ) and emits the one held before it.
    fn close(&mut self, start: u64, emit: &mut impl FnMut(WindowFlows)) {
        let w = self.take(start);
        if let Some(prev) = self.pending.replace(w) {
            emit(prev);
        }
    }

    fn take(&mut self, start: u64) -> WindowFlows {
        let mut flows: Vec<_> = self.cur.drain().collect();
        flows.sort_unstable_by_key(|a| a.0);
        WindowFlows { start_ns: start, len_ns: self.len_ns, flows }
    }

    /// Forward clock jumps that restarted the grid.
    pub fn jumps(&self) -> u64 {
        self.jumps
    }

    /// Emits the last windows: the last one ends at the last packet (see the module
    /// comment).
    pub fn finish(mut self, emit: &mut impl FnMut(WindowFlows)) {
        let Some(start) = self.start_ns else { return };
        let mut last = self.take(start);
        last.len_ns = self.last_ts_ns.saturating_sub(start).min(self.len_ns);
        if last.len_ns == 0 && self.pending.is_none() {
            // Every packet at one instant: no interval was observed, and a rate over
            // zero seconds has no value; the window keeps its nominal Δ.
            last.len_ns = self.len_ns;
        }
        match self.pending.take() {
            Some(mut prev) if last.len_ns == 0 && prev.end_ns() == start => {
                // Packets on the boundary: the closing instant of the window before.
                prev.flows.extend(last.flows);
                prev.flows.sort_unstable_by_key(|a| a.0);
                emit(prev);
            }
            prev => {
                if let Some(p) = prev {
                    emit(p);
                }
                emit(last);
            }
        }
    }
}
