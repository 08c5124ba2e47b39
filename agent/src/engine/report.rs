//! The report of a run: the studies' figures of the monitored host, the `report`
//! of the report document ([`crate::schema::ReportDocument`], written by
//! `peerscope analyze --json`, `peerscope report --json` and the demo's
//! `analysis.json`).
//!
//! Every number is finite: a value that cannot be computed (a division by zero,
//! no geolocation, no playback rate) is `null`.
//!
//! ```text
//! host             [IP]                 addresses of X
//! config           ConfigEcho           every threshold in force
//! capture          CaptureSpan          first/last window and packet, counts
//! windows          [WindowSummary]      per Δ: rates, pairs, parents, children,
//!                                       stability {s_n, x_n, note}, cost
//! samples          [SampleSummary]      per [H] sample: video/all rates, video peers,
//!                                       started/stopped/changed
//! family           FamilySummary        contacted hosts, ever parent/child, fractions,
//!                                       upload/download bytes and ratio
//! stability        StabilitySummary     mean S_n, X_n; windows with no parent
//! sessions         SessionSummary       video vs signaling, video traffic, CCDFs
//! peers            PeerSummary          total/active IPs, top-peer shares
//! video_peers_ever int
//! sizes            SizeSummary          class counts, size CDF, control byte share
//! cost             CostSummary          located fraction, costs in miles per byte
//! continents       [RegionRow]          Asia / North America / Other shares
//! redundancy       Redundancy | null    only with a playback rate
//! startup          StartupDelay | null  only with a playback rate
//! flows            [Flow]               lifetime totals and duration of every flow
//! ```

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::config::ConfigEcho;
use super::continent::RegionRow;
use super::cost::CostSummary;
use super::parents::FamilySummary;
use super::peers::PeerSummary;
use super::redundancy::Redundancy;
use super::sessions::SessionSummary;
use super::sizes::SizeSummary;
use super::stability::StabilitySummary;
use super::startup::StartupDelay;
use super::summary::{SampleSummary, WindowSummary};
use crate::schema::Flow;

/// Time covered by the run.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct CaptureSpan {
    /// Start of the first window and end of the last, Unix ns (0 when no window).
    pub start_unix_ns: u64,
    pub end_unix_ns: u64,
    pub duration_s: f64,
    /// First and last packet seen (Unix ns); `null` when there was none.
    pub first_packet_unix_ns: Option<u64>,
    pub last_packet_unix_ns: Option<u64>,
    /// Windows and [H] samples of the run (a live agent's report lists the most
    /// recent ones: `--history`).
    pub windows: usize,
    pub samples: usize,
    /// Flows of the run. Offline, `flows` lists every one; a live agent lists the
    /// flows active within its linger and the largest ones it retired (the totals
    /// still count them all).
    #[serde(default)]
    pub flows: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// Addresses of the monitored host X.
    pub host: Vec<IpAddr>,
    pub config: ConfigEcho,
    pub capture: CaptureSpan,
    pub windows: Vec<WindowSummary>,
    pub samples: Vec<SampleSummary>,
    pub family: FamilySummary,
    pub stability: StabilitySummary,
    pub sessions: SessionSummary,
    pub peers: PeerSummary,
    pub video_peers_ever: usize,
    pub sizes: SizeSummary,
    pub cost: CostSummary,
    pub continents: Vec<RegionRow>,
    pub redundancy: Option<Redundancy>,
    pub startup: Option<StartupDelay>,
    pub flows: Vec<Flow>,
}
