//! The final report of a run: the stable JSON schema of `peerscope analyze --json`.
//!
//! Schema (version [`SCHEMA_VERSION`]); every number is finite: a value that cannot
//! be computed (a division by zero, no geolocation, no playback rate) is `null`.
//!
//! ```text
//! schema_version   1
//! host             [IP]                 addresses of X
//! config           ConfigEcho           every threshold in force
//! capture          {start_ns, end_ns, duration_s (of the window grid),
//!                   first_packet_ns, last_packet_ns, windows, samples}
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
//! flows            [FlowRecord]         lifetime totals and duration of every flow
//! input            (offline only)       {file, read counts, damage, host_guess}
//! ```

use std::net::IpAddr;

use serde::Serialize;

use super::config::ConfigEcho;
use super::continent::RegionRow;
use super::cost::CostSummary;
use super::flows::FlowRecord;
use super::parents::FamilySummary;
use super::peers::PeerSummary;
use super::redundancy::Redundancy;
use super::sessions::SessionSummary;
use super::sizes::SizeSummary;
use super::stability::StabilitySummary;
use super::startup::StartupDelay;
use super::summary::{SampleSummary, WindowSummary};

/// Bumped on any incompatible change of the JSON layout.
pub const SCHEMA_VERSION: u32 = 1;

/// Time covered by the run.
#[derive(Clone, Debug, Serialize)]
pub struct CaptureSpan {
    /// Start of the first window and end of the last, Unix ns (0 when no window).
    pub start_ns: u64,
    pub end_ns: u64,
    pub duration_s: f64,
    /// First and last packet seen (Unix ns); `null` when there was none.
    pub first_packet_ns: Option<u64>,
    pub last_packet_ns: Option<u64>,
    pub windows: usize,
    pub samples: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
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
    pub flows: Vec<FlowRecord>,
}
