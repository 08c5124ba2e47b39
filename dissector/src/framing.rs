//! Where the next message of a TCP stream ends, from its first bytes: what
//! reassembly (`peerscope dissect`'s, and Wireshark's desegmentation in the
//! plugin) waits for. The TCP-borne messages are bootstrap HTTP (head, then
//! `Content-Length` or chunked body), a bare channel list (to `</root>`),
//! the length-prefixed TCP message of the DPI rules, and the 2005 peer lists
//! (whose counts give their lengths).

use crate::tcp_frame;
use crate::v2005::gossip::Gossip;
use crate::v2005::host_record::HostRecord;
use crate::v2005::tracker_reply::TrackerReply;
use crate::v2005::{self, MAX_HOSTS};

/// The longest message waited for; longer ones are not control messages.
pub const MAX_MESSAGE: usize = 256 * 1024;

/// What the bytes at the start of a stream are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// A whole message of this many bytes.
    Message(usize),
    /// The start of a message: `Some(n)` more bytes at least, or `None` when
    /// only more data can tell (e.g. the blank line of an HTTP head).
    NeedMore(Option<usize>),
    /// A whole message of `.0` bytes unless more bytes follow that do not
    /// start another message, in which case one of `.0 + .1` bytes (a 2005
    /// peer list whose two layouts' counts give different lengths, the
    /// shorter ending where the bytes do).
    MessageOrMore(usize, usize),
    /// Not the start of a message this crate frames.
    NotAMessage,
}

/// Frames the message at the start of `b`. For a 2005 peer list, whose
/// layout only its length tells, the message ends where a layout's count
/// says it does and that is where the bytes end or another message starts.
pub fn next_message(b: &[u8]) -> Framing {
    if b.is_empty() {
        return Framing::NeedMore(None);
    }
    if let Some(f) = http(b) {
        return f;
    }
    if let Some(f) = channel_list(b) {
        return f;
    }
    if let Some(f) = length_prefixed(b) {
        return f;
    }
    if let Some(f) = peer_list(b) {
        return f;
    }
    Framing::NotAMessage
}

/// True if `b` begins with a message's own marker: the whole start of an
/// HTTP message or channel list, the 2005 prefix, or the length-prefixed
/// message's markers. Where such bytes follow a message, it ended; and a
/// stream that begins with one is worth reassembling before its flow is
/// attributed.
pub fn starts_message(b: &[u8]) -> bool {
    let text = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b).trim_ascii_start();
    HTTP_STARTS.iter().any(|s| b.starts_with(s))
        || text.starts_with(b"<?xml")
        || text.starts_with(b"<root")
        || b.starts_with(&v2005::PREFIX)
        || tcp_frame::message_len(b).is_some()
}

/// True if `b` begins with a binary marker (the 2005 prefix, or the
/// length-prefixed message's markers, whole or cut after two of its magic
/// bytes): four fixed bytes or more, so rare in other traffic that waiting
/// for the rest of the message costs nothing.
pub fn starts_binary_message(b: &[u8]) -> bool {
    b.starts_with(&v2005::PREFIX)
        || tcp_frame::message_len(b).is_some()
        || (b.len() >= 10
            && b.len() < tcp_frame::MIN_LEN
            && b[4..6] == [0x21, 0x00]
            && prefix_of(&b[8..], &[0x98, 0xab, 0x01, 0x02]))
}

fn need(have: usize, want: usize) -> Framing {
    if want > MAX_MESSAGE {
        Framing::NotAMessage
    } else if have >= want {
        Framing::Message(want)
    } else {
        Framing::NeedMore(Some(want - have))
    }
}

/// `b` is a prefix of `pattern`, or starts with it.
fn prefix_of(b: &[u8], pattern: &[u8]) -> bool {
    let n = b.len().min(pattern.len());
    b[..n] == pattern[..n]
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

const HTTP_STARTS: [&[u8]; 6] = [b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE ", b"HTTP/1."];

fn http(b: &[u8]) -> Option<Framing> {
    if !HTTP_STARTS.iter().any(|s| prefix_of(b, s)) {
        return None;
    }
    let Some(head_end) = find(b, b"\r\n\r\n").map(|i| i + 4) else {
        return Some(if b.len() > MAX_MESSAGE { Framing::NotAMessage } else { Framing::NeedMore(None) });
    };
    let head = &b[..head_end];
    let header = |name: &str| {
        head.split(|&c| c == b'\n').skip(1).find_map(|l| {
            let colon = l.iter().position(|&c| c == b':')?;
            l[..colon].trim_ascii().eq_ignore_ascii_case(name.as_bytes()).then(|| l[colon + 1..].trim_ascii())
        })
    };
    if let Some(n) = header("content-length") {
        let n = core::str::from_utf8(n).ok().and_then(|s| s.parse::<usize>().ok());
        return Some(match n {
            Some(n) => need(b.len(), head_end.saturating_add(n)),
            None => Framing::Message(head_end),
        });
    }
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case(b"chunked")) {
        return Some(match find(&b[head_end..], b"0\r\n\r\n") {
            Some(i) => Framing::Message(head_end + i + 5),
            None if b.len() > MAX_MESSAGE => Framing::NotAMessage,
            None => Framing::NeedMore(None),
        });
    }
    // A request without a length has no body; a reply without one runs to
    // the end of the connection, so it is what has arrived.
    Some(Framing::Message(if b.starts_with(b"HTTP/") { b.len() } else { head_end }))
}

fn channel_list(b: &[u8]) -> Option<Framing> {
    let text = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b);
    let lead = b.len() - text.trim_ascii_start().len();
    let t = &b[lead..];
    if !(prefix_of(t, b"<?xml") || prefix_of(t, b"<root")) {
        return None;
    }
    Some(match find(b, b"</root>") {
        Some(i) => Framing::Message(i + 7 + b[i + 7..].iter().take_while(|c| c.is_ascii_whitespace()).count()),
        None if b.len() > MAX_MESSAGE => Framing::NotAMessage,
        None => Framing::NeedMore(None),
    })
}

fn length_prefixed(b: &[u8]) -> Option<Framing> {
    if b.len() < tcp_frame::MIN_LEN {
        // Only the markers say it is one; wait for them if what is there fits.
        let fits = b.len() <= 4
            || (prefix_of(&b[4..], &[0x21, 0x00]) && (b.len() <= 8 || prefix_of(&b[8..], &[0x98, 0xab, 0x01, 0x02])));
        return fits.then(|| Framing::NeedMore(Some(tcp_frame::MIN_LEN - b.len())));
    }
    tcp_frame::message_len(b).map(|want| need(b.len(), want))
}

/// The lengths a 2005 peer list starting `b` may have, by each layout's
/// count (`None` while the count has not arrived).
fn peer_list_lengths(b: &[u8]) -> [Option<usize>; 2] {
    let tracker = TrackerReply::new_checked(b)
        .ok()
        .map(|t| t.count() as usize)
        .filter(|&n| n <= MAX_HOSTS)
        .map(|n| TrackerReply::HEADER_LEN + HostRecord::LEN * n);
    let gossip = Gossip::new_checked(b).ok().map(|g| Gossip::HEADER_LEN + HostRecord::LEN * g.count() as usize);
    [tracker, gossip]
}

fn peer_list(b: &[u8]) -> Option<Framing> {
    if !prefix_of(b, &v2005::PREFIX) {
        return None;
    }
    let len = b.len();
    let lengths = peer_list_lengths(b);
    // A length that ends where another message starts.
    if let Some(n) = lengths.iter().flatten().copied().filter(|&n| n < len && starts_message(&b[n..])).min() {
        return Some(Framing::Message(n));
    }
    let [tracker, gossip] = lengths;
    // Bytes that end where the gossip count says, while the tracker count (a
    // u32, so rarely plausible by chance) says more: a tracker reply cut
    // there, or a gossip message; only what follows tells.
    if gossip == Some(len) {
        if let Some(t) = tracker.filter(|&t| t > len && t <= MAX_MESSAGE) {
            return Some(Framing::MessageOrMore(len, t - len));
        }
    }
    // A message that ends where the bytes do is whole: senders write one
    // message at a time, so a segment boundary is a message boundary.
    if tracker == Some(len) || gossip == Some(len) {
        return Some(Framing::Message(len));
    }
    // The next length a layout may end at: one its count gives, or where a
    // count that has not arrived yet would be complete.
    let fixed = [TrackerReply::HEADER_LEN, Gossip::HEADER_LEN];
    let longer = lengths.iter().zip(fixed).map(|(l, fixed)| l.unwrap_or(fixed)).filter(|&n| n > len).min();
    Some(match longer {
        Some(l) if l <= MAX_MESSAGE => Framing::NeedMore(Some(l - len)),
        _ => Framing::NotAMessage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v2005::gossip::tests::study_gossip;
    use crate::v2005::tracker_reply::tests::study_reply;

    #[test]
    fn test_http() {
        let req = b"GET /web/xml/all.xml HTTP/1.1\r\nHost: list.pplive.com\r\n\r\n";
        assert_eq!(next_message(req), Framing::Message(req.len()));
        assert_eq!(next_message(&req[..20]), Framing::NeedMore(None));
        assert_eq!(next_message(b"GE"), Framing::NeedMore(None));
        let rep = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcdeGET ";
        assert_eq!(next_message(&rep[..40]), Framing::NeedMore(Some(3)));
        assert_eq!(next_message(rep), Framing::Message(rep.len() - 4));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        assert_eq!(next_message(chunked), Framing::Message(chunked.len()));
        assert_eq!(next_message(&chunked[..chunked.len() - 3]), Framing::NeedMore(None));
    }

    #[test]
    fn test_channel_list() {
        let x = b"<?xml version=\"1.0\"?>\n<root><channel/></root>\n";
        assert_eq!(next_message(x), Framing::Message(x.len()));
        assert_eq!(next_message(&x[..30]), Framing::NeedMore(None));
    }

    #[test]
    fn test_length_prefixed() {
        let m = [0, 0, 0, 12, 0x21, 0x00, 5, 6, 0x98, 0xab, 0x01, 0x02, 1, 2, 3, 4];
        assert_eq!(next_message(&m), Framing::Message(16));
        assert_eq!(next_message(&m[..10]), Framing::NeedMore(Some(2)));
        assert_eq!(next_message(&m[..13]), Framing::NeedMore(Some(3)));
        assert_eq!(next_message(&[0, 0, 0, 12, 0x22]), Framing::NotAMessage);
        assert_eq!(next_message(&[0, 0, 0]), Framing::NeedMore(Some(9)));
        // Worth waiting for before attribution: four marker bytes at least.
        assert!(starts_binary_message(&m) && starts_binary_message(&m[..10]) && starts_binary_message(&m[..11]));
        assert!(!starts_binary_message(&m[..9]), "21 00 alone is two bytes");
        let mut off = m;
        off[9] = 0xac;
        assert!(!starts_binary_message(&off[..10]) && !starts_binary_message(&off[..11]));
        assert!(starts_binary_message(&[2, 0, 0, 2]) && !starts_binary_message(&[2, 0, 0]));
    }

    #[test]
    fn test_peer_lists() {
        let r = study_reply();
        assert_eq!(next_message(&r), Framing::Message(r.len()));
        assert_eq!(next_message(&r[..10]), Framing::NeedMore(Some(7)));
        assert!(matches!(next_message(&r[..300]), Framing::NeedMore(Some(_))));
        // Cut where the gossip count (byte 40 is 15) would end it: either.
        assert_eq!(next_message(&r[..311]), Framing::MessageOrMore(311, r.len() - 311));
        let g = study_gossip();
        assert_eq!(next_message(&g), Framing::Message(g.len()));
        assert_eq!(next_message(&g[..30]), Framing::NeedMore(Some(11)));
        // A tracker reply is whole where its count says, whatever the gossip view's count.
        let empty: Vec<u8> = r[..17].iter().enumerate().map(|(i, b)| if i >= 13 { 0 } else { *b }).collect();
        assert_eq!(next_message(&empty), Framing::Message(17));
        let mut three = r[..17 + 3 * 18].to_vec();
        three[16] = 3;
        assert_eq!(next_message(&three), Framing::Message(three.len()));
        // Two messages back to back: the first ends where the second starts.
        let mut two = g.clone();
        two.extend_from_slice(&r);
        assert_eq!(next_message(&two), Framing::Message(g.len()));
        // Bytes beyond every count, not followed by a message: not framable.
        let mut long = g.clone();
        long.extend_from_slice(&[0xff; 40]);
        assert_eq!(next_message(&long), Framing::NotAMessage);
        assert_eq!(next_message(b"\x17\x03\x03\x00\x10"), Framing::NotAMessage);
    }
}
