//! Helpers for the metric tests at the bottom of each engine module and for the
//! integration tests (behind `test-support`): captures written by the test
//! (`offline::synth`) into a private temporary directory and analysed through the
//! offline path, with the values worked out by hand in each test's comment.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::engine::geo::Geolocator;
use crate::engine::{EngineConfig, MonitoredHost, NS_PER_S};
use crate::offline::synth::SynthPcap;
use crate::offline::{analyze_file, OfflineAnalysis, OfflineOptions};

/// Start of every synthetic capture: 1000 s after the epoch.
pub const T0: u64 = 1_000 * NS_PER_S;
pub const S: u64 = NS_PER_S;
pub const MS: u64 = NS_PER_S / 1000;

/// The monitored host in the synthetic captures.
pub const X: &str = "192.0.2.10";

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn sa(ip: &str, port: u16) -> SocketAddr {
    SocketAddr::new(self::ip(ip), port)
}

/// The per-process temporary directory of [`temp_path`].
fn temp_dir() -> PathBuf {
    std::env::temp_dir().join(format!("peerscope-unit-{}", std::process::id()))
}

/// Removes [`temp_dir`] when the test process exits (passed or failed: the test
/// harness ends with `exit`, which runs this).
extern "C" fn remove_temp_dir() {
    let _ = std::fs::remove_dir_all(temp_dir());
}

/// A fresh path in a per-process temporary directory, removed at exit.
pub fn temp_path(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    static CLEANUP: std::sync::Once = std::sync::Once::new();
    // SAFETY: registers a plain function with no arguments, run once at exit.
    CLEANUP.call_once(|| unsafe {
        libc::atexit(remove_temp_dir);
    });
    let dir = temp_dir();
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{}-{}", N.fetch_add(1, Ordering::Relaxed), name))
}

/// Writes the capture and analyses it with X as the monitored host.
pub fn analyze(p: &SynthPcap, config: EngineConfig) -> OfflineAnalysis {
    let path = temp_path("capture.pcap");
    p.write_file(&path).unwrap();
    let out =
        analyze_file(&path, OfflineOptions { config, host: Some(MonitoredHost::new([ip(X)])), ..Default::default() })
            .unwrap();
    std::fs::remove_file(&path).ok();
    out
}

pub fn window_config(window_s: u64) -> EngineConfig {
    EngineConfig { window_ns: window_s * NS_PER_S, ..EngineConfig::default() }
}

/// A CSV geolocation table with the given lines.
pub fn geo_table(text: &str) -> Arc<Geolocator> {
    let path = temp_path("geo.csv");
    std::fs::write(&path, text).unwrap();
    Arc::new(Geolocator::open(&path).unwrap())
}

#[track_caller]
pub fn assert_close(a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} != {b}");
}

/// Scenarios shared by the tests of several metrics, each described by hand.
pub mod scenario {
    use super::*;
    use crate::offline::synth::{tcp, Link};

    pub const A: &str = "198.51.100.21";
    pub const B: &str = "198.51.100.22";
    pub const C: &str = "198.51.100.23";

    /// [H] samples, with Δ = 10 s and samples of 30 s = 3 windows:
    /// - sample 0 [0,30): A → X 11 × 1300 B (UDP, 1..11 s), B → X 6 × 1300 B (2..7 s);
    ///   video peers {A} (B has 6 large packets);
    /// - sample 1 [30,60): A 5 more (16 in its lifetime), B 6 more (12): {A, B}, B started;
    /// - sample 2 [60,90): only C → X one 100-byte packet at 85 s: {}, A and B stopped.
    pub fn samples() -> SynthPcap {
        let x = sa(X, 4004);
        let mut p = SynthPcap::new(Link::Ethernet);
        p.udp_train(T0 + S, S, 11, sa(A, 1), x, 1300)
            .udp_train(T0 + 2 * S, S, 6, sa(B, 1), x, 1300)
            .udp_train(T0 + 31 * S, S, 5, sa(A, 1), x, 1300)
            .udp_train(T0 + 32 * S, S, 6, sa(B, 1), x, 1300)
            .udp(T0 + 85 * S, sa(C, 1), x, 100);
        p
    }

    pub const P1: &str = "198.51.100.11";
    pub const P2: &str = "198.51.100.12";
    pub const P3: &str = "203.0.113.13";
    pub const P4: &str = "203.0.113.14";
    pub const P5: &str = "203.0.113.15";

    /// Sessions of X (times from T0):
    /// - P1 (TCP): X SYN at 0, SYN-ACK 0.01, ACK 0.02; P1 → X 11 × 1300 B at 1..11 s;
    ///   X → P1 five 40-byte ACKs. 11 large packets > 10: a video session, 11 s long.
    /// - P2 (TCP): X SYN at 2; P2 → X 10 × 1300 B at 3..12 s and one 1200-byte packet
    ///   at 13 s (not large): exactly 10 large packets, a signaling session, 11 s long.
    /// - P3 (TCP port 80): X SYN at 4, 200 B up at 4.1, 300 B down at 4.2: signaling, 0.2 s.
    /// - P4 (TCP): X SYN at 5, never answered: signaling, 0 s, a total IP but not active.
    /// - P5 (UDP): P5 → X 20 × 1300 B at 0.5..10 s: not a TCP session.
    pub fn sessions() -> SynthPcap {
        let mut p = SynthPcap::new(Link::Ethernet);
        let (x0, p1) = (sa(X, 5000), sa(P1, 8008));
        p.tcp(T0, x0, p1, tcp::SYN, 40).tcp(T0 + 10 * MS, p1, x0, tcp::SYN | tcp::ACK, 40).tcp(
            T0 + 20 * MS,
            x0,
            p1,
            tcp::ACK,
            40,
        );
        p.tcp_train(T0 + S, S, 11, p1, x0, 1300);
        p.tcp_train(T0 + 1500 * MS, S, 5, x0, p1, 40);
        let (x1, p2) = (sa(X, 5001), sa(P2, 8008));
        p.tcp(T0 + 2 * S, x1, p2, tcp::SYN, 40).tcp_train(T0 + 3 * S, S, 10, p2, x1, 1300).tcp(
            T0 + 13 * S,
            p2,
            x1,
            tcp::ACK,
            1200,
        );
        let (x2, p3) = (sa(X, 5002), sa(P3, 80));
        p.tcp(T0 + 4 * S, x2, p3, tcp::SYN, 40).tcp(T0 + 4100 * MS, x2, p3, tcp::ACK | tcp::PSH, 200).tcp(
            T0 + 4200 * MS,
            p3,
            x2,
            tcp::ACK | tcp::PSH,
            300,
        );
        p.tcp(T0 + 5 * S, sa(X, 5003), sa(P4, 8008), tcp::SYN, 40);
        p.udp_train(T0 + 500 * MS, 500 * MS, 20, sa(P5, 9000), sa(X, 4004), 1300);
        p
    }

    pub const RA: &str = "198.51.100.1";
    pub const RB: &str = "198.51.100.2";
    pub const RC: &str = "203.0.113.3";

    /// Window rates with Δ = 20 s and Rp = Rc = 4000 B/s (UDP, 1000-byte packets):
    /// - window 0 [0,20): RA:1 → X 60 (flow rate 3000 B/s), RA:2 → X 40 (2000 B/s):
    ///   host pair 5000 B/s > Rp, so RA is a parent though neither flow is;
    ///   RB → X 50 (2500 B/s: control only); X → RC 90 (4500 B/s: a child);
    /// - window 1 [20,40): nothing at all (an empty window);
    /// - window 2 [40,60): RA:1 → X 100 (5000 B/s), RB → X 120 (6000 B/s);
    /// - window 3 [60,80): RA:1 → X 100.
    pub fn rates() -> SynthPcap {
        let (a1, a2, b, c, x) = (sa(RA, 1), sa(RA, 2), sa(RB, 7), sa(RC, 9), sa(X, 4004));
        let mut p = SynthPcap::new(Link::Ethernet);
        p.udp_train(T0, 100 * MS, 60, a1, x, 1000)
            .udp_train(T0 + 50 * MS, 100 * MS, 40, a2, x, 1000)
            .udp_train(T0 + 30 * MS, 100 * MS, 50, b, x, 1000)
            .udp_train(T0 + 20 * MS, 100 * MS, 90, x, c, 1000)
            .udp_train(T0 + 40 * S, 100 * MS, 100, a1, x, 1000)
            .udp_train(T0 + 40 * S + 10 * MS, 100 * MS, 120, b, x, 1000)
            .udp_train(T0 + 60 * S, 100 * MS, 100, a1, x, 1000);
        p
    }
}
