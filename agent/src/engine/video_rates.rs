//! Upload and download rates of X over time, per host and per peer ([H] §5,
//! Figure 6: 30 s points).
//!
//! Video rate = IP bytes of large (> 1200 B) packets per second: [H]'s video packets.
//! Whether a session is a video session is only known at its end, so the rate over
//! time counts large packets of any session; the session table gives the exact
//! video-session totals. All-traffic rates are given beside it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::samples::SampleTraffic;

/// Rates of one sample, bytes per second.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SampleRates {
    pub video_down_bytes_per_s: f64,
    pub video_up_bytes_per_s: f64,
    pub down_bytes_per_s: f64,
    pub up_bytes_per_s: f64,
    /// Per peer, for the peers that exchanged large packets in the sample.
    pub peer_video_rates: Vec<PeerVideoRate>,
}

/// Video rates between X and one peer over one sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PeerVideoRate {
    pub peer: std::net::IpAddr,
    pub video_down_bytes_per_s: f64,
    pub video_up_bytes_per_s: f64,
}

pub fn sample_rates(s: &SampleTraffic) -> SampleRates {
    let (mut vd, mut vu, mut d, mut u) = (0u64, 0u64, 0u64, 0u64);
    for t in s.pairs.values() {
        vd += t.down.large_bytes;
        vu += t.up.large_bytes;
        d += t.down.total_bytes();
        u += t.up.total_bytes();
    }
    let l = s.len_s();
    let peer_video_rates = s
        .pairs
        .iter()
        .filter(|(_, t)| t.down.large_packets + t.up.large_packets > 0)
        .map(|(p, t)| PeerVideoRate {
            peer: *p,
            video_down_bytes_per_s: t.down.large_bytes as f64 / l,
            video_up_bytes_per_s: t.up.large_bytes as f64 / l,
        })
        .collect();
    SampleRates {
        peer_video_rates,
        video_down_bytes_per_s: vd as f64 / l,
        video_up_bytes_per_s: vu as f64 / l,
        down_bytes_per_s: d as f64 / l,
        up_bytes_per_s: u as f64 / l,
    }
}
