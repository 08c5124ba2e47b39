//! What `Engine::observe_window` returns for one window, and the [H] samples.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::cost::WindowCost;
use super::parents::PeerRate;
use super::rates::{PairRate, WindowFlowRate};
use super::stability::Stability;
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
    /// several; every sample is in the report's `samples`).
    pub sample: Option<SampleSummary>,
}

/// One [H] sample point (30 s by default, whole windows).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct SampleSummary {
    pub index: usize,
    pub start_unix_ns: u64,
    /// The observed length (rates are over it).
    pub len_ns: u64,
    /// Shorter than the sample period (the last sample).
    pub partial: bool,
    #[serde(flatten)]
    pub rates: SampleRates,
    /// As in [`WindowSummary::video_basis`].
    pub video_basis: VideoBasis,
    #[serde(skip)]
    pub video_shares: VideoShares,
    #[serde(flatten)]
    pub video_peers: VideoPeerCount,
}
