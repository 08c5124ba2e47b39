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
    plan::{Cast, Profile},
    truth::Truth,
};
use peerscope::{
    engine,
    live::FlowDelta,
    view::{endpoint, proto_name},
};

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
    pub gossip_only_hosts: usize,
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

impl Report {
    /// The run as the engine measured it (`figures`, the monitored host being the
    /// cast's first peer) beside what the swarm recorded sending (`truth`).
    pub fn new(figures: &engine::Report, truth: &Truth, cast: &Cast, bitrate_bps: u64, duration_secs: f64) -> Self {
        let (me, peers) = (cast.peers[0].ip, &cast.peers);
        let windows: Vec<WindowSummary> = figures.windows.iter().map(WindowSummary::of).collect();
        let per_peer = per_peer(figures, &windows, truth, me);
        let sum = |f: fn(&PeerRow) -> u64| per_peer.iter().map(f).sum::<u64>();
        Report {
            monitored: me,
            profile: peers[0].profile,
            peers: peers.len(),
            gossip_only_hosts: cast.crowd.len(),
            cast: peers
                .iter()
                .map(|p| CastRow {
                    ip: p.ip,
                    profile: p.profile,
                    city: geo::city(p.ip),
                    join_secs: p.join.as_secs_f64(),
                    leave_secs: p.leave.map(|l| l.as_secs_f64()),
                })
                .collect(),
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
            windows,
        }
    }
}

impl WindowSummary {
    fn of(w: &engine::WindowSummary) -> Self {
        WindowSummary {
            index: w.index,
            start_unix_ns: w.start_ns,
            len_ns: w.len_ns,
            up_bytes: w.pairs.iter().map(|p| p.up_bytes).sum(),
            down_bytes: w.pairs.iter().map(|p| p.down_bytes).sum(),
            parents: w.parents.iter().map(|p| p.peer).collect(),
            children: w.children.iter().map(|p| p.peer).collect(),
        }
    }
}

/// Every host the monitored one exchanged packets with (the engine's flows) or
/// recorded TCP bytes with (the truth): measured TCP payload against the truth.
fn per_peer(figures: &engine::Report, windows: &[WindowSummary], truth: &Truth, me: Ipv4Addr) -> Vec<PeerRow> {
    let mut measured: BTreeMap<Ipv4Addr, (u64, u64)> = BTreeMap::new();
    for f in &figures.flows {
        let (IpAddr::V4(src), IpAddr::V4(dst)) = (f.src, f.dst) else { continue };
        let tcp = if f.proto == 6 { f.payload_bytes } else { 0 };
        if src == me && dst != me {
            measured.entry(dst).or_default().0 += tcp;
        } else if dst == me && src != me {
            measured.entry(src).or_default().1 += tcp;
        }
    }
    let pairs = truth.pair_totals();
    for (s, d) in pairs.keys() {
        if *s == me && *d != me {
            measured.entry(*d).or_default();
        } else if *d == me && *s != me {
            measured.entry(*s).or_default();
        }
    }
    let in_windows = |h: Ipv4Addr, parents: bool| {
        let h = IpAddr::V4(h);
        windows.iter().filter(|w| if parents { w.parents.contains(&h) } else { w.children.contains(&h) }).count()
    };
    measured
        .into_iter()
        .map(|(h, (up, down))| {
            let mut row = PeerRow {
                ip: Some(h),
                city: geo::city(h),
                region: Region::of(h),
                measured_up_payload: up,
                truth_up_payload: pairs.get(&(me, h)).copied().unwrap_or(0),
                retransmitted_up: truth.retransmitted.get(&(me, h)).copied().unwrap_or(0),
                measured_down_payload: down,
                truth_down_payload: pairs.get(&(h, me)).copied().unwrap_or(0),
                retransmitted_down: truth.retransmitted.get(&(h, me)).copied().unwrap_or(0),
                matches: false,
                windows_as_parent: in_windows(h, true),
                windows_as_child: in_windows(h, false),
            };
            row.matches = row.measured_up_payload == row.truth_up_payload + row.retransmitted_up
                && row.measured_down_payload == row.truth_down_payload + row.retransmitted_down;
            row
        })
        .collect()
}

fn kbps(bytes: u64, len_ns: u64) -> f64 {
    bytes as f64 * 8.0 / (len_ns as f64 / 1e9).max(1e-3) / 1000.0
}

/// One window of the live display: the monitored host's rates, its busiest flows
/// (`flows`: the window's deltas) and peers, as the engine saw them.
pub fn render_window(w: &engine::WindowSummary, flows: &[FlowDelta], top: usize) -> String {
    let mut t = String::new();
    let (up, down) = (w.pairs.iter().map(|p| p.up_bytes).sum(), w.pairs.iter().map(|p| p.down_bytes).sum());
    let _ = writeln!(
        t,
        "── window {} ({:.1} s): up {:.0} kbit/s, down {:.0} kbit/s, {} flows; {} parents, {} children (> 4 KB/s)",
        w.index,
        w.len_ns as f64 / 1e9,
        kbps(up, w.len_ns),
        kbps(down, w.len_ns),
        w.active_flows,
        w.parent_count,
        w.child_count
    );
    let _ = writeln!(t, "   top flows:");
    let mut flows: Vec<&FlowDelta> = flows.iter().collect();
    flows.sort_by(|a, b| b.delta.total_bytes().cmp(&a.delta.total_bytes()).then(a.key.cmp(&b.key)));
    for f in flows.into_iter().take(top) {
        let (k, bytes) = (&f.key, f.delta.total_bytes());
        let _ = writeln!(
            t,
            "     {} {:>21} → {:<21} {:>9} B {:>7.0} kbit/s",
            proto_name(k.proto),
            endpoint(k.src_ip(), k.src_port),
            endpoint(k.dst_ip(), k.dst_port),
            bytes,
            kbps(bytes, w.len_ns)
        );
    }
    let _ = writeln!(t, "   peers:        host  city         up kB  down kB  role");
    let mut rows: Vec<_> = w.pairs.iter().collect();
    rows.sort_by_key(|p| std::cmp::Reverse(p.up_bytes + p.down_bytes));
    for p in rows.into_iter().take(top) {
        let city = match p.peer {
            IpAddr::V4(v4) => geo::city(v4).unwrap_or("?"),
            IpAddr::V6(_) => "?",
        };
        let role = match (w.parents.iter().any(|r| r.peer == p.peer), w.children.iter().any(|r| r.peer == p.peer)) {
            (true, true) => "parent+child",
            (true, false) => "parent",
            (false, true) => "child",
            _ => "",
        };
        let _ = writeln!(
            t,
            "   {:>17}  {:<10} {:>7.1}  {:>7.1}  {role}",
            p.peer.to_string(),
            city,
            p.up_bytes as f64 / 1e3,
            p.down_bytes as f64 / 1e3
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

    use peerscope::engine::{Engine, EngineConfig, MonitoredHost, WindowFlows};
    use peerscope_abi::{FlowKey, FlowStats};

    use super::*;
    use crate::{plan::PeerPlan, truth::GroundTruth};

    #[test]
    fn test_measured_is_compared_with_truth_plus_retransmissions() {
        let me = Ipv4Addr::new(198, 51, 100, 10);
        let a = Ipv4Addr::new(203, 0, 113, 20);
        let b = Ipv4Addr::new(192, 0, 2, 20);
        let flow = |s: Ipv4Addr, d: Ipv4Addr, payload| {
            let stats = FlowStats {
                payload_bytes: payload,
                packets: [0, 0, 1],
                bytes: [0, 0, payload + 40],
                ..Default::default()
            };
            FlowDelta { key: FlowKey::new(6, s.into(), 8008, d.into(), 40000), delta: stats, total: stats }
        };
        // 0.1 s: 15.4 KB/s to a (a child), 9.4 KB/s from b (a parent), 1.4 KB/s from a.
        let deltas = [flow(me, a, 1500), flow(a, me, 100), flow(b, me, 900)];
        let w =
            WindowFlows { start_ns: 0, len_ns: 100_000_000, flows: deltas.iter().map(|d| (d.key, d.delta)).collect() };
        let mut engine =
            Engine::new(EngineConfig { window_ns: w.len_ns, ..Default::default() }, MonitoredHost::new([me.into()]));
        let text = render_window(&engine.observe_window(w), &deltas, 5);
        assert!(text.contains("1 parents, 1 children"), "{text}");
        assert!(text.contains("tcp"), "{text}");
        let truth = GroundTruth::default();
        truth.sent(me, a, 1000);
        truth.retransmitted(me, a, 500);
        truth.sent(a, me, 100);
        truth.sent(b, me, 1000);
        let peer =
            PeerPlan { index: 0, ip: me, profile: Profile::Nat, monitored: true, join: Duration::ZERO, leave: None };
        let cast = Cast { peers: vec![peer], crowd: vec![] };
        let r = Report::new(&engine.finish(), &truth.snapshot(), &cast, 400_000, 1.0);
        assert_eq!(r.profile, Profile::Nat);
        let row = |ip| r.per_peer.iter().find(|p| p.ip == Some(ip)).unwrap();
        assert!(row(a).matches, "1500 = 1000 + 500 up, 100 = 100 down");
        assert!(!row(b).matches, "900 measured, 1000 sent");
        assert_eq!((row(b).windows_as_parent, row(a).windows_as_child), (1, 1));
        assert_eq!(r.windows[0].parents, vec![IpAddr::V4(b)]);
        assert_eq!((r.windows[0].up_bytes, r.windows[0].down_bytes), (1540, 1080));
        assert!(!r.all_match);
        assert_eq!((r.measured_up_payload, r.truth_up_payload, r.retransmitted_up), (1500, 1000, 500));
    }
}
