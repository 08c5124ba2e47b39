//! Pieces several documents share: the version and name every document starts
//! with, packet and byte counts per size class, a location.

use std::borrow::Cow;

use peerscope_abi::{clock::Stamp, FlowStats, PacketClass};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bumped on any incompatible change of any document (a field renamed, moved,
/// removed or given another meaning); adding a field is a compatible change.
pub const SCHEMA_VERSION: u32 = 2;

/// The `schema_version` field: always [`SCHEMA_VERSION`]. Reading a document of
/// another version fails with both versions named.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchemaVersion;

impl Serialize for SchemaVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(SCHEMA_VERSION)
    }
}

impl<'de> Deserialize<'de> for SchemaVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = u32::deserialize(d)?;
        if v != SCHEMA_VERSION {
            return Err(serde::de::Error::custom(format!(
                "schema_version {v}: written by another version of peerscope (this one reads {SCHEMA_VERSION})"
            )));
        }
        Ok(SchemaVersion)
    }
}

impl JsonSchema for SchemaVersion {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "SchemaVersion".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Version of the output schema, the same for every document; bumped on any incompatible change.",
            "type": "integer",
            "const": SCHEMA_VERSION,
        })
    }
}

/// A document: a top-level JSON value peerscope prints or writes, named by its
/// `document` field.
pub trait Document: Serialize + for<'de> Deserialize<'de> + JsonSchema {
    /// The value of its `document` field (and the name `peerscope schema --document` takes).
    const NAME: &'static str;
    /// The commands and files that carry it.
    const WRITTEN_BY: &'static str;
}

/// Declares the zero-sized type of a document's `document` field and the
/// [`Document`] impl of the document.
macro_rules! document {
    ($doc:ty, $tag:ident, $name:literal, $written_by:literal) => {
        #[doc = concat!("The `document` field of [`", stringify!($doc), "`]: always `\"", $name, "\"`.")]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $tag;

        impl serde::Serialize for $tag {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($name)
            }
        }

        impl<'de> serde::Deserialize<'de> for $tag {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                if v != $name {
                    return Err(serde::de::Error::custom(format!(
                        "document {v:?}, expected {:?}",
                        $name
                    )));
                }
                Ok($tag)
            }
        }

        impl schemars::JsonSchema for $tag {
            fn inline_schema() -> bool {
                true
            }

            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($tag).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "description": "Which document this is.",
                    "type": "string",
                    "const": $name,
                })
            }
        }

        impl $crate::schema::common::Document for $doc {
            const NAME: &'static str = $name;
            const WRITTEN_BY: &'static str = $written_by;
        }
    };
}
pub(crate) use document;

/// Packets and IP bytes (sums of IP total lengths), in all and per size class
/// ([M] §II-D: ack = TCP without payload, control = below the data threshold,
/// data = the rest).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClassCounts {
    pub packets: u64,
    pub ack_packets: u64,
    pub control_packets: u64,
    pub data_packets: u64,
    pub bytes: u64,
    pub ack_bytes: u64,
    pub control_bytes: u64,
    pub data_bytes: u64,
}

impl ClassCounts {
    /// From per-class arrays indexed by [`PacketClass`].
    pub fn new(packets: [u64; 3], bytes: [u64; 3]) -> Self {
        let [ack, control, data] = [PacketClass::Ack, PacketClass::Control, PacketClass::Data].map(|c| c as usize);
        ClassCounts {
            packets: packets.iter().sum(),
            ack_packets: packets[ack],
            control_packets: packets[control],
            data_packets: packets[data],
            bytes: bytes.iter().sum(),
            ack_bytes: bytes[ack],
            control_bytes: bytes[control],
            data_bytes: bytes[data],
        }
    }
}

impl<T: Stamp> From<&FlowStats<T>> for ClassCounts {
    fn from(s: &FlowStats<T>) -> Self {
        ClassCounts::new(s.packets, s.bytes)
    }
}

/// A point on the Earth, in degrees (WGS 84).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Location {
    pub latitude_deg: f64,
    pub longitude_deg: f64,
}

impl From<(f64, f64)> for Location {
    fn from((latitude_deg, longitude_deg): (f64, f64)) -> Self {
        Location { latitude_deg, longitude_deg }
    }
}

/// Lower-case name of an IP protocol number: `tcp`, `udp`, `icmp`, `icmpv6`, else
/// `ip<N>`.
pub fn protocol_name(p: u8) -> String {
    match p {
        6 => "tcp".into(),
        17 => "udp".into(),
        1 => "icmp".into(),
        58 => "icmpv6".into(),
        n => format!("ip{n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_version_of_another_peerscope_is_refused_by_name() {
        assert_eq!(serde_json::to_string(&SchemaVersion).unwrap(), SCHEMA_VERSION.to_string());
        let e = serde_json::from_str::<SchemaVersion>("1").unwrap_err().to_string();
        assert!(e.contains("schema_version 1") && e.contains(&SCHEMA_VERSION.to_string()), "{e}");
    }

    #[test]
    fn test_class_counts_sum_the_classes() {
        let c = ClassCounts::new([1, 2, 3], [40, 500, 6000]);
        assert_eq!((c.packets, c.bytes, c.control_packets, c.data_bytes), (6, 6540, 2, 6000));
    }
}
