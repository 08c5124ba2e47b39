//! Invariant checks over arbitrary input, one per decoder. The fuzz targets
//! in `fuzz/` call these, and a normal test replays the committed corpus
//! through them, so the corpus runs without a nightly toolchain.
//!
//! Each check panics if an invariant breaks: a field outside the payload, an
//! unregistered field, or a strict parse whose `emit` does not reproduce it.

use crate::filter::Filter;
use crate::framing::{next_message, Framing};
use crate::identify::{identify, App, Transport};
use crate::stream::{Stream, MAX_HELD};
use crate::tree::Tree;
use crate::v2005::channel_list::{self, ChannelListRepr};
use crate::v2005::gossip::{Gossip, GossipRepr};
use crate::v2005::http::{HttpMessage, HttpRepr};
use crate::v2005::play_link::{self, PlayLinkRepr};
use crate::v2005::tracker_reply::{TrackerReply, TrackerReplyRepr};
use crate::v2010::live::{PeerPacket, PeerPacketRepr};
use crate::v2010::tracker::{TrackerPacket, TrackerRepr};
use crate::{dissect, dissect_claimed, ei, hf, Claim, Hint};

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
    ("reassembly", reassembly),
    ("filter", filter),
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

/// Input: byte 0 = the stream's length / 2, then that many stream bytes, then
/// segments of 4 bytes each (start offset u16 LE, length, flags: bit 0 SYN
/// first, bit 1 read what is in order after it). Whatever the segments'
/// order, overlaps and repeats, the reassembled bytes are a prefix of the
/// stream, read once each; every message framed in them lies inside them and
/// decodes without panicking.
pub fn reassembly(data: &[u8]) {
    let Some((&n, rest)) = data.split_first() else { return };
    let n = (usize::from(n) * 2).min(rest.len());
    let (stream, segs) = rest.split_at(n);
    if stream.is_empty() {
        return;
    }
    let isn = 0xffff_ff00u32; // sequence numbers wrap inside the stream
    let mut s = Stream::default();
    s.push(isn, true, b"");
    let mut read = Vec::new();
    let take = |s: &mut Stream, read: &mut Vec<u8>| {
        while let Framing::Message(m) | Framing::MessageOrMore(m, _) = next_message(s.data()) {
            assert!(m > 0 && m <= s.data().len(), "framed {m} of {} bytes", s.data().len());
            let claim = Claim { transport: crate::Transport::Tcp, full_len: m, own: None, flow: None };
            tree_is_sound(&dissect_claimed(&s.data()[..m], &claim), m);
            read.extend_from_slice(&s.data()[..m]);
            s.consume(m);
        }
    };
    for seg in segs.chunks_exact(4) {
        let start = usize::from(u16::from_le_bytes([seg[0], seg[1]])) % stream.len();
        let end = (start + usize::from(seg[2])).min(stream.len());
        s.push(isn.wrapping_add(1).wrapping_add(start as u32), false, &stream[start..end]);
        assert!(s.held() <= MAX_HELD);
        if seg[3] & 2 != 0 {
            take(&mut s, &mut read);
        }
    }
    read.extend_from_slice(s.data());
    assert!(stream.starts_with(&read), "reassembled bytes are not the stream's");
}

/// Input: a filter's text. A filter that parses prints as text that parses
/// back to it, and evaluates on real trees without panicking.
pub fn filter(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else { return };
    let Ok(f) = Filter::parse(text) else { return };
    let again = Filter::parse(&f.to_string()).unwrap_or_else(|e| panic!("{f} does not parse back: {e}"));
    assert_eq!(again, f);
    for sample in FILTER_SAMPLES {
        if let Ok(t) = dissect(sample, Hint::Auto) {
            let _ = f.matches(&t);
        }
    }
}

/// Messages the filter target evaluates on: a tracker reply, an HTTP request.
const FILTER_SAMPLES: &[&[u8]] = &[
    &[
        0x02, 0x00, 0x00, 0x02, 0x99, 0x58, 0x98, 0x00, 0x2d, 0x5a, 0x98, 0x00, 0x02, 0, 0, 0, 1, 0x3b, 0x40, 0xc6,
        0xfa, 0xa4, 0x0f, 0x48, 0x1f, 0, 0, 0, 0, 0x18, 0, 7, 0, 0x35, 0,
    ],
    b"GET /web/xml/all.xml HTTP/1.1\r\nHost: list.pplive.com\r\n\r\n",
];
