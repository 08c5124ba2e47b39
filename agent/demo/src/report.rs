//! What the demo shows: each window's view of the monitored host, and at the end
//! peerscope's per-peer TCP payload bytes against the swarm's ground truth
//! (measured = written + retransmitted, exactly), written as `report.json`.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    net::{IpAddr, Ipv4Addr},
};

use serde::Serialize;

use super::{
    geo::{self, Region},
    plan::{PeerPlan, Profile},
    truth::Truth,
    window::{host_pairs, PairBytes},
};
use peerscope::engine::{self, WindowFlows};

#[derive(Clone, Debug, Serialize)]
pub struct WindowSummary {
    pub index: usize,
    pub start_unix_ns: u64,
    pub len_ns: u64,
    pub up_bytes: u64,
    pub down_bytes: u64,
    pub parents: Vec<IpAddr>,
    pub children: Vec<IpAddr>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PeerRow {
    pub ip: Option<Ipv4Addr>,
    pub city: Option<&'static str>,
    pub region: Option<Region>,
    pub measured_up_payload: u64,
    pub truth_up_payload: u64,
    pub retransmitted_up: u64,
    pub measured_down_payload: u64,
    pub truth_down_payload: u64,
    pub retransmitted_down: u64,
    /// measured == truth + retransmitted, both directions.
    pub matches: bool,
    pub windows_as_parent: usize,
    pub windows_as_child: usize,
}

/// One peer of the swarm as planned: who, where, and when it was there.
#[derive(Clone, Debug, Serialize)]
pub struct CastRow {
    pub ip: Ipv4Addr,
    pub profile: Profile,
    pub city: Option<&'static str>,
    pub join_secs: f64,
    pub leave_secs: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub monitored: Ipv4Addr,
    pub profile: Profile,
    pub peers: usize,
    pub cast: Vec<CastRow>,
    pub bitrate_bps: u64,
    pub duration_secs: f64,
    pub windows: Vec<WindowSummary>,
    pub per_peer: Vec<PeerRow>,
    pub measured_up_payload: u64,
    pub measured_down_payload: u64,
    pub truth_up_payload: u64,
    pub truth_down_payload: u64,
    pub retransmitted_up: u64,
    pub retransmitted_down: u64,
    pub all_match: bool,
}

/// Collects the windows as they close.
pub struct Collector {
    pub me: Ipv4Addr,
    pub windows: Vec<WindowSummary>,
    totals: BTreeMap<IpAddr, (PairBytes, usize, usize)>,
}

impl Collector {
    pub fn new(me: Ipv4Addr) -> Self {
        Collector { me, windows: Vec::new(), totals: BTreeMap::new() }
    }

    /// Adds a window, with the engine's figures for it, and returns its text for the
    /// live display.
    pub fn add(&mut self, w: &WindowFlows, figures: &engine::WindowSummary, top: usize) -> String {
        let pairs = host_pairs(w, IpAddr::V4(self.me));
        let parents: Vec<IpAddr> = figures.parents.iter().map(|p| p.peer).collect();
        let children: Vec<IpAddr> = figures.children.iter().map(|p| p.peer).collect();
        for (h, p) in &pairs {
            let t = self.totals.entry(*h).or_default();
            t.0.up += p.up;
            t.0.down += p.down;
            t.0.up_tcp_payload += p.up_tcp_payload;
            t.0.down_tcp_payload += p.down_tcp_payload;
            t.1 += parents.contains(h) as usize;
            t.2 += children.contains(h) as usize;
        }
        let s = WindowSummary {
            index: self.windows.len(),
            start_unix_ns: w.start_ns,
            len_ns: w.len_ns,
            up_bytes: pairs.values().map(|p| p.up).sum(),
            down_bytes: pairs.values().map(|p| p.down).sum(),
            parents,
            children,
        };
        let text = render_window(&s, w, &pairs, top);
        self.windows.push(s);
        text
    }

    pub fn finish(self, truth: &Truth, cast: &[PeerPlan], bitrate_bps: u64, duration_secs: f64) -> Report {
        let me = self.me;
        let profile = cast.iter().find(|p| p.monitored).map_or(Profile::Campus, |p| p.profile);
        let cast: Vec<CastRow> = cast
            .iter()
            .map(|p| CastRow {
                ip: p.ip,
                profile: p.profile,
                city: geo::city(p.ip),
                join_secs: p.join.as_secs_f64(),
                leave_secs: p.leave.map(|l| l.as_secs_f64()),
            })
            .collect();
        let pairs = truth.pair_totals();
        let mut hosts: BTreeMap<Ipv4Addr, PeerRow> = BTreeMap::new();
        for (s, d) in pairs.keys() {
            for h in [s, d] {
                if *h != me && (*s == me || *d == me) {
                    hosts.entry(*h).or_default();
                }
            }
        }
        for h in self.totals.keys() {
            if let IpAddr::V4(v4) = h {
                hosts.entry(*v4).or_default();
            }
        }
        for (h, row) in hosts.iter_mut() {
            let (m, par, chi) = self.totals.get(&IpAddr::V4(*h)).copied().unwrap_or_default();
            *row = PeerRow {
                ip: Some(*h),
                city: geo::city(*h),
                region: Region::of(*h),
                measured_up_payload: m.up_tcp_payload,
                truth_up_payload: pairs.get(&(me, *h)).copied().unwrap_or(0),
                retransmitted_up: truth.retransmitted.get(&(me, *h)).copied().unwrap_or(0),
                measured_down_payload: m.down_tcp_payload,
                truth_down_payload: pairs.get(&(*h, me)).copied().unwrap_or(0),
                retransmitted_down: truth.retransmitted.get(&(*h, me)).copied().unwrap_or(0),
                matches: false,
                windows_as_parent: par,
                windows_as_child: chi,
            };
            row.matches = row.measured_up_payload == row.truth_up_payload + row.retransmitted_up
                && row.measured_down_payload == row.truth_down_payload + row.retransmitted_down;
        }
        let per_peer: Vec<PeerRow> = hosts.into_values().collect();
        let sum = |f: fn(&PeerRow) -> u64| per_peer.iter().map(f).sum::<u64>();
        Report {
            monitored: me,
            profile,
            peers: cast.len(),
            cast,
            bitrate_bps,
            duration_secs,
            measured_up_payload: sum(|r| r.measured_up_payload),
            measured_down_payload: sum(|r| r.measured_down_payload),
            truth_up_payload: sum(|r| r.truth_up_payload),
            truth_down_payload: sum(|r| r.truth_down_payload),
            retransmitted_up: sum(|r| r.retransmitted_up),
            retransmitted_down: sum(|r| r.retransmitted_down),
            all_match: per_peer.iter().all(|r| r.matches),
            per_peer,
            windows: self.windows,
        }
    }
}

fn kbps(bytes: u64, len_ns: u64) -> f64 {
    bytes as f64 * 8.0 / (len_ns as f64 / 1e9).max(1e-3) / 1000.0
}

fn render_window(s: &WindowSummary, w: &WindowFlows, pairs: &BTreeMap<IpAddr, PairBytes>, top: usize) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "── window {} ({:.1} s): up {:.0} kbit/s, down {:.0} kbit/s, {} flows; {} parents, {} children (> 4 KB/s)",
        s.index,
        s.len_ns as f64 / 1e9,
        kbps(s.up_bytes, s.len_ns),
        kbps(s.down_bytes, s.len_ns),
        w.flows.len(),
        s.parents.len(),
        s.children.len()
    );
    let _ = writeln!(t, "   top flows:");
    for (k, st) in w.flows.iter().take(top) {
        let proto = if k.proto == 6 {
            "tcp"
        } else if k.proto == 17 {
            "udp"
        } else {
            "ip"
        };
        let _ = writeln!(
            t,
            "     {proto} {:>21} → {:<21} {:>9} B {:>7.0} kbit/s",
            format!("{}:{}", k.src_ip(), k.src_port),
            format!("{}:{}", k.dst_ip(), k.dst_port),
            st.total_bytes(),
            kbps(st.total_bytes(), s.len_ns)
        );
    }
    let _ = writeln!(t, "   peers:        host  city         up kB  down kB  role");
    let mut rows: Vec<_> = pairs.iter().collect();
    rows.sort_by_key(|(_, p)| std::cmp::Reverse(p.up + p.down));
    for (h, p) in rows.into_iter().take(top) {
        let city = match h {
            IpAddr::V4(v4) => geo::city(*v4).unwrap_or("?"),
            IpAddr::V6(_) => "?",
        };
        let role = match (s.parents.contains(h), s.children.contains(h)) {
            (true, true) => "parent+child",
            (true, false) => "parent",
            (false, true) => "child",
            _ => "",
        };
        let _ = writeln!(
            t,
            "   {:>17}  {:<10} {:>7.1}  {:>7.1}  {role}",
            h.to_string(),
            city,
            p.up as f64 / 1e3,
            p.down as f64 / 1e3
        );
    }
    t
}

/// The closing summary printed after the last window.
pub fn render_final(r: &Report) -> String {
    let mut t = String::new();
    let left = r.cast.iter().filter(|c| c.leave_secs.is_some()).count();
    let late = r.cast.iter().filter(|c| c.join_secs > 0.0).count();
    let _ = writeln!(
        t,
        "══ peerscope demo: {} ({:?}) over {:.0} s, {} peers ({late} joined during the run, {left} left early), {} kbit/s",
        r.monitored,
        r.profile,
        r.duration_secs,
        r.peers,
        r.bitrate_bps / 1000
    );
    let _ = writeln!(
        t,
        "   host                city        measured up / truth (+retx)     measured down / truth (+retx)  ok"
    );
    for p in &r.per_peer {
        let _ = writeln!(
            t,
            "   {:<19} {:<10} {:>10} / {:>10} (+{:<5}) {:>10} / {:>10} (+{:<5}) {}",
            p.ip.map(|i| i.to_string()).unwrap_or_default(),
            p.city.unwrap_or("?"),
            p.measured_up_payload,
            p.truth_up_payload,
            p.retransmitted_up,
            p.measured_down_payload,
            p.truth_down_payload,
            p.retransmitted_down,
            if p.matches { "=" } else { "MISMATCH" }
        );
    }
    let ratio = r.measured_up_payload as f64 / (r.measured_down_payload.max(1)) as f64;
    let _ = writeln!(
        t,
        "   total TCP payload: up {} B, down {} B (upload:download {:.1}:1); retransmitted {} B up, {} B down",
        r.measured_up_payload, r.measured_down_payload, ratio, r.retransmitted_up, r.retransmitted_down
    );
    let _ =
        writeln!(t, "   measured {} ground truth for every peer", if r.all_match { "equals" } else { "DIFFERS FROM" });
    t
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use peerscope_abi::{FlowKey, FlowStats};

    use super::*;
    use crate::truth::GroundTruth;

    #[test]
    fn test_measured_is_compared_with_truth_plus_retransmissions() {
        let me = Ipv4Addr::new(198, 51, 100, 10);
        let a = Ipv4Addr::new(203, 0, 113, 20);
        let b = Ipv4Addr::new(192, 0, 2, 20);
        let flow = |s: Ipv4Addr, d: Ipv4Addr, payload| {
            (
                FlowKey::new(6, s.into(), 8008, d.into(), 40000),
                FlowStats {
                    payload_bytes: payload,
                    packets: [0, 0, 1],
                    bytes: [0, 0, payload + 40],
                    ..Default::default()
                },
            )
        };
        let mut c = Collector::new(me);
        // 0.1 s: 15.4 KB/s to a (a child), 9.4 KB/s from b (a parent), 1.4 KB/s from a.
        let w = WindowFlows {
            start_ns: 0,
            len_ns: 100_000_000,
            flows: vec![flow(me, a, 1500), flow(a, me, 100), flow(b, me, 900)],
        };
        let mut engine = peerscope::engine::Engine::new(
            peerscope::engine::EngineConfig { window_ns: w.len_ns, ..Default::default() },
            peerscope::engine::MonitoredHost::new([IpAddr::V4(me)]),
        );
        let figures = engine.observe_window(w.clone());
        let text = c.add(&w, &figures, 5);
        assert!(text.contains("1 parents, 1 children"), "{text}");
        let truth = GroundTruth::default();
        truth.sent(me, a, 1000);
        truth.retransmitted(me, a, 500);
        truth.sent(a, me, 100);
        truth.sent(b, me, 1000);
        let cast =
            [PeerPlan { index: 0, ip: me, profile: Profile::Nat, monitored: true, join: Duration::ZERO, leave: None }];
        let r = c.finish(&truth.snapshot(), &cast, 400_000, 1.0);
        assert_eq!(r.profile, Profile::Nat);
        let row = |ip| r.per_peer.iter().find(|p| p.ip == Some(ip)).unwrap();
        assert!(row(a).matches, "1500 = 1000 + 500 up, 100 = 100 down");
        assert!(!row(b).matches, "900 measured, 1000 sent");
        assert_eq!(r.windows[0].parents, vec![IpAddr::V4(b)]);
        assert!(!r.all_match);
        assert_eq!((r.measured_up_payload, r.truth_up_payload, r.retransmitted_up), (1500, 1000, 500));
    }
}
