//! The engine fed directly with `WindowFlows`, as the live path feeds it from
//! polled kernel maps (deltas of cumulative counters via `FlowStats::since`).

use peerscope::engine::{Engine, EngineConfig, MonitoredHost, WindowFlows, NS_PER_S};
use peerscope_abi::classify::IPPROTO_UDP;
use peerscope_abi::{FlowKey, FlowStats, PacketObservation, Thresholds};

const T0: u64 = 1_700_000_000 * NS_PER_S;

fn x() -> std::net::IpAddr {
    "192.0.2.10".parse().unwrap()
}

fn key(peer: [u8; 4]) -> FlowKey {
    FlowKey::v4(IPPROTO_UDP, peer, [192, 0, 2, 10], 4004, 8008)
}

/// Cumulative counters after `n` 1000-byte packets, the last at `ts`.
fn cumulative(n: u32, first: u64, ts: u64) -> FlowStats {
    let mut s = FlowStats::default();
    let t = Thresholds::STUDIES;
    s.record(&PacketObservation::new(&t, IPPROTO_UDP, 1000, 972, 0, first));
    s.record_n(&PacketObservation::new(&t, IPPROTO_UDP, 1000, 972, 0, ts), n - 1);
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

#[test]
fn test_empty_run_and_empty_windows_serialise_without_nan() {
    let e = Engine::new(EngineConfig::default(), MonitoredHost::new([x()]));
    let r = e.finish();
    assert_eq!(r.capture.windows, 0);
    assert_eq!(r.family.upload_download_ratio, None);

    let mut e =
        Engine::new(EngineConfig { playback_rate_kbps: Some(400.0), ..Default::default() }, MonitoredHost::new([x()]));
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

#[test]
fn test_zero_deltas_of_idle_flows_are_ignored() {
    let mut e = Engine::new(EngineConfig::default(), MonitoredHost::new([x()]));
    let k = key([198, 51, 100, 3]);
    let s =
        e.observe_window(WindowFlows { start_ns: T0, len_ns: 20 * NS_PER_S, flows: vec![(k, FlowStats::default())] });
    assert_eq!((s.active_flows, s.pairs.len()), (0, 0));
    let r = e.finish();
    assert!(r.flows.is_empty());
    assert_eq!(r.family.contacted_hosts, 0);
}
