//! Buckets packets into windows by timestamp: the offline producer of
//! [`WindowFlows`], so that pcap files go through the same engine as live traffic.
//!
//! The grid starts at the first packet and advances by Δ; every window is
//! emitted, and the empty windows between two packets as one run (start, count),
//! so that a gap of a week costs what one window costs. A packet older than the
//! current window (captures are not always in time order) is counted in the current
//! window. Gaps of more than [`LONG_GAP_WINDOWS`] windows (a reset or corrupt clock,
//! captures joined end to end) are counted: the grid runs on across them.
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

/// Empty windows from which a gap counts as a clock jump (about 23 days at Δ = 20 s).
pub const LONG_GAP_WINDOWS: u64 = 100_000;

/// One window and its steps (see the module comment).
#[derive(Debug)]
pub struct Bucketed {
    pub window: WindowFlows,
    pub steps: Vec<WindowFlows>,
}

/// What the bucketer emits, in time order.
#[derive(Debug)]
pub enum Bucket {
    Window(Bucketed),
    /// `count` windows of Δ from `start_ns` without a packet.
    Empty {
        start_ns: u64,
        count: u64,
    },
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
    /// The window (or run) before the current one, held back until the next one is
    /// known not to be the zero-length last window.
    pending: Option<Bucket>,
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
    pub fn push(&mut self, key: FlowKey, obs: &PacketObservation<UnixNs>, emit: &mut impl FnMut(Bucket)) {
        let ts = obs.ts.0;
        let mut start = match self.start_ns {
            Some(s) => s,
            None => {
                self.step_start_ns = ts;
                ts
            }
        };
        if ts >= start + self.len_ns {
            let w = self.take(start);
            self.hold(Bucket::Window(w), emit);
            let next = start + self.len_ns;
            let empty = (ts - next) / self.len_ns;
            if empty > 0 {
                self.hold(Bucket::Empty { start_ns: next, count: empty }, emit);
                self.jumps += (empty > LONG_GAP_WINDOWS) as u64;
            }
            start = next + empty * self.len_ns;
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

    /// Holds `b` back, emitting what was held before it.
    fn hold(&mut self, b: Bucket, emit: &mut impl FnMut(Bucket)) {
        if let Some(prev) = self.pending.replace(b) {
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

    /// Gaps of more than [`LONG_GAP_WINDOWS`] empty windows.
    pub fn jumps(&self) -> u64 {
        self.jumps
    }

    /// Emits the last windows: the last one ends at the last packet (see the module
    /// comment).
    pub fn finish(mut self, emit: &mut impl FnMut(Bucket)) {
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
        if last.window.len_ns > 0 {
            if let Some(p) = self.pending.take() {
                emit(p);
            }
            return emit(Bucket::Window(last));
        }
        // Packets on the boundary: the closing instant of the window before, and of
        // its last step. After a run of empty windows, its last window is that window.
        let prev = match self.pending.take() {
            Some(Bucket::Window(w)) => Some(w),
            Some(Bucket::Empty { start_ns, count }) => {
                if count > 1 {
                    emit(Bucket::Empty { start_ns, count: count - 1 });
                }
                let s = start_ns + (count - 1) * self.len_ns;
                Some(Bucketed { window: WindowFlows::new(s, self.len_ns), steps: Vec::new() })
            }
            None => None,
        };
        let Some(mut prev) = prev else { return emit(Bucket::Window(last)) };
        if prev.window.end_ns() != start {
            emit(Bucket::Window(prev));
            return emit(Bucket::Window(last));
        }
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
        emit(Bucket::Window(prev));
    }
}
