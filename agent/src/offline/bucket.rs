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
//! Each window comes with its steps: the same packets cut at every
//! [`STEP_NS`] from the window's start (the last step ends with the window), for
//! the metrics whose resolution does not depend on Δ (the [H] samples, the
//! start-up delay). Only steps with packets are kept.
//!
//! The measured interval runs from the first packet to the last one, not to the
//! end of the grid: the last window ends at the last packet (its observed length,
//! shorter than Δ when the capture ends mid-window). A last packet exactly on a
//! window boundary closes the window before it (a window of length zero would have
//! no rate), so a capture 900.0 s long is 45 windows of 20 s.

use std::collections::HashMap;

use peerscope_abi::{FlowKey, FlowStats, PacketObservation, UnixNs};

use crate::engine::{WindowFlows, STEP_NS};

/// Longest run of empty windows emitted for one gap (about 23 days at Δ = 20 s).
pub const MAX_EMPTY_WINDOWS: u64 = 100_000;

/// One window and its steps (see the module comment).
#[derive(Debug)]
pub struct Bucketed {
    pub window: WindowFlows,
    pub steps: Vec<WindowFlows>,
}

#[derive(Debug)]
pub struct WindowBucketer {
    len_ns: u64,
    start_ns: Option<u64>,
    step_start_ns: u64,
    /// The current step's flows.
    cur: HashMap<FlowKey, FlowStats<UnixNs>>,
    /// The closed steps of the current window.
    steps: Vec<WindowFlows>,
    /// The window before the current one, held back until the next one is known
    /// not to be the zero-length last window.
    pending: Option<Bucketed>,
    last_ts_ns: u64,
    jumps: u64,
}

impl WindowBucketer {
    pub fn new(len_ns: u64) -> Self {
        WindowBucketer {
            len_ns: len_ns.max(1),
            start_ns: None,
            step_start_ns: 0,
            cur: HashMap::new(),
            steps: Vec::new(),
            pending: None,
            last_ts_ns: 0,
            jumps: 0,
        }
    }

    /// Counts one packet; emits the windows that end before it.
    pub fn push(&mut self, key: FlowKey, obs: &PacketObservation<UnixNs>, emit: &mut impl FnMut(Bucketed)) {
        let ts = obs.ts.0;
        let mut start = match self.start_ns {
            Some(s) => s,
            None => {
                self.step_start_ns = ts;
                ts
            }
        };
        if ts.saturating_sub(start) / self.len_ns > MAX_EMPTY_WINDOWS {
            self.close(start, emit);
            self.jumps += 1;
            start = ts;
            self.step_start_ns = ts;
        }
        while ts >= start + self.len_ns {
            self.close(start, emit);
            start += self.len_ns;
            self.step_start_ns = start;
        }
        if ts >= self.step_start_ns + STEP_NS {
            self.close_step(start);
            self.step_start_ns = start + (ts - start) / STEP_NS * STEP_NS;
        }
        self.start_ns = Some(start);
        self.last_ts_ns = self.last_ts_ns.max(ts);
        self.cur.entry(key).or_default().record(obs);
    }

    fn close_step(&mut self, window_start: u64) {
        if self.cur.is_empty() {
            return;
        }
        let mut flows: Vec<_> = self.cur.drain().collect();
        flows.sort_unstable_by_key(|a| a.0);
        let end = (self.step_start_ns + STEP_NS).min(window_start + self.len_ns);
        self.steps.push(WindowFlows { start_ns: self.step_start_ns, len_ns: end - self.step_start_ns, flows });
    }

    /// Closes the current window (a full Δ) and emits the one held before it.
    fn close(&mut self, start: u64, emit: &mut impl FnMut(Bucketed)) {
        let w = self.take(start);
        if let Some(prev) = self.pending.replace(w) {
            emit(prev);
        }
    }

    /// The current window: its steps, and their flows merged.
    fn take(&mut self, start: u64) -> Bucketed {
        self.close_step(start);
        let steps = std::mem::take(&mut self.steps);
        let mut merged: HashMap<FlowKey, FlowStats<UnixNs>> = HashMap::new();
        for (k, s) in steps.iter().flat_map(|s| s.flows.iter()) {
            merged.entry(*k).or_default().merge(s);
        }
        let mut flows: Vec<_> = merged.into_iter().collect();
        flows.sort_unstable_by_key(|a| a.0);
        Bucketed { window: WindowFlows { start_ns: start, len_ns: self.len_ns, flows }, steps }
    }

    /// Forward clock jumps that restarted the grid.
    pub fn jumps(&self) -> u64 {
        self.jumps
    }

    /// Emits the last windows: the last one ends at the last packet (see the module
    /// comment).
    pub fn finish(mut self, emit: &mut impl FnMut(Bucketed)) {
        let Some(start) = self.start_ns else { return };
        let mut last = self.take(start);
        let observed = self.last_ts_ns.saturating_sub(start).min(self.len_ns);
        last.window.len_ns = observed;
        if observed == 0 && self.pending.is_none() {
            // Every packet at one instant: no interval was observed, and a rate over
            // zero seconds has no value; the window keeps its nominal Δ.
            last.window.len_ns = self.len_ns;
        }
        if let Some(s) = last.steps.last_mut() {
            // The last step ends with the window too.
            s.len_ns = s.len_ns.min((start + last.window.len_ns).saturating_sub(s.start_ns));
        }
        match self.pending.take() {
            Some(mut prev) if last.window.len_ns == 0 && prev.window.end_ns() == start => {
                // Packets on the boundary: the closing instant of the window before,
                // and of its last step.
                prev.window.flows.extend(last.window.flows);
                prev.window.flows.sort_unstable_by_key(|a| a.0);
                let on_boundary = last.steps.into_iter().flat_map(|s| s.flows);
                match prev.steps.last_mut() {
                    Some(s) if s.end_ns() == start => s.flows.extend(on_boundary),
                    _ => prev.steps.push(WindowFlows {
                        start_ns: start.saturating_sub(1),
                        len_ns: 1,
                        flows: on_boundary.collect(),
                    }),
                }
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
