//! What `peerscope dissect --json` prints: one line per message of an
//! attributed flow (PPLive/PPTV control messages, SOPCast and PPStream
//! identifications), with the rule and evidence that attributed it, its
//! decoded field tree (Wireshark style: dotted field names, byte offsets) and
//! its expert notes; then one `dissect_summary` line.

use std::borrow::Cow;

use peerscope_dissector::{
    App, Attribution, Field, Generation, Identification, MessageKind, Note, Severity, Strength, Tree,
};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use super::common::{document, SchemaVersion};
use super::flow::{FiveTuple, FlowTunnel};
use crate::control::capture::Message;
use peerscope_abi::Tunnel;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ControlMessageDocument {
    pub schema_version: SchemaVersion,
    pub document: ControlMessageTag,
    /// 1-based number of the frame in the capture (for TCP, the frame whose
    /// segment completed the message).
    pub frame: u64,
    pub time_unix_ns: u64,
    /// The flow that carried it (`tcp` or `udp`), in the message's direction.
    #[serde(flatten)]
    pub key: FiveTuple,
    /// The tunnel the flow was carried in (`dissect --decap`): the 5-tuple is the
    /// inner one; `null` when it was not tunnelled.
    #[serde(default)]
    pub tunnel: Option<FlowTunnel>,
    /// What the message's own bytes matched.
    pub identification: MessageIdentification,
    /// Why its flow is shown: the rule and basis that attributed it.
    pub attribution: FlowAttribution,
    pub status: MessageStatus,
    /// TCP segments the message was reassembled from (1 for a datagram).
    pub tcp_segments: u32,
    /// Bytes of the message the capture holds.
    pub payload_bytes: usize,
    /// Its length on the wire: more than `payload_bytes` when the capture cut it.
    pub wire_payload_bytes: usize,
    /// The message as decoded: its layout, or its raw bytes when none fits.
    pub tree: MessageTree,
    /// Expert notes on the message (Wireshark's expert info).
    pub expert: Vec<ExpertNote>,
}

document!(ControlMessageDocument, ControlMessageTag, "control_message", "`peerscope dissect --json` (one per message)");

/// The rule a payload matched, and the bytes it matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MessageIdentification {
    pub app: AppName,
    /// The DPI rule that matched (e.g. `pplive.udp.tracker_reply_2005`); `null`
    /// when none did (a message of a flow other payloads attributed).
    pub rule: Option<String>,
    /// Whether the rule decides on one payload (`strong`) or needs its flow
    /// to corroborate it (`weak`); `null` with no rule.
    pub strength: Option<RuleStrength>,
    /// The bytes the rule matched; `null` with no rule.
    pub evidence: Option<Evidence>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleStrength {
    Strong,
    Weak,
}

/// A span of the payload, and what it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    pub offset_bytes: usize,
    pub len_bytes: usize,
    /// The bytes: quoted text when printable, else hex (at most 16 bytes, then `…`).
    pub text: String,
    /// What the rule looks for, from its text in METHODS §10.
    pub description: String,
}

/// What attributed the message's flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlowAttribution {
    pub app: AppName,
    /// The rule that attributed the flow; `null` when the user chose the port
    /// (`--decode-as`).
    pub rule: Option<String>,
    /// Why that rule suffices, e.g. "a strong rule matched".
    pub basis: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppName {
    Pplive,
    Sopcast,
    Ppstream,
    Unknown,
}

impl From<App> for AppName {
    fn from(a: App) -> Self {
        match a {
            App::PpLive => AppName::Pplive,
            App::SopCast => AppName::Sopcast,
            App::PpStream => AppName::Ppstream,
            App::Unknown => AppName::Unknown,
        }
    }
}

/// How far the message was understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// A known layout fits exactly.
    Decoded,
    /// Decoded, with a malformed-group expert note: a count that differs from
    /// the records present, a record cut short, a stream that ended early.
    Malformed,
    /// No layout fits exactly, or two do: shown raw with a note saying why.
    Undecoded,
    /// A SOPCast or PPStream payload: no public layout, only its identification.
    Identified,
}

/// A decoded message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MessageTree {
    /// The protocol generation it was decoded as; `null` for a message shown
    /// raw that could be of either, or of another application.
    pub generation: Option<MessageGeneration>,
    /// The kind of message, e.g. `TrackerReply` (as in the report's
    /// `control.by_message`); `Undecoded` (raw bytes) or `Identified`
    /// (SOPCast, PPStream).
    pub message: String,
    pub fields: Vec<TreeField>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum MessageGeneration {
    /// PPLive 2005 (also the bootstrap HTTP and the channel list).
    #[serde(rename = "2005")]
    Pplive2005,
    /// PPTV 2010.
    #[serde(rename = "2010")]
    Pptv2010,
}

/// One field of the tree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TreeField {
    /// Display-filter name, e.g. `pplive.host.ip` (for `dissect -Y`).
    pub name: String,
    pub label: String,
    /// Where in the payload, and how long.
    pub offset_bytes: usize,
    pub len_bytes: usize,
    pub value: FieldValue,
    pub children: Vec<TreeField>,
}

/// An expert note (Wireshark's expert info) on a span of the payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExpertNote {
    /// The note's registered name, e.g. `peerscope.expert.count_mismatch`.
    pub name: String,
    pub severity: NoteSeverity,
    pub text: String,
    pub offset_bytes: usize,
    pub len_bytes: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoteSeverity {
    Chat,
    Note,
    Warn,
    Error,
}

/// A field's value: `null` (a field that only groups others), a boolean, an
/// integer, or a string (text; IPv4 addresses dotted; GUIDs `{8-4-4-4-12}`;
/// bytes as lower-case hex).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldValue(pub serde_json::Value);

impl JsonSchema for FieldValue {
    fn schema_name() -> Cow<'static, str> {
        "FieldValue".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A field's value: null (a field that only groups others), a boolean, an integer, or a string (text; IPv4 addresses dotted; GUIDs {8-4-4-4-12}; bytes as lower-case hex).",
            "type": ["null", "boolean", "integer", "string"],
        })
    }
}

impl From<&Field> for TreeField {
    fn from(f: &Field) -> Self {
        TreeField {
            name: f.def.name.to_string(),
            label: f.def.label.to_string(),
            offset_bytes: f.offset,
            len_bytes: f.len,
            // The dissector's own serde form of a value is already plain JSON.
            value: FieldValue(serde_json::to_value(&f.value).unwrap_or(serde_json::Value::Null)),
            children: f.children.iter().map(TreeField::from).collect(),
        }
    }
}

impl From<&Note> for ExpertNote {
    fn from(n: &Note) -> Self {
        ExpertNote {
            name: n.def.name.to_string(),
            severity: match n.def.severity {
                Severity::Chat => NoteSeverity::Chat,
                Severity::Note => NoteSeverity::Note,
                Severity::Warn => NoteSeverity::Warn,
                Severity::Error => NoteSeverity::Error,
            },
            text: n.text.clone(),
            offset_bytes: n.offset,
            len_bytes: n.len,
        }
    }
}

impl ControlMessageDocument {
    /// Message `m`, decoded as `tree`, of a flow attributed by `attribution`.
    pub fn new(m: &Message, tree: &Tree, attribution: &Attribution) -> Self {
        ControlMessageDocument {
            schema_version: SchemaVersion,
            document: ControlMessageTag,
            frame: m.frame,
            time_unix_ns: m.ts_ns,
            key: (&m.key).into(),
            tunnel: Tunnel::from_u8(m.key.tunnel).map(FlowTunnel::from),
            identification: MessageIdentification::new(&m.identification, &m.bytes),
            attribution: FlowAttribution::new(attribution),
            status: MessageStatus::of(tree),
            tcp_segments: m.segments,
            payload_bytes: m.bytes.len(),
            wire_payload_bytes: m.full_len,
            tree: MessageTree {
                generation: tree.generation.map(|g| match g {
                    Generation::Pplive2005 => MessageGeneration::Pplive2005,
                    Generation::Pptv2010 => MessageGeneration::Pptv2010,
                }),
                message: format!("{:?}", tree.message),
                fields: tree.fields.iter().map(TreeField::from).collect(),
            },
            expert: tree.notes.iter().map(ExpertNote::from).collect(),
        }
    }
}

impl MessageIdentification {
    pub fn new(id: &Identification, payload: &[u8]) -> Self {
        MessageIdentification {
            app: id.app.into(),
            rule: id.rule.map(|r| r.name().to_string()),
            strength: id.rule.map(|r| match r.strength() {
                Strength::Strong => RuleStrength::Strong,
                Strength::Weak => RuleStrength::Weak,
            }),
            evidence: id.rule.map(|r| Evidence {
                offset_bytes: id.evidence.offset,
                len_bytes: id.evidence.len,
                text: id.evidence_text(payload),
                description: r.description().to_string(),
            }),
        }
    }
}

impl FlowAttribution {
    /// An attributed flow's (`Unknown` and `Pending` are never shown).
    pub fn new(a: &Attribution) -> Self {
        match a {
            Attribution::App { app, rule, basis } => FlowAttribution {
                app: (*app).into(),
                rule: Some(rule.name().to_string()),
                basis: basis.description().to_string(),
            },
            Attribution::DecodeAs => {
                FlowAttribution { app: AppName::Pplive, rule: None, basis: "decoded as PPLive by the user".to_string() }
            }
            Attribution::Unknown | Attribution::Pending(_) => {
                FlowAttribution { app: AppName::Unknown, rule: None, basis: "not attributed".to_string() }
            }
        }
    }
}

impl MessageStatus {
    pub fn of(tree: &Tree) -> Self {
        match tree.message {
            MessageKind::Identified => MessageStatus::Identified,
            MessageKind::Undecoded => MessageStatus::Undecoded,
            _ if tree.is_malformed() => MessageStatus::Malformed,
            _ => MessageStatus::Decoded,
        }
    }
}

/// The last line of `peerscope dissect --json`: what the capture held.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DissectSummaryDocument {
    pub schema_version: SchemaVersion,
    pub document: DissectSummaryTag,
    pub frames: u64,
    /// Frames with a UDP or TCP payload.
    pub frames_with_payload: u64,
    /// Messages read: datagrams, and TCP messages as reassembled.
    pub messages: u64,
    /// PPLive/PPTV control messages of attributed flows, malformed ones included.
    pub control_messages: u64,
    /// Of those, messages with a malformed-group expert note: a count that
    /// differs from the records, a record cut short, no layout or two fitting.
    pub malformed_messages: u64,
    pub sopcast_messages: u64,
    pub ppstream_messages: u64,
    /// Messages of flows nothing attributed (not shown).
    pub unknown_messages: u64,
    /// Of those, messages a weak rule matched that their flow never corroborated.
    pub unconfirmed_messages: u64,
    /// Messages printed (after `-Y`).
    pub shown_messages: u64,
}

document!(DissectSummaryDocument, DissectSummaryTag, "dissect_summary", "`peerscope dissect --json` (its last line)");
