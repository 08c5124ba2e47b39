//! Buckets packets into windows by timestamp: the offline producer of
//! [`WindowFlows`], so that pcap files go through the same engine as live traffic.
//!
//! The grid starts at the first packet and advances by Δ; every window is
//! emitted, empty ones included. A packet older than the current window (captures
//! are not always in time order) is counted in the current window. A jump forward
//! by more than [`MAX_EMPTY_WINDOWS`] windows (a corrupt or reset clock) restarts
//! the grid at that packet instead of emitting millions of empty windows; such
//! jumps are counted.

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
    jumps: u64,
}

impl WindowBucketer {
    pub fn new(len_ns: u64) -> Self {
        WindowBucketer { len_ns: len_ns.max(1), start_ns: None, cur: HashMap::new(), jumps: 0 }
    }

    /// Counts one packet; emits the windows that end before it.
    pub fn push(&mut self, key: FlowKey, obs: &PacketObservation<UnixNs>, emit: &mut impl FnMut(WindowFlows)) {
        let mut start = *self.start_ns.get_or_insert(obs.ts.0);
        if obs.ts.0.saturating_sub(start) / self.len_ns > MAX_EMPTY_WINDOWS {
            emit(self.take(start));
            self.jumps += 1;
            start = obs.ts.0;
        }
        while obs.ts.0 >= start + self.len_ns {
            emit(self.take(start));
            start += self.len_ns;
        }
        self.start_ns = Some(start);
        self.cur.entry(key).or_default().record(obs);
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

    /// Emits the last, partly filled window (its length stays Δ).
    pub fn finish(mut self, emit: &mut impl FnMut(WindowFlows)) {
        if let Some(start) = self.start_ns {
            emit(self.take(start));
        }
    }
}
