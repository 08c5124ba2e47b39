//! What `peerscope run --json` prints every interval: one line per poll of the
//! kernel table.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{document, ClassCounts, SchemaVersion};
use super::flow::Flow;
use super::flows::KernelCounters;
use crate::engine::WindowSummary;

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct IntervalDocument {
    pub schema_version: SchemaVersion,
    pub document: IntervalTag,
    pub iface: String,
    /// 1 for the first interval of the run.
    pub index: u64,
    /// When the table was read, and the nominal interval length (`--interval`).
    pub time_unix_ns: u64,
    pub interval_s: f64,
    /// Flows with packets in this interval; flows in the kernel table; flows
    /// retired for being idle at this poll.
    pub active_flows: usize,
    pub flows_in_table: usize,
    pub flows_reaped: usize,
    /// What every flow did in this interval, summed.
    pub traffic: ClassCounts,
    /// The busiest flows of the interval (`--top`), largest first.
    pub flows: Vec<Flow>,
    pub counters: KernelCounters,
    /// Control-packet samples the kernel sent in this interval, and how many of
    /// them decoded as a control message.
    pub control_samples: usize,
    pub control_messages: usize,
    /// The window this poll closed (`--window`), as in the report; `null` when it
    /// closed none.
    pub window: Option<WindowSummary>,
}

document!(IntervalDocument, IntervalTag, "interval", "`peerscope run --json` (one line per interval)");
