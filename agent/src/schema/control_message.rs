//! What `peerscope dissect --json` prints: one line per PPLive/PPTV control
//! message of a capture, its decoded field tree (Wireshark style: dotted field
//! names, byte offsets) and its expert notes.

use std::borrow::Cow;

use peerscope_abi::FlowKey;
use peerscope_dissector::{App, Field, Generation, Note, Severity};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use super::common::{document, SchemaVersion};
use super::flow::FiveTuple;
use crate::control::ControlMessage;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ControlMessageDocument {
    pub schema_version: SchemaVersion,
    pub document: ControlMessageTag,
    /// 1-based number of the frame in the capture (the last segment of a
    /// reassembled message).
    pub frame: u64,
    pub time_unix_ns: u64,
    /// The flow that carried it (`tcp` or `udp`).
    #[serde(flatten)]
    pub key: FiveTuple,
    pub identification: MessageIdentification,
    pub status: MessageStatus,
    /// Bytes of the message when it was reassembled from several TCP segments.
    pub reassembled_bytes: Option<usize>,
    /// The decoded message; `null` when no layout fits.
    pub tree: Option<MessageTree>,
    /// Expert notes on the message (Wireshark's expert info).
    pub expert: Vec<ExpertNote>,
}

document!(ControlMessageDocument, ControlMessageTag, "control_message", "`peerscope dissect --json` (one per message)");

/// Which application the payload belongs to, and by which rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MessageIdentification {
    pub app: AppName,
    /// The DPI rule that matched (e.g. `pplive.udp.tracker_reply_2005`); `null`
    /// when none did and the payload was recognised by its layout alone.
    pub rule: Option<String>,
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
    /// A known layout fits: `tree` holds the message.
    Decoded,
    /// A DPI rule names the application, but no layout fits (`tree` is `null`).
    Identified,
}

/// A decoded message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MessageTree {
    /// The protocol generation it was decoded as.
    pub generation: MessageGeneration,
    /// The kind of message, e.g. `TrackerReply` (as in the report's `control.by_message`).
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
    /// The note's registered name, e.g. `pplive.host.private`.
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
    /// Message `m` of flow `key`, in frame `frame` at `time_unix_ns`.
    pub fn new(frame: u64, time_unix_ns: u64, key: &FlowKey, m: &ControlMessage, reassembled: Option<usize>) -> Self {
        let tree = m.tree.as_ref().map(|t| MessageTree {
            generation: match t.generation {
                Generation::Pplive2005 => MessageGeneration::Pplive2005,
                Generation::Pptv2010 => MessageGeneration::Pptv2010,
            },
            message: format!("{:?}", t.message),
            fields: t.fields.iter().map(TreeField::from).collect(),
        });
        ControlMessageDocument {
            schema_version: SchemaVersion,
            document: ControlMessageTag,
            frame,
            time_unix_ns,
            key: key.into(),
            identification: MessageIdentification {
                app: m.identification.app.into(),
                rule: m.identification.rule.map(|r| r.name().to_string()),
            },
            status: if tree.is_some() { MessageStatus::Decoded } else { MessageStatus::Identified },
            reassembled_bytes: reassembled,
            tree,
            expert: m.tree.iter().flat_map(|t| t.notes.iter().map(ExpertNote::from)).collect(),
        }
    }
}
