//! What the demo shows: each window's view of the monitored host, and at the end
//! peerscope's per-peer TCP payload bytes against the swarm's ground truth
//! (measured = written + retransmitted, exactly), written as `report.json` (the
//! `demo_record` document of `peerscope::schema`).

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Write as _,
    net::{IpAddr, Ipv4Addr},
};

use super::{
    geo,
    plan::{PeerPlan, Profile},
    truth::Truth,
    window::{host_pairs, PairBytes},
};
use peerscope::{
    engine::{WindowFlows, WindowSummary},
    schema::{
        demo::{CastMember, DemoRecordTag, PayloadTruth, PeerTruth},
        DemoRecord, SchemaVersion,
    },
};

/// Collects the windows as they close.
pub struct Collector {
    pub me: Ipv4Addr,
    /// The engine's figures of each window.
    pub windows: Vec<WindowSummary>,
    totals: BTreeMap<IpAddr, (PairBytes, usize, usize)>,
}

impl Collector {
    pub fn new(me: Ipv4Addr) -> Self {
        Collector { me, windows: Vec::new(), totals: BTreeMap::new() }
    }

    /// Adds a window, with the engine's figures for it, and returns its text for the
    /// live display.
    pub fn add(&mut self, w: &WindowFlows, figures: &WindowSummary, top: usize) -> String {
        let pairs = host_pairs(w, IpAddr::V4(self.me));
        let is = |set: &[peerscope::engine::parents::PeerRate], h: &IpAddr| set.iter().any(|p| p.peer == *h);
        for (h, p) in &pairs {
            let t = self.totals.entry(*h).or_default();
            t.0.up += p.up;
            t.0.down += p.down;
            t.0.up_tcp_payload += p.up_tcp_payload;
            t.0.down_tcp_payload += p.down_tcp_payload;
            t.1 += is(&figures.parents, h) as usize;
            t.2 += is(&figures.children, h) as usize;
        }
        let text = render_window(figures, w, &pairs, top);
        self.windows.push(figures.clone());
        text
    }

    pub fn finish(self, truth: &Truth, cast: &[PeerPlan], bitrate_bps: u64, duration_secs: f64) -> DemoRecord {
        let me = self.me;
        let profile = cast.iter().find(|p| p.monitored).map_or(Profile::Campus, |p| p.profile);
        let cast: Vec<CastMember> = cast
            .iter()
            .map(|p| CastMember {
                ip: IpAddr::V4(p.ip),
                profile: p.profile.into(),
                city: geo::city(p.ip).map(String::from),
                join_s: p.join.as_secs_f64(),
                leave_s: p.leave.map(|l| l.as_secs_f64()),
            })
            .collect();
        let pairs = truth.pair_totals();
        let mut hosts: BTreeSet<Ipv4Addr> = BTreeSet::new();
        for (s, d) in pairs.keys() {
            for h in [s, d] {
                if *h != me && (*s == me || *d == me) {
                    hosts.insert(*h);
                }
            }
        }
        hosts.extend(self.totals.keys().filter_map(|h| match h {
            IpAddr::V4(v4) => Some(*v4),
            IpAddr::V6(_) => None,
        }));
        let per_peer: Vec<PeerTruth> = hosts
            .into_iter()
            .map(|h| {
                let (m, par, chi) = self.totals.get(&IpAddr::V4(h)).copied().unwrap_or_default();
                let payload = PayloadTruth {
                    measured_up_payload_bytes: m.up_tcp_payload,
                    truth_up_payload_bytes: pairs.get(&(me, h)).copied().unwrap_or(0),
                    retransmitted_up_bytes: truth.retransmitted.get(&(me, h)).copied().unwrap_or(0),
                    measured_down_payload_bytes: m.down_tcp_payload,
                    truth_down_payload_bytes: pairs.get(&(h, me)).copied().unwrap_or(0),
                    retransmitted_down_bytes: truth.retransmitted.get(&(h, me)).copied().unwrap_or(0),
                };
                PeerTruth {
                    ip: IpAddr::V4(h),
                    city: geo::city(h).map(String::from),
                    region: geo::Region::of(h).map(Into::into),
                    matches: payload.matches(),
                    payload,
                    windows_as_parent: par,
                    windows_as_child: chi,
                }
            })
            .collect();
        let mut totals = PayloadTruth::default();
        per_peer.iter().for_each(|r| totals.add(&r.payload));
        DemoRecord {
            schema_version: SchemaVersion,
            document: DemoRecordTag,
            monitored: IpAddr::V4(me),
            profile: profile.into(),
            peers: cast.len(),
            cast,
            bitrate_bits_per_s: bitrate_bps,
            duration_s: duration_secs,
            windows: self.windows,
            all_match: per_peer.iter().all(|r| r.matches),
            per_peer,
            totals,
        }
    }
}

fn kbps(bytes: u64, len_ns: u64) -> f64 {
    bytes as f64 * 8.0 / (len_ns as f64 / 1e9).max(1e-3) / 1000.0
}

fn render_window(s: &WindowSummary, w: &WindowFlows, pairs: &BTreeMap<IpAddr, PairBytes>, top: usize) -> String {
    let mut t = String::new();
    let (up, down) = pairs.values().fold((0, 0), |a, p| (a.0 + p.up, a.1 + p.down));
    let _ = writeln!(
        t,
        "── window {} ({:.1} s): up {:.0} kbit/s, down {:.0} kbit/s, {} flows; {} parents, {} children (> 4 KB/s)",
        s.index,
        s.len_ns as f64 / 1e9,
        kbps(up, s.len_ns),
        kbps(down, s.len_ns),
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
        let role = match (s.parents.iter().any(|p| p.peer == *h), s.children.iter().any(|p| p.peer == *h)) {
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
pub fn render_final(r: &DemoRecord) -> String {
    let mut t = String::new();
    let left = r.cast.iter().filter(|c| c.leave_s.is_some()).count();
    let late = r.cast.iter().filter(|c| c.join_s > 0.0).count();
    let _ = writeln!(
        t,
        "══ peerscope demo: {} ({:?}) over {:.0} s, {} peers ({late} joined during the run, {left} left early), {} kbit/s",
        r.monitored,
        r.profile,
        r.duration_s,
        r.peers,
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
        assert_eq!(r.profile, Profile::Nat.into());
        let row = |ip: Ipv4Addr| r.per_peer.iter().find(|p| p.ip == IpAddr::V4(ip)).unwrap();
        assert!(row(a).matches, "1500 = 1000 + 500 up, 100 = 100 down");
        assert!(!row(b).matches, "900 measured, 1000 sent");
        assert_eq!(r.windows[0].parents.iter().map(|p| p.peer).collect::<Vec<_>>(), vec![IpAddr::V4(b)]);
        assert!(!r.all_match);
        let t = &r.totals;
        assert_eq!(
            (t.measured_up_payload_bytes, t.truth_up_payload_bytes, t.retransmitted_up_bytes),
            (1500, 1000, 500)
        );
    }
}
