//! Upload and download rates of X over time, per host and per peer ([H] §5,
//! Figure 6: 30 s points).
//!
//! Video rate = IP bytes of large (> 1200 B) packets per second: [H]'s video packets.
//! Whether a session is a video session is only known at its end, so the rate over
//! time counts large packets of any session; the session table gives the exact
//! video-session totals. All-traffic rates are given beside it.

use std::collections::BTreeMap;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::rates::host_rate;
use super::samples::SampleTraffic;
use super::window::PairTraffic;

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
    pub peer: IpAddr,
    pub video_down_bytes_per_s: f64,
    pub video_up_bytes_per_s: f64,
}

/// X's video rates over a window or a sample: IP bytes of large packets per second.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct VideoRate {
    pub video_down_bytes_per_s: f64,
    pub video_up_bytes_per_s: f64,
}

/// X's video rates from its traffic per peer over `len_s` seconds.
pub fn video_rate(pairs: &BTreeMap<IpAddr, PairTraffic>, len_s: f64) -> VideoRate {
    let (down, up) = pairs.values().fold((0u64, 0u64), |a, t| (a.0 + t.down.large_bytes, a.1 + t.up.large_bytes));
    VideoRate { video_down_bytes_per_s: down as f64 / len_s, video_up_bytes_per_s: up as f64 / len_s }
}

/// Video rates per peer, for the peers that exchanged large packets.
pub fn peer_video_rates(pairs: &BTreeMap<IpAddr, PairTraffic>, len_s: f64) -> Vec<PeerVideoRate> {
    pairs
        .iter()
        .filter(|(_, t)| t.down.large_packets + t.up.large_packets > 0)
        .map(|(p, t)| PeerVideoRate {
            peer: *p,
            video_down_bytes_per_s: t.down.large_bytes as f64 / len_s,
            video_up_bytes_per_s: t.up.large_bytes as f64 / len_s,
        })
        .collect()
}

/// Rates of one [H] sample: video rates, all-traffic rates, video rates per peer.
pub fn sample_rates(s: &SampleTraffic) -> SampleRates {
    let l = s.len_s();
    let video = video_rate(&s.pairs, l);
    let all = host_rate(&s.pairs, l);
    SampleRates {
        video_down_bytes_per_s: video.video_down_bytes_per_s,
        video_up_bytes_per_s: video.video_up_bytes_per_s,
        down_bytes_per_s: all.down_bytes_per_s,
        up_bytes_per_s: all.up_bytes_per_s,
        peer_video_rates: peer_video_rates(&s.pairs, l),
    }
}

#[cfg(test)]
mod tests {

    use crate::engine::NS_PER_S;
    use crate::testing::scenario::{samples, A};
    use crate::testing::*;

    /// See [`samples`]: 17 large packets of 1300 B in sample 0, 11 in sample 1, none
    /// in sample 2 (one 100-byte packet), over 30 s each.
    #[test]
    fn test_video_rates_per_sample() {
        let mut cfg = window_config(10);
        cfg.sample_ns = 30 * NS_PER_S;
        let r = analyze(&samples(), cfg).report;
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
}
