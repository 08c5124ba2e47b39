//! What the demo shows: each window's view of the monitored host, and at the end
//! peerscope's per-peer TCP payload bytes against the swarm's ground truth
//! (measured = written + retransmitted, exactly), written as `report.json` (the
//! `demo_record` document of `peerscope::schema`).

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    net::{IpAddr, Ipv4Addr},
};

use super::{geo, plan::Cast, studies, truth::Truth};
use peerscope::{
    engine,
    live::FlowDelta,
    schema::{
        common::protocol_name,
        demo::{CastMember, DemoRecordTag, PayloadTruth, PeerTruth},
        DemoRecord, SchemaVersion,
    },
    view::endpoint,
};

/// The run as the engine measured it (`figures`, the monitored host being the
/// cast's first peer) beside what the swarm recorded sending (`truth`).
pub fn truth_report(
    figures: &engine::Report,
    truth: &Truth,
    cast: &Cast,
    bitrate_bps: u64,
    duration_secs: f64,
) -> DemoRecord {
    let (me, peers) = (cast.peers[0].ip, &cast.peers);
    let per_peer = per_peer(figures, truth, me);
    let mut totals = PayloadTruth::default();
    per_peer.iter().for_each(|r| totals.add(&r.payload));
    DemoRecord {
        schema_version: SchemaVersion,
        document: DemoRecordTag,
        monitored: IpAddr::V4(me),
        profile: peers[0].profile.into(),
        peers: peers.len(),
        gossip_only_hosts: cast.crowd.len(),
        cast: peers
            .iter()
            .map(|p| CastMember {
                ip: IpAddr::V4(p.ip),
                profile: p.profile.into(),
                city: geo::city(p.ip).map(String::from),
                join_s: p.join.as_secs_f64(),
                leave_s: p.leave.map(|l| l.as_secs_f64()),
            })
            .collect(),
        bitrate_bits_per_s: bitrate_bps,
        duration_s: duration_secs,
        windows: figures.windows.clone(),
        all_match: per_peer.iter().all(|r| r.matches),
        per_peer,
        totals,
        studies: studies::compare(figures, peers[0].profile, duration_secs),
    }
}

/// Every host the monitored one exchanged packets with (the engine's flows) or
/// recorded TCP bytes with (the truth): measured TCP payload against the truth.
fn per_peer(figures: &engine::Report, truth: &Truth, me: Ipv4Addr) -> Vec<PeerTruth> {
    let mut measured: BTreeMap<Ipv4Addr, (u64, u64)> = BTreeMap::new();
    for f in &figures.flows {
        let (IpAddr::V4(src), IpAddr::V4(dst)) = (f.key.src_ip, f.key.dst_ip) else { continue };
        let tcp = if f.key.ip_protocol == 6 { f.total.payload_bytes } else { 0 };
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
        let has = |set: &[engine::parents::PeerRate]| set.iter().any(|p| p.peer == h);
        figures.windows.iter().filter(|w| if parents { has(&w.parents) } else { has(&w.children) }).count()
    };
    measured
        .into_iter()
        .map(|(h, (up, down))| {
            let payload = PayloadTruth {
                measured_up_payload_bytes: up,
                truth_up_payload_bytes: pairs.get(&(me, h)).copied().unwrap_or(0),
                retransmitted_up_bytes: truth.retransmitted.get(&(me, h)).copied().unwrap_or(0),
                measured_down_payload_bytes: down,
                truth_down_payload_bytes: pairs.get(&(h, me)).copied().unwrap_or(0),
                retransmitted_down_bytes: truth.retransmitted.get(&(h, me)).copied().unwrap_or(0),
            };
            PeerTruth {
                ip: IpAddr::V4(h),
                city: geo::city(h).map(String::from),
                region: geo::Region::of(h).map(Into::into),
                matches: payload.matches(),
                payload,
                windows_as_parent: in_windows(h, true),
                windows_as_child: in_windows(h, false),
            }
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
            protocol_name(k.proto),
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
pub fn render_final(r: &DemoRecord) -> String {
    let mut t = String::new();
    let left = r.cast.iter().filter(|c| c.leave_s.is_some()).count();
    // Join times count from the swarm's start; the run from the monitored peer's join.
    let measured_from = r.cast.first().map_or(0.0, |c| c.join_s);
    let late = r.cast.iter().skip(1).filter(|c| c.join_s > measured_from).count();
    let _ = writeln!(
        t,
        "══ peerscope demo: {} ({:?}) over {:.0} s, {} peers ({late} joined during the run, {left} left early), {} gossip-only hosts, {} kbit/s",
        r.monitored,
        r.profile,
        r.duration_s,
        r.peers,
        r.gossip_only_hosts,
        r.bitrate_bits_per_s / 1000
    );
    let _ = writeln!(
        t,
        "   host                city        measured up / truth (+retx)     measured down / truth (+retx)  ok"
    );
    for p in &r.per_peer {
        let _ = writeln!(
            t,
            "   {:<19} {:<10} {:>10} / {:>10} (+{:<5}) {:>10} / {:>10} (+{:<5}) {}",
            p.ip.to_string(),
            p.city.as_deref().unwrap_or("?"),
            p.payload.measured_up_payload_bytes,
            p.payload.truth_up_payload_bytes,
            p.payload.retransmitted_up_bytes,
            p.payload.measured_down_payload_bytes,
            p.payload.truth_down_payload_bytes,
            p.payload.retransmitted_down_bytes,
            if p.matches { "=" } else { "MISMATCH" }
        );
    }
    let m = &r.totals;
    let ratio = m.measured_up_payload_bytes as f64 / (m.measured_down_payload_bytes.max(1)) as f64;
    let _ = writeln!(
        t,
        "   total TCP payload: up {} B, down {} B (upload:download {:.1}:1); retransmitted {} B up, {} B down",
        m.measured_up_payload_bytes,
        m.measured_down_payload_bytes,
        ratio,
        m.retransmitted_up_bytes,
        m.retransmitted_down_bytes
    );
    let _ =
        writeln!(t, "   measured {} ground truth for every peer", if r.all_match { "equals" } else { "DIFFERS FROM" });
    t.push_str(&studies::render(&r.studies));
    t
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use peerscope::engine::{Engine, EngineConfig, MonitoredHost, WindowFlows};
    use peerscope_abi::{FlowKey, FlowStats};

    use super::*;
    use crate::{
        plan::{PeerPlan, Profile},
        truth::GroundTruth,
    };

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
        let cast = Cast { peers: vec![peer], crowd: vec![], relays: vec![] };
        let r = truth_report(&engine.finish(), &truth.snapshot(), &cast, 400_000, 1.0);
        assert_eq!(r.profile, Profile::Nat.into());
        let row = |ip: Ipv4Addr| r.per_peer.iter().find(|p| p.ip == IpAddr::V4(ip)).unwrap();
        assert!(row(a).matches, "1500 = 1000 + 500 up, 100 = 100 down");
        assert!(!row(b).matches, "900 measured, 1000 sent");
        assert_eq!((row(b).windows_as_parent, row(a).windows_as_child), (1, 1));
        assert_eq!(r.windows[0].parents.iter().map(|p| p.peer).collect::<Vec<_>>(), vec![IpAddr::V4(b)]);
        let (up, down) = (r.windows[0].up_bytes_per_s * 0.1, r.windows[0].down_bytes_per_s * 0.1);
        assert_eq!((up.round(), down.round()), (1540.0, 1080.0));
        assert!(!r.all_match);
        let t = &r.totals;
        assert_eq!(
            (t.measured_up_payload_bytes, t.truth_up_payload_bytes, t.retransmitted_up_bytes),
            (1500, 1000, 500)
        );
        // The demo's figures, drawn like every other one: one window, a step each.
        let dir = std::env::temp_dir().join(format!("peerscope-demo-plots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        crate::plot::write_plots(&dir, &r, &truth.snapshot()).unwrap();
        for f in ["truth_rates.svg", "truth_peers.svg"] {
            let svg = std::fs::read_to_string(dir.join(f)).unwrap();
            assert!(
                svg.starts_with("<svg") && svg.contains("<polyline") && svg.contains("held over its window"),
                "{f}"
            );
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
