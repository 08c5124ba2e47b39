//! Buckets packets into windows by timestamp: the offline producer of
//! [`WindowFlows`], so that pcap files go through the same engine as live traffic.
//!
//! The grid starts at the first packet and advances by Δ; every window is
//! emitted, empty ones included. A packet older than the current window (captures
//! are not always in time order) is counted in the current window.

use std::collections::HashMap;

use peerscope_abi::{FlowKey, FlowStats, PacketObservation};

use crate::engine::WindowFlows;

#[derive(Debug)]
pub struct WindowBucketer {
    len_ns: u64,
    start_ns: Option<u64>,
    cur: HashMap<FlowKey, FlowStats>,
}

impl WindowBucketer {
    pub fn new(len_ns: u64) -> Self {
        WindowBucketer { len_ns: len_ns.max(1), start_ns: None, cur: HashMap::new() }
    }

    /// Counts one packet; emits the windows that end before it.
    pub fn push(&mut self, key: FlowKey, obs: &PacketObservation, emit: &mut impl FnMut(WindowFlows)) {
        let start = *self.start_ns.get_or_insert(obs.ts_ns);
        let mut start = start;
        while obs.ts_ns >= start + self.len_ns {
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

    /// Emits the last, partly filled window (its length stays Δ).
    pub fn finish(mut self, emit: &mut impl FnMut(WindowFlows)) {
        if let Some(start) = self.start_ns {
            emit(self.take(start));
        }
    }
}
