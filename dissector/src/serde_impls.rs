//! Serialization of trees and identifications (feature `serde`), shaped for
//! JSON output: a field is `{name, label, offset, len, value, children}`, a
//! value is plain (numbers, strings; addresses and GUIDs as text, bytes as
//! hex).

use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;

use crate::flow::Attribution;
use crate::guid::Guid;
use crate::identify::{App, Identification, Rule, Span, Strength};
use crate::tree::{Field, MessageKind, Note, Severity, Tree, Value};
use crate::Generation;

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::None => s.serialize_none(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::U8(v) => s.serialize_u8(*v),
            Value::U16(v) => s.serialize_u16(*v),
            Value::U32(v) => s.serialize_u32(*v),
            Value::Ipv4(a) => s.collect_str(a),
            Value::Guid(g) => s.collect_str(g),
            Value::Bytes(b) => s.serialize_str(&b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
            Value::Str(t) => s.serialize_str(t),
        }
    }
}

impl Serialize for Field {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Field", 6)?;
        st.serialize_field("name", self.def.name)?;
        st.serialize_field("label", self.def.label)?;
        st.serialize_field("offset", &self.offset)?;
        st.serialize_field("len", &self.len)?;
        st.serialize_field("value", &self.value)?;
        st.serialize_field("children", &self.children)?;
        st.end()
    }
}

impl Serialize for Note {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Note", 5)?;
        st.serialize_field("name", self.def.name)?;
        st.serialize_field("severity", &self.def.severity)?;
        st.serialize_field("text", &self.text)?;
        st.serialize_field("offset", &self.offset)?;
        st.serialize_field("len", &self.len)?;
        st.end()
    }
}

impl Serialize for Tree {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Tree", 4)?;
        st.serialize_field("generation", &self.generation)?;
        st.serialize_field("message", &self.message)?;
        st.serialize_field("fields", &self.fields)?;
        st.serialize_field("notes", &self.notes)?;
        st.end()
    }
}

macro_rules! as_debug_name {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&format_args!("{self:?}"))
            }
        }
    )*};
}

as_debug_name!(MessageKind, Severity, App, Strength);

impl Serialize for Generation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            Generation::Pplive2005 => "2005",
            Generation::Pptv2010 => "2010",
        })
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Span", 2)?;
        st.serialize_field("offset", &self.offset)?;
        st.serialize_field("len", &self.len)?;
        st.end()
    }
}

impl Serialize for Identification {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Identification", 4)?;
        st.serialize_field("app", &self.app)?;
        st.serialize_field("rule", &self.rule)?;
        st.serialize_field("strength", &self.rule.map(|r| r.strength()))?;
        st.serialize_field("evidence", &self.rule.map(|_| self.evidence))?;
        st.end()
    }
}

impl Serialize for Attribution {
    /// `{"app", "rule", "basis"}`, or `null` when not attributed.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Attribution::App { app, rule, basis } => {
                let mut st = s.serialize_struct("Attribution", 3)?;
                st.serialize_field("app", app)?;
                st.serialize_field("rule", rule)?;
                st.serialize_field("basis", basis.description())?;
                st.end()
            }
            Attribution::DecodeAs => {
                let mut st = s.serialize_struct("Attribution", 3)?;
                st.serialize_field("app", &App::PpLive)?;
                st.serialize_field("rule", &None::<Rule>)?;
                st.serialize_field("basis", "decoded as PPLive by the user")?;
                st.end()
            }
            _ => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::v2005::tracker_reply::tests::study_reply;
    use crate::{dissect, identify, Hint, Transport};

    #[test]
    fn test_tree_json() {
        let tree = dissect(&study_reply(), Hint::Auto).unwrap();
        let json = serde_json::to_value(&tree).unwrap();
        assert_eq!(json["generation"], "2005");
        assert_eq!(json["message"], "TrackerReply");
        let reply = &json["fields"][0];
        assert_eq!(reply["name"], "pplive.tracker");
        assert_eq!(reply["children"][1]["value"], 50);
        let host = &reply["children"][2]["children"];
        assert_eq!(host[0]["value"], "59.64.198.250");
        assert_eq!(host[1]["value"], 4004);
        assert_eq!(host[3]["value"], "00000000180007003500");
    }

    #[test]
    fn test_identification_json() {
        let id = identify(Transport::Udp, 4004, 8000, &study_reply());
        let json = serde_json::to_value(id).unwrap();
        let n = study_reply().len();
        assert_eq!(
            json,
            serde_json::json!({"app": "PpLive", "rule": "pplive.udp.tracker_reply_2005", "strength": "Strong",
                               "evidence": {"offset": 0, "len": n}})
        );
    }
}
