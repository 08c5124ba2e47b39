//! Every threshold of the studies as a parameter, with the studies' defaults.

use std::sync::Arc;

use peerscope_abi::Thresholds;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::geo::Geolocator;
use crate::schema::Location;

/// Nanoseconds per second.
pub const NS_PER_S: u64 = 1_000_000_000;

/// The fine time step of the metrics whose resolution does not depend on Δ (the
/// [H] samples, the start-up delay): offline windows come cut into steps of 1 s.
pub const STEP_NS: u64 = NS_PER_S;

/// Parameters of the engine. `Default` gives the values of the studies.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Window length Δ in ns ([M] §III-C: 20 s, non-overlapping).
    pub window_ns: u64,
    /// Parent threshold Rp in bytes per second ([M] §III-D: "4 KB/s", read as
    /// 4000 B/s: the study writes KB for kilobytes in decimal units).
    pub parent_rate_bps: f64,
    /// Child threshold Rc in bytes per second (4000 B/s, as Rp).
    pub child_rate_bps: f64,
    /// Size classes; the same values the kernel is loaded with.
    pub thresholds: Thresholds,
    /// A session is a video session if it carries more than this many large packets
    /// ([H] §4.1: > 10 packets > 1200 B).
    pub video_min_large_packets: u64,
    /// Apply the video-session heuristic to UDP "sessions" (the unordered 5-tuple)
    /// too. [H] speaks of TCP only, hence off by default; PPStream-like systems carry
    /// video over UDP.
    pub udp_sessions: bool,
    /// Video-peer sampling period ([H] §6: 30 s), on its own grid whatever Δ is
    /// (offline at 1 s resolution; live, each poll interval counts in the sample it
    /// starts in).
    pub sample_ns: u64,
    /// The start-up delay's sliding rate: video download over the last this-many ns,
    /// evaluated every step (1 s offline).
    pub startup_rate_window_ns: u64,
    /// Per-flow rates kept per window ([M] §III-B): the fastest this many of X's
    /// flows (the rest counted as omitted).
    pub flow_rates_top: usize,
    /// Miles per degree in the seed's distance ([M] §III-E: k = 69.2).
    pub miles_per_degree: f64,
    /// Playback rate in kbit/s (1000 bit/s), when known ([H]: 250–800 kbit/s).
    pub playback_rate_kbps: Option<f64>,
    /// Start of capture left out of the redundancy ratio ([H] §5: 10 min).
    pub redundancy_skip_ns: u64,
    /// Geolocation source for distance, cost and the continent table's overrides.
    pub geo: Option<Arc<Geolocator>>,
    /// Location of the monitored host (latitude, longitude in degrees) when its own
    /// address cannot be geolocated (a private or NATed address).
    pub host_location: Option<(f64, f64)>,
    /// What the engine keeps of the past (offline: everything).
    pub retention: Retention,
}

/// How much of the past the engine holds, so a live agent's memory is set by its
/// configuration, not by how long it has run. Every total and run-wide figure still
/// covers the whole run; what goes is the detail: old window and sample summaries,
/// and flows idle for longer than the linger (their counters stay in the totals,
/// the largest ones stay listed). `Default` keeps everything (offline analysis).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    /// The most recent window summaries (and as many samples) kept for the report.
    pub windows: Option<usize>,
    /// A flow without packets for this long is retired (see `engine::flows`).
    pub flow_linger_ns: Option<u64>,
}

impl Retention {
    /// Everything, as offline analysis does.
    pub const ALL: Retention = Retention { windows: None, flow_linger_ns: None };
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            window_ns: 20 * NS_PER_S,
            parent_rate_bps: 4000.0,
            child_rate_bps: 4000.0,
            thresholds: Thresholds::STUDIES,
            video_min_large_packets: 10,
            udp_sessions: false,
            sample_ns: 30 * NS_PER_S,
            startup_rate_window_ns: 10 * NS_PER_S,
            miles_per_degree: 69.2,
            flow_rates_top: 10,
            playback_rate_kbps: None,
            redundancy_skip_ns: 600 * NS_PER_S,
            geo: None,
            host_location: None,
            retention: Retention::ALL,
        }
    }
}

impl EngineConfig {
    /// The parameters as they appear in the report.
    pub fn echo(&self) -> ConfigEcho {
        ConfigEcho {
            window_s: self.window_ns as f64 / NS_PER_S as f64,
            parent_rate_bytes_per_s: self.parent_rate_bps,
            child_rate_bytes_per_s: self.child_rate_bps,
            data_min_ip_len_bytes: self.thresholds.data_min_ip_len,
            large_above_ip_len_bytes: self.thresholds.large_above_ip_len,
            video_min_large_packets: self.video_min_large_packets,
            udp_sessions: self.udp_sessions,
            sample_period_s: self.sample_ns as f64 / NS_PER_S as f64,
            effective_sample_period_s: self.sample_ns as f64 / NS_PER_S as f64,
            startup_rate_window_s: self.startup_rate_window_ns as f64 / NS_PER_S as f64,
            miles_per_degree: self.miles_per_degree,
            flow_rates_top: self.flow_rates_top,
            playback_rate_kbit_per_s: self.playback_rate_kbps,
            redundancy_skip_s: self.redundancy_skip_ns as f64 / NS_PER_S as f64,
            geolocation: self.geo.as_ref().map(|g| g.describe()),
            host_location: self.host_location.map(Location::from),
        }
    }
}

/// The parameters in force, copied into the report so a result can be reproduced.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ConfigEcho {
    /// Window length Δ.
    pub window_s: f64,
    /// Parent and child thresholds Rp, Rc.
    pub parent_rate_bytes_per_s: f64,
    pub child_rate_bytes_per_s: f64,
    /// Size classes: data from this IP length on, large above this one.
    pub data_min_ip_len_bytes: u32,
    pub large_above_ip_len_bytes: u32,
    pub video_min_large_packets: u64,
    pub udp_sessions: bool,
    /// The [H] sample period, on its own grid (not rounded to whole windows).
    pub sample_period_s: f64,
    /// Equal to `sample_period_s` (samples are no longer rounded up to whole
    /// windows); kept for readers of schema 2.
    pub effective_sample_period_s: f64,
    /// The start-up delay's sliding-rate window (evaluated every 1 s offline).
    pub startup_rate_window_s: f64,
    pub miles_per_degree: f64,
    /// Per-flow rates per window: the fastest this many flows of X.
    pub flow_rates_top: usize,
    /// Playback rate c (1000 bit/s units), when given.
    pub playback_rate_kbit_per_s: Option<f64>,
    pub redundancy_skip_s: f64,
    /// The geolocation source, described.
    pub geolocation: Option<String>,
    /// X's location when given (`--host-location`).
    pub host_location: Option<Location>,
}
