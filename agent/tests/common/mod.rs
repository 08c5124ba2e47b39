//! Helpers shared by the integration tests: synthetic captures written to a
//! private temporary directory and analysed through the offline path.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use peerscope::engine::{EngineConfig, MonitoredHost, NS_PER_S};
use peerscope::offline::synth::SynthPcap;
use peerscope::offline::{analyze_file, OfflineAnalysis, OfflineOptions};

/// Start of every synthetic capture: 1000 s after the epoch.
pub const T0: u64 = 1_000 * NS_PER_S;
pub const S: u64 = NS_PER_S;

/// The monitored host in the synthetic captures.
pub const X: &str = "192.0.2.10";

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn sa(ip: &str, port: u16) -> SocketAddr {
    SocketAddr::new(self::ip(ip), port)
}

/// A fresh path in a per-process temporary directory.
pub fn temp_path(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("peerscope-test-{}", std::process::id()));
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

pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[track_caller]
pub fn assert_close(a: f64, b: f64) {
    assert!(close(a, b), "{a} != {b}");
}
