//! Turns the agent's per-poll deltas into the engine's windows of Δ: the same
//! `WindowFlows` the offline path builds from packets.

use std::collections::HashMap;

use peerscope_abi::{FlowKey, FlowStats, UnixNs};

use crate::engine::WindowFlows;

use super::FlowDelta;

/// Sums the deltas of the polls that fall in the current window.
///
/// Windows lie on a grid of Δ from the first window's start. A poll within 1% of Δ of
/// a boundary closes the window at the boundary, so a poll a few µs early or late
/// neither stretches the window by a whole interval nor shortens it (the deltas of one
/// poll cannot be split: the traffic of those few ms counts in the window the poll
/// closes). A poll later than that closes the window when it comes (its real length,
/// with the missed polls in the window's record), and the next window ends on the
/// grid again.
///
/// Each poll's deltas are also kept as a step (from the poll before to this one), so
/// the [H] samples and the start-up delay get the poll interval's resolution, not
/// Δ's, as offline they get 1 s.
#[derive(Debug)]
pub struct WindowAccumulator {
    start_ns: u64,
    len_ns: u64,
    /// The grid's origin: boundaries are `origin_ns + k·len_ns`.
    origin_ns: u64,
    /// The boundary the open window ends at.
    end_ns: u64,
    flows: HashMap<FlowKey, FlowStats<UnixNs>>,
    /// The open window's polls with packets, and when the last poll was.
    steps: Vec<WindowFlows>,
    last_poll_ns: u64,
}

impl WindowAccumulator {
    pub fn new(start_ns: u64, len_ns: u64) -> Self {
        let len_ns = len_ns.max(1);
        WindowAccumulator {
            start_ns,
            len_ns,
            origin_ns: start_ns,
            end_ns: start_ns + len_ns,
            flows: HashMap::new(),
            steps: Vec::new(),
            last_poll_ns: start_ns,
        }
    }

    /// Continues a window a previous agent had open (from its saved baseline).
    /// What it held is one step from the window's start to `now_ns`.
    pub fn resume(
        start_ns: u64,
        len_ns: u64,
        now_ns: u64,
        flows: impl IntoIterator<Item = (FlowKey, FlowStats<UnixNs>)>,
    ) -> Self {
        let mut w = Self::new(start_ns, len_ns);
        let mut held: Vec<_> = flows.into_iter().collect();
        held.sort_unstable_by_key(|a| a.0);
        w.add_step(now_ns, held.iter().copied());
        w.flows = held.into_iter().collect();
        w
    }

    /// How close to a boundary a poll closes the window at the boundary.
    fn slack_ns(&self) -> u64 {
        self.len_ns / 100
    }

    /// The open window's start and what it holds so far (to be saved).
    pub fn pending(&self) -> (u64, impl Iterator<Item = (&FlowKey, &FlowStats<UnixNs>)>) {
        (self.start_ns, self.flows.iter())
    }

    /// Adds one poll's deltas, read at `now_ns`.
    pub fn add(&mut self, now_ns: u64, deltas: &[FlowDelta]) {
        for d in deltas {
            self.flows.entry(d.key).or_default().merge(&d.delta);
        }
        self.add_step(now_ns, deltas.iter().map(|d| (d.key, d.delta)));
    }

    fn add_step(&mut self, now_ns: u64, flows: impl Iterator<Item = (FlowKey, FlowStats<UnixNs>)>) {
        let start = self.last_poll_ns.max(self.start_ns);
        self.last_poll_ns = now_ns.max(start);
        let flows: Vec<_> = flows.filter(|(_, d)| !d.is_empty()).collect();
        if !flows.is_empty() {
            // Inside the window: a step is at least 1 ns long.
            let len = now_ns.saturating_sub(start).max(1);
            self.steps.push(WindowFlows { start_ns: start, len_ns: len, flows });
        }
    }

    /// Whether the window has ended at `now_ns` (or ends within the slack).
    pub fn due(&self, now_ns: u64) -> bool {
        now_ns + self.slack_ns() >= self.end_ns
    }

    /// Closes the window: at its boundary when `now_ns` is within the slack of it, else
    /// at `now_ns` (a late poll, or the run's end); the next window starts there and
    /// ends at the grid's next boundary.
    /// The window comes with its steps (see the type's comment), cut to end with it.
    pub fn close(&mut self, now_ns: u64) -> (WindowFlows, Vec<WindowFlows>) {
        let end = if now_ns.abs_diff(self.end_ns) <= self.slack_ns() { self.end_ns } else { now_ns };
        let end = end.max(self.start_ns + 1);
        let mut flows: Vec<_> = std::mem::take(&mut self.flows).into_iter().collect();
        flows.sort_unstable_by_key(|a| a.0);
        let mut steps = std::mem::take(&mut self.steps);
        for s in &mut steps {
            s.start_ns = s.start_ns.min(end - 1);
            s.len_ns = s.len_ns.min(end - s.start_ns).max(1);
        }
        let w = WindowFlows { start_ns: self.start_ns, len_ns: end - self.start_ns, flows };
        self.start_ns = end;
        let k = end.saturating_sub(self.origin_ns) / self.len_ns + 1;
        self.end_ns = self.origin_ns + k * self.len_ns;
        // A boundary within the slack ahead would make a sliver of a window: skip it.
        if self.end_ns - end <= self.slack_ns() {
            self.end_ns += self.len_ns;
        }
        (w, steps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::{flow::ipv4, PacketObservation, Thresholds};

    #[test]
    fn test_polls_sum_into_windows() {
        let k = FlowKey::new(17, ipv4(192, 0, 2, 1), 1, ipv4(192, 0, 2, 2), 2);
        let mut s = FlowStats::default();
        s.record(&PacketObservation::new(&Thresholds::STUDIES, 17, 1100, 1072, 0, peerscope_abi::UnixNs(5)));
        let d = FlowDelta { key: k, delta: s, total: s };
        let mut w = WindowAccumulator::new(0, 20);
        w.add(8, &[d]);
        assert!(!w.due(19));
        w.add(14, &[]);
        w.add(21, &[d]);
        assert!(w.due(20));
        let (closed, steps) = w.close(21);
        assert_eq!((closed.start_ns, closed.len_ns), (0, 21));
        assert_eq!(
            closed.flows,
            vec![(k, FlowStats { packets: [0, 0, 2], bytes: [0, 0, 2200], payload_bytes: 2144, ..s })]
        );
        // One step per poll with packets, from the poll before: [0, 8) and [14, 21).
        let spans: Vec<_> = steps.iter().map(|s| (s.start_ns, s.len_ns, s.flows.len())).collect();
        assert_eq!(spans, vec![(0, 8, 1), (14, 7, 1)]);
        let (next, steps) = w.close(41);
        assert_eq!((next.start_ns, next.len_ns, next.flows.len(), steps.len()), (21, 20, 0, 0));
    }

    const S: u64 = 1_000_000_000;

    /// Δ = 20 s, polled every 2 s, samples of 30 s: 10 packets of 1000 B from a peer
    /// in the poll ending at 30 s and 20 in the poll ending at 32 s. At the polls'
    /// resolution sample 0 [0, 30) holds the 10 (10 000 B / 30 s) and sample 1 the 20;
    /// at the window's, both would be in sample 0 (the window starts at 20 s).
    #[test]
    fn test_live_samples_have_the_poll_interval_resolution() {
        use crate::engine::{Engine, EngineConfig, MonitoredHost};
        let x: std::net::IpAddr = "192.0.2.10".parse().unwrap();
        let k = FlowKey::new(17, ipv4(198, 51, 100, 1), 4004, ipv4(192, 0, 2, 10), 8008);
        let delta = |n: u32, ts: u64| {
            let mut s = FlowStats::default();
            let o = PacketObservation::new(&Thresholds::STUDIES, 17, 1000, 972, 0, peerscope_abi::UnixNs(ts));
            s.record_n(&o, n);
            FlowDelta { key: k, delta: s, total: s }
        };
        let cfg = EngineConfig { sample_ns: 30 * S, ..EngineConfig::default() };
        let mut engine = Engine::new(cfg, MonitoredHost::new([x]));
        let mut w = WindowAccumulator::new(0, 20 * S);
        for poll in 1..=30u64 {
            let now = poll * 2 * S;
            match now {
                30_000_000_000 => w.add(now, &[delta(10, 29 * S)]),
                32_000_000_000 => w.add(now, &[delta(20, 31 * S)]),
                _ => w.add(now, &[]),
            }
            if w.due(now) {
                let (win, steps) = w.close(now);
                engine.observe_window_steps(win, steps);
            }
        }
        let r = engine.finish();
        let down: Vec<f64> = r.samples.iter().take(2).map(|s| s.rates.down_bytes_per_s).collect();
        assert_eq!(down, vec![10_000.0 / 30.0, 20_000.0 / 30.0]);
    }

    /// Δ = 10 s polled every 2 s, each poll a few µs early or late of the grid: every
    /// window is exactly 10 s and starts where the last ended (0, 10, 20, ... s).
    #[test]
    fn test_polls_a_few_us_off_the_grid_make_windows_of_exactly_delta() {
        let mut w = WindowAccumulator::new(0, 10 * S);
        let mut closed = Vec::new();
        for i in 1..=30u64 {
            let jitter = if i % 2 == 0 { 7_000 } else { 0u64.wrapping_sub(5_000) };
            let now = (i * 2 * S).wrapping_add(jitter);
            if w.due(now) {
                closed.push(w.close(now).0);
            }
        }
        let spans: Vec<(u64, u64)> = closed.iter().map(|c| (c.start_ns / S, c.len_ns)).collect();
        assert_eq!(spans, (0..6).map(|k| (k * 10, 10 * S)).collect::<Vec<_>>());
    }

    /// A poll 3 s late closes a 13 s window (its real length); the next ends on the
    /// grid (at 20 s: 7 s long), and the one after is Δ again.
    #[test]
    fn test_a_late_poll_makes_one_long_window_and_the_grid_goes_on() {
        let mut w = WindowAccumulator::new(0, 10 * S);
        assert!(!w.due(9 * S) && w.due(13 * S));
        let a = w.close(13 * S).0;
        assert!(!w.due(19 * S));
        let b = w.close(20 * S).0;
        let c = w.close(30 * S).0;
        assert_eq!(
            [(a.start_ns, a.len_ns), (b.start_ns, b.len_ns), (c.start_ns, c.len_ns)],
            [(0, 13 * S), (13 * S, 7 * S), (20 * S, 10 * S)]
        );
        // The run's end closes a partial window where it is.
        let d = w.close(34 * S).0;
        assert_eq!((d.start_ns, d.len_ns), (30 * S, 4 * S));
    }
}
