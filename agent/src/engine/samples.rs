//! The sampling grid of [H] (30 s points), on its own grid whatever Δ is.
//!
//! Sample k covers `[origin + k·P, origin + (k+1)·P)`, the origin being the start of
//! the first window. The engine feeds it steps (1 s offline; live, poll intervals),
//! each counted in the sample its start falls in, and the time without traffic in
//! between. A sample's length is what it covered: P, or less for the last one (it
//! ends with the last window), or more when a live poll interval straddles its end.
//! Samples without traffic between two steps are reported as one run.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::video::VideoShares;
use super::window::{HostView, PairTraffic};

/// Traffic of X per peer over one sample.
#[derive(Clone, Debug, Default)]
pub struct SampleTraffic {
    pub index: usize,
    pub start_ns: u64,
    pub len_ns: u64,
    pub pairs: BTreeMap<IpAddr, PairTraffic>,
    /// Large bytes per session, for the video rates.
    pub video: VideoShares,
}

impl SampleTraffic {
    pub fn len_s(&self) -> f64 {
        self.len_ns.max(1) as f64 / 1e9
    }
}

/// A run of empty samples of the period each, from `start_ns`, numbered from `index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmptySamples {
    pub index: usize,
    pub start_ns: u64,
    pub len_ns: u64,
    pub count: u64,
}

/// What a step completed: the sample it closed, then the empty ones after it.
#[derive(Debug, Default)]
pub struct Closed {
    pub sample: Option<SampleTraffic>,
    pub empty: Option<EmptySamples>,
}

/// Accumulates steps into samples.
#[derive(Clone, Debug)]
pub struct SampleGrid {
    period_ns: u64,
    origin_ns: Option<u64>,
    /// Grid position of the current sample.
    cur_slot: u64,
    /// End of the latest step in the current sample.
    cur_end_ns: u64,
    next_index: usize,
    cur: Option<SampleTraffic>,
}

impl SampleGrid {
    pub fn new(period_ns: u64) -> Self {
        SampleGrid {
            period_ns: period_ns.max(1),
            origin_ns: None,
            cur_slot: 0,
            cur_end_ns: 0,
            next_index: 0,
            cur: None,
        }
    }

    /// Adds a step (its traffic per peer and large bytes per session); returns the
    /// samples it completes (a step in a later sample closes the current one, and
    /// the samples between them, empty, as one run).
    pub fn push(&mut self, step: &HostView, video: &VideoShares) -> Closed {
        let origin = *self.origin_ns.get_or_insert(step.start_ns);
        let slot = step.start_ns.saturating_sub(origin) / self.period_ns;
        let done = self.enter(slot);
        let cur = self.cur.as_mut().expect("entered");
        self.cur_end_ns = self.cur_end_ns.max(step.start_ns + step.len_ns);
        for (peer, t) in &step.pairs {
            let e = cur.pairs.entry(*peer).or_default();
            e.down.merge(&t.down);
            e.up.merge(&t.up);
        }
        cur.video.merge(video);
        done
    }

    /// Time observed without traffic of X from the last step to `until_ns` (an empty
    /// window): the samples it completes, as [`Self::push`]. An empty stretch never
    /// lengthens a sample beyond its period.
    pub fn advance(&mut self, start_ns: u64, until_ns: u64) -> Closed {
        let origin = *self.origin_ns.get_or_insert(start_ns);
        if until_ns <= start_ns {
            return Closed::default();
        }
        // The sample holding the stretch's last instant.
        let slot = (until_ns - 1).saturating_sub(origin) / self.period_ns;
        let done = self.enter(slot);
        self.cur_end_ns = self.cur_end_ns.max(until_ns);
        done
    }

    /// Moves the open sample to `slot`: closes the current one if `slot` is later,
    /// and reports the samples skipped in between as one empty run.
    fn enter(&mut self, slot: u64) -> Closed {
        let origin = self.origin_ns.expect("origin set");
        let mut done = Closed::default();
        if self.cur.is_some() && slot > self.cur_slot {
            let nominal_end = origin + (self.cur_slot + 1) * self.period_ns;
            done.sample = self.close(nominal_end.max(self.cur_end_ns));
            let skipped = slot - self.cur_slot - 1;
            if skipped > 0 {
                done.empty = Some(EmptySamples {
                    index: self.next_index,
                    start_ns: nominal_end,
                    len_ns: self.period_ns,
                    count: skipped,
                });
                self.next_index += skipped as usize;
            }
        }
        if self.cur.is_none() {
            self.cur_slot = slot;
            self.cur = Some(SampleTraffic {
                index: self.next_index,
                start_ns: origin + slot * self.period_ns,
                ..Default::default()
            });
        }
        done
    }

    /// The open sample holds no traffic of X (closing it, and any later ones up to
    /// the next step, gives only empty samples).
    pub fn idle(&self) -> bool {
        self.cur.as_ref().is_none_or(|c| c.pairs.is_empty() && c.video.is_empty())
    }

    /// The open sample as [`Self::flush`] would close it, left open.
    pub fn peek(&self) -> Option<SampleTraffic> {
        let mut s = self.cur.clone()?;
        s.len_ns = self.cur_end_ns.saturating_sub(s.start_ns);
        Some(s)
    }

    fn close(&mut self, end_ns: u64) -> Option<SampleTraffic> {
        let mut s = self.cur.take()?;
        s.len_ns = end_ns.saturating_sub(s.start_ns);
        self.next_index += 1;
        self.cur_end_ns = 0;
        Some(s)
    }

    /// Closes the last sample at the end of the run (it ends with its last step).
    pub fn flush(&mut self) -> Option<SampleTraffic> {
        let end = self.cur_end_ns;
        self.close(end)
    }
}

#[cfg(test)]
mod tests {

    use crate::engine::NS_PER_S;
    use crate::testing::scenario::samples;
    use crate::testing::*;

    /// The grid starts at the first packet (T0 + 1 s): with Δ = 10 s, 30 s samples
    /// are [1, 31), [31, 61), [61, 85] (the last packet at 85 s); a sample closed by
    /// a later step is attached to that step's window, the last one (closed by the
    /// end of the run) is only in `samples`.
    #[test]
    fn test_samples_on_their_own_grid() {
        let mut cfg = window_config(10);
        cfg.sample_ns = 30 * NS_PER_S;
        let r = analyze(&samples(), cfg).report;
        assert_eq!(r.config.sample_period_s, 30.0);
        let got: Vec<_> = r.samples.iter().map(|s| (s.start_unix_ns - T0, s.len_ns, s.partial)).collect();
        assert_eq!(got, vec![(S, 30 * S, false), (31 * S, 30 * S, false), (61 * S, 24 * S, true)]);
        assert_eq!(r.windows.iter().filter(|w| w.sample.is_some()).count(), 2);
    }

    /// Δ = 20 s and `--sample 30`: samples of 30 s, not 40 (see [`samples`]: A → X
    /// 1300-byte packets at 1..11 s and 31..35 s, B → X at 2..7 s and 32..37 s, C → X
    /// 100 B at 85 s). Sample 0 [1, 31): A 11 + B 6 = 17 large packets; sample 1
    /// [31, 61): A 5 + B 6 = 11; sample 2 [61, 85]: none, 24 s. (On 40 s samples
    /// sample 0 would hold 28.) Video rates with UDP sessions on (both sessions
    /// carry more than 10 large packets): 17 · 1300 / 30 and 11 · 1300 / 30 B/s.
    #[test]
    fn test_30_s_samples_with_a_20_s_window() {
        let mut cfg = window_config(20);
        cfg.udp_sessions = true;
        let r = analyze(&samples(), cfg).report;
        let got: Vec<_> = r.samples.iter().map(|s| (s.start_unix_ns - T0, s.len_ns)).collect();
        assert_eq!(got, vec![(S, 30 * S), (31 * S, 30 * S), (61 * S, 24 * S)]);
        assert_close(r.samples[0].rates.video_down_bytes_per_s, 17.0 * 1300.0 / 30.0);
        assert_close(r.samples[1].rates.video_down_bytes_per_s, 11.0 * 1300.0 / 30.0);
        let vp: Vec<_> = r.samples.iter().map(|s| s.video_peers.video_peers).collect();
        assert_eq!(vp, vec![1, 2, 0]);
    }
}
