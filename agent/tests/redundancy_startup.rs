//! Redundancy ratio and start-up delay ([H] §5), by hand, with Δ = 10 s, a 20 s
//! skip and a playback rate of 8 kbit/s = 1000 B/s.
//!
//! t = 0: X → Q one UDP packet (first packet of the capture).
//! t = 2 s: X → S TCP SYN to port 80: channel selection.
//! P → X TCP 1300-byte segments (1260 B payload): 5 in [0,10) (650 B/s), 10 in
//! [10,20) (1300 B/s ≥ 1000: reached at 20 s), 8 in [20,30), 8 in [30,40).
//! Start-up delay = 20 − 2 = 18 s.
//! Redundancy: T = 40 − 20 = 20 s, expected = 1000 · 20 = 20 000 B,
//! video download = 16 · 1260 = 20 160 B: (20 160 − 20 000) / 20 000 = 0.008.

mod common;
use common::*;

use peerscope::engine::startup::SelectionRule;
use peerscope::engine::NS_PER_S;
use peerscope::offline::synth::{tcp, Link, SynthPcap};

fn capture() -> SynthPcap {
    let (x, peer) = (sa(X, 7000), sa("198.51.100.9", 8008));
    let mut p = SynthPcap::new(Link::Ethernet);
    p.udp(T0, sa(X, 53000), sa("203.0.113.1", 53), 60)
        .tcp(T0 + 2 * S, sa(X, 6000), sa("203.0.113.80", 80), tcp::SYN, 40)
        .tcp_train(T0 + S / 2, S, 5, peer, x, 1300)
        .tcp_train(T0 + 10 * S, S, 10, peer, x, 1300)
        .tcp_train(T0 + 21 * S, S, 8, peer, x, 1300)
        .tcp_train(T0 + 31 * S, S, 8, peer, x, 1300);
    p
}

fn config() -> peerscope::engine::EngineConfig {
    let mut cfg = window_config(10);
    cfg.playback_rate_kbps = Some(8.0);
    cfg.redundancy_skip_ns = 20 * NS_PER_S;
    cfg
}

#[test]
fn test_startup_delay_by_hand() {
    let r = analyze(&capture(), config()).report;
    let s = r.startup.unwrap();
    assert_eq!(s.selection_rule, SelectionRule::TcpPort80);
    assert_eq!(s.selection_unix_ns, T0 + 2 * S);
    assert_eq!(s.reached_unix_ns, Some(T0 + 20 * S));
    assert_eq!(s.delay_s, Some(18.0));
}

#[test]
fn test_redundancy_by_hand() {
    let r = analyze(&capture(), config()).report;
    let red = r.redundancy.unwrap();
    assert_eq!(red.interval_s, 20.0);
    assert_eq!(red.expected_bytes, 20_000.0);
    assert_eq!(red.video_download_bytes, 16 * 1260);
    assert_close(red.ratio.unwrap(), 0.008);
}

#[test]
fn test_short_capture_and_no_playback_rate() {
    let mut cfg = config();
    cfg.redundancy_skip_ns = 600 * NS_PER_S; // the studies' 10 minutes: nothing left
    let r = analyze(&capture(), cfg).report;
    assert_eq!(r.redundancy.as_ref().unwrap().ratio, None);
    let r = analyze(&capture(), window_config(10)).report;
    assert!(r.redundancy.is_none() && r.startup.is_none());
}

#[test]
fn test_startup_falls_back_to_first_packet_and_may_never_be_reached() {
    let (x, peer) = (sa(X, 7000), sa("198.51.100.9", 8008));
    let mut p = SynthPcap::new(Link::Ethernet);
    p.udp(T0 + S, x, peer, 60).tcp_train(T0 + S, S, 5, peer, x, 1300);
    let r = analyze(&p, config()).report;
    let s = r.startup.unwrap();
    assert_eq!((s.selection_rule, s.selection_unix_ns), (SelectionRule::FirstPacket, T0 + S));
    assert_eq!((s.reached_unix_ns, s.delay_s), (None, None));
}
