//! One live measurement of a monitored host, as `peerscope run` and the demo make it:
//! every poll's flow deltas summed into windows of Δ for the engine, the kernel's
//! control-packet samples decoded into the control ledger, and at any time the
//! report of both.

use crate::{
    control::{decode_sample, ControlLedger, ControlSummary},
    engine::{Engine, Report, WindowSummary},
    schema::{ReportDocument, ReportSource},
};

use super::{
    accumulator::WindowAccumulator,
    clock::KernelClock,
    table::{Pending, Poll},
    Attached, FlowDelta, FlowMaps, FlowTable, LiveError,
};

/// The flow table's memory, the current window, the engine and the control ledger.
#[derive(Debug)]
pub struct Measurement {
    table: FlowTable,
    window: WindowAccumulator,
    engine: Engine,
    ledger: ControlLedger,
    /// The kernel's cumulative size histogram at the last reading; `None`: the
    /// next reading is only a baseline (a resumed measurement, whose program
    /// counted before this agent).
    sizes_prev: Option<Vec<u64>>,
}

/// What one poll read.
#[derive(Debug, Default)]
pub struct Polled {
    /// The flow table's deltas (already added to the current window).
    pub poll: Poll,
    /// Control-packet samples drained from the kernel, and how many decoded.
    pub samples: usize,
    pub decoded: usize,
}

impl Polled {
    pub fn deltas(&self) -> &[FlowDelta] {
        &self.poll.deltas
    }
}

/// The engine's report with what the control packets taught: what a live run shows
/// and writes when it ends (and, while it runs, for `peerscope report`), as the
/// report document ([`LiveReport::into_document`]).
#[derive(Clone, Debug)]
pub struct LiveReport {
    pub report: Report,
    pub control: ControlSummary,
}

impl LiveReport {
    /// The engine's peers ever parent or child, not the report's windows: those may
    /// be only the most recent.
    fn new(engine: &Engine, report: Report, ledger: &ControlLedger) -> Self {
        let (parents, children) = engine.ever_family();
        let control = ledger.summary(parents, children);
        LiveReport { report, control }
    }

    /// The report document of the measurement of `source`.
    pub fn into_document(self, source: ReportSource) -> ReportDocument {
        ReportDocument::new(source, self.report, self.control)
    }
}

impl Measurement {
    /// Windows of the engine's Δ, the first starting at `start_unix_ns`.
    pub fn new(engine: Engine, start_unix_ns: u64) -> Self {
        let window = WindowAccumulator::new(start_unix_ns, engine.config().window_ns);
        Measurement {
            table: FlowTable::new(KernelClock::new()),
            window,
            engine,
            ledger: ControlLedger::default(),
            sizes_prev: Some(Vec::new()),
        }
    }

    /// Continues a measurement from what an earlier agent saved: its table readings
    /// and its open window (see `live::baseline`).
    pub fn resume(engine: Engine, table: FlowTable, window: WindowAccumulator) -> Self {
        Measurement { table, window, engine, ledger: ControlLedger::default(), sizes_prev: None }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The flow table's readings and the open window, as a baseline saves them.
    pub fn state(&self) -> (&FlowTable, &WindowAccumulator) {
        (&self.table, &self.window)
    }

    /// A new program's table (after re-attaching): its counters start from zero.
    pub fn reset_table(&mut self) {
        self.table = FlowTable::new(KernelClock::new());
        self.sizes_prev = Some(Vec::new());
    }

    /// Takes a reading of the kernel's size histogram (`FlowMaps::sizes`, cumulative,
    /// ingress bins then egress) and adds what it gained to the engine's: ingress
    /// is download, egress upload (the interface's directions).
    pub fn observe_sizes(&mut self, cumulative: &[u64]) {
        use crate::engine::histogram::{HistogramSource, SizeHistogram, BINS};
        let prev = self.sizes_prev.replace(cumulative.to_vec());
        let Some(prev) = prev else { return };
        let mut h = SizeHistogram::default();
        for (i, &now) in cumulative.iter().enumerate().take(2 * BINS) {
            // A count that went down is a new program's: all of it is new.
            let before = prev.get(i).copied().unwrap_or(0);
            let gained = if now >= before { now - before } else { now };
            let bins = if i < BINS { &mut h.down } else { &mut h.up };
            bins.0[i % BINS] += gained;
        }
        self.engine.add_packet_sizes(&h, HistogramSource::Kernel);
    }

    /// Decodes the control-packet samples the kernel queued into the ledger; returns
    /// how many there were and how many decoded.
    pub fn observe_samples(&mut self, attached: &mut Attached) -> (usize, usize) {
        let samples = attached.drain_samples(usize::MAX);
        let mut decoded = 0;
        for s in &samples {
            if let Some(m) = decode_sample(&s.key, s.payload(), s.payload_len as usize) {
                self.ledger.observe(&s.key, &m);
                decoded += 1;
            }
        }
        (samples.len(), decoded)
    }

    /// Reads the flow table into the current window, leaving its frees and retirements
    /// to [`Pending::apply`] (after the agent saved what it read).
    pub fn poll_table<'a>(
        &mut self,
        maps: &'a FlowMaps,
        now_unix_ns: u64,
        idle_ns: Option<u64>,
    ) -> Result<(Poll, Pending<'a>), LiveError> {
        let (poll, pending) = self.table.poll_deferred(maps, now_unix_ns, idle_ns)?;
        self.window.add(now_unix_ns, &poll.deltas);
        Ok((poll, pending))
    }

    /// How long the current window has been open at `now_unix_ns`.
    pub fn window_open_ns(&self, now_unix_ns: u64) -> u64 {
        now_unix_ns.saturating_sub(self.window.pending().0)
    }

    /// Reads the flow table (retiring flows idle for longer than `idle_ns`) into the
    /// current window, and the kernel's control samples into the ledger.
    pub fn poll(
        &mut self,
        attached: &mut Attached,
        now_unix_ns: u64,
        idle_ns: Option<u64>,
    ) -> Result<Polled, LiveError> {
        let (samples, decoded) = self.observe_samples(attached);
        let (poll, pending) = self.poll_table(&attached.maps, now_unix_ns, idle_ns)?;
        pending.apply();
        Ok(Polled { poll, samples, decoded })
    }

    /// Whether the current window has ended at `now_unix_ns`.
    pub fn window_due(&self, now_unix_ns: u64) -> bool {
        self.window.due(now_unix_ns)
    }

    /// Ends the current window at `now_unix_ns` (its real length, should the poll be
    /// late) and gives it to the engine.
    pub fn close_window(&mut self, now_unix_ns: u64) -> WindowSummary {
        let (w, steps) = self.window.close(now_unix_ns);
        self.engine.observe_window_steps(w, steps)
    }

    /// The report so far (listing only the `max_flows` largest flows, when given); the
    /// measurement goes on.
    pub fn snapshot(&self, max_flows: Option<usize>) -> LiveReport {
        LiveReport::new(&self.engine, self.engine.snapshot_listing(max_flows), &self.ledger)
    }

    /// Ends the measurement (windows not closed are left out).
    pub fn finish(self) -> LiveReport {
        let (parents, children) = self.engine.ever_family();
        let control = self.ledger.summary(parents, children);
        LiveReport { report: self.engine.finish(), control }
    }
}
