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
    pub fn new(iface: &str, window: WindowSummary) -> Self {
        WindowRecord { schema_version: SchemaVersion, document: WindowRecordTag, iface: iface.to_string(), window }
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
