//! The messages of a capture's TCP streams: each direction reassembled (the
//! dissector's [`Stream`]: out-of-order segments held, retransmissions and
//! overlaps dropped) and cut into messages by the dissector's framing, so a
//! message that spans segments is decoded whole.

use std::collections::HashMap;

use peerscope_abi::FlowKey;
use peerscope_dissector::framing::{next_message, starts_message, Framing};
use peerscope_dissector::stream::{Pushed, Stream};

/// One segment of a direction.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    pub seq: u32,
    pub syn: bool,
    /// FIN or RST: nothing follows.
    pub end: bool,
    pub data: &'a [u8],
    /// The frame the segment came in.
    pub frame: u64,
}

/// A message cut from a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpMessage {
    pub bytes: Vec<u8>,
    /// Segments that carried its bytes.
    pub segments: u32,
    /// The frame whose segment completed it (or the last of its direction,
    /// when the stream ended first).
    pub frame: u64,
    /// The stream ended before the message did.
    pub cut_short: bool,
}

#[derive(Debug, Default)]
struct Direction {
    stream: Stream,
    /// Segments whose bytes wait in the stream.
    segments: u32,
    last_frame: u64,
}

impl Direction {
    fn take(&mut self, n: usize, frame: u64, cut_short: bool, out: &mut Vec<TcpMessage>) {
        let bytes = self.stream.data()[..n].to_vec();
        self.stream.consume(n);
        let segments = self.segments.max(1);
        // Bytes left over came in the last segment.
        self.segments = u32::from(!self.stream.data().is_empty());
        out.push(TcpMessage { bytes, segments, frame, cut_short });
    }

    /// Cuts every whole message off the start of the stream.
    fn drain(&mut self, frame: u64, out: &mut Vec<TcpMessage>) {
        while !self.stream.data().is_empty() {
            match next_message(self.stream.data()) {
                Framing::Message(n) => self.take(n, frame, false, out),
                Framing::NotAMessage => {
                    let n = self.stream.data().len();
                    self.take(n, frame, false, out);
                }
                Framing::NeedMore(_) | Framing::MessageOrMore(..) => break,
            }
        }
    }

    /// What is left when nothing more will come: a message a layout
    /// allows to end there is whole; anything else was cut short.
    fn flush(&mut self, frame: u64, out: &mut Vec<TcpMessage>) {
        if self.stream.data().is_empty() {
            return;
        }
        let whole = matches!(next_message(self.stream.data()), Framing::MessageOrMore(..));
        let n = self.stream.data().len();
        self.take(n, frame, !whole, out);
    }
}

/// Every TCP direction of a capture.
#[derive(Debug, Default)]
pub struct TcpStreams {
    dirs: HashMap<FlowKey, Direction>,
}

impl TcpStreams {
    /// Adds a segment of direction `key`; messages it completes go to `out`.
    pub fn push(&mut self, key: &FlowKey, seg: Segment<'_>, out: &mut Vec<TcpMessage>) {
        let d = self.dirs.entry(*key).or_default();
        let had = d.stream.data().len();
        let pushed = d.stream.push(seg.seq, seg.syn, seg.data);
        if pushed != Pushed::Dropped {
            d.segments += 1;
            d.last_frame = seg.frame;
        }
        // A message waiting for more bytes ended where a new one starts.
        let waiting = matches!(next_message(d.stream.data()), Framing::NeedMore(_) | Framing::MessageOrMore(..));
        if had > 0 && pushed == Pushed::InOrder && waiting && starts_message(&d.stream.data()[had..]) {
            let whole = matches!(next_message(&d.stream.data()[..had]), Framing::MessageOrMore(n, _) if n == had);
            d.segments -= 1;
            d.take(had, seg.frame, !whole, out);
            d.segments = 1;
        }
        d.drain(seg.frame, out);
        if seg.end {
            d.flush(seg.frame, out);
        }
    }

    /// The end of the capture: every direction's pending bytes, with its key.
    pub fn finish(&mut self, out: &mut Vec<(FlowKey, TcpMessage)>) {
        let mut keys: Vec<FlowKey> = self.dirs.keys().copied().collect();
        keys.sort_by_key(|k| self.dirs[k].last_frame);
        for key in keys {
            let d = self.dirs.get_mut(&key).expect("listed");
            let mut msgs = Vec::new();
            d.flush(d.last_frame, &mut msgs);
            out.extend(msgs.into_iter().map(|m| (key, m)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::flow::ipv4;

    fn key() -> FlowKey {
        FlowKey::new(6, ipv4(192, 0, 2, 1), 80, ipv4(192, 0, 2, 9), 50000)
    }

    fn seg(seq: u32, data: &[u8], frame: u64) -> Segment<'_> {
        Segment { seq, syn: false, end: false, data, frame }
    }

    const REPLY: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";

    #[test]
    fn test_out_of_order_retransmitted_overlapping_segments_join() {
        let mut t = TcpStreams::default();
        let mut out = Vec::new();
        t.push(&key(), Segment { seq: 999, syn: true, end: false, data: b"", frame: 1 }, &mut out);
        let (a, rest) = REPLY.split_at(20);
        let (b, c) = rest.split_at(15);
        t.push(&key(), seg(1000 + 35, c, 2), &mut out);
        t.push(&key(), seg(1000 + 18, &REPLY[18..30], 3), &mut out); // overlaps a and b
        t.push(&key(), seg(1000, a, 4), &mut out);
        t.push(&key(), seg(1000, a, 5), &mut out); // retransmission
        assert!(out.is_empty(), "{out:?}");
        t.push(&key(), seg(1020, b, 6), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].bytes, REPLY);
        assert_eq!((out[0].frame, out[0].cut_short), (6, false));
        assert!(out[0].segments >= 3, "{}", out[0].segments);
    }

    #[test]
    fn test_stream_that_ends_early_is_cut_short() {
        let mut t = TcpStreams::default();
        let mut out = Vec::new();
        t.push(&key(), seg(1, &REPLY[..30], 1), &mut out);
        let mut rest = Vec::new();
        t.finish(&mut rest);
        assert_eq!(rest.len(), 1);
        assert!(rest[0].1.cut_short);
        assert_eq!(rest[0].1.bytes, &REPLY[..30]);
    }

    #[test]
    fn test_bytes_that_start_no_message_pass_through() {
        let mut t = TcpStreams::default();
        let mut out = Vec::new();
        t.push(&key(), seg(1, &[0x17, 0x03, 0x03, 0x00, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9], 1), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].bytes.len(), 14);
    }
}
