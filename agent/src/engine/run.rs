//! The engine: feeds each window to every metric and assembles the report.

use peerscope_abi::classify::IPPROTO_TCP;
use peerscope_abi::FlowStats;

use super::config::EngineConfig;
use super::continent::{continent_table, region_of};
use super::cost::CostTracker;
use super::flows::FlowLedger;
use super::host::{Direction, MonitoredHost};
use super::parents::FamilyTracker;
use super::peers::PeerLedger;
use super::rates::pair_rates;
use super::redundancy::redundancy;
use super::report::{CaptureSpan, Report};
use super::samples::{SampleGrid, SampleTraffic};
use super::sessions::SessionTable;
use super::sizes::size_summary;
use super::stability::StabilityTracker;
use super::startup::StartupTracker;
use super::summary::{SampleSummary, WindowSummary};
use super::util::secs;
use super::video_peers::VideoPeerTracker;
use super::video_rates::sample_rates;
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
    windows: Vec<WindowSummary>,
    samples: Vec<SampleSummary>,
    first_start_ns: Option<u64>,
    last_end_ns: u64,
    /// Start of the first window at or after the redundancy skip.
    after_skip_start_ns: Option<u64>,
}

impl Engine {
    pub fn new(cfg: EngineConfig, host: MonitoredHost) -> Self {
        let host_at = cfg.host_location.or_else(|| {
            let geo = cfg.geo.as_ref()?;
            host.addrs().find_map(|a| geo.lookup(a)).map(|g| (g.lat, g.lon))
        });
        Engine {
            grid: SampleGrid::new(cfg.windows_per_sample()),
            cost: CostTracker::new(host_at, cfg.miles_per_degree),
            cfg,
            host,
            flows: FlowLedger::default(),
            peers: PeerLedger::default(),
            family: FamilyTracker::default(),
            stability: StabilityTracker::default(),
            sessions: SessionTable::default(),
            video_peers: VideoPeerTracker::default(),
            startup: StartupTracker::default(),
            windows: Vec::new(),
            samples: Vec::new(),
            first_start_ns: None,
            last_end_ns: 0,
            after_skip_start_ns: None,
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    pub fn host(&self) -> &MonitoredHost {
        &self.host
    }

    /// Takes one window of per-flow deltas (windows in time order, empty ones too)
    /// and returns its metrics. The summary is also kept for the report.
    pub fn observe_window(&mut self, mut w: WindowFlows) -> WindowSummary {
        // Idle flows may be passed with zero deltas; they are not part of the window.
        w.flows.retain(|(_, s)| !s.is_empty());
        let first = *self.first_start_ns.get_or_insert(w.start_ns);
        self.last_end_ns = self.last_end_ns.max(w.end_ns());
        let after_skip = w.start_ns >= first.saturating_add(self.cfg.redundancy_skip_ns);
        if after_skip && self.after_skip_start_ns.is_none() {
            self.after_skip_start_ns = Some(w.start_ns);
        }

        let mut window_total = FlowStats::default();
        let mut port80_first: Option<u64> = None;
        let mut host_first: Option<u64> = None;
        for (key, delta) in &w.flows {
            self.flows.add(key, delta);
            window_total.merge(delta);
            self.sessions.add(key, delta, &self.host, self.cfg.udp_sessions, after_skip);
            if let Direction::Upload { .. } = self.host.direction(key) {
                if delta.total_packets() > 0 {
                    host_first = Some(host_first.map_or(delta.first_seen_ns, |t| t.min(delta.first_seen_ns)));
                    if key.proto == IPPROTO_TCP && key.dst_port == 80 {
                        port80_first = Some(port80_first.map_or(delta.first_seen_ns, |t| t.min(delta.first_seen_ns)));
                    }
                }
            }
        }
        let active_flows = {
            let mut keys: Vec<_> = w.flows.iter().map(|(k, _)| *k).collect();
            keys.sort_unstable();
            keys.dedup();
            keys.len()
        };

        let view = HostView::build(&w, &self.host);
        self.peers.observe(&view);
        let pairs = pair_rates(&view);
        let fam = self.family.observe(&pairs, self.cfg.parent_rate_bps, self.cfg.child_rate_bps);
        let stability = self.stability.observe(fam.parent_set());
        let cost = match self.cfg.geo.clone() {
            Some(geo) => self.cost.observe(&geo, &fam.parents, &fam.children, view.pairs.keys().copied()),
            None => Default::default(),
        };

        let len_s = view.len_s();
        let (down, up, vdown, vup) = view.pairs.values().fold((0u64, 0u64, 0u64, 0u64), |a, t| {
            (a.0 + t.down.total_bytes(), a.1 + t.up.total_bytes(), a.2 + t.down.large_bytes, a.3 + t.up.large_bytes)
        });
        self.startup.observe(w.end_ns(), vdown as f64 / len_s, port80_first, host_first);

        let sample = self.grid.push(&view).map(|s| self.close_sample(s));
        let summary = WindowSummary {
            index: self.windows.len(),
            start_unix_ns: w.start_ns,
            len_ns: w.len_ns,
            active_flows,
            packets: window_total.total_packets(),
            bytes: window_total.total_bytes(),
            down_bytes_per_s: down as f64 / len_s,
            up_bytes_per_s: up as f64 / len_s,
            video_down_bytes_per_s: vdown as f64 / len_s,
            video_up_bytes_per_s: vup as f64 / len_s,
            parent_count: fam.parents.len(),
            child_count: fam.children.len(),
            pairs,
            parents: fam.parents,
            children: fam.children,
            stability,
            cost,
            sample,
        };
        self.windows.push(summary.clone());
        summary
    }

    fn close_sample(&mut self, s: SampleTraffic) -> SampleSummary {
        let video_peers = self.video_peers.observe(&s, self.cfg.video_min_large_packets);
        let out = SampleSummary {
            index: s.index,
            start_unix_ns: s.start_ns,
            len_ns: s.len_ns,
            rates: sample_rates(&s),
            video_peers,
        };
        self.samples.push(out.clone());
        out
    }

    /// The report as if the run ended now, leaving the engine running (a live
    /// run's periodic dump). Copies the engine's state.
    pub fn snapshot(&self) -> Report {
        self.clone().finish()
    }

    /// Ends the run and builds the report.
    pub fn finish(mut self) -> Report {
        if let Some(s) = self.grid.flush() {
            self.close_sample(s);
        }
        let min_large = self.cfg.video_min_large_packets;
        let video = self.sessions.video_bytes_per_peer(min_large);
        let geo = self.cfg.geo.clone();
        let continents = continent_table(&video, |p| {
            let label = geo.as_ref().and_then(|g| g.lookup(p)).and_then(|g| g.label);
            region_of(p, label.as_deref())
        });
        let (redundancy, startup) = match self.cfg.playback_rate_kbps {
            Some(c) => {
                let after: u64 = self
                    .sessions
                    .iter()
                    .filter(|s| s.is_video(min_large))
                    .map(|s| s.down_large_payload_after_skip)
                    .sum();
                let interval = self.after_skip_start_ns.map_or(0, |t| self.last_end_ns.saturating_sub(t));
                (Some(redundancy(c, interval, after)), self.startup.result(c))
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
                first_packet_unix_ns: self.flows.iter().map(|(_, s)| s.first_seen_ns).filter(|&t| t != 0).min(),
                last_packet_unix_ns: self.flows.iter().map(|(_, s)| s.last_seen_ns).max(),
                windows: self.windows.len(),
                samples: self.samples.len(),
            },
            family: self.family.summary(),
            stability: self.stability.summary(),
            sessions: self.sessions.summary(min_large),
            peers: self.peers.summary(&video),
            video_peers_ever: self.video_peers.ever(),
            sizes: size_summary(self.flows.iter().map(|(_, s)| s), &self.cfg.thresholds),
            cost: self.cost.summary(),
            continents,
            redundancy,
            startup,
            flows: self.flows.records(&self.host),
            windows: self.windows,
            samples: self.samples,
        }
    }
}
