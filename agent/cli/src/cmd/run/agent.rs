//! The running agent's state and what one poll does to it, in an order that makes every
//! count reported exactly once, across crashes and restarts too:
//!
//! 1. read the kernel table (deltas since the last reading; nothing freed yet);
//! 2. close the window if it is due and render its JSON lines;
//! 3. save the baseline: the readings (slots about to be freed included), the open
//!    window, and the rendered lines with the `--jsonl` file's length before them;
//! 4. append the lines to `--jsonl`;
//! 5. free and retire slots in the kernel table.
//!
//! Killed anywhere, the next agent finds a baseline that matches the kernel: before 3,
//! the previous one (this poll's counts are still in the kernel, read again); after 3,
//! this one, and it writes the lines again if the file is still as long as before.

use std::sync::{Arc, Mutex};

use peerscope_abi::Counter;

use peerscope::{
    engine::{Engine, WindowSummary},
    export::Metrics,
    live::{
        accumulator::WindowAccumulator,
        baseline::{self, Baseline, Save, WindowFlow, WindowNotes},
        clock::KernelClock,
        settle::Settle,
        table::Poll,
        Attached, FlowTable, Measurement,
    },
};

use super::super::jsonl::JsonLines;

/// Everything one poll updates.
pub struct Live {
    pub attached: Attached,
    pub measure: Measurement,
    pub metrics: Arc<Mutex<Metrics>>,
    pub jsonl: Option<JsonLines>,
    /// The open window's notes (late polls, overflow, restart, interface gone).
    pub notes: WindowNotes,
    /// The kernel's counters at the last poll.
    pub counters: Vec<u64>,
    pub window_ns: u64,
    /// A baseline was saved by this agent (a quiet poll may then skip saving).
    pub saved: bool,
    /// When the packet-size histogram was last read (an idle agent does not read it).
    pub sizes_read: Settle,
}

/// What one poll read and, when it closed one, the window.
pub struct Polled {
    pub poll: Poll,
    pub samples: usize,
    pub decoded: usize,
    pub window: Option<(WindowSummary, WindowNotes)>,
    /// The flows whose slots this poll freed (reaped for being idle).
    pub released: Vec<peerscope_abi::FlowKey>,
}

impl Live {
    /// A measurement that continues where the agent that left the program attached
    /// stopped, when its baseline is of this very table; otherwise a new one.
    pub fn start(
        attached: Attached,
        engine: Engine,
        metrics: Arc<Mutex<Metrics>>,
        mut jsonl: Option<JsonLines>,
        start_unix_ns: u64,
    ) -> (Live, Resumed) {
        let window_ns = engine.config().window_ns;
        let saved = attached.pins().map(|p| baseline::load(&p.baseline_file));
        let reused = attached.reused;
        let (measure, notes, counters, resumed) = match saved {
            Some(Ok(Some(b))) if b.table_id == attached.maps.table_id() => {
                let redo = redo(&mut jsonl, &b);
                let mut notes = b.notes;
                notes.flags |= WindowNotes::AFTER_RESTART;
                let table = FlowTable::resume(KernelClock::new(), b.slots);
                let window = WindowAccumulator::resume(
                    b.window_start_ns,
                    window_ns,
                    b.saved_unix_ns,
                    b.window.into_iter().map(|f| (f.key, f.stats)),
                );
                (Measurement::resume(engine, table, window), notes, b.counters, Resumed::Baseline { redo })
            }
            other => {
                let why = match other {
                    Some(Err(e)) => Resumed::Unusable(e.to_string()),
                    _ if reused => Resumed::NoBaseline,
                    _ => Resumed::Fresh,
                };
                let mut notes = WindowNotes::default();
                if !matches!(why, Resumed::Fresh) {
                    notes.flags |= WindowNotes::AFTER_RESTART;
                }
                // A new program counts from zero; one taken over without a baseline
                // reports what its table and counters hold as new.
                (Measurement::new(engine, start_unix_ns), notes, vec![0; Counter::COUNT as usize], why)
            }
        };
        let live = Live {
            attached,
            measure,
            metrics,
            jsonl,
            notes,
            counters,
            window_ns,
            saved: false,
            sizes_read: Settle::default(),
        };
        (live, resumed)
    }

    /// One poll (steps 1 to 5 above); `close` forces the window closed (the last poll).
    pub fn poll(&mut self, now: u64, idle_ns: Option<u64>, missed: u64, close: bool) -> anyhow::Result<Polled> {
        let (samples, decoded) = self.measure.observe_samples(&mut self.attached);
        let (poll, pending) = self.measure.poll_table(&self.attached.maps, now, idle_ns)?;
        let counters = self.attached.maps.counters()?;
        count_overflow(&mut self.notes, &self.counters, &counters);
        let counters_moved = counters != self.counters;
        self.counters = counters;
        self.notes.missed_polls += missed;
        if let Ok(mut m) = self.metrics.lock() {
            let host = self.measure.engine().host();
            m.observe(host, &poll.deltas, &self.counters, poll.flows_in_table, self.attached.maps.capacity());
        }
        let due = self.measure.window_due(now) || (close && self.measure.window_open_ns(now) > 0);
        let window = if due {
            let c = |k: Counter| self.counters.get(k as usize).copied().unwrap_or(0);
            let packets = c(Counter::IngressPackets).wrapping_add(c(Counter::EgressPackets));
            if !self.sizes_read.unchanged(packets) {
                if let Some(sizes) = self.attached.maps.sizes()? {
                    self.measure.observe_sizes(&sizes);
                }
                self.sizes_read.read(packets);
            }
            let summary = self.measure.close_window(now);
            let notes = std::mem::take(&mut self.notes);
            if let Ok(mut m) = self.metrics.lock() {
                m.observe_window(&summary);
            }
            Some((summary, notes))
        } else {
            None
        };
        let lines = match (&window, &self.jsonl) {
            (Some((w, notes)), Some(j)) => Some(j.render(w, notes.conditions(self.window_ns))?),
            _ => None,
        };
        let offset = self.jsonl.as_mut().and_then(JsonLines::len);
        // A poll that read nothing new, closed nothing and frees nothing leaves the saved
        // baseline exact: an idle agent writes nothing.
        let quiet = poll.deltas.is_empty() && window.is_none() && pending.is_empty() && !counters_moved && missed == 0;
        let save = !(quiet && self.saved);
        if let (Some(p), true) = (self.attached.pins(), save) {
            self.saved = true;
            let (table, open) = self.measure.state();
            let (start, flows) = open.pending();
            let flows: Vec<WindowFlow> = flows.map(|(k, s)| WindowFlow { key: *k, stats: *s }).collect();
            baseline::save(
                &p.baseline_file,
                &Save {
                    table_id: self.attached.maps.table_id(),
                    saved_unix_ns: now,
                    slots: [table.baseline(), pending.releasing()],
                    window_start_ns: start,
                    window: &flows,
                    notes: self.notes,
                    counters: &self.counters,
                    redo: lines.as_deref().and_then(|l| offset.map(|o| (o, l))),
                },
            )?;
        }
        if let (Some(l), Some(j)) = (&lines, &mut self.jsonl) {
            j.append(l)?;
        }
        let released = pending.releasing().iter().map(|s| s.key).collect();
        pending.apply();
        Ok(Polled { poll, samples, decoded, window, released })
    }

    /// A new program on a new interface, whose counters start from zero; returns the
    /// old one.
    pub fn replace_attachment(&mut self, attached: Attached) -> Attached {
        self.measure.reset_table();
        self.counters = vec![0; Counter::COUNT as usize];
        self.saved = false;
        self.sizes_read = Settle::default();
        std::mem::replace(&mut self.attached, attached)
    }
}

/// Adds what went to the overflow counters between two readings to a window's notes.
fn count_overflow(notes: &mut WindowNotes, before: &[u64], now: &[u64]) {
    let since = |c: Counter| {
        let i = c as usize;
        now.get(i).copied().unwrap_or(0).saturating_sub(before.get(i).copied().unwrap_or(0))
    };
    notes.overflow_packets += since(Counter::OverflowPackets);
    notes.overflow_bytes += since(Counter::OverflowBytes);
    notes.flow_insert_failures += since(Counter::FlowInsertFailures);
}

/// How the measurement began.
#[derive(Debug, PartialEq, Eq)]
pub enum Resumed {
    /// A program of our own, just loaded.
    Fresh,
    /// From the previous agent's baseline; `redo`: its last window's lines had not
    /// reached the `--jsonl` file and were written now.
    Baseline { redo: bool },
    /// A program left attached, without a baseline of it: its counts are reported as new.
    NoBaseline,
    /// The baseline could not be read (why).
    Unusable(String),
}

/// Writes the previous agent's last lines if they never reached the file (its length is
/// still what it was before them). On stdout there is no telling: they are not repeated.
fn redo(jsonl: &mut Option<JsonLines>, b: &Baseline) -> bool {
    let (Some(r), Some(j)) = (&b.redo, jsonl.as_mut()) else { return false };
    if j.len() == Some(r.offset) {
        return j.append(&r.bytes).is_ok();
    }
    false
}
