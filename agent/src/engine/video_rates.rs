//! Upload and download rates of X over time, per host and per peer ([H] §5,
//! Figure 6: 30 s points).
//!
//! Video rate = video traffic ([`super::video`]: large packets inside video
//! sessions) per second, the same definition as the session totals. All-traffic
//! rates are given beside it.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::rates::host_rate;
use super::samples::SampleTraffic;
use super::sessions::SessionId;
use super::video::VideoShares;

/// Rates of one sample, bytes per second.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SampleRates {
    pub video_down_bytes_per_s: f64,
    pub video_up_bytes_per_s: f64,
    pub down_bytes_per_s: f64,
    pub up_bytes_per_s: f64,
    /// Per peer, for the peers that exchanged video traffic in the sample.
    pub peer_video_rates: Vec<PeerVideoRate>,
}

/// Video rates between X and one peer over one sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PeerVideoRate {
    pub peer: IpAddr,
    pub video_down_bytes_per_s: f64,
    pub video_up_bytes_per_s: f64,
}

/// X's video rates over a window or a sample: IP bytes of video traffic per second.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct VideoRate {
    pub video_down_bytes_per_s: f64,
    pub video_up_bytes_per_s: f64,
}

/// X's video rates from the span's large bytes per session over `len_s` seconds.
pub fn video_rate(shares: &VideoShares, is_video: impl Fn(SessionId) -> bool, len_s: f64) -> VideoRate {
    let (down, up) = shares.total(is_video);
    VideoRate { video_down_bytes_per_s: down as f64 / len_s, video_up_bytes_per_s: up as f64 / len_s }
}

/// Video rates per peer, for the peers that exchanged video traffic.
pub fn peer_video_rates(shares: &VideoShares, is_video: impl Fn(SessionId) -> bool, len_s: f64) -> Vec<PeerVideoRate> {
    shares
        .per_peer(is_video)
        .into_iter()
        .map(|(peer, (down, up))| PeerVideoRate {
            peer,
            video_down_bytes_per_s: down as f64 / len_s,
            video_up_bytes_per_s: up as f64 / len_s,
        })
        .collect()
}

/// Rates of one [H] sample: video rates, all-traffic rates, video rates per peer.
pub fn sample_rates(s: &SampleTraffic, is_video: impl Fn(SessionId) -> bool + Copy) -> SampleRates {
    let l = s.len_s();
    let video = video_rate(&s.video, is_video, l);
    let all = host_rate(&s.pairs, l);
    SampleRates {
        video_down_bytes_per_s: video.video_down_bytes_per_s,
        video_up_bytes_per_s: video.video_up_bytes_per_s,
        down_bytes_per_s: all.down_bytes_per_s,
        up_bytes_per_s: all.up_bytes_per_s,
        peer_video_rates: peer_video_rates(&s.video, is_video, l),
    }
}

#[cfg(test)]
mod tests {

    use crate::engine::video::VideoBasis;
    use crate::engine::NS_PER_S;
    use crate::testing::scenario::{samples, sessions, A, P1};
    use crate::testing::*;

    /// See [`samples`] (UDP, so with UDP sessions on): A's session carries 16 large
    /// packets and B's 12, both video sessions. 17 large packets of 1300 B in
    /// sample 0, 11 in sample 1, none in sample 2 (one 100-byte packet at 85 s, the
    /// last packet), over 30 s each but the last: the grid starts at the first
    /// packet (1 s), so sample 2 is [61, 85], 24 s.
    #[test]
    fn test_video_rates_per_sample() {
        let mut cfg = window_config(10);
        cfg.sample_ns = 30 * NS_PER_S;
        cfg.udp_sessions = true;
        let r = analyze(&samples(), cfg).report;
        let s = &r.samples;
        assert_close(s[0].rates.video_down_bytes_per_s, 17.0 * 1300.0 / 30.0);
        assert_close(s[1].rates.video_down_bytes_per_s, 11.0 * 1300.0 / 30.0);
        assert_eq!(s[2].rates.video_down_bytes_per_s, 0.0);
        assert_close(s[2].rates.down_bytes_per_s, 100.0 / 24.0);
        assert!(s[2].partial && !s[1].partial);
        assert_eq!(s[0].rates.video_up_bytes_per_s, 0.0);
        // Per peer: A 11 and B 6 large packets in sample 0; none in sample 2.
        let peers: Vec<_> = s[0].rates.peer_video_rates.iter().map(|p| (p.peer, p.video_down_bytes_per_s)).collect();
        assert_eq!(peers.len(), 2);
        assert_eq!(peers[0].0, ip(A));
        assert_close(peers[0].1, 11.0 * 1300.0 / 30.0);
        assert_close(peers[1].1, 6.0 * 1300.0 / 30.0);
        assert!(s[2].rates.peer_video_rates.is_empty());
    }

    /// See [`sessions`], Δ = 20 s: everything falls in window 0. P1's video session
    /// carries 11 × 1300 B; P2's session exactly 10 × 1300 B (signaling); P5's
    /// 20 × 1300 B are UDP (no session with UDP sessions off). Video download =
    /// 14 300 B, in the totals and in the window's and the sample's rate times its
    /// length, and only P1 has a per-peer video rate.
    #[test]
    fn test_window_and_sample_video_rates_count_video_sessions_only() {
        let r = analyze(&sessions(), window_config(20)).report;
        assert_eq!(r.sessions.video_down_bytes, 14_300);
        let w = &r.windows[0];
        assert_close(w.video_down_bytes_per_s * w.len_ns as f64 / 1e9, 14_300.0);
        assert_eq!(w.video_basis, VideoBasis::Final);
        let total: f64 = r.windows.iter().map(|w| w.video_down_bytes_per_s * w.len_ns as f64 / 1e9).sum();
        assert_close(total, 14_300.0);
        let s = &r.samples[0];
        assert_close(s.rates.video_down_bytes_per_s * s.len_ns as f64 / 1e9, 14_300.0);
        let peers: Vec<_> = s.rates.peer_video_rates.iter().map(|p| p.peer).collect();
        assert_eq!(peers, vec![ip(P1)]);
        assert_eq!(s.video_basis, VideoBasis::Final);
    }
}
