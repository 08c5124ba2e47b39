//! What `peerscope demo` writes beside its report document (`analysis.json`):
//! `report.json`, the monitored peer's measured bytes against the swarm's ground
//! truth, and `topology.json`, the namespaces it made.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{document, SchemaVersion};
use crate::engine::WindowSummary;

/// How a peer of the swarm is connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeerProfile {
    /// Uploads up to 10 Mbit/s, takes up to 20 children.
    Campus,
    /// Uploads 512 kbit/s, a few children.
    Residential,
    /// Accepts no connection, so uploads nothing.
    Nat,
}

/// Where a demo host sits (by its documentation prefix).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DemoRegion {
    Asia,
    NorthAmerica,
    Europe,
}

/// `report.json`: per peer and direction, the TCP payload bytes peerscope measured
/// on the monitored peer's interface against what the swarm wrote (its ground
/// truth) and what the kernel retransmitted; they match when measured = truth +
/// retransmitted.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct DemoRecord {
    pub schema_version: SchemaVersion,
    pub document: DemoRecordTag,
    pub monitored: IpAddr,
    pub profile: PeerProfile,
    /// Peers in the swarm, the monitored one included, and who they were.
    pub peers: usize,
    /// Gossip-only hosts beside the peers: idle hosts of the channel that answer
    /// the tracker and gossip but exchange no video.
    pub gossip_only_hosts: usize,
    pub cast: Vec<CastMember>,
    /// The channel's playback rate.
    pub bitrate_bits_per_s: u64,
    pub duration_s: f64,
    /// The engine's windows, as in `analysis.json`'s report.
    pub windows: Vec<WindowSummary>,
    pub per_peer: Vec<PeerTruth>,
    #[serde(flatten)]
    pub totals: PayloadTruth,
    /// Every peer matches.
    pub all_match: bool,
    /// The studies' headline figures beside this run's ([M], [H]).
    pub studies: Vec<StudyFigure>,
}

document!(DemoRecord, DemoRecordTag, "demo_record", "`peerscope demo`: `report.json`");

/// TCP payload bytes measured, written by the swarm (truth) and retransmitted by
/// the kernel, per direction seen from the monitored peer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PayloadTruth {
    pub measured_up_payload_bytes: u64,
    pub truth_up_payload_bytes: u64,
    pub retransmitted_up_bytes: u64,
    pub measured_down_payload_bytes: u64,
    pub truth_down_payload_bytes: u64,
    pub retransmitted_down_bytes: u64,
}

impl PayloadTruth {
    /// measured == truth + retransmitted, both directions.
    pub fn matches(&self) -> bool {
        self.measured_up_payload_bytes == self.truth_up_payload_bytes + self.retransmitted_up_bytes
            && self.measured_down_payload_bytes == self.truth_down_payload_bytes + self.retransmitted_down_bytes
    }

    pub fn add(&mut self, o: &PayloadTruth) {
        self.measured_up_payload_bytes += o.measured_up_payload_bytes;
        self.truth_up_payload_bytes += o.truth_up_payload_bytes;
        self.retransmitted_up_bytes += o.retransmitted_up_bytes;
        self.measured_down_payload_bytes += o.measured_down_payload_bytes;
        self.truth_down_payload_bytes += o.truth_down_payload_bytes;
        self.retransmitted_down_bytes += o.retransmitted_down_bytes;
    }
}

/// One host the monitored peer exchanged with.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct PeerTruth {
    pub ip: IpAddr,
    pub city: Option<String>,
    pub region: Option<DemoRegion>,
    #[serde(flatten)]
    pub payload: PayloadTruth,
    /// measured == truth + retransmitted, both directions.
    pub matches: bool,
    pub windows_as_parent: usize,
    pub windows_as_child: usize,
}

/// One peer of the swarm as planned.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct CastMember {
    pub ip: IpAddr,
    pub profile: PeerProfile,
    pub city: Option<String>,
    /// Seconds after the start when it joined, and left (`null`: stayed).
    pub join_s: f64,
    pub leave_s: Option<f64>,
}

/// One headline figure of the studies ([M] or [H]) beside the same figure of this
/// run's monitored peer, from the engine's report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StudyFigure {
    pub figure: String,
    /// Which study and section reported it, e.g. `[M] §III-D`.
    pub study: String,
    /// The study's value as it states it, e.g. `3–5` or `~50%`.
    pub study_value: String,
    /// The figure agrees when this run's value lies in `[agree_min, agree_max]` (in
    /// `unit`; either end `null`: open).
    pub agree_min: Option<f64>,
    pub agree_max: Option<f64>,
    /// This run's value (`null`: the run cannot show it; `note` says why).
    pub value: Option<f64>,
    /// `count`, `%`, `s`, `ratio` (upload per downloaded byte) or `miles/byte`.
    pub unit: String,
    pub verdict: StudyVerdict,
    pub note: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StudyVerdict {
    Agrees,
    Differs,
    /// The run has no value for it (too short, nothing measured).
    NotShown,
}

/// `topology.json`: what the demo made, so that a test can check it is all gone.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct DemoTopology {
    pub schema_version: SchemaVersion,
    pub document: DemoTopologyTag,
    /// The demo process; its network namespaces (inode numbers); the interface
    /// peerscope attached to in the monitored peer's namespace.
    pub pid: u32,
    pub netns_inodes: Vec<u64>,
    pub host_interface: String,
    pub hosts: Vec<DemoHost>,
    /// Gossip-only hosts, all local addresses of one more namespace (in
    /// `netns_inodes`).
    pub gossip_only_hosts: usize,
}

document!(DemoTopology, DemoTopologyTag, "demo_topology", "`peerscope demo`: `topology.json`");

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct DemoHost {
    /// Name of its namespace's part (`peer0` is the monitored one).
    pub name: String,
    pub ip: IpAddr,
}
