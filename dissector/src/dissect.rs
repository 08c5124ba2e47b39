//! The single entry point from a payload to a [`Tree`].

use crate::ei;
use crate::error::{Error, GenerationSet, Result};
use crate::hf;
use crate::tree::{Field, MessageKind, Note, Tree, Value};
use crate::v2005::gossip::Gossip;
use crate::v2005::tracker_reply::TrackerReply;
use crate::v2005::{self, channel_list, http::HttpMessage, play_link};
use crate::v2010::header::PptvHeader;
use crate::v2010::live::{PeerBody, PeerPacket};
use crate::v2010::tracker::TrackerPacket;
use crate::Generation;

/// What the caller knows about the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hint {
    /// Decide from the bytes; binary layouts must fit exactly, and 2010
    /// packets whose body is kept raw (VOD, other live actions, Report
    /// requests) are only decoded when asked for with [`Hint::Pptv2010`].
    Auto,
    /// Force a 2005 tracker reply; missing or extra records become notes.
    TrackerReply2005,
    /// Force a 2005 gossip message; missing or extra records become notes.
    Gossip2005,
    /// Channel list XML.
    ChannelList,
    /// A bare `pplive://` link.
    PlayLink,
    /// A bootstrap HTTP request or reply.
    Http,
    /// Force the 2010 PPTV layout: unknown actions and short bodies become notes.
    Pptv2010,
}

const HTTP_STARTS: [&[u8]; 6] = [b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE ", b"HTTP/"];

/// Decodes `payload` (a UDP or TCP payload, or a file's content for the
/// channel list). Offsets in the tree are relative to `payload`.
pub fn dissect(payload: &[u8], hint: Hint) -> Result<Tree> {
    match hint {
        Hint::Auto => auto(payload),
        Hint::TrackerReply2005 => Ok(TrackerReply::new_checked(payload)?.to_tree()),
        Hint::Gossip2005 => Ok(Gossip::new_checked(payload)?.to_tree()),
        Hint::ChannelList => channel_list::to_tree(payload),
        Hint::PlayLink => play_link_tree(payload),
        Hint::Http => Ok(HttpMessage::parse(payload)?.to_tree()),
        Hint::Pptv2010 => pptv_lax(payload),
    }
}

fn auto(p: &[u8]) -> Result<Tree> {
    if HTTP_STARTS.iter().any(|s| p.starts_with(s)) {
        return Ok(HttpMessage::parse(p)?.to_tree());
    }
    let text = p.strip_prefix(b"\xef\xbb\xbf").unwrap_or(p).trim_ascii_start();
    if text.starts_with(b"<") {
        return channel_list::to_tree(p);
    }
    if text.starts_with(b"pplive://") {
        return play_link_tree(p);
    }
    let tree = match exact_binary_fit(p) {
        Some(MessageKind::TrackerReply) => Some(TrackerReply::new_checked(p)?.to_tree()),
        Some(MessageKind::Gossip) => Some(Gossip::new_checked(p)?.to_tree()),
        Some(MessageKind::PptvTracker) => Some(TrackerPacket::new_checked(p)?.to_tree()),
        Some(MessageKind::PptvLive) => Some(PeerPacket::new_checked(p)?.to_tree()),
        _ => None,
    };
    if let Some(t) = tree {
        return Ok(t);
    }
    Err(Error::NoLayout {
        generation: GenerationSet::Any,
        len: p.len(),
        reason: "no text or binary layout fits exactly",
    })
}

/// The binary layout that fits `p` exactly, if any; shared with
/// [`crate::identify`]. 2005 messages must also carry the `02 00 00 02`
/// prefix both of \[M\]'s dumps show. For 2010 packets only bodies with a
/// fully described layout count: a raw body (Report request, Leave
/// response, other live actions, VOD) would fit anything.
pub(crate) fn exact_binary_fit(p: &[u8]) -> Option<MessageKind> {
    if let Some(kind) = v2005::peer_list_fit(p, p.len()) {
        return Some(kind);
    }
    if let Ok(t) = TrackerPacket::new_checked(p) {
        return t.fits_described_layout().then_some(MessageKind::PptvTracker);
    }
    if let Ok(t) = PeerPacket::new_checked(p) {
        if matches!(t.body(), Ok(b) if !matches!(b, PeerBody::Raw(_))) {
            return Some(MessageKind::PptvLive);
        }
    }
    None
}

/// Decodes the first bytes of a payload of `full_len` bytes (a capture cut
/// at its snap length, or a kernel sample). A whole payload is
/// [`dissect`]ed with [`Hint::Auto`]. A cut one is decoded only as the 2005
/// peer list whose own count explains `full_len` exactly
/// ([`v2005::peer_list_fit`]), the records that are missing noted: no other
/// layout can be checked against bytes that are not there.
pub fn dissect_cut(captured: &[u8], full_len: usize) -> Result<Tree> {
    if captured.len() >= full_len {
        return dissect(&captured[..full_len], Hint::Auto);
    }
    match v2005::peer_list_fit(captured, full_len) {
        Some(MessageKind::TrackerReply) => Ok(TrackerReply::new_checked(captured)?.to_tree()),
        Some(MessageKind::Gossip) => Ok(Gossip::new_checked(captured)?.to_tree()),
        _ => Err(Error::NoLayout {
            generation: GenerationSet::One(Generation::Pplive2005),
            len: full_len,
            reason: "cut short, and no peer-list count explains the full length",
        }),
    }
}

fn play_link_tree(p: &[u8]) -> Result<Tree> {
    let text = core::str::from_utf8(p).map_err(|e| Error::Invalid {
        message: "PlayLink",
        field: "link",
        offset: e.valid_up_to(),
        reason: "not UTF-8".into(),
    })?;
    Ok(Tree {
        generation: Generation::Pplive2005,
        message: MessageKind::PlayLink,
        fields: vec![play_link::to_field(text, 0)?],
        notes: Vec::new(),
    })
}

/// The 2010 layout, laxly: known actions get their decoder's tree, unknown
/// ones the header, the raw body and a note.
fn pptv_lax(p: &[u8]) -> Result<Tree> {
    let h = PptvHeader::new_checked(p)?;
    let a = h.action();
    if a.is_tracker() {
        return Ok(TrackerPacket::new_checked(p)?.to_tree());
    }
    if a.is_live() || a.is_vod() {
        return Ok(PeerPacket::new_checked(p)?.to_tree());
    }
    let mut fields = h.to_fields();
    let body = h.payload();
    if !body.is_empty() {
        fields.push(Field::new(&hf::PPTV_BODY, PptvHeader::LEN, body.len(), Value::Bytes(body.to_vec())));
    }
    Ok(Tree {
        generation: Generation::Pptv2010,
        message: MessageKind::PptvOther,
        fields: vec![Field::subtree(&hf::PPTV, 0, p.len(), fields)],
        notes: vec![Note::new(
            &ei::UNKNOWN_ACTION,
            PptvHeader::ACTION.start,
            PptvHeader::ACTION.len(),
            format!("action 0x{:02x} is not known", u8::from(a)),
        )],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v2005::channel_list::tests::STUDY_XML;
    use crate::v2005::gossip::tests::study_gossip;
    use crate::v2005::play_link::tests::STUDY_LINK;
    use crate::v2005::tracker_reply::tests::study_reply;
    use proptest::prelude::*;

    #[test]
    fn test_auto_picks_each_message() {
        let cases: [(Vec<u8>, MessageKind, Generation); 5] = [
            (study_reply(), MessageKind::TrackerReply, Generation::Pplive2005),
            (study_gossip(), MessageKind::Gossip, Generation::Pplive2005),
            (STUDY_XML.as_bytes().to_vec(), MessageKind::ChannelList, Generation::Pplive2005),
            (STUDY_LINK.as_bytes().to_vec(), MessageKind::PlayLink, Generation::Pplive2005),
            (
                b"GET /web/xml/all.xml HTTP/1.1\r\nHost: list.pplive.com\r\n\r\n".to_vec(),
                MessageKind::HttpRequest,
                Generation::Pplive2005,
            ),
        ];
        for (p, kind, generation) in cases {
            let t = dissect(&p, Hint::Auto).unwrap();
            assert_eq!((t.message, t.generation), (kind, generation));
        }
        let live = [0, 0, 0, 0, 0xc0, 1, 0, 0, 0, 7, 1, 0, 0]
            .iter()
            .copied()
            .chain([0; 16])
            .chain([0; 12])
            .collect::<Vec<_>>();
        let t = dissect(&live, Hint::Auto).unwrap();
        assert_eq!((t.message, t.generation), (MessageKind::PptvLive, Generation::Pptv2010));
    }

    #[test]
    fn test_auto_rejects_near_misses() {
        let mut reply = study_reply();
        reply.pop();
        assert!(matches!(dissect(&reply, Hint::Auto), Err(Error::NoLayout { .. })));
        // Forced, the same bytes decode with notes.
        let t = dissect(&reply, Hint::TrackerReply2005).unwrap();
        assert_eq!(t.notes_named(ei::COUNT_MISMATCH.name).count(), 1);
        assert!(dissect(&[0xff; 30], Hint::Auto).is_err());
    }

    #[test]
    fn test_display_names_values() {
        let live = [0, 0, 0, 0, 0xc0, 1, 0, 0, 0, 7, 1, 0, 0].into_iter().chain([0; 28]).collect::<Vec<_>>();
        let text = dissect(&live, Hint::Auto).unwrap().to_string();
        assert!(text.contains("Action: 0xc0 (Live request-announce)"), "{text}");
        assert!(text.starts_with("PptvLive (2010-era PPTV)"), "{text}");
    }

    /// A capture cut at 128 bytes keeps the first records of a 50-host
    /// reply: its count explains the full length, so it is decoded, the
    /// missing records noted; one byte more or less is not explained.
    #[test]
    fn test_cut_peer_list_decoded_when_its_count_explains_the_length() {
        let full = study_reply();
        let t = dissect_cut(&full[..128], full.len()).unwrap();
        assert_eq!(t.message, MessageKind::TrackerReply);
        assert_eq!(t.find_all("pplive.host").count(), (128 - 17) / 18);
        assert_eq!(t.notes_named(ei::COUNT_MISMATCH.name).count(), 1);
        assert!(dissect_cut(&full[..128], full.len() + 1).is_err());
        assert!(dissect_cut(&full[..128], full.len() - 1).is_err());
        let g = study_gossip();
        assert_eq!(dissect_cut(&g[..50], g.len()).unwrap().message, MessageKind::Gossip);
        assert_eq!(dissect_cut(&full, full.len()).unwrap(), dissect(&full, Hint::Auto).unwrap());
        // Too short to hold the count, or not a 2005 prefix: nothing to go on.
        assert!(dissect_cut(&full[..16], full.len()).is_err());
        let mut other = full.clone();
        other[0] = 3;
        assert!(dissect_cut(&other[..128], other.len()).is_err());
    }

    #[test]
    fn test_unknown_action() {
        let p = [1, 2, 3, 4, 0x99, 5, 0, 0, 0, 0xaa, 0xbb];
        assert!(dissect(&p, Hint::Auto).is_err());
        let t = dissect(&p, Hint::Pptv2010).unwrap();
        assert_eq!(t.message, MessageKind::PptvOther);
        assert_eq!(t.notes[0].def.name, ei::UNKNOWN_ACTION.name);
        assert_eq!(t.find("pptv.action").unwrap().value, Value::U8(0x99));
    }

    /// Every field in every tree is registered, typed as registered and
    /// inside the payload.
    #[test]
    fn test_trees_use_registered_fields_within_payload() {
        let payloads = [study_reply(), study_gossip(), STUDY_XML.as_bytes().to_vec(), STUDY_LINK.as_bytes().to_vec()];
        for p in payloads {
            let t = dissect(&p, Hint::Auto).unwrap();
            for f in t.walk() {
                assert!(hf::ALL.iter().any(|d| core::ptr::eq(*d, f.def)), "{} not registered", f.def.name);
                assert_eq!(f.def.kind, f.value.kind(), "{}", f.def.name);
                assert!(f.offset + f.len <= p.len(), "{} out of bounds", f.def.name);
            }
            for n in &t.notes {
                assert!(ei::ALL.iter().any(|d| core::ptr::eq(*d, n.def)));
            }
        }
    }

    proptest! {
        #[test]
        fn prop_random_never_panics(b in proptest::collection::vec(any::<u8>(), 0..160)) {
            for hint in [Hint::Auto, Hint::TrackerReply2005, Hint::Gossip2005, Hint::ChannelList, Hint::PlayLink, Hint::Http, Hint::Pptv2010] {
                if let Ok(t) = dissect(&b, hint) {
                    for f in t.walk() {
                        prop_assert!(f.offset + f.len <= b.len(), "{} out of bounds", f.def.name);
                    }
                }
            }
        }
    }
}
