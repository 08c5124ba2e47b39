//! Video vs signaling sessions, video traffic, total/active IPs, top-peer share and
//! the session-duration CCDF ([H] §4.1) on a hand-built capture (times from T0):
//!
//! - P1 (TCP): X SYN at 0, SYN-ACK 0.01, ACK 0.02; P1 → X 11 × 1300 B at 1..11 s;
//!   X → P1 five 40-byte ACKs. 11 large packets > 10: a video session, 11 s long.
//! - P2 (TCP): X SYN at 2; P2 → X 10 × 1300 B at 3..12 s and one 1200-byte packet at
//!   13 s (not large): exactly 10 large packets, a signaling session, 11 s long.
//! - P3 (TCP port 80): X SYN at 4, 200 B up at 4.1, 300 B down at 4.2: signaling, 0.2 s.
//! - P4 (TCP): X SYN at 5, never answered: signaling, 0 s, a total IP but not active.
//! - P5 (UDP): P5 → X 20 × 1300 B at 0.5..10 s: not a TCP session.

mod common;
use common::*;

use peerscope::engine::sessions::CcdfPoint;
use peerscope::offline::synth::{tcp, Link, SynthPcap};

const P1: &str = "198.51.100.11";
const P2: &str = "198.51.100.12";
const P3: &str = "203.0.113.13";
const P4: &str = "203.0.113.14";
const P5: &str = "203.0.113.15";

fn capture() -> SynthPcap {
    let ms = S / 1000;
    let mut p = SynthPcap::new(Link::Ethernet);
    let (x0, p1) = (sa(X, 5000), sa(P1, 8008));
    p.tcp(T0, x0, p1, tcp::SYN, 40).tcp(T0 + 10 * ms, p1, x0, tcp::SYN | tcp::ACK, 40).tcp(
        T0 + 20 * ms,
        x0,
        p1,
        tcp::ACK,
        40,
    );
    p.tcp_train(T0 + S, S, 11, p1, x0, 1300);
    p.tcp_train(T0 + 1500 * ms, S, 5, x0, p1, 40);
    let (x1, p2) = (sa(X, 5001), sa(P2, 8008));
    p.tcp(T0 + 2 * S, x1, p2, tcp::SYN, 40).tcp_train(T0 + 3 * S, S, 10, p2, x1, 1300).tcp(
        T0 + 13 * S,
        p2,
        x1,
        tcp::ACK,
        1200,
    );
    let (x2, p3) = (sa(X, 5002), sa(P3, 80));
    p.tcp(T0 + 4 * S, x2, p3, tcp::SYN, 40).tcp(T0 + 4100 * ms, x2, p3, tcp::ACK | tcp::PSH, 200).tcp(
        T0 + 4200 * ms,
        p3,
        x2,
        tcp::ACK | tcp::PSH,
        300,
    );
    p.tcp(T0 + 5 * S, sa(X, 5003), sa(P4, 8008), tcp::SYN, 40);
    p.udp_train(T0 + 500 * ms, 500 * ms, 20, sa(P5, 9000), sa(X, 4004), 1300);
    p
}

#[test]
fn test_video_and_signaling_sessions_by_hand() {
    let r = analyze(&capture(), window_config(20)).report;
    let s = &r.sessions;
    assert_eq!((s.sessions, s.video_sessions, s.signaling_sessions), (4, 1, 3));
    assert_eq!((s.video_down_packets, s.video_down_bytes), (11, 14_300));
    assert_eq!((s.video_up_packets, s.video_up_bytes), (0, 0));
    assert_eq!(s.median_video_session_s, Some(11.0));
    assert_eq!(s.video_sessions_at_least_15_min_fraction, Some(0.0));
    assert_eq!(s.video_duration_ccdf, vec![CcdfPoint { duration_s: 11.0, fraction_at_least: 1.0 }]);
    let sig: Vec<(f64, f64)> = s.signaling_duration_ccdf.iter().map(|p| (p.duration_s, p.fraction_at_least)).collect();
    assert_eq!(sig.len(), 3);
    assert_eq!(sig[0], (0.0, 1.0));
    assert_close(sig[1].0, 0.2);
    assert_close(sig[1].1, 2.0 / 3.0);
    assert_eq!(sig[2].0, 11.0);
    assert_close(sig[2].1, 1.0 / 3.0);
}

#[test]
fn test_udp_sessions_are_an_option() {
    let mut cfg = window_config(20);
    cfg.udp_sessions = true;
    let s = analyze(&capture(), cfg).report.sessions;
    assert_eq!((s.sessions, s.video_sessions), (5, 2));
    assert_eq!(s.video_down_bytes, 14_300 + 26_000);
}

#[test]
fn test_total_and_active_ips_and_top_peer_share() {
    let r = analyze(&capture(), window_config(20)).report;
    let p = &r.peers;
    assert_eq!(p.peers, 5);
    assert_eq!(p.total_ips, 4, "SYN sent to P1..P4");
    assert_eq!(p.active_ips, 4, "P1, P2, P3 and P5 carried payload; P4 did not");
    // Download bytes: P1 40 + 14300, P2 13000 + 1200, P3 300, P5 26000.
    let top = p.top_download.as_ref().unwrap();
    assert_eq!((top.peer, top.bytes, top.total_bytes), (ip(P5), 26_000, 54_840));
    assert_close(top.share, 26_000.0 / 54_840.0);
    // Upload: P1 2 × 40 (SYN, ACK) + 5 × 40, P2 40, P3 40 + 200, P4 40.
    let up = p.top_upload.as_ref().unwrap();
    assert_eq!((up.peer, up.bytes, up.total_bytes), (ip(P1), 280, 600));
    let v = p.top_video_download.as_ref().unwrap();
    assert_eq!((v.peer, v.bytes, v.share), (ip(P1), 14_300, 1.0));
    // Video peers exchanged > 10 large packets: P1 (11) and P5 (20), not P2 (10).
    assert_eq!(r.video_peers_ever, 2);
}

/// The same 5-tuple used twice: X:6000 ↔ P1:8008 carries 11 × 1300 B and a FIN in
/// window 0, then a new SYN and three 200-byte segments in window 2: two sessions,
/// one video (12 s: SYN at 0, last data at 11 s, FIN at 12 s), one signaling.
#[test]
fn test_reused_five_tuple_after_fin_is_a_new_session() {
    let (x, p1) = (sa(X, 6000), sa(P1, 8008));
    let mut p = SynthPcap::new(Link::Ethernet);
    p.tcp(T0, x, p1, tcp::SYN, 40)
        .tcp_train(T0 + S, S, 11, p1, x, 1300)
        .tcp(T0 + 12 * S, p1, x, tcp::FIN | tcp::ACK, 40)
        .tcp(T0 + 45 * S, x, p1, tcp::SYN, 40)
        .tcp_train(T0 + 46 * S, S, 3, p1, x, 200);
    let s = analyze(&p, window_config(20)).report.sessions;
    assert_eq!((s.sessions, s.video_sessions, s.signaling_sessions), (2, 1, 1));
    assert_eq!(s.median_video_session_s, Some(12.0));
    assert_eq!(s.signaling_duration_ccdf, vec![CcdfPoint { duration_s: 3.0, fraction_at_least: 1.0 }]);
}
