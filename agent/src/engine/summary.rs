//! What `Engine::observe_window` returns for one window, and the [H] samples.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::cost::WindowCost;
use super::parents::PeerRate;
use super::rates::{PairRate, WindowFlowRate};
use super::stability::{Stability, StabilityNote};
use super::video::{VideoBasis, VideoShares};
use super::video_peers::VideoPeerCount;
use super::video_rates::SampleRates;

/// Metrics of one window (Δ). Rates in bytes per second of IP bytes.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct WindowSummary {
    pub index: usize,
    pub start_unix_ns: u64,
    /// The observed length: Δ, or less for the last window of a capture that ends
    /// mid-window (rates are over this length).
    pub len_ns: u64,
    /// Shorter than Δ (the last window).
    pub partial: bool,
    /// Windows this entry stands for: 1, or a run of consecutive empty windows of
    /// Δ each (no packet, no parent or child, nothing changed since the one before),
    /// identical but for their start, listed once so that output and memory grow
    /// with the traffic and not with the clock. The run covers `[start_unix_ns,
    /// start_unix_ns + count · len_ns)`; its `sample` is `null` (the samples that
    /// closed in it are in the report's `samples`).
    pub count: u64,
    /// Flows with at least one packet in the window (all flows, not only X's).
    pub active_flows: usize,
    pub packets: u64,
    pub bytes: u64,
    /// X's host rates: Σ over peers of `R(peer, X, t1)` and `R(X, peer, t1)`.
    pub down_bytes_per_s: f64,
    pub up_bytes_per_s: f64,
    /// Video traffic ([H] §4.1: large packets inside video sessions), per second.
    pub video_down_bytes_per_s: f64,
    pub video_up_bytes_per_s: f64,
    /// The session classification the video rates rest on: `sessions_so_far` as
    /// returned live when the window closed, `final` in a report.
    pub video_basis: VideoBasis,
    /// Large bytes per session in the window (not serialised): restates the video
    /// rates with the final classification.
    #[serde(skip)]
    pub video_shares: VideoShares,
    /// `R(A1, X1, t1)` of X's fastest flows in the window ([M] §III-B), at most
    /// `config.flow_rates_top`, fastest first.
    pub flow_rates: Vec<WindowFlowRate>,
    /// X's active flows left out of `flow_rates`.
    pub flow_rates_omitted: usize,
    /// Host-pair rates of every peer active in the window ([M] §III-C).
    pub pairs: Vec<PairRate>,
    /// [M] §III-D; sorted by rate, highest first.
    pub parents: Vec<PeerRate>,
    pub children: Vec<PeerRate>,
    pub parent_count: usize,
    pub child_count: usize,
    /// [M] §III-G.
    pub stability: Stability,
    /// [M] §III-F; all `null` without geolocation.
    pub cost: WindowCost,
    /// The [H] sample this window completed, if any (the last one when it completed
    /// several; every sample is in the report's `samples`). In a report, `null` for
    /// an entry of empty windows after an empty one (`count`).
    pub sample: Option<SampleSummary>,
}

impl WindowSummary {
    /// Where the entry's last window ends.
    pub fn end_unix_ns(&self) -> u64 {
        self.start_unix_ns + self.len_ns * self.count
    }

    /// An empty window identical to the empty window before it: no packet, no
    /// parent left, no sample completed (see [`Self::count`]).
    pub fn is_steady_empty(&self) -> bool {
        self.packets == 0
            && !self.partial
            && self.parent_count == 0
            && self.child_count == 0
            && self.stability.note == Some(StabilityNote::EmptyParentSet)
            && self.stability.left_parents == 0
            && self.sample.as_ref().is_none_or(|s| s.is_steady_empty())
    }

    /// The entry for `count` empty windows of `len_ns` from `start_unix_ns` that
    /// follow an empty window (see [`Self::is_steady_empty`]).
    pub fn steady_empty(index: usize, start_unix_ns: u64, len_ns: u64, count: u64) -> Self {
        WindowSummary {
            index,
            start_unix_ns,
            len_ns,
            partial: false,
            count,
            active_flows: 0,
            packets: 0,
            bytes: 0,
            down_bytes_per_s: 0.0,
            up_bytes_per_s: 0.0,
            video_down_bytes_per_s: 0.0,
            video_up_bytes_per_s: 0.0,
            video_basis: VideoBasis::SessionsSoFar,
            video_shares: VideoShares::default(),
            flow_rates: Vec::new(),
            flow_rates_omitted: 0,
            pairs: Vec::new(),
            parents: Vec::new(),
            children: Vec::new(),
            parent_count: 0,
            child_count: 0,
            stability: Stability::empty_after_empty(),
            cost: WindowCost::default(),
            sample: None,
        }
    }
}

impl SampleSummary {
    pub fn end_unix_ns(&self) -> u64 {
        self.start_unix_ns + self.len_ns * self.count
    }

    /// An empty sample after an empty one: no traffic, no video peer, none started
    /// or stopped (see [`Self::count`]).
    pub fn is_steady_empty(&self) -> bool {
        let r = &self.rates;
        !self.partial
            && self.video_shares.is_empty()
            && r.down_bytes_per_s == 0.0
            && r.up_bytes_per_s == 0.0
            && r.peer_video_rates.is_empty()
            && self.video_peers.video_peers == 0
            && self.video_peers.changed == 0
    }
}

/// Adds `next` to the entries kept: folded into the last entry when both are steady
/// empty and adjacent (one run), else appended.
pub trait Run {
    fn index(&self) -> usize;
    fn count(&self) -> u64;
    fn start(&self) -> u64;
    fn end(&self) -> u64;
    fn each_len(&self) -> u64;
    fn steady_empty(&self) -> bool;
    fn add_count(&mut self, n: u64);
    /// The entry as it is kept (a steady empty window drops its empty sample: runs
    /// hold no sample).
    fn kept(self) -> Self
    where
        Self: Sized,
    {
        self
    }

    /// Whether `next` continues this run (and it was folded in).
    fn absorb(&mut self, next: &Self) -> bool {
        let adjacent = self.end() == next.start() && self.index() + self.count() as usize == next.index();
        if adjacent && self.each_len() == next.each_len() && self.steady_empty() && next.steady_empty() {
            self.add_count(next.count());
            return true;
        }
        false
    }
}

macro_rules! run_of {
    ($t:ty, $kept:expr) => {
        impl Run for $t {
            fn index(&self) -> usize {
                self.index
            }
            fn count(&self) -> u64 {
                self.count
            }
            fn start(&self) -> u64 {
                self.start_unix_ns
            }
            fn end(&self) -> u64 {
                self.end_unix_ns()
            }
            fn each_len(&self) -> u64 {
                self.len_ns
            }
            fn steady_empty(&self) -> bool {
                self.is_steady_empty()
            }
            fn add_count(&mut self, n: u64) {
                self.count += n;
            }
            fn kept(self) -> Self {
                $kept(self)
            }
        }
    };
}
run_of!(WindowSummary, |mut w: WindowSummary| {
    if w.is_steady_empty() {
        w.sample = None;
    }
    w
});
run_of!(SampleSummary, |s| s);

/// One [H] sample point (30 s by default, whole windows).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct SampleSummary {
    pub index: usize,
    pub start_unix_ns: u64,
    /// The observed length (rates are over it).
    pub len_ns: u64,
    /// Shorter than the sample period (the last sample).
    pub partial: bool,
    /// Samples this entry stands for: 1, or a run of consecutive empty samples of
    /// the period each (no traffic, no video peer, none started or stopped), listed
    /// once (see [`WindowSummary::count`]).
    pub count: u64,
    #[serde(flatten)]
    pub rates: SampleRates,
    /// As in [`WindowSummary::video_basis`].
    pub video_basis: VideoBasis,
    #[serde(skip)]
    pub video_shares: VideoShares,
    #[serde(flatten)]
    pub video_peers: VideoPeerCount,
}
