//! [H] samples (video peers, changed video peers, video rates) and the packet-size
//! distribution, by hand.

mod common;
use common::*;

use peerscope::engine::NS_PER_S;
use peerscope::offline::synth::{tcp, Link, SynthPcap};

const A: &str = "198.51.100.21";
const B: &str = "198.51.100.22";
const C: &str = "198.51.100.23";

/// Δ = 10 s, samples of 30 s = 3 windows.
/// Sample 0 [0,30): A → X 11 × 1300 B, B → X 6 × 1300 B. Video peers {A} (B has 6).
/// Sample 1 [30,60): A 5 more (16 in its lifetime), B 6 more (12): {A, B}, B started.
/// Sample 2 [60,90): only C → X one 100-byte packet at 85 s: {}, A and B stopped.
fn capture() -> SynthPcap {
    let x = sa(X, 4004);
    let mut p = SynthPcap::new(Link::Ethernet);
    p.udp_train(T0 + S, S, 11, sa(A, 1), x, 1300)
        .udp_train(T0 + 2 * S, S, 6, sa(B, 1), x, 1300)
        .udp_train(T0 + 31 * S, S, 5, sa(A, 1), x, 1300)
        .udp_train(T0 + 32 * S, S, 6, sa(B, 1), x, 1300)
        .udp(T0 + 85 * S, sa(C, 1), x, 100);
    p
}

#[test]
fn test_video_peers_and_changed_video_peers_per_sample() {
    let mut cfg = window_config(10);
    cfg.sample_ns = 30 * NS_PER_S;
    // The grid starts at the first packet (T0 + 1 s); the samples are still 3 windows.
    let r = analyze(&capture(), cfg).report;
    assert_eq!(r.config.effective_sample_period_s, 30.0);
    let got: Vec<_> = r
        .samples
        .iter()
        .map(|s| (s.video_peers.video_peers, s.video_peers.started, s.video_peers.stopped, s.video_peers.changed))
        .collect();
    assert_eq!(got, vec![(1, 1, 0, 1), (2, 1, 0, 1), (0, 0, 2, 2)]);
    assert_eq!(r.video_peers_ever, 2);
    // Each completed sample is also attached to the window that closed it.
    assert_eq!(r.windows.iter().filter(|w| w.sample.is_some()).count(), 3);
}

#[test]
fn test_video_rates_per_sample() {
    let mut cfg = window_config(10);
    cfg.sample_ns = 30 * NS_PER_S;
    let r = analyze(&capture(), cfg).report;
    let s = &r.samples;
    assert_close(s[0].rates.video_down_bytes_per_s, 17.0 * 1300.0 / 30.0);
    assert_close(s[1].rates.video_down_bytes_per_s, 11.0 * 1300.0 / 30.0);
    assert_eq!(s[2].rates.video_down_bytes_per_s, 0.0);
    assert_close(s[2].rates.down_bytes_per_s, 100.0 / 30.0);
    assert_eq!(s[0].rates.video_up_bytes_per_s, 0.0);
    // Per peer: A 11 and B 6 large packets in sample 0; none in sample 2.
    let peers: Vec<_> = s[0].rates.peer_video_rates.iter().map(|p| (p.peer, p.video_down_bytes_per_s)).collect();
    assert_eq!(peers.len(), 2);
    assert_eq!(peers[0].0, ip(A));
    assert_close(peers[0].1, 11.0 * 1300.0 / 30.0);
    assert_close(peers[1].1, 6.0 * 1300.0 / 30.0);
    assert!(s[2].rates.peer_video_rates.is_empty());
}

#[test]
fn test_sample_period_rounds_up_to_whole_windows() {
    // Δ = 20 s and 30 s samples: 2 windows, 40 s, stated in the report.
    let r = analyze(&capture(), window_config(20)).report;
    assert_eq!(r.config.sample_period_s, 30.0);
    assert_eq!(r.config.effective_sample_period_s, 40.0);
    assert!(r.samples.iter().all(|s| s.len_ns == 40 * NS_PER_S || s.index == r.samples.len() - 1));
}

/// 4 TCP ACKs of 40 B (ack class), 3 UDP × 100 B (control), 2 UDP × 1100 B (data,
/// not large), 1 UDP × 1300 B (large): 10 packets, 3960 bytes.
#[test]
fn test_packet_size_cdf_and_control_share() {
    let (x, p) = (sa(X, 5000), sa(A, 80));
    let mut c = SynthPcap::new(Link::Ethernet);
    for i in 0..4 {
        c.tcp(T0 + i * S, p, x, tcp::ACK, 40);
    }
    c.udp_train(T0, S, 3, sa(A, 1), sa(X, 2), 100).udp_train(T0, S, 2, sa(A, 1), sa(X, 2), 1100).udp(
        T0,
        sa(A, 1),
        sa(X, 2),
        1300,
    );
    let s = analyze(&c, window_config(20)).report.sizes;
    assert_eq!((s.classes.packets, s.classes.bytes), (10, 3960));
    assert_eq!((s.classes.ack_packets, s.classes.control_packets, s.classes.data_packets), (4, 3, 3));
    assert_eq!((s.classes.ack_bytes, s.classes.control_bytes, s.classes.data_bytes), (160, 300, 2200 + 1300));
    assert_eq!(s.ack_packet_fraction, Some(0.4));
    assert_close(s.control_byte_fraction.unwrap(), 300.0 / 3960.0);
    let cdf: Vec<_> =
        s.cdf.iter().map(|b| (b.bucket.name(), b.packets, b.bytes, b.cumulative_packet_fraction.unwrap())).collect();
    assert_eq!(
        cdf,
        vec![("ack", 4, 160, 0.4), ("control", 3, 300, 0.7), ("data", 2, 2200, 0.9), ("large", 1, 1300, 1.0)]
    );
    assert_eq!(s.cdf[2].mean_ip_len_bytes, Some(1100.0));
    assert_eq!((s.cdf[3].min_ip_len_bytes, s.cdf[1].max_ip_len_bytes), (Some(1201), Some(1023)));
}
