//! The report document: the studies' figures of one monitored host, what its
//! control messages taught, and where the traffic came from. One shape from
//! `analyze --json`, `report --json` (and the pinned file it reads) and the demo's
//! `analysis.json`.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{document, SchemaVersion};
use crate::control::ControlSummary;
use crate::engine::Report;
use crate::offline::{capture::Damage, infer::HostGuess, ReadStats};

/// `{schema_version, document: "report", source, report, control}`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ReportDocument {
    pub schema_version: SchemaVersion,
    pub document: ReportTag,
    pub source: ReportSource,
    /// The engine's figures.
    pub report: Report,
    /// The control messages decoded from the traffic ([M] §II-C,E).
    pub control: ControlSummary,
}

document!(
    ReportDocument,
    ReportTag,
    "report",
    "`peerscope analyze --json`, `peerscope report --json`, the demo's `analysis.json`"
);

impl ReportDocument {
    pub fn new(source: ReportSource, report: Report, control: ControlSummary) -> Self {
        ReportDocument { schema_version: SchemaVersion, document: ReportTag, source, report, control }
    }
}

/// Where the traffic of the report came from, by `kind`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReportSource {
    /// A capture file (`peerscope analyze`).
    Capture {
        /// The file as given on the command line.
        file: String,
        read: ReadStats,
        /// Where reading stopped early; `null` for an intact file.
        damage: Option<Damage>,
        /// The inferred monitored host; `null` when given with `--host`.
        host_guess: Option<HostGuess>,
    },
    /// A running agent (`peerscope run`; read with `peerscope report`).
    Live {
        iface: String,
        agent_pid: u32,
        /// When the report was written (at the end of a window).
        written_unix_ns: u64,
    },
    /// The monitored peer of `peerscope demo`.
    Demo {
        /// The interface peerscope attached to, inside the peer's namespace.
        iface: String,
        monitored: IpAddr,
    },
}
