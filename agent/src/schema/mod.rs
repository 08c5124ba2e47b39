//! Every document peerscope prints or writes, as serde types, and their JSON Schema
//! (draft 2020-12; `peerscope schema`).
//!
//! | document | type | written by |
//! |---|---|---|
//! | `report` | [`ReportDocument`] | `analyze --json`, `report --json` (and the pinned file it reads), the demo's `analysis.json` |
//! | `interval` | [`IntervalDocument`] | `run --json`, one line per interval |
//! | `window_record`, `peer_record` | [`WindowRecord`], [`PeerRecord`] | `run --jsonl` |
//! | `flows` | [`FlowsDocument`] | `flows --json` |
//! | `status` | [`StatusDocument`] | `status --json` |
//! | `control_message` | [`ControlMessageDocument`] | `dissect --json`, one line per message |
//! | `demo_record`, `demo_topology` | [`DemoRecord`], [`DemoTopology`] | the demo's `report.json`, `topology.json` |
//!
//! Conventions, the same in every document:
//! - Each starts with `schema_version` ([`SCHEMA_VERSION`]) and `document` (its name
//!   above), so a line of a mixed stream says what it is.
//! - A name says its unit: `_bytes`, `_bytes_per_s`, `_packets`, `_s`, `_ns` (a
//!   duration), `_unix_ns` (an instant: nanoseconds since the Unix epoch),
//!   `_kbit_per_s` (1000 bit/s), `_deg`, `_miles_per_byte`; `_fraction`, `_share`
//!   and `_ratio` are plain ratios. Bytes are IP bytes (sums of IP total lengths)
//!   unless the name says `payload`.
//! - An address is a string holding one IP address (IPv6 compressed; IPv4-mapped
//!   IPv6 written as IPv4), never `ip:port`; its port is a separate integer.
//!   Endpoints are `src_ip`/`src_port`, `dst_ip`/`dst_port`; a tracker is
//!   `ip`/`port`; a host named by its role is that role (`host`, `peer`).
//! - A protocol is `protocol` (`tcp`, `udp`, `icmp`, `icmpv6`, `ip<N>`) with
//!   `ip_protocol`, its number.
//! - A flow ([`Flow`]) and a window ([`WindowSummary`]) have one shape wherever they
//!   appear; the report is always nested under `report`, beside `source` and
//!   `control`.
//! - Every number is finite; what cannot be computed is `null`.
//!
//! The metric output types live in their metric modules (one metric, one place)
//! and are re-exported here.

pub mod common;
pub mod control_message;
pub mod demo;
pub mod flow;
pub mod flows;
pub mod interval;
pub mod records;
pub mod report;
pub mod status;

#[cfg(feature = "test-support")]
pub mod check;

use schemars::{generate::SchemaSettings, Schema, SchemaGenerator};

pub use common::{ClassCounts, Document, Location, SchemaVersion, SCHEMA_VERSION};
pub use control_message::ControlMessageDocument;
pub use demo::{DemoRecord, DemoTopology};
pub use flow::{FiveTuple, Flow, FlowCounts, FlowDirection};
pub use flows::{FlowsDocument, KernelCounters};
pub use interval::IntervalDocument;
pub use records::{PeerRecord, WindowRecord};
pub use report::{ReportDocument, ReportSource};
pub use status::StatusDocument;

pub use crate::control::ledger::{Channel, ControlSummary, Tracker};
pub use crate::engine::{
    config::ConfigEcho, continent::RegionRow, cost::CostSummary, cost::WindowCost, parents::FamilySummary,
    parents::PeerRate, peers::PeerSummary, peers::TopShare, rates::PairRate, redundancy::Redundancy,
    report::CaptureSpan, sessions::SessionSummary, sizes::SizeSummary, stability::Stability,
    stability::StabilitySummary, startup::StartupDelay, video_peers::VideoPeerCount, video_rates::SampleRates, Report,
    SampleSummary, WindowSummary,
};
pub use crate::live::manage::Status;
pub use crate::offline::{capture::Damage, infer::HostGuess, ReadStats};

/// A document's name, who writes it, and its schema.
pub struct DocumentInfo {
    pub name: &'static str,
    pub written_by: &'static str,
    reference: fn(&mut SchemaGenerator) -> Schema,
    root: fn(SchemaGenerator) -> Schema,
}

const fn info<D: Document>() -> DocumentInfo {
    DocumentInfo {
        name: D::NAME,
        written_by: D::WRITTEN_BY,
        reference: SchemaGenerator::subschema_for::<D>,
        root: SchemaGenerator::into_root_schema_for::<D>,
    }
}

/// Every document, in the order `peerscope schema` lists them.
pub const DOCUMENTS: &[DocumentInfo] = &[
    info::<ReportDocument>(),
    info::<IntervalDocument>(),
    info::<WindowRecord>(),
    info::<PeerRecord>(),
    info::<FlowsDocument>(),
    info::<StatusDocument>(),
    info::<ControlMessageDocument>(),
    info::<DemoRecord>(),
    info::<DemoTopology>(),
];

/// Outputs are described as they are written (`null` fields present, skipped ones
/// optional).
fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12().for_serialize().into_generator()
}

/// The JSON Schema of every document: `oneOf` them, each in `$defs`.
pub fn json_schema() -> serde_json::Value {
    let mut g = generator();
    let one_of: Vec<serde_json::Value> = DOCUMENTS
        .iter()
        .map(|d| {
            let mut r = (d.reference)(&mut g).to_value();
            r["description"] = format!("`{}`: {}", d.name, d.written_by).into();
            r
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("peerscope output documents, schema version {SCHEMA_VERSION}"),
        "description": "Every JSON document peerscope prints or writes; its `document` field says which.",
        "oneOf": one_of,
        "$defs": g.take_definitions(true),
    })
}

/// The JSON Schema of one document, by name; `None` for an unknown name.
pub fn document_schema(name: &str) -> Option<serde_json::Value> {
    DOCUMENTS.iter().find(|d| d.name == name).map(|d| (d.root)(generator()).to_value())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{sizes::SizeBucketKind, stability::StabilityNote, startup::SelectionRule};

    #[test]
    fn test_every_document_has_a_unique_name_and_a_schema() {
        let full = json_schema();
        assert_eq!(full["oneOf"].as_array().map(Vec::len), Some(DOCUMENTS.len()));
        for (i, d) in DOCUMENTS.iter().enumerate() {
            assert!(DOCUMENTS[..i].iter().all(|e| e.name != d.name), "{} twice", d.name);
            let s = document_schema(d.name).unwrap();
            assert_eq!(s["properties"]["document"]["const"], d.name);
            assert_eq!(s["properties"]["schema_version"]["const"], SCHEMA_VERSION);
        }
        assert!(document_schema("nonesuch").is_none());
    }

    /// The text and CSV writers print these names; JSON must say the same.
    #[test]
    fn test_names_of_enums_are_their_json() {
        let same = |json: serde_json::Value, name: &str| assert_eq!(json, name);
        for r in [SelectionRule::TcpPort80, SelectionRule::FirstPacket] {
            same(serde_json::to_value(r).unwrap(), r.name());
        }
        for b in [SizeBucketKind::Ack, SizeBucketKind::Control, SizeBucketKind::Data, SizeBucketKind::Large] {
            same(serde_json::to_value(b).unwrap(), b.name());
        }
        for n in [StabilityNote::FirstWindow, StabilityNote::EmptyParentSet] {
            same(serde_json::to_value(n).unwrap(), n.name());
        }
        for d in [FlowDirection::Download, FlowDirection::Upload, FlowDirection::Other] {
            same(serde_json::to_value(d).unwrap(), d.name());
        }
    }
}
