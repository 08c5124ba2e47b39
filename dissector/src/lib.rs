//! Decoders, encoders and a Wireshark-style field tree for the control
//! messages of PPLive (2005-era, as decoded by measurement studies) and its
//! successor PPTV (2010-era UDP protocol), plus the public DPI rules that tell
//! PPLive, SOPCast and PPStream traffic apart.
//!
//! This crate operates on byte slices only: it does no I/O and has no
//! dependency on libpcap. A caller hands it the UDP or TCP payload.
//!
//! # Entry points
//!
//! * [`identify()`]`(proto, src_port, dst_port, payload) -> `[`Identification`]:
//!   a cheap heuristic naming the application and the rule that matched.
//! * [`dissect()`]`(payload, `[`Hint`]`) -> Result<`[`Tree`]`, `[`Error`]`>`: a
//!   tree of [`Field`]s (filter name, label, offset, length, typed
//!   [`Value`], children) and expert [`Note`]s, tagged with the
//!   [`Generation`] it was decoded as. With [`Hint::Auto`] only layouts that
//!   fit exactly are accepted; a specific hint decodes laxly and reports
//!   mismatches as notes.
//! * [`hf::ALL`] and [`ei::ALL`]: every field filter name (with label and
//!   value type) and every note kind, for registering Wireshark `hf`/`ei`.
//!
//! # Messages
//!
//! Each message module has a zero-copy view (`new_checked` validates length
//! once, after which accessors cannot panic), an owned `…Repr` with `parse`
//! and `emit` (`parse(emit(x)) == x`), and `to_tree`.
//!
//! | generation | module | view / repr |
//! |---|---|---|
//! | 2005 | [`v2005::host_record`] | [`HostRecord`] / [`HostRecordRepr`], [`HostRecords`] iterator |
//! | 2005 | [`v2005::tracker_reply`] | [`TrackerReply`] / [`TrackerReplyRepr`] |
//! | 2005 | [`v2005::gossip`] | [`Gossip`] / [`GossipRepr`] |
//! | 2005 | [`v2005::channel_list`] | [`ChannelListRepr`] (XML `all.xml`) |
//! | 2005 | [`v2005::play_link`] | [`PlayLinkRepr`] (`pplive://…`) |
//! | 2005 | [`v2005::http`] | [`HttpMessage`] / [`HttpRepr`] (bootstrap requests and replies) |
//! | 2010 | [`v2010::header`] | [`PptvHeader`] (checksum, action, transaction id) |
//! | 2010 | [`v2010::tracker`] | [`TrackerPacket`] / [`TrackerRepr`] (List, Leave, Report) |
//! | 2010 | [`v2010::peer_entry`] | [`PeerEntry`] / [`PeerEntryRepr`], [`PeerEntries`] iterator |
//! | 2010 | [`v2010::live`] | [`PeerPacket`] / [`PeerPacketRepr`] (live 0xC0–0xC3, VOD 0x50–0x5F header) |
//!
//! Channel, resource and peer IDs are [`Guid`]s: Windows byte order on the
//! wire, `{8-4-4-4-12}` as text, both ways.
//!
//! \[M\] is the PPLive/SOPCast measurement study whose hex dumps define the
//! 2005 layouts (summarised in the project's METHODS.md §8). The 2005 layouts
//! are observations of one capture: unknown bytes are kept
//! raw, and what does not fit is rejected rather than guessed at.
//!
//! # Strict and lax
//!
//! A `…Repr::parse` is strict: a count that disagrees with the records, a
//! record cut short or bytes after the last field are errors. The trees are
//! lax, like a Wireshark dissector: they show what is there and add a
//! [`Note`] (`peerscope.expert.count_mismatch`, `…truncated_record`,
//! `…private_address`, `…unknown_action`, …). [`Hint::Auto`] only decodes a
//! binary payload whose layout fits exactly (2005 messages must also start
//! `02 00 00 02`, as both dumps do; 2010 packets whose body is kept raw are
//! only decoded with [`Hint::Pptv2010`]).
//!
//! # For the Wireshark plugin
//!
//! Register one `hf` per [`hf::ALL`] entry ([`FieldDef::name`], `label`,
//! [`ValueKind`] → `FT_*`, [`Base`] → `BASE_*`, `vals` → `VALS()`); fields of
//! kind [`ValueKind::None`] are subtree nodes (give each an `ett`). Register
//! one `ei` per [`ei::ALL`] entry. Then map [`Tree::fields`] recursively with
//! `offset`/`len` and add [`Tree::notes`] as expert items. [`identify()`]
//! is the heuristic; [`Rule::name`] gives a stable name for counters.
//!
//! # For a simulator
//!
//! Build a `…Repr` and `emit` it; for the 2010 packets the checksum is
//! written as given (its algorithm is not confirmed publicly).
//!
//! ```
//! use peerscope_dissector::{Guid, GossipRepr, HostRecordRepr};
//! let cctv5: Guid = "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}".parse().unwrap();
//! let host = HostRecordRepr { ip: [59, 64, 198, 250].into(), udp_port: 4004, tcp_port: 8008, unknown: [0; 10] };
//! let msg = GossipRepr { header: [2, 0, 0, 2], channel: cctv5, unknown: [0; 20], hosts: vec![host] };
//! let mut datagram = Vec::new();
//! msg.emit(&mut datagram).unwrap();
//! assert_eq!(&datagram[4..8], &[0x10, 0x9a, 0x0f, 0x7d]);
//! assert_eq!(peerscope_dissector::v2005::gossip::parse(&datagram).unwrap(), msg);
//! ```
//!
//! # JSON
//!
//! With the default feature `serde`, [`Tree`] and [`Identification`]
//! serialize as plain JSON: fields as `{name, label, offset, len, value,
//! children}`, addresses and GUIDs as text, bytes as hex.
//!
//! # Fuzzing
//!
//! `dissector/fuzz/` holds one cargo-fuzz target per decoder; each calls a
//! function of [`check`], and a normal test replays the committed corpus
//! through the same functions.
//!
//! # Example
//! ```
//! use peerscope_dissector::{dissect, Hint, Value};
//! let mut reply = vec![0x02, 0x00, 0x00, 0x02, 0x99, 0x58, 0x98, 0x00, 0x2d, 0x5a, 0x98, 0x00, 0x02, 0, 0, 0, 1];
//! reply.extend_from_slice(&[0x3b, 0x40, 0xc6, 0xfa, 0xa4, 0x0f, 0x48, 0x1f, 0, 0, 0, 0, 0x18, 0, 7, 0, 0x35, 0]);
//! let tree = dissect(&reply, Hint::Auto).unwrap();
//! assert_eq!(tree.find("pplive.host.ip").unwrap().value, Value::Ipv4([59, 64, 198, 250].into()));
//! assert_eq!(tree.find("pplive.host.udp_port").unwrap().value, Value::U16(4004));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

pub mod addr;
pub mod check;
mod dissect;
pub mod ei;
pub mod error;
pub mod guid;
pub mod hf;
pub mod identify;
#[cfg(feature = "serde")]
mod serde_impls;
pub mod tree;
pub mod v2005;
pub mod v2010;
mod wire;

pub use dissect::{dissect, dissect_cut, Hint};
pub use error::{Error, Result};
pub use guid::{Guid, GuidParseError};
pub use identify::{identify, App, Identification, Rule, Transport};
pub use tree::{Base, Field, FieldDef, MessageKind, Note, NoteDef, Severity, Tree, Value, ValueKind};
pub use v2005::channel_list::{ChannelListRepr, ChannelRepr};
pub use v2005::gossip::{Gossip, GossipRepr};
pub use v2005::host_record::{HostRecord, HostRecordRepr, HostRecords};
pub use v2005::http::{Bootstrap, Header, HttpMessage, HttpRepr, StartLine, StartLineRepr};
pub use v2005::play_link::{PlayLinkRepr, TrackerAddr, TrackerTransport};
pub use v2005::tracker_reply::{TrackerReply, TrackerReplyRepr};
pub use v2010::header::{Action, PptvHeader};
pub use v2010::live::{PeerBody, PeerBodyRepr, PeerPacket, PeerPacketRepr, SubPieceInfo};
pub use v2010::peer_entry::{NatType, PeerEntries, PeerEntry, PeerEntryRepr};
pub use v2010::tracker::{RequestCommon, TrackerMessage, TrackerPacket, TrackerRepr};

/// The protocol generation a message was decoded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Generation {
    /// PPLive as observed in 2005–2006 captures (METHODS.md §8).
    Pplive2005,
    /// The PPTV UDP protocol of about 2010 (METHODS.md §11).
    Pptv2010,
}

impl core::fmt::Display for Generation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Generation::Pplive2005 => "2005-era PPLive",
            Generation::Pptv2010 => "2010-era PPTV",
        })
    }
}
