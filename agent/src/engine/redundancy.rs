//! Redundancy ratio ([H] §5, Table 2).
//!
//! Given the playback rate c, leave out the first 10 minutes; over the remaining
//! interval T, expected = c · T and `redundancy = (video download − expected) / expected`.
//! Video download = payload bytes of large packets received in video sessions
//! (the video content itself, without IP/TCP headers), counted from the first
//! window that starts at or after the skip point; T runs from that window's start
//! to the end of the last window, which is the last packet (the observed interval,
//! not padded to a whole window: see `offline::bucket`). The video download is
//! transport payload (no TCP/IP headers, as in [H]), while video traffic elsewhere
//! counts IP bytes; the outputs say so beside the ratio.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::util::{ratio, secs};

/// What a byte count counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ByteCount {
    /// Transport payload: no IP or TCP/UDP headers.
    TransportPayload,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Redundancy {
    /// c, in 1000 bit/s units.
    pub playback_rate_kbit_per_s: f64,
    /// T: the time after the skip.
    pub interval_s: f64,
    pub expected_bytes: f64,
    /// Large packets received in video sessions after the skip, counted as
    /// `video_download_counts` says.
    pub video_download_bytes: u64,
    /// Always `transport_payload` ([H] leaves TCP/IP headers out of redundancy),
    /// while video traffic elsewhere (sessions, rates) counts IP bytes.
    pub video_download_counts: ByteCount,
    /// (video download − expected) / expected; `null` when nothing is left after
    /// the skip (capture too short).
    pub ratio: Option<f64>,
}

/// The interval T: from the first window that starts at or after the skip point to
/// the end of the last window.
#[derive(Clone, Debug)]
pub struct RedundancySpan {
    skip_ns: u64,
    first_start_ns: Option<u64>,
    counted_from_ns: Option<u64>,
    last_end_ns: u64,
}

impl RedundancySpan {
    pub fn new(skip_ns: u64) -> Self {
        RedundancySpan { skip_ns, first_start_ns: None, counted_from_ns: None, last_end_ns: 0 }
    }

    /// Takes the next window; true when its video download counts (it starts at or
    /// after the skip point).
    pub fn observe(&mut self, start_ns: u64, end_ns: u64) -> bool {
        let first = *self.first_start_ns.get_or_insert(start_ns);
        self.last_end_ns = self.last_end_ns.max(end_ns);
        let counted = start_ns >= first.saturating_add(self.skip_ns);
        if counted && self.counted_from_ns.is_none() {
            self.counted_from_ns = Some(start_ns);
        }
        counted
    }

    /// Takes `count` empty windows of `len_ns` from `start_ns` at once, as
    /// [`Self::observe`] would one by one.
    pub fn observe_run(&mut self, start_ns: u64, len_ns: u64, count: u64) {
        let end = start_ns + len_ns * count;
        let first = *self.first_start_ns.get_or_insert(start_ns);
        self.last_end_ns = self.last_end_ns.max(end);
        if self.counted_from_ns.is_none() {
            // The first window of the run that starts at or after the skip point.
            let from = first.saturating_add(self.skip_ns).max(start_ns);
            let k = (from - start_ns).div_ceil(len_ns.max(1));
            if k < count {
                self.counted_from_ns = Some(start_ns + k * len_ns);
            }
        }
    }

    /// T in ns (0 when no window started after the skip).
    pub fn interval_ns(&self) -> u64 {
        self.counted_from_ns.map_or(0, |t| self.last_end_ns.saturating_sub(t))
    }
}

/// `c` in kbit/s, `interval_ns` the time after the skip.
pub fn redundancy(c_kbps: f64, interval_ns: u64, video_download_bytes: u64) -> Redundancy {
    let expected = c_kbps * 1000.0 / 8.0 * secs(interval_ns);
    Redundancy {
        playback_rate_kbit_per_s: c_kbps,
        interval_s: secs(interval_ns),
        expected_bytes: expected,
        video_download_bytes,
        video_download_counts: ByteCount::TransportPayload,
        ratio: ratio(video_download_bytes as f64 - expected, expected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NS_PER_S;
    use crate::offline::synth::{Link, SynthPcap};
    use crate::testing::*;

    #[test]
    fn test_redundancy_by_hand() {
        // 400 kbit/s for 100 s = 5,000,000 B expected; 5,500,000 received: +10%.
        let r = redundancy(400.0, 100_000_000_000, 5_500_000);
        assert_eq!(r.expected_bytes, 5_000_000.0);
        assert!((r.ratio.unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(redundancy(400.0, 0, 10).ratio, None);
    }

    /// Δ = 10 s, a 20 s skip, playback rate 8 kbit/s = 1000 B/s. One UDP packet at 0
    /// starts the capture; P → X TCP 1300-byte segments (1260 B payload): 5 in [0,10),
    /// 10 in [10,20), 8 at 21..28 s, 8 at 31..38 s (the last packet).
    /// T = 38 − 20 = 18 s (the capture ends at its last packet), expected =
    /// 1000 · 18 = 18 000 B, video download after the skip = 16 · 1260 = 20 160 B:
    /// (20 160 − 18 000) / 18 000 = 0.12.
    fn capture() -> SynthPcap {
        let (x, peer) = (sa(X, 7000), sa("198.51.100.9", 8008));
        let mut p = SynthPcap::new(Link::Ethernet);
        p.udp(T0, sa(X, 53000), sa("203.0.113.1", 53), 60)
            .tcp_train(T0 + S / 2, S, 5, peer, x, 1300)
            .tcp_train(T0 + 10 * S, S, 10, peer, x, 1300)
            .tcp_train(T0 + 21 * S, S, 8, peer, x, 1300)
            .tcp_train(T0 + 31 * S, S, 8, peer, x, 1300);
        p
    }

    fn config(skip_s: u64) -> crate::engine::EngineConfig {
        let mut cfg = window_config(10);
        cfg.playback_rate_kbps = Some(8.0);
        cfg.redundancy_skip_ns = skip_s * NS_PER_S;
        cfg
    }

    #[test]
    fn test_redundancy_of_a_capture_by_hand() {
        let red = analyze(&capture(), config(20)).report.redundancy.unwrap();
        assert_eq!(red.interval_s, 18.0);
        assert_eq!(red.expected_bytes, 18_000.0);
        assert_eq!(red.video_download_bytes, 16 * 1260);
        assert_close(red.ratio.unwrap(), 0.12);
    }

    #[test]
    fn test_short_capture_and_no_playback_rate() {
        // The studies' 10 minutes: nothing left of a 40 s capture.
        let r = analyze(&capture(), config(600)).report;
        assert_eq!(r.redundancy.as_ref().unwrap().ratio, None);
        assert!(analyze(&capture(), window_config(10)).report.redundancy.is_none());
    }

    /// A capture 900.0 s long: P → X one TCP segment of 1300 B (1260 B payload) every
    /// second at 0..899 s, and one 100-byte UDP packet at 900.0 s, the last packet.
    /// Δ = 20 s, c = 10.08 kbit/s = 1260 B/s, the studies' 600 s skip.
    /// - The interval is 900 s: 45 windows of 20 s (the last packet, on the boundary,
    ///   closes window 44; no window [900, 920)).
    /// - T = 900 − 600 = 300 s, expected = 1260 · 300 = 378 000 B, video download
    ///   after the skip = 300 segments (600..899 s) · 1260 = 378 000 B: ratio 0.
    /// - Without the last packet the capture ends at 899 s: the last window is
    ///   [880, 899], 19 s and partial; T = 299 s, expected = 376 740 B, ratio =
    ///   1260 / 376 740. Its last 30 s sample, [870, 899], is 29 s, its video rate
    ///   30 segments (870..899 s) · 1300 B / 29 s (padded to 30 s it would be less).
    #[test]
    fn test_a_900_s_capture_is_900_s() {
        let (x, peer) = (sa(X, 7000), sa("198.51.100.9", 8008));
        let mut p = SynthPcap::new(Link::Ethernet);
        p.tcp_train(T0, S, 900, peer, x, 1300);
        let without_last = p.clone();
        p.udp(T0 + 900 * S, peer, sa(X, 7001), 100);
        let cfg = || {
            let mut cfg = window_config(20);
            cfg.playback_rate_kbps = Some(10.08);
            cfg
        };
        let r = analyze(&p, cfg()).report;
        assert_eq!((r.capture.duration_s, r.capture.windows), (900.0, 45));
        assert!(r.windows.iter().all(|w| w.len_ns == 20 * S && !w.partial));
        let red = r.redundancy.unwrap();
        assert_eq!((red.interval_s, red.expected_bytes, red.video_download_bytes), (300.0, 378_000.0, 378_000));
        assert_close(red.ratio.unwrap(), 0.0);

        let r = analyze(&without_last, cfg()).report;
        assert_eq!((r.capture.duration_s, r.capture.windows), (899.0, 45));
        let last = r.windows.last().unwrap();
        assert_eq!((last.len_ns, last.partial), (19 * S, true));
        let red = r.redundancy.unwrap();
        assert_eq!(red.interval_s, 299.0);
        assert_close(red.ratio.unwrap(), 1260.0 / 376_740.0);
        let s = r.samples.last().unwrap();
        assert_eq!((s.start_unix_ns, s.len_ns, s.partial), (T0 + 870 * S, 29 * S, true));
        assert_close(s.rates.video_down_bytes_per_s, 30.0 * 1300.0 / 29.0);
    }
}
