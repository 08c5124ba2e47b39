//! Window rates, host-pair rates, parents/children, flow duration and stability on
//! a hand-computed synthetic capture (Δ = 20 s, Rp = Rc = 4000 B/s).
//!
//! Window 0 [0,20): A:1 → X 60 × 1000 B, A:2 → X 40 × 1000 B (flow rates 3000 and
//!   2000 B/s, host pair 5000 B/s > Rp: A is a parent though neither flow is);
//!   B → X 50 × 1000 B (2500 B/s: control only); X → C 90 × 1000 B (4500 B/s: child).
//! Window 1 [20,40): nothing at all (an empty window).
//! Window 2 [40,60): A:1 → X 100 × 1000 (5000 B/s), B → X 120 × 1000 (6000 B/s).
//! Window 3 [60,80): A:1 → X 100 × 1000.

mod common;
use common::*;

use peerscope::engine::stability::StabilityNote;
use peerscope::offline::synth::{Link, SynthPcap};

fn capture() -> SynthPcap {
    let (a1, a2, b, c, x) =
        (sa("198.51.100.1", 1), sa("198.51.100.1", 2), sa("198.51.100.2", 7), sa("203.0.113.3", 9), sa(X, 4004));
    let ms = S / 1000;
    let mut p = SynthPcap::new(Link::Ethernet);
    p.udp_train(T0, 100 * ms, 60, a1, x, 1000)
        .udp_train(T0 + 50 * ms, 100 * ms, 40, a2, x, 1000)
        .udp_train(T0 + 30 * ms, 100 * ms, 50, b, x, 1000)
        .udp_train(T0 + 20 * ms, 100 * ms, 90, x, c, 1000)
        .udp_train(T0 + 40 * S, 100 * ms, 100, a1, x, 1000)
        .udp_train(T0 + 40 * S + 10 * ms, 100 * ms, 120, b, x, 1000)
        .udp_train(T0 + 60 * S, 100 * ms, 100, a1, x, 1000);
    p
}

#[test]
fn test_window_rates_and_parents_by_hand() {
    let out = analyze(&capture(), window_config(20));
    let r = &out.report;
    assert_eq!(r.windows.len(), 4);
    let w0 = &r.windows[0];
    assert_eq!(w0.start_unix_ns, T0);
    assert_close(w0.down_bytes_per_s, (100_000.0 + 50_000.0) / 20.0);
    assert_close(w0.up_bytes_per_s, 90_000.0 / 20.0);
    let a = w0.pairs.iter().find(|p| p.peer == ip("198.51.100.1")).unwrap();
    assert_close(a.down_bytes_per_s, 5000.0);
    assert_eq!(w0.parents.len(), 1);
    assert_eq!(w0.parents[0].peer, ip("198.51.100.1"));
    assert_close(w0.parents[0].bytes_per_s, 5000.0);
    assert_eq!(w0.children.len(), 1);
    assert_eq!(w0.children[0].peer, ip("203.0.113.3"));
    assert_close(w0.children[0].bytes_per_s, 4500.0);

    let w1 = &r.windows[1];
    assert_eq!((w1.packets, w1.parent_count, w1.child_count, w1.active_flows), (0, 0, 0, 0));

    let w2 = &r.windows[2];
    let parents: Vec<_> = w2.parents.iter().map(|p| (p.peer, p.bytes_per_s)).collect();
    assert_eq!(parents, vec![(ip("198.51.100.2"), 6000.0), (ip("198.51.100.1"), 5000.0)]);
    assert_eq!(r.windows[3].parent_count, 1);
}

#[test]
fn test_stability_with_empty_window_and_returning_parent() {
    let r = analyze(&capture(), window_config(20)).report;
    let st: Vec<_> = r.windows.iter().map(|w| w.stability.clone()).collect();
    // P0 = {A}: no predecessor.
    assert_eq!((st[0].s_n, st[0].x_n, st[0].note), (None, None, Some(StabilityNote::FirstWindow)));
    // P1 = ∅ after {A}: stated S = X = 1 (every parent left).
    assert_eq!((st[1].s_n, st[1].x_n, st[1].note), (Some(1.0), Some(1.0), Some(StabilityNote::EmptyParentSet)));
    assert_eq!(st[1].left_parents, 1);
    // P2 = {A, B} after ∅ (A returns): S = 1 − 0/2 = 1, X = 1 − 2/(2+2+0) = 0.5.
    assert_eq!(
        (st[2].s_n, st[2].x_n, st[2].new_parents, st[2].left_parents, st[2].note),
        (Some(1.0), Some(0.5), 2, 0, None)
    );
    // P3 = {A} after {A, B}: S = 1 − 1/1 = 0, X = 1 − 1/(1+0+1) = 0.5.
    assert_eq!((st[3].s_n, st[3].x_n, st[3].kept_parents, st[3].left_parents), (Some(0.0), Some(0.5), 1, 1));
    assert_eq!(r.stability.mean_s_n, Some(0.5));
    assert_eq!(r.stability.mean_x_n, Some(0.5));
    assert_eq!(r.stability.windows_with_empty_parent_set, 1);
}

#[test]
fn test_family_summary_fractions_and_ratio() {
    let r = analyze(&capture(), window_config(20)).report;
    let f = &r.family;
    assert_eq!((f.contacted_hosts, f.hosts_ever_parent, f.hosts_ever_child), (3, 2, 1));
    assert_close(f.parent_fraction_of_contacted.unwrap(), 2.0 / 3.0);
    assert_close(f.child_fraction_of_contacted.unwrap(), 1.0 / 3.0);
    assert_eq!(f.download_bytes, 100_000 + 50_000 + 100_000 + 120_000 + 100_000);
    assert_eq!(f.upload_bytes, 90_000);
    assert_close(f.upload_download_ratio.unwrap(), 90_000.0 / 470_000.0);
    assert_eq!(f.max_parents_per_window, 2);
    assert_close(f.mean_parents_per_window.unwrap(), 1.0); // (1 + 0 + 2 + 1) / 4
}

#[test]
fn test_flow_spanning_windows_keeps_one_record_and_its_duration() {
    let r = analyze(&capture(), window_config(20)).report;
    let f = r.flows.iter().find(|f| f.src_ip == ip("198.51.100.1") && f.src_port == 1).unwrap();
    assert_eq!(f.total.classes.packets, 60 + 100 + 100);
    assert_eq!(f.total.classes.bytes, 260_000);
    assert_eq!(f.direction, Some(peerscope::schema::FlowDirection::Download));
    // First packet at T0, last at T0 + 60 s + 99 × 0.1 s.
    assert_eq!(f.total.first_seen_unix_ns, Some(T0));
    assert_eq!(f.total.last_seen_unix_ns, Some(T0 + 60 * S + 99 * (S / 10)));
    assert_close(f.total.duration_s, 69.9);
    // Every packet is in exactly one flow.
    assert_eq!(r.flows.iter().map(|f| f.total.classes.packets).sum::<u64>(), 560);
}

#[test]
fn test_thresholds_are_parameters() {
    let mut cfg = window_config(20);
    cfg.parent_rate_bps = 5000.0; // strictly above: A's 5000 B/s no longer counts
    let r = analyze(&capture(), cfg).report;
    assert_eq!(r.windows[0].parent_count, 0);
    assert_eq!(r.windows[2].parents.iter().map(|p| p.peer).collect::<Vec<_>>(), vec![ip("198.51.100.2")]);
}
