//! Which binary layout a payload has, decided by length arithmetic: a layout
//! fits when the counts and lengths it carries add up to exactly the
//! payload's length. The 2005 peer lists never both fit (their fixed parts,
//! 17 and 41 bytes, differ modulo the 18-byte record), nor do the 2010
//! tracker and peer packets (their action bytes differ); a 2005 message and
//! a 2010 packet can, and then neither is chosen.

use crate::tree::MessageKind;
use crate::v2005;
use crate::v2010::live::{PeerBody, PeerPacket};
use crate::v2010::tracker::TrackerPacket;

/// The binary layouts a whole payload fits exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExactFit {
    None,
    One(MessageKind),
    /// A 2005 layout and a 2010 one: the bytes cannot say which.
    Two(MessageKind, MessageKind),
}

impl ExactFit {
    pub fn contains(self, kind: MessageKind) -> bool {
        match self {
            ExactFit::None => false,
            ExactFit::One(k) => k == kind,
            ExactFit::Two(a, b) => a == kind || b == kind,
        }
    }
}

/// Every binary layout `p` fits exactly. 2005 messages must also carry the
/// `02 00 00 02` prefix both of \[M\]'s dumps show. For 2010 packets only
/// bodies with a fully described layout count: a raw body (Report request,
/// Leave response, other live actions, VOD) would fit anything.
pub fn exact_fits(p: &[u8]) -> ExactFit {
    let old = v2005::peer_list_fit(p, p.len());
    let new = pptv_2010_fit(p);
    match (old, new) {
        (Some(a), Some(b)) => ExactFit::Two(a, b),
        (Some(k), None) | (None, Some(k)) => ExactFit::One(k),
        (None, None) => ExactFit::None,
    }
}

fn pptv_2010_fit(p: &[u8]) -> Option<MessageKind> {
    if let Ok(t) = TrackerPacket::new_checked(p) {
        return t.fits_described_layout().then_some(MessageKind::PptvTracker);
    }
    let live = PeerPacket::new_checked(p).ok()?;
    matches!(live.body(), Ok(b) if !matches!(b, PeerBody::Raw(_))).then_some(MessageKind::PptvLive)
}

/// A short name of a layout for notes ("a 2005 tracker reply").
pub fn layout_name(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::TrackerReply => "a 2005 tracker reply",
        MessageKind::Gossip => "a 2005 gossip message",
        MessageKind::PptvTracker => "a 2010 tracker packet",
        MessageKind::PptvLive => "a 2010 live packet",
        MessageKind::PptvVod => "a 2010 VOD packet",
        MessageKind::ChannelList => "a channel list",
        MessageKind::PlayLink => "a PlayLink",
        MessageKind::HttpRequest => "a bootstrap request",
        MessageKind::HttpResponse => "a bootstrap reply",
        MessageKind::PptvOther => "a 2010 packet",
        MessageKind::TcpFrame => "a length-prefixed TCP message",
        MessageKind::Undecoded => "an undecoded message",
        MessageKind::Identified => "an identified payload",
    }
}
