//! Invariant checks over arbitrary input, one per decoder. The fuzz targets
//! in `fuzz/` call these, and a normal test replays the committed corpus
//! through them, so the corpus runs without a nightly toolchain.
//!
//! Each check panics if an invariant breaks: a field outside the payload, an
//! unregistered field, or a strict parse whose `emit` does not reproduce it.

use crate::identify::{identify, App, Transport};
use crate::tree::Tree;
use crate::v2005::channel_list::{self, ChannelListRepr};
use crate::v2005::gossip::{Gossip, GossipRepr};
use crate::v2005::http::{HttpMessage, HttpRepr};
use crate::v2005::play_link::{self, PlayLinkRepr};
use crate::v2005::tracker_reply::{TrackerReply, TrackerReplyRepr};
use crate::v2010::live::{PeerPacket, PeerPacketRepr};
use crate::v2010::tracker::{TrackerPacket, TrackerRepr};
use crate::{dissect, ei, hf, Hint};

/// A check over arbitrary bytes.
pub type Check = fn(&[u8]);

/// Every check by target name (the names of the fuzz targets and of the
/// corpus directories).
pub const TARGETS: &[(&str, Check)] = &[
    ("tracker_reply_2005", tracker_reply_2005),
    ("gossip_2005", gossip_2005),
    ("channel_list", channel_list),
    ("play_link", play_link),
    ("http", http),
    ("pptv_tracker", pptv_tracker),
    ("pptv_peer", pptv_peer),
    ("identify", identify_rules),
    ("dissect", dissect_any),
];

/// Fields and notes lie inside the payload and are registered.
pub fn tree_is_sound(tree: &Tree, len: usize) {
    for f in tree.walk() {
        assert!(f.offset + f.len <= len, "{} at {}+{} outside {len} bytes", f.def.name, f.offset, f.len);
        assert!(hf::ALL.iter().any(|d| core::ptr::eq(*d, f.def)), "{} not registered", f.def.name);
        assert_eq!(f.def.kind, f.value.kind(), "{} has the wrong type", f.def.name);
    }
    for n in &tree.notes {
        assert!(n.offset + n.len <= len, "note {} outside the payload", n.def.name);
        assert!(ei::ALL.iter().any(|d| core::ptr::eq(*d, n.def)), "{} not registered", n.def.name);
    }
}

pub fn tracker_reply_2005(data: &[u8]) {
    if let Ok(v) = TrackerReply::new_checked(data) {
        tree_is_sound(&v.to_tree(), data.len());
        if let Ok(r) = TrackerReplyRepr::parse(&v) {
            let mut out = Vec::new();
            r.emit(&mut out);
            assert_eq!(out, data);
        }
    }
}

pub fn gossip_2005(data: &[u8]) {
    if let Ok(v) = Gossip::new_checked(data) {
        tree_is_sound(&v.to_tree(), data.len());
        if let Ok(r) = GossipRepr::parse(&v) {
            let mut out = Vec::new();
            r.emit(&mut out).expect("a parsed gossip message fits its count");
            assert_eq!(out, data);
        }
    }
}

pub fn channel_list(data: &[u8]) {
    if let Ok(t) = channel_list::to_tree(data) {
        tree_is_sound(&t, data.len());
    }
    if let Ok(r) = ChannelListRepr::parse(data) {
        let mut out = Vec::new();
        r.emit(&mut out);
        assert_eq!(ChannelListRepr::parse(&out).as_ref(), Ok(&r));
    }
}

pub fn play_link(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    if let Ok(f) = play_link::to_field(text, 0) {
        assert!(f.walk().all(|c| c.offset + c.len <= data.len()));
    }
    if let Ok(r) = PlayLinkRepr::parse(text) {
        assert_eq!(PlayLinkRepr::parse(&r.to_url()).as_ref(), Ok(&r));
    }
}

pub fn http(data: &[u8]) {
    if let Ok(m) = HttpMessage::parse(data) {
        tree_is_sound(&m.to_tree(), data.len());
    }
    if let Ok(r) = HttpRepr::parse(data) {
        let mut out = Vec::new();
        r.emit(&mut out);
        assert_eq!(HttpRepr::parse(&out).as_ref(), Ok(&r));
    }
}

pub fn pptv_tracker(data: &[u8]) {
    if let Ok(p) = TrackerPacket::new_checked(data) {
        tree_is_sound(&p.to_tree(), data.len());
        if let Ok(r) = TrackerRepr::parse(&p) {
            let mut out = Vec::new();
            r.emit(&mut out).expect("a parsed tracker packet can be emitted");
            assert_eq!(out, data);
        }
    }
}

pub fn pptv_peer(data: &[u8]) {
    if let Ok(p) = PeerPacket::new_checked(data) {
        tree_is_sound(&p.to_tree(), data.len());
        if let Ok(r) = PeerPacketRepr::parse(&p) {
            let mut out = Vec::new();
            r.emit(&mut out).expect("a parsed peer packet can be emitted");
            assert_eq!(out, data);
        }
    }
}

/// Input: byte 0 bit 0 = TCP, bytes 1..5 = source and destination port
/// (big-endian), the rest the payload.
pub fn identify_rules(data: &[u8]) {
    if data.len() < 5 {
        return;
    }
    let proto = if data[0] & 1 == 1 { Transport::Tcp } else { Transport::Udp };
    let sp = u16::from_be_bytes([data[1], data[2]]);
    let dp = u16::from_be_bytes([data[3], data[4]]);
    let id = identify(proto, sp, dp, &data[5..]);
    assert_eq!(id.rule.is_none(), id.app == App::Unknown);
    if let Some(r) = id.rule {
        assert_eq!(r.app(), id.app);
    }
}

pub fn dissect_any(data: &[u8]) {
    for hint in [
        Hint::Auto,
        Hint::TrackerReply2005,
        Hint::Gossip2005,
        Hint::ChannelList,
        Hint::PlayLink,
        Hint::Http,
        Hint::Pptv2010,
    ] {
        if let Ok(t) = dissect(data, hint) {
            tree_is_sound(&t, data.len());
            let _ = t.to_string();
        }
    }
}
