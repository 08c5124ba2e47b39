//! What `peerscope run --jsonl` appends for log shippers: one window record per
//! window, then one peer record per peer of that window.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{document, SchemaVersion};
use crate::engine::rates::PairRate;
use crate::engine::WindowSummary;

/// The engine's figures of one window, as in the report's `windows`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct WindowRecord {
    pub schema_version: SchemaVersion,
    pub document: WindowRecordTag,
    pub iface: String,
    pub window: WindowSummary,
    /// What the window's figures do not show by themselves.
    pub conditions: WindowConditions,
}

/// How a live window was measured: its nominal length, polls that ran late, what the
/// full flow table kept out of it, and whether it spans a restart or a lost interface.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WindowConditions {
    /// The window's length as configured (Δ, `--window`); the window's `len_ns` is
    /// its real length.
    pub nominal_len_ns: u64,
    /// Polls that ran late in this window (the loop never falls behind silently).
    pub missed_polls: u64,
    /// Packets, their IP bytes, and new flows the full flow table could not take in
    /// this window: in none of the window's figures.
    pub overflow_packets: u64,
    pub overflow_bytes: u64,
    pub flow_insert_failures: u64,
    /// The window began under an earlier agent (a restart, a crash): its counts
    /// continue that agent's, nothing is counted twice.
    pub after_restart: bool,
    /// The interface was gone for part of the window.
    pub interface_gone: bool,
}

document!(WindowRecord, WindowRecordTag, "window_record", "`peerscope run --jsonl` (one per window)");

/// One peer of a window: its host-pair rates (as in the window's `pairs`) and
/// whether it was a parent or a child.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct PeerRecord {
    pub schema_version: SchemaVersion,
    pub document: PeerRecordTag,
    pub iface: String,
    /// The window's `index`, `start_unix_ns` and `len_ns`.
    pub window_index: usize,
    pub window_start_unix_ns: u64,
    pub window_len_ns: u64,
    #[serde(flatten)]
    pub pair: PairRate,
    pub parent: bool,
    pub child: bool,
}

document!(PeerRecord, PeerRecordTag, "peer_record", "`peerscope run --jsonl` (one per peer of each window)");

impl WindowRecord {
    pub fn new(iface: &str, window: WindowSummary, conditions: WindowConditions) -> Self {
        WindowRecord {
            schema_version: SchemaVersion,
            document: WindowRecordTag,
            iface: iface.to_string(),
            window,
            conditions,
        }
    }

    /// The peer records of the window, in address order.
    pub fn peers(&self) -> impl Iterator<Item = PeerRecord> + '_ {
        let w = &self.window;
        w.pairs.iter().map(move |p| PeerRecord {
            schema_version: SchemaVersion,
            document: PeerRecordTag,
            iface: self.iface.clone(),
            window_index: w.index,
            window_start_unix_ns: w.start_unix_ns,
            window_len_ns: w.len_ns,
            pair: p.clone(),
            parent: w.parents.iter().any(|x| x.peer == p.peer),
            child: w.children.iter().any(|x| x.peer == p.peer),
        })
    }
}
