//! The sampling grid of [H] (30 s points) built from whole windows.
//!
//! A sample is `windows_per_sample` consecutive windows (the sampling period rounded
//! up to a multiple of Δ); the last one may be shorter and says so by its length.

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

/// Accumulates windows into samples.
#[derive(Clone, Debug)]
pub struct SampleGrid {
    per_sample: u64,
    windows: u64,
    next_index: usize,
    cur: Option<SampleTraffic>,
}

impl SampleGrid {
    pub fn new(windows_per_sample: u64) -> Self {
        SampleGrid { per_sample: windows_per_sample.max(1), windows: 0, next_index: 0, cur: None }
    }

    /// Adds a window; returns the sample it completes, if any.
    pub fn push(&mut self, view: &HostView, video: &VideoShares) -> Option<SampleTraffic> {
        let index = self.next_index;
        let cur = self.cur.get_or_insert_with(|| SampleTraffic {
            index,
            start_ns: view.start_ns,
            len_ns: 0,
            pairs: BTreeMap::new(),
            video: VideoShares::default(),
        });
        cur.len_ns += view.len_ns;
        cur.video.merge(video);
        for (peer, t) in &view.pairs {
            let e = cur.pairs.entry(*peer).or_default();
            e.down.merge(&t.down);
            e.up.merge(&t.up);
        }
        self.windows += 1;
        if self.windows == self.per_sample {
            self.flush()
        } else {
            None
        }
    }

    /// The open sample as [`Self::flush`] would close it, left open.
    pub fn peek(&self) -> Option<SampleTraffic> {
        self.cur.clone()
    }

    /// Closes a partial sample at the end of the run.
    pub fn flush(&mut self) -> Option<SampleTraffic> {
        self.windows = 0;
        let s = self.cur.take()?;
        self.next_index += 1;
        Some(s)
    }
}

#[cfg(test)]
mod tests {

    use crate::engine::NS_PER_S;
    use crate::testing::scenario::samples;
    use crate::testing::*;

    /// The grid starts at the first packet (T0 + 1 s): with Δ = 10 s, 30 s samples are
    /// 3 windows, and each completed sample is attached to the window that closed it.
    #[test]
    fn test_samples_of_whole_windows() {
        let mut cfg = window_config(10);
        cfg.sample_ns = 30 * NS_PER_S;
        let r = analyze(&samples(), cfg).report;
        assert_eq!(r.config.effective_sample_period_s, 30.0);
        assert_eq!(r.samples.len(), 3);
        assert_eq!(r.windows.iter().filter(|w| w.sample.is_some()).count(), 3);
    }

    #[test]
    fn test_sample_period_rounds_up_to_whole_windows() {
        // Δ = 20 s and 30 s samples: 2 windows, 40 s, stated in the report.
        let r = analyze(&samples(), window_config(20)).report;
        assert_eq!(r.config.sample_period_s, 30.0);
        assert_eq!(r.config.effective_sample_period_s, 40.0);
        assert!(r.samples.iter().all(|s| s.len_ns == 40 * NS_PER_S || s.index == r.samples.len() - 1));
    }
}
