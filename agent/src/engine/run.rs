//! The engine: feeds each window to every metric and assembles the report.

use std::collections::{BTreeSet, VecDeque};
use std::net::IpAddr;

use super::config::EngineConfig;
use super::continent::{continent_table, region_of};
use super::cost::CostTracker;
use super::flows::FlowLedger;
use super::histogram::{HistogramSource, SizeHistogram};
use super::host::Direction;
use super::host::MonitoredHost;
use super::parents::FamilyTracker;
use super::peers::PeerLedger;
use super::rates::{host_rate, pair_rates, top_flow_rates};
use super::redundancy::{redundancy, RedundancySpan};
use super::report::{CaptureSpan, Report};
use super::samples::{Closed, EmptySamples, SampleGrid, SampleTraffic};
use super::sessions::SessionTable;
use super::sizes::{size_summary, SizeSummary};
use super::stability::StabilityTracker;
use super::startup::StartupTracker;
use super::summary::{Run, SampleSummary, WindowSummary};
use super::util::secs;
use super::video::{VideoBasis, VideoShares};
use super::video_peers::VideoPeerTracker;
use super::video_rates::{peer_video_rates, sample_rates, video_rate};
use super::window::{HostView, WindowFlows};

/// Computes every metric of the studies for one monitored host X.
#[derive(Clone, Debug)]
pub struct Engine {
    cfg: EngineConfig,
    host: MonitoredHost,
    flows: FlowLedger,
    peers: PeerLedger,
    family: FamilyTracker,
    stability: StabilityTracker,
    sessions: SessionTable,
    grid: SampleGrid,
    video_peers: VideoPeerTracker,
    cost: CostTracker,
    startup: StartupTracker,
    redundancy: RedundancySpan,
    /// The most recent summaries (all of them unless `cfg.retention` bounds them),
    /// and how many there were in all.
    windows: VecDeque<WindowSummary>,
    samples: VecDeque<SampleSummary>,
    windows_seen: usize,
    samples_seen: usize,
    first_start_ns: Option<u64>,
    last_end_ns: u64,
    size_histogram: Option<(SizeHistogram, HistogramSource)>,
}

impl Engine {
    pub fn new(cfg: EngineConfig, host: MonitoredHost) -> Self {
        let host_at = cfg.host_location.or_else(|| {
            let geo = cfg.geo.as_ref()?;
            host.addrs().find_map(|a| geo.lookup(a)).map(|g| (g.lat, g.lon))
        });
        let flows = FlowLedger::new(cfg.retention.flow_linger_ns);
        Engine {
            flows,
            grid: SampleGrid::new(cfg.sample_ns),
            startup: StartupTracker::new(cfg.startup_rate_window_ns),
            cost: CostTracker::new(host_at, cfg.miles_per_degree),
            redundancy: RedundancySpan::new(cfg.redundancy_skip_ns),
            cfg,
            host,
            peers: PeerLedger::default(),
            family: FamilyTracker::default(),
            stability: StabilityTracker::default(),
            sessions: SessionTable::default(),
            video_peers: VideoPeerTracker::default(),
            windows: VecDeque::new(),
            samples: VecDeque::new(),
            windows_seen: 0,
            samples_seen: 0,
            first_start_ns: None,
            last_end_ns: 0,
            size_histogram: None,
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    pub fn host(&self) -> &MonitoredHost {
        &self.host
    }

    /// Takes one window of per-flow deltas (windows in time order, empty ones too)
    /// and returns its metrics. The summary is also kept for the report. The
    /// window is its own single step (see [`Engine::observe_window_steps`]).
    pub fn observe_window(&mut self, w: WindowFlows) -> WindowSummary {
        self.observe_window_steps(w, Vec::new())
    }

    /// As [`Engine::observe_window`], with the window's packets also cut into
    /// `steps` (consecutive, inside the window, their flows adding up to the
    /// window's; steps without packets may be left out): the [H] samples and the
    /// start-up delay take them at their resolution instead of Δ's. No steps: the
    /// window is one step.
    pub fn observe_window_steps(&mut self, mut w: WindowFlows, steps: Vec<WindowFlows>) -> WindowSummary {
        // Idle flows may be passed with zero deltas; they are not part of the window.
        w.flows.retain(|(_, s)| !s.is_empty());
        self.first_start_ns.get_or_insert(w.start_ns);
        self.last_end_ns = self.last_end_ns.max(w.end_ns());
        let after_skip = self.redundancy.observe(w.start_ns, w.end_ns());
        let mut shares = VideoShares::default();
        for (key, delta) in &w.flows {
            self.flows.add(key, delta, w.end_ns());
            if let Some((id, peer, down)) = self.sessions.add(key, delta, &self.host, self.cfg.udp_sessions, after_skip)
            {
                shares.add(id, peer, down, delta.large_bytes);
            }
        }
        let min_large = self.cfg.video_min_large_packets;

        let view = HostView::build(&w, &self.host);
        self.peers.observe(&view);
        let pairs = pair_rates(&view);
        let fam = self.family.observe(&pairs, self.cfg.parent_rate_bps, self.cfg.child_rate_bps);
        let stability = self.stability.observe(fam.parent_set());
        let cost = match self.cfg.geo.clone() {
            Some(geo) => self.cost.observe(&geo, &fam.parents, &fam.children, view.pairs.keys().copied()),
            None => Default::default(),
        };
        let rate = host_rate(&view.pairs, view.len_s());
        let host = &self.host;
        let (flow_rates, flow_rates_omitted) = top_flow_rates(
            w.flows.iter().filter(|(k, _)| !matches!(host.direction(k), Direction::Unrelated)).copied(),
            w.len_ns,
            self.cfg.flow_rates_top,
        );
        let video = video_rate(&shares, |id| self.sessions.is_video(id, min_large), view.len_s());
        self.startup.observe_selection(&w, &self.host);

        let mut sample = None;
        if steps.is_empty() {
            sample = self.observe_step(&view, &shares).or(sample);
        }
        for step in &steps {
            let step_view = HostView::build(step, &self.host);
            let mut step_shares = VideoShares::default();
            for (key, delta) in &step.flows {
                if let Some((id, peer, down)) = self.sessions.lookup(key, &self.host, self.cfg.udp_sessions) {
                    step_shares.add(id, peer, down, delta.large_bytes);
                }
            }
            sample = self.observe_step(&step_view, &step_shares).or(sample);
        }
        let total = w.total();
        let summary = WindowSummary {
            index: self.windows_seen,
            start_unix_ns: w.start_ns,
            len_ns: w.len_ns,
            partial: w.len_ns < self.cfg.window_ns,
            count: 1,
            active_flows: w.active_flows(),
            packets: total.total_packets(),
            bytes: total.total_bytes(),
            down_bytes_per_s: rate.down_bytes_per_s,
            up_bytes_per_s: rate.up_bytes_per_s,
            video_down_bytes_per_s: video.video_down_bytes_per_s,
            video_up_bytes_per_s: video.video_up_bytes_per_s,
            video_basis: VideoBasis::SessionsSoFar,
            video_shares: shares,
            parent_count: fam.parents.len(),
            child_count: fam.children.len(),
            flow_rates,
            flow_rates_omitted,
            pairs,
            parents: fam.parents,
            children: fam.children,
            stability,
            cost,
            sample,
        };
        self.flows.end_window(w.end_ns());
        self.windows_seen += 1;
        keep(&mut self.windows, summary.clone(), self.cfg.retention.windows);
        summary
    }

    /// `count` consecutive windows of Δ from `start_ns` with no packet at all, as
    /// `count` calls of [`Engine::observe_window`] with empty windows would take them,
    /// in time and memory independent of `count` (a capture with a gap of a week).
    /// Windows are taken one by one until nothing is left to change (no parent
    /// left, the open sample empty); the rest is one run.
    pub fn observe_empty_windows(&mut self, start_ns: u64, count: u64) {
        let len = self.cfg.window_ns;
        let mut done = 0;
        while done < count {
            let s = self.observe_window(WindowFlows::new(start_ns + done * len, len));
            done += 1;
            if s.is_steady_empty() && self.grid.idle() {
                break;
            }
        }
        let rest = count - done;
        if rest == 0 {
            return;
        }
        let (start, end) = (start_ns + done * len, start_ns + count * len);
        self.family.add_empty_windows(rest);
        self.stability.add_empty_windows(rest);
        self.redundancy.observe_run(start, len, rest);
        self.last_end_ns = self.last_end_ns.max(end);
        let closed = self.grid.advance(start, end);
        self.take_closed(closed);
        self.flows.end_window(end);
        let summary = WindowSummary::steady_empty(self.windows_seen, start, len, rest);
        self.windows_seen += rest as usize;
        keep(&mut self.windows, summary, self.cfg.retention.windows);
    }

    /// One step: the start-up delay's rate, and the sample grid (returns the sample
    /// the step completed, if any).
    fn observe_step(&mut self, step: &HostView, shares: &VideoShares) -> Option<SampleSummary> {
        if let Some(c) = self.cfg.playback_rate_kbps {
            let min_large = self.cfg.video_min_large_packets;
            let sessions = &self.sessions;
            self.startup.observe_step(step.start_ns, step.len_ns, shares, |id| sessions.is_video(id, min_large), c);
        }
        let closed = if step.pairs.is_empty() && shares.is_empty() {
            self.grid.advance(step.start_ns, step.start_ns + step.len_ns)
        } else {
            self.grid.push(step, shares)
        };
        self.take_closed(closed)
    }

    /// Summarises the samples a step closed; returns the last one.
    fn take_closed(&mut self, c: Closed) -> Option<SampleSummary> {
        let closed = c.sample.map(|s| self.close_sample(s));
        c.empty.map(|e| self.close_empty_samples(e)).or(closed)
    }

    /// A run of empty samples: the first one by itself (video peers stop there),
    /// the rest, all alike, as one entry.
    fn close_empty_samples(&mut self, e: EmptySamples) -> SampleSummary {
        let empty = |index, start_ns| SampleTraffic { index, start_ns, len_ns: e.len_ns, ..Default::default() };
        let first = self.close_sample(empty(e.index, e.start_ns));
        if e.count < 2 {
            return first;
        }
        let mut rest = sample_summary(
            &mut self.video_peers,
            &empty(e.index + 1, e.start_ns + e.len_ns),
            &self.sessions,
            &self.cfg,
        );
        rest.count = e.count - 1;
        self.samples_seen += rest.count as usize;
        keep(&mut self.samples, rest.clone(), self.cfg.retention.windows);
        rest
    }

    fn close_sample(&mut self, s: SampleTraffic) -> SampleSummary {
        let out = sample_summary(&mut self.video_peers, &s, &self.sessions, &self.cfg);
        self.samples_seen += 1;
        keep(&mut self.samples, out.clone(), self.cfg.retention.windows);
        out
    }

    /// Every peer that was a parent, and every peer that was a child, in some window.
    pub fn ever_family(&self) -> (&BTreeSet<IpAddr>, &BTreeSet<IpAddr>) {
        self.family.ever()
    }

    /// Adds counts to the packet-size histogram (offline: every packet's).
    pub fn add_packet_sizes(&mut self, h: &SizeHistogram, source: HistogramSource) {
        self.size_histogram.get_or_insert_with(|| (SizeHistogram::default(), source)).0.merge(h);
    }

    /// Flows held one by one (the rest retired into the totals), and all of the run's.
    pub fn flows_held(&self) -> (usize, u64) {
        (self.flows.len(), self.flows.seen())
    }

    /// The report as if the run ended now, leaving the engine running (a live
    /// run's periodic dump). Copies only what the report lists (the summaries kept,
    /// the flows held) and the open sample, never the engine.
    pub fn snapshot(&self) -> Report {
        self.snapshot_listing(None)
    }

    /// [`Self::snapshot`] listing only the `max_flows` largest flows (by IP bytes), as
    /// a bounded report file keeps them: the others are never made into records.
    pub fn snapshot_listing(&self, max_flows: Option<usize>) -> Report {
        let pending = self.grid.peek().map(|s| {
            let mut tracker = self.video_peers.clone();
            sample_summary(&mut tracker, &s, &self.sessions, &self.cfg)
        });
        self.report(pending, max_flows)
    }

    /// Restates the video rates of `windows` and `samples` (copies of those kept) with
    /// the sessions' classification as of now ([`VideoBasis::Final`]).
    fn restate_video(&self, windows: &mut [WindowSummary], samples: &mut [SampleSummary]) {
        let min_large = self.cfg.video_min_large_packets;
        let sessions = &self.sessions;
        let is_video = |id| sessions.is_video(id, min_large);
        let restate_sample = |s: &mut SampleSummary| {
            let len_s = s.len_ns.max(1) as f64 / 1e9;
            let v = video_rate(&s.video_shares, is_video, len_s);
            s.rates.video_down_bytes_per_s = v.video_down_bytes_per_s;
            s.rates.video_up_bytes_per_s = v.video_up_bytes_per_s;
            s.rates.peer_video_rates = peer_video_rates(&s.video_shares, is_video, len_s);
            s.video_basis = VideoBasis::Final;
        };
        for w in windows.iter_mut() {
            let v = video_rate(&w.video_shares, is_video, w.len_ns.max(1) as f64 / 1e9);
            w.video_down_bytes_per_s = v.video_down_bytes_per_s;
            w.video_up_bytes_per_s = v.video_up_bytes_per_s;
            w.video_basis = VideoBasis::Final;
            if let Some(s) = w.sample.as_mut() {
                restate_sample(s);
            }
        }
        samples.iter_mut().for_each(restate_sample);
    }

    /// Ends the run and builds the report.
    pub fn finish(mut self) -> Report {
        if let Some(s) = self.grid.flush() {
            self.close_sample(s);
        }
        self.report(None, None)
    }

    /// The report of what was observed, with `pending` (the open sample) after the
    /// samples closed.
    fn report(&self, pending: Option<SampleSummary>, max_flows: Option<usize>) -> Report {
        let mut windows: Vec<WindowSummary> = self.windows.iter().cloned().collect();
        let open_sample = pending.is_some() as usize;
        let mut samples: Vec<SampleSummary> = self.samples.iter().cloned().chain(pending).collect();
        self.restate_video(&mut windows, &mut samples);
        let min_large = self.cfg.video_min_large_packets;
        let video = self.sessions.video_bytes_per_peer(min_large);
        let geo = self.cfg.geo.clone();
        let continents = continent_table(&video, |p| {
            let label = geo.as_ref().and_then(|g| g.lookup(p)).and_then(|g| g.label);
            region_of(p, label.as_deref())
        });
        let (redundancy, startup) = match self.cfg.playback_rate_kbps {
            Some(c) => {
                let video_down = self.sessions.video_down_payload_after_skip(min_large);
                let sessions = &self.sessions;
                let startup = self.startup.result(c, |id| sessions.is_video(id, min_large));
                (Some(redundancy(c, self.redundancy.interval_ns(), video_down)), startup)
            }
            None => (None, None),
        };
        let start = self.first_start_ns.unwrap_or(0);
        let end = self.last_end_ns.max(start);
        Report {
            host: self.host.addrs().collect(),
            config: self.cfg.echo(),
            capture: CaptureSpan {
                start_unix_ns: start,
                end_unix_ns: end,
                duration_s: secs(end - start),
                first_packet_unix_ns: self.flows.all_stats().map(|s| s.first_seen.0).filter(|&t| t != 0).min(),
                last_packet_unix_ns: self.flows.all_stats().map(|s| s.last_seen.0).max(),
                windows: self.windows_seen,
                samples: self.samples_seen + open_sample,
                flows: self.flows.seen(),
            },
            family: self.family.summary(),
            stability: self.stability.summary(),
            sessions: self.sessions.summary(min_large),
            peers: self.peers.summary(&video),
            video_peers_ever: self.video_peers.ever(),
            sizes: SizeSummary {
                distribution: self.size_histogram.as_ref().map(|(h, src)| h.report(*src)),
                ..size_summary(self.flows.all_stats(), &self.cfg.thresholds)
            },
            cost: self.cost.summary(),
            continents,
            redundancy,
            startup,
            flows: self.flows.records(&self.host, max_flows),
            windows,
            samples,
        }
    }
}

/// Appends `item` (or folds it into the run it continues, see [`Run`]), dropping the
/// oldest entries beyond `cap` (`None`: no bound).
fn keep<T: Run>(ring: &mut VecDeque<T>, item: T, cap: Option<usize>) {
    if ring.back_mut().is_some_and(|last| last.absorb(&item)) {
        return;
    }
    ring.push_back(item.kept());
    if let Some(cap) = cap {
        while ring.len() > cap.max(1) {
            ring.pop_front();
        }
    }
}

/// The summary of a closed sample; `tracker` learns it.
fn sample_summary(
    tracker: &mut VideoPeerTracker,
    s: &SampleTraffic,
    sessions: &SessionTable,
    cfg: &EngineConfig,
) -> SampleSummary {
    let min_large = cfg.video_min_large_packets;
    SampleSummary {
        index: s.index,
        start_unix_ns: s.start_ns,
        len_ns: s.len_ns,
        partial: s.len_ns < cfg.sample_ns,
        count: 1,
        rates: sample_rates(s, |id| sessions.is_video(id, min_large)),
        video_basis: VideoBasis::SessionsSoFar,
        video_shares: s.video.clone(),
        video_peers: tracker.observe(s, min_large),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EngineConfig, MonitoredHost, WindowFlows, NS_PER_S};
    use peerscope_abi::classify::IPPROTO_UDP;
    use peerscope_abi::{FlowKey, FlowStats, PacketObservation, Thresholds, UnixNs};

    /// The engine fed directly with windows, as the live path feeds it from polled
    /// kernel maps (deltas of cumulative counters via `FlowStats::since`).
    const T0: u64 = 1_700_000_000 * NS_PER_S;

    fn x() -> std::net::IpAddr {
        "192.0.2.10".parse().unwrap()
    }

    fn key(peer: [u8; 4]) -> FlowKey {
        FlowKey::v4(IPPROTO_UDP, peer, [192, 0, 2, 10], 4004, 8008)
    }

    /// Cumulative counters after `n` 1000-byte packets, the last at `ts`.
    fn cumulative(n: u32, first: u64, ts: u64) -> FlowStats<UnixNs> {
        let mut s = FlowStats::default();
        let t = Thresholds::STUDIES;
        s.record(&PacketObservation::new(&t, IPPROTO_UDP, 1000, 972, 0, UnixNs(first)));
        s.record_n(&PacketObservation::new(&t, IPPROTO_UDP, 1000, 972, 0, UnixNs(ts)), n - 1);
        s
    }

    #[test]
    fn test_polled_deltas_give_the_same_rates_as_packets() {
        let mut e = Engine::new(EngineConfig::default(), MonitoredHost::new([x()]));
        let k = key([198, 51, 100, 1]);
        // Poll 1 at 20 s: 100 packets so far; poll 2 at 40 s: 250 so far.
        let p1 = cumulative(100, T0 + NS_PER_S, T0 + 19 * NS_PER_S);
        let p2 = cumulative(250, T0 + NS_PER_S, T0 + 39 * NS_PER_S);
        let w0 = e.observe_window(WindowFlows { start_ns: T0, len_ns: 20 * NS_PER_S, flows: vec![(k, p1)] });
        let w1 = e.observe_window(WindowFlows {
            start_ns: T0 + 20 * NS_PER_S,
            len_ns: 20 * NS_PER_S,
            flows: vec![(k, p2.since(&p1))],
        });
        assert_eq!(w0.down_bytes_per_s, 100_000.0 / 20.0);
        assert_eq!(w1.down_bytes_per_s, 150_000.0 / 20.0);
        assert_eq!((w0.parent_count, w1.parent_count), (1, 1));
        assert_eq!(w1.stability.s_n, Some(0.0));
        let so_far = e.snapshot();
        assert_eq!(so_far.capture.windows, 2);
        let r = e.finish();
        assert_eq!(r.flows.len(), 1);
        assert_eq!(r.flows[0].total.classes.packets, 250);
        assert_eq!(so_far.flows[0].total.classes.packets, 250);
        // Duration spans both windows: first packet of poll 1 to last of poll 2.
        assert_eq!(r.flows[0].total.duration_s, 38.0);
    }

    /// `n` packets of `bytes` from `peer` to X (`down`) or back, spread over the
    /// window starting at `start`.
    fn burst(peer: [u8; 4], down: bool, n: u32, bytes: u32, start: u64) -> (FlowKey, FlowStats<UnixNs>) {
        let k = if down { key(peer) } else { FlowKey::v4(IPPROTO_UDP, [192, 0, 2, 10], peer, 8008, 4004) };
        let t = Thresholds::STUDIES;
        let mut s = FlowStats::default();
        for i in 0..n {
            let ts = start + u64::from(i) * (19 * NS_PER_S) / u64::from(n);
            s.record(&PacketObservation::new(&t, IPPROTO_UDP, bytes, bytes - 28, 0, UnixNs(ts)));
        }
        (k, s)
    }

    /// A window of traffic: two parents (8 000 and 5 000 B/s of 1300-byte packets,
    /// video with UDP sessions) and a child; `shift` changes the parents.
    fn busy(start: u64, shift: u8) -> WindowFlows {
        let mut flows = vec![
            burst([198, 51, 100, 1 + shift], true, 123, 1300, start),
            burst([198, 51, 100, 2 + shift], true, 77, 1300, start),
            burst([203, 0, 113, 9], false, 100, 1000, start),
        ];
        flows.sort_unstable_by_key(|a| a.0);
        WindowFlows { start_ns: start, len_ns: 20 * NS_PER_S, flows }
    }

    /// A run of empty windows taken at once gives the report that taking them one by
    /// one gives (parents leaving, S_n/X_n, samples of 30 s on their own grid, video
    /// peers stopping, the redundancy interval), whatever the run's length and where
    /// the samples' edges fall; and the report lists the run as one entry.
    #[test]
    fn test_empty_windows_at_once_equal_one_by_one() {
        let cfg = EngineConfig {
            playback_rate_kbps: Some(40.0),
            udp_sessions: true,
            redundancy_skip_ns: 50 * NS_PER_S,
            ..Default::default()
        };
        let d = 20 * NS_PER_S;
        for n in [1u64, 2, 3, 4, 7, 50, 1000] {
            let mut one = Engine::new(cfg.clone(), MonitoredHost::new([x()]));
            let mut run = Engine::new(cfg.clone(), MonitoredHost::new([x()]));
            for e in [&mut one, &mut run] {
                e.observe_window(busy(T0, 0));
                e.observe_window(busy(T0 + d, 1));
            }
            for k in 0..n {
                one.observe_window(WindowFlows::new(T0 + (2 + k) * d, d));
            }
            run.observe_empty_windows(T0 + 2 * d, n);
            for e in [&mut one, &mut run] {
                e.observe_window(busy(T0 + (2 + n) * d, 0));
            }
            let (a, b) = (one.finish(), run.finish());
            let json = |r: &Report| serde_json::to_value(r).unwrap();
            assert_eq!(json(&a), json(&b), "{n} empty windows");
            let counts: u64 = b.windows.iter().map(|w| w.count).sum();
            assert_eq!((counts, b.capture.windows as u64), (n + 3, n + 3));
            // Traffic, parents leaving, the sample with traffic closing, one run.
            assert!(b.windows.len() <= 6, "{n}: {} entries", b.windows.len());
            let samples: u64 = b.samples.iter().map(|s| s.count).sum();
            assert_eq!(samples as usize, b.capture.samples);
            assert!(b.samples.len() <= 6, "{n}: {} samples", b.samples.len());
        }
    }

    #[test]
    fn test_empty_run_and_empty_windows_serialise_without_nan() {
        let e = Engine::new(EngineConfig::default(), MonitoredHost::new([x()]));
        let r = e.finish();
        assert_eq!(r.capture.windows, 0);
        assert_eq!(r.family.upload_download_ratio, None);

        let mut e = Engine::new(
            EngineConfig { playback_rate_kbps: Some(400.0), ..Default::default() },
            MonitoredHost::new([x()]),
        );
        for i in 0..3 {
            let s = e.observe_window(WindowFlows::new(T0 + i * 20 * NS_PER_S, 20 * NS_PER_S));
            assert_eq!(s.packets, 0);
        }
        let r = e.finish();
        assert_eq!(r.capture.windows, 3);
        assert_eq!(r.capture.duration_s, 60.0);
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("NaN") && !json.contains("Infinity"));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        for field in [
            "host",
            "config",
            "capture",
            "windows",
            "samples",
            "family",
            "stability",
            "sessions",
            "peers",
            "sizes",
            "cost",
            "continents",
            "redundancy",
            "startup",
            "flows",
        ] {
            assert!(v.get(field).is_some(), "report lacks {field}");
        }
        assert_eq!(v["windows"][1]["stability"]["note"], "empty_parent_set");
        assert_eq!(v["windows"][1]["stability"]["s_n"], 0.0);
        assert!(v["redundancy"]["redundancy"].is_null());
    }

    #[test]
    fn test_repeated_keys_in_one_window_are_merged() {
        let mut e = Engine::new(EngineConfig::default(), MonitoredHost::new([x()]));
        let k = key([198, 51, 100, 2]);
        let a = cumulative(50, T0, T0 + NS_PER_S);
        let s = e.observe_window(WindowFlows { start_ns: T0, len_ns: 20 * NS_PER_S, flows: vec![(k, a), (k, a)] });
        assert_eq!(s.active_flows, 1);
        assert_eq!(s.down_bytes_per_s, 100_000.0 / 20.0);
        assert_eq!(s.parent_count, 1);
    }

    /// A TCP session P → X of 1300-byte packets (IP length, all large): 6 in
    /// window 0, 6 in window 1. Live, window 0 closes with 6 large packets, not
    /// more than 10: no video session yet, video rate 0 (`sessions_so_far`);
    /// window 1 closes with 12: a video session, 6 · 1300 / 20 = 390 B/s. The
    /// report restates window 0 with the final classification: 390 B/s too.
    #[test]
    fn test_live_video_rate_is_labelled_and_restated_in_the_report() {
        use crate::engine::video::VideoBasis;
        let mut e = Engine::new(EngineConfig::default(), MonitoredHost::new([x()]));
        let k = FlowKey::v4(peerscope_abi::classify::IPPROTO_TCP, [198, 51, 100, 4], [192, 0, 2, 10], 8008, 5000);
        let seg = |ts| PacketObservation::new(&Thresholds::STUDIES, k.proto, 1300, 1260, 0x10, UnixNs(ts));
        let mut windows = Vec::new();
        for i in 0..2u64 {
            let mut s = FlowStats::default();
            s.record_n(&seg(T0 + (i * 20 + 1) * NS_PER_S), 6);
            windows.push(e.observe_window(WindowFlows {
                start_ns: T0 + i * 20 * NS_PER_S,
                len_ns: 20 * NS_PER_S,
                flows: vec![(k, s)],
            }));
        }
        assert_eq!(windows[0].video_basis, VideoBasis::SessionsSoFar);
        assert_eq!(windows[0].video_down_bytes_per_s, 0.0);
        assert_eq!(windows[1].video_down_bytes_per_s, 390.0);
        let r = e.finish();
        assert_eq!(r.windows[0].video_basis, VideoBasis::Final);
        assert_eq!(r.windows[0].video_down_bytes_per_s, 390.0);
        assert_eq!(r.sessions.video_down_bytes, 12 * 1300);
    }

    #[test]
    fn test_zero_deltas_of_idle_flows_are_ignored() {
        let mut e = Engine::new(EngineConfig::default(), MonitoredHost::new([x()]));
        let k = key([198, 51, 100, 3]);
        let s = e.observe_window(WindowFlows {
            start_ns: T0,
            len_ns: 20 * NS_PER_S,
            flows: vec![(k, FlowStats::default())],
        });
        assert_eq!((s.active_flows, s.pairs.len()), (0, 0));
        let r = e.finish();
        assert!(r.flows.is_empty());
        assert_eq!(r.family.contacted_hosts, 0);
    }
    /// Window `i` of a churn: 100 new UDP flows from 50 peers, 2 packets each.
    fn churn_window(i: u64, len: u64) -> WindowFlows {
        let start = T0 + i * len;
        let flows = (0..100u64)
            .map(|f| {
                let n = i * 100 + f;
                let k =
                    FlowKey::v4(IPPROTO_UDP, [198, 51, 100, (n % 50) as u8], [192, 0, 2, 10], (n / 50) as u16, 8008);
                (k, cumulative(2, start + f * 1000, start + f * 1000 + 500))
            })
            .collect();
        WindowFlows { start_ns: start, len_ns: len, flows }
    }

    fn bounded() -> EngineConfig {
        EngineConfig {
            window_ns: 5 * NS_PER_S,
            retention: crate::engine::Retention { windows: Some(12), flow_linger_ns: Some(10 * NS_PER_S) },
            ..Default::default()
        }
    }

    /// 100 000 flows through a bounded engine: it holds the flows of the last linger and
    /// the last 12 windows, whatever came before; the run's totals still count them all.
    #[test]
    fn test_bounded_engine_holds_what_its_retention_says_under_churn_of_100_000_flows() {
        let mut e = Engine::new(bounded(), MonitoredHost::new([x()]));
        let mut most_held = 0;
        for i in 0..1000 {
            e.observe_window(churn_window(i, 5 * NS_PER_S));
            most_held = most_held.max(e.flows_held().0);
            assert!(e.windows.len() <= 12 && e.samples.len() <= 12);
        }
        // Flows of the windows within the linger (10 s = 2 windows) and the one closing.
        assert!(most_held <= 300, "held {most_held} flows");
        assert_eq!(e.flows_held().1, 100_000);
        let r = e.snapshot();
        assert_eq!((r.capture.windows, r.capture.flows), (1000, 100_000));
        assert_eq!(r.windows.len(), 12);
        assert_eq!(r.windows.last().unwrap().index, 999);
        assert!(r.flows.len() <= 300 + crate::engine::flows::RETIRED_FLOWS_LISTED, "{}", r.flows.len());
        assert_eq!(r.sizes.classes.packets, 200_000);
        assert_eq!(r.family.download_bytes, 200_000 * 1000);
        assert_eq!(r.capture.first_packet_unix_ns, Some(T0));
    }

    /// What a bounded engine reports for the whole run is what one that keeps
    /// everything reports; only the lists (windows, samples, flows) are shorter.
    #[test]
    fn test_bounded_engine_reports_the_run_wide_figures_of_one_that_keeps_everything() {
        let all_cfg = EngineConfig { retention: crate::engine::Retention::ALL, ..bounded() };
        let mut all = Engine::new(all_cfg, MonitoredHost::new([x()]));
        let mut some = Engine::new(bounded(), MonitoredHost::new([x()]));
        for i in 0..200 {
            let w = if i % 7 == 3 {
                WindowFlows::new(T0 + i * 5 * NS_PER_S, 5 * NS_PER_S)
            } else {
                churn_window(i, 5 * NS_PER_S)
            };
            let (a, b) = (all.observe_window(w.clone()), some.observe_window(w));
            assert_eq!(serde_json::to_value(&a).unwrap(), serde_json::to_value(&b).unwrap());
        }
        let (a, b) = (serde_json::to_value(all.finish()).unwrap(), serde_json::to_value(some.finish()).unwrap());
        for field in
            ["capture", "family", "stability", "sessions", "peers", "video_peers_ever", "sizes", "cost", "continents"]
        {
            assert_eq!(a[field], b[field], "{field}");
        }
        assert_eq!(a["windows"].as_array().unwrap().len(), 200);
        assert_eq!(b["windows"].as_array().unwrap().len(), 12);
        assert_eq!(a["windows"].as_array().unwrap()[188..], b["windows"].as_array().unwrap()[..]);
    }

    /// The snapshot copies no engine but is the report `finish` would give now.
    #[test]
    fn test_snapshot_is_the_report_of_finishing_now() {
        let mut e = Engine::new(bounded(), MonitoredHost::new([x()]));
        for i in 0..40 {
            e.observe_window(churn_window(i, 5 * NS_PER_S));
            if i % 5 == 2 {
                let now = serde_json::to_value(e.snapshot()).unwrap();
                assert_eq!(now, serde_json::to_value(e.clone().finish()).unwrap(), "after window {i}");
            }
        }
    }

    /// A flow idle for the linger is retired; coming back, it is a new record. Within
    /// the linger it stays one.
    #[test]
    fn test_a_flow_idle_for_the_linger_is_retired_and_comes_back_as_a_new_one() {
        let k = key([198, 51, 100, 7]);
        let mut e = Engine::new(bounded(), MonitoredHost::new([x()]));
        let at = |i: u64| T0 + i * 5 * NS_PER_S;
        let one = |i: u64| WindowFlows {
            start_ns: at(i),
            len_ns: 5 * NS_PER_S,
            flows: vec![(k, cumulative(1, at(i), at(i)))],
        };
        e.observe_window(one(0));
        e.observe_window(WindowFlows::new(at(1), 5 * NS_PER_S));
        e.observe_window(one(2)); // 5 s idle: within the linger
        assert_eq!(e.flows_held(), (1, 1));
        e.observe_window(WindowFlows::new(at(3), 5 * NS_PER_S));
        e.observe_window(WindowFlows::new(at(4), 5 * NS_PER_S)); // ends 10 s after window 2
        assert_eq!(e.flows_held(), (0, 1));
        e.observe_window(one(5));
        let r = e.finish();
        assert_eq!(r.capture.flows, 2);
        let packets: Vec<u64> = r.flows.iter().map(|f| f.total.classes.packets).collect();
        assert_eq!(packets, vec![2, 1]);
        assert_eq!(r.sizes.classes.packets, 3);
    }

    /// A report file's snapshot lists only the largest flows; the totals are the same.
    #[test]
    fn test_snapshot_listing_the_largest_flows_only() {
        let mut e = Engine::new(bounded(), MonitoredHost::new([x()]));
        let flows = (1..=5u8).map(|n| (key([198, 51, 100, n]), cumulative(n as u32, T0, T0 + 1))).collect();
        e.observe_window(WindowFlows { start_ns: T0, len_ns: 5 * NS_PER_S, flows });
        let some = e.snapshot_listing(Some(2));
        let peers: Vec<String> = some.flows.iter().map(|f| f.key.src_ip.to_string()).collect();
        assert_eq!(peers, ["198.51.100.4", "198.51.100.5"]);
        let all = e.snapshot();
        assert_eq!(all.flows.len(), 5);
        assert_eq!(serde_json::to_value(&some.sizes).unwrap(), serde_json::to_value(&all.sizes).unwrap());
        assert_eq!(some.capture.flows, 5);
    }
}
