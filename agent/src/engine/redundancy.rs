//! Redundancy ratio ([H] §5, Table 2).
//!
//! Given the playback rate c, leave out the first 10 minutes; over the remaining
//! interval T, expected = c · T and `redundancy = (video download − expected) / expected`.
//! Video download = payload bytes of large packets received in video sessions
//! (the video content itself, without IP/TCP headers), counted from the first
//! window that starts at or after the skip point; T runs from that window's start
//! to the end of the last window.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::util::{ratio, secs};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Redundancy {
    /// c, in 1000 bit/s units.
    pub playback_rate_kbit_per_s: f64,
    /// T: the time after the skip.
    pub interval_s: f64,
    pub expected_bytes: f64,
    pub video_download_bytes: u64,
    /// (video download − expected) / expected; `null` when nothing is left after
    /// the skip (capture too short).
    pub ratio: Option<f64>,
}

/// `c` in kbit/s, `interval_ns` the time after the skip.
pub fn redundancy(c_kbps: f64, interval_ns: u64, video_download_bytes: u64) -> Redundancy {
    let expected = c_kbps * 1000.0 / 8.0 * secs(interval_ns);
    Redundancy {
        playback_rate_kbit_per_s: c_kbps,
        interval_s: secs(interval_ns),
        expected_bytes: expected,
        video_download_bytes,
        ratio: ratio(video_download_bytes as f64 - expected, expected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_redundancy_by_hand() {
        // 400 kbit/s for 100 s = 5,000,000 B expected; 5,500,000 received: +10%.
        let r = redundancy(400.0, 100_000_000_000, 5_500_000);
        assert_eq!(r.expected_bytes, 5_000_000.0);
        assert!((r.ratio.unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(redundancy(400.0, 0, 10).ratio, None);
    }
}
