//! One direction of a TCP connection, reassembled from its segments:
//! in-order bytes from the first sequence number on, whatever order the
//! segments arrived in. A segment ahead of the next expected byte is held
//! until the gap fills; retransmitted and overlapping bytes are dropped, the
//! copy that arrived first winning (as Wireshark's reassembly keeps it).
//!
//! Sequence numbers wrap at 2³²; the reassembler works in 64-bit stream
//! offsets from the first byte (the byte after the SYN, when the SYN was
//! seen). Without a SYN the first segment seen starts the stream, so a
//! segment before it is old data, dropped, unless nothing has been read yet
//! and it joins the stream's start.

use std::collections::BTreeMap;

/// Bytes held per direction, contiguous and waiting together; a stream that
/// holds more carries no message this crate can decode, and its oldest
/// bytes are dropped.
pub const MAX_HELD: usize = 256 * 1024;

/// How far ahead of the next expected byte a segment may start and still be
/// held.
pub const MAX_AHEAD: u64 = 1 << 20;

/// What [`Stream::push`] did with a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Some of its bytes were new and are now readable in order.
    InOrder,
    /// It starts after a gap: held until the gap fills.
    Held,
    /// Every byte had been seen (a retransmission), or it was too far off.
    Dropped,
}

/// One direction of a connection.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    /// Sequence number of stream offset 0.
    base: Option<u32>,
    /// Stream offset of `ready[0]`.
    read_at: u64,
    /// In-order bytes not yet consumed.
    ready: Vec<u8>,
    /// Segments past the end of `ready`, by stream offset; never overlapping.
    ahead: BTreeMap<u64, Vec<u8>>,
    held: usize,
    /// Bytes were consumed, so the start can no longer move back.
    consumed: bool,
    syn: bool,
}

impl Stream {
    /// The stream offset of sequence number `seq`, relative to the base:
    /// the nearest one to the read position (a signed 32-bit distance).
    fn offset_of(&self, base: u32, seq: u32) -> i64 {
        let here = self.end() as i64;
        let here_seq = base.wrapping_add(self.end() as u32);
        here + i64::from(seq.wrapping_sub(here_seq) as i32)
    }

    /// Stream offset just past `ready`.
    fn end(&self) -> u64 {
        self.read_at + self.ready.len() as u64
    }

    /// Adds a segment: `seq` is its sequence number, `syn` whether it
    /// carries the SYN flag (which takes one sequence number before the
    /// first byte).
    pub fn push(&mut self, seq: u32, syn: bool, data: &[u8]) -> Pushed {
        let seq = if syn { seq.wrapping_add(1) } else { seq };
        if syn && !self.syn {
            // A SYN fixes where the stream starts, even if data came first.
            self.syn = true;
            let before_data = self.base.is_none_or(|b| u64::from(b.wrapping_sub(seq)) <= MAX_AHEAD);
            if !self.consumed && before_data {
                self.rebase(seq);
            }
        }
        let base = *self.base.get_or_insert(seq);
        if data.is_empty() {
            return Pushed::Dropped;
        }
        let mut at = self.offset_of(base, seq);
        let mut data = data;
        if at < self.read_at as i64 && !self.consumed && !self.syn {
            // Before the first byte seen, with nothing read yet: the stream
            // started earlier than the capture showed.
            let back = (self.read_at as i64 - at) as u64;
            if back <= MAX_AHEAD {
                self.rebase(seq);
                at = self.read_at as i64;
            }
        }
        let end = self.end() as i64;
        if at < end {
            // Old bytes: keep only what lies past what we have.
            let seen = (end - at) as usize;
            if seen >= data.len() {
                return Pushed::Dropped;
            }
            data = &data[seen..];
            at = end;
        }
        let at = at as u64;
        if at - self.end() > MAX_AHEAD {
            return Pushed::Dropped;
        }
        let pushed = if at == self.end() {
            self.ready.extend_from_slice(data);
            self.held += data.len();
            self.drain_ahead();
            Pushed::InOrder
        } else if self.hold(at, data) {
            Pushed::Held
        } else {
            Pushed::Dropped
        };
        self.bound();
        pushed
    }

    /// Moves the start of the stream to sequence number `seq`, keeping what
    /// was read so far as a held segment.
    fn rebase(&mut self, seq: u32) {
        let old = self.base.replace(seq);
        let ready = std::mem::take(&mut self.ready);
        let ahead = std::mem::take(&mut self.ahead);
        self.read_at = 0;
        self.held = 0;
        if let Some(old) = old {
            let shift = u64::from(old.wrapping_sub(seq));
            let mut keep = vec![(self.read_at + shift, ready)];
            keep.extend(ahead.into_iter().map(|(o, d)| (o + shift, d)));
            for (o, d) in keep {
                if !d.is_empty() {
                    self.hold(o, &d);
                }
            }
            self.drain_ahead();
        }
    }

    /// Holds the new bytes of a segment at stream offset `at` (past the end
    /// of `ready`), trimming what earlier held segments already cover.
    fn hold(&mut self, at: u64, data: &[u8]) -> bool {
        let mut added = false;
        let mut pos = at;
        let end = at + data.len() as u64;
        while pos < end {
            // The held segment at or before `pos`, if it covers `pos`, moves us past it.
            if let Some((&o, d)) = self.ahead.range(..=pos).next_back() {
                let d_end = o + d.len() as u64;
                if d_end > pos {
                    pos = d_end;
                    continue;
                }
            }
            // Up to the next held segment.
            let next = self.ahead.range(pos..).next().map_or(end, |(&o, _)| o.min(end));
            let piece = &data[(pos - at) as usize..(next - at) as usize];
            if !piece.is_empty() {
                self.ahead.insert(pos, piece.to_vec());
                self.held += piece.len();
                added = true;
            }
            pos = next;
        }
        added
    }

    /// Moves held segments that now follow `ready` into it.
    fn drain_ahead(&mut self) {
        loop {
            let end = self.end();
            let Some(o) = self.ahead.keys().next().copied().filter(|&o| o <= end) else { break };
            let d = self.ahead.remove(&o).unwrap_or_default();
            let skip = (end - o) as usize;
            if skip < d.len() {
                self.ready.extend_from_slice(&d[skip..]);
            }
            self.held -= skip.min(d.len());
        }
    }

    /// Keeps at most [`MAX_HELD`] bytes: the oldest in-order bytes go first.
    fn bound(&mut self) {
        if self.held <= MAX_HELD {
            return;
        }
        let over = (self.held - MAX_HELD).min(self.ready.len());
        self.consume(over);
        while self.held > MAX_HELD {
            let Some((_, d)) = self.ahead.pop_last() else { break };
            self.held -= d.len();
        }
    }

    /// The in-order bytes not yet consumed.
    pub fn data(&self) -> &[u8] {
        &self.ready
    }

    /// Marks the first `n` in-order bytes as read.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.ready.len());
        self.ready.drain(..n);
        self.read_at += n as u64;
        self.held -= n;
        self.consumed |= n > 0;
    }

    /// True if segments are held behind a gap.
    pub fn has_gap(&self) -> bool {
        !self.ahead.is_empty()
    }

    /// Bytes held (in order and ahead).
    pub fn held(&self) -> usize {
        self.held
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read_all(s: &mut Stream) -> Vec<u8> {
        let d = s.data().to_vec();
        s.consume(d.len());
        d
    }

    #[test]
    fn test_in_order_and_retransmission() {
        let mut s = Stream::default();
        assert_eq!(s.push(1000, false, b"HTTP/1.1 200"), Pushed::InOrder);
        assert_eq!(s.push(1000, false, b"HTTP/1.1 200"), Pushed::Dropped);
        assert_eq!(s.push(1012, false, b" OK\r\n"), Pushed::InOrder);
        assert_eq!(s.data(), b"HTTP/1.1 200 OK\r\n");
        s.consume(9);
        assert_eq!(s.push(1017, false, b"next"), Pushed::InOrder);
        assert_eq!(s.data(), b"200 OK\r\nnext");
    }

    #[test]
    fn test_out_of_order_after_syn() {
        let mut s = Stream::default();
        s.push(99, true, b"");
        assert_eq!(s.push(105, false, b"fgh"), Pushed::Held);
        assert_eq!(s.push(102, false, b"cde"), Pushed::Held);
        assert!(s.data().is_empty() && s.has_gap());
        assert_eq!(s.push(100, false, b"ab"), Pushed::InOrder);
        assert_eq!(s.data(), b"abcdefgh");
        assert!(!s.has_gap());
    }

    #[test]
    fn test_out_of_order_without_syn_before_anything_is_read() {
        let mut s = Stream::default();
        s.push(5, false, b"fgh");
        s.push(0, false, b"abcde");
        assert_eq!(s.data(), b"abcdefgh");
        s.consume(8);
        // Once read, the start is fixed: older bytes are retransmissions.
        assert_eq!(s.push(0, false, b"abcde"), Pushed::Dropped);
    }

    #[test]
    fn test_overlap_keeps_first_copy() {
        let mut s = Stream::default();
        s.push(0, true, b"");
        s.push(3, false, b"DEF");
        s.push(2, false, b"xyzwv"); // overlaps the held DEF: only x and v are new
        s.push(1, false, b"a");
        assert_eq!(s.data(), b"axDEFv");
    }

    #[test]
    fn test_sequence_wraps() {
        let mut s = Stream::default();
        s.push(u32::MAX - 2, false, b"abc");
        s.push(1, false, b"ef");
        s.push(0, false, b"d");
        assert_eq!(s.data(), b"abcdef");
    }

    #[test]
    fn test_held_bytes_are_bounded() {
        let mut s = Stream::default();
        s.push(0, true, b"");
        let big = vec![7u8; 1000];
        for i in 0..400u32 {
            s.push(1 + i * 1000, false, &big);
        }
        assert!(s.held() <= MAX_HELD);
        assert!(s.data().len() <= MAX_HELD);
    }

    proptest! {
        /// However a stream is cut, reordered, duplicated and overlapped,
        /// the reassembled bytes are the stream.
        #[test]
        fn prop_any_segmentation_reassembles(
            stream in proptest::collection::vec(any::<u8>(), 1..600),
            cuts in proptest::collection::vec((any::<u16>(), 1..120usize), 1..40),
            order in proptest::collection::vec(any::<u32>(), 40),
            isn in any::<u32>(),
        ) {
            // Segments covering the stream (from the cuts) plus random overlapping ones.
            let mut segs: Vec<(usize, usize)> = Vec::new();
            let mut at = 0;
            for (_, len) in &cuts {
                if at >= stream.len() { break; }
                let end = (at + len).min(stream.len());
                segs.push((at, end));
                at = end;
            }
            if at < stream.len() { segs.push((at, stream.len())); }
            for (start, len) in &cuts {
                let s = *start as usize % stream.len();
                segs.push((s, (s + len).min(stream.len())));
            }
            let mut keyed: Vec<_> = segs.into_iter().enumerate().map(|(i, s)| (order[i % order.len()].wrapping_add(i as u32), s)).collect();
            keyed.sort();
            let mut s = Stream::default();
            s.push(isn, true, b"");
            for (_, (a, b)) in keyed {
                s.push(isn.wrapping_add(1).wrapping_add(a as u32), false, &stream[a..b]);
            }
            prop_assert_eq!(read_all(&mut s), stream);
            prop_assert!(!s.has_gap());
        }

        /// Without a SYN, and reading as bytes become available: every byte
        /// from the earliest segment on is read exactly once, in order, as
        /// long as nothing had been read before the earliest arrived.
        #[test]
        fn prop_read_as_you_go(
            stream in proptest::collection::vec(any::<u8>(), 1..400),
            lens in proptest::collection::vec(1..60usize, 1..30),
            swaps in proptest::collection::vec((any::<u8>(), any::<u8>()), 0..10),
            dup in proptest::collection::vec(any::<u8>(), 0..10),
            isn in any::<u32>(),
        ) {
            let mut segs = Vec::new();
            let mut at = 0;
            for len in lens.iter().cycle() {
                if at >= stream.len() { break; }
                let end = (at + len).min(stream.len());
                segs.push((at, end));
                at = end;
            }
            // Reorder only after the first segment, then repeat some.
            let n = segs.len();
            for (a, b) in swaps {
                if n > 2 {
                    segs.swap(1 + a as usize % (n - 1), 1 + b as usize % (n - 1));
                }
            }
            for d in dup {
                let s = segs[d as usize % n];
                segs.push(s);
            }
            let mut s = Stream::default();
            let mut out = Vec::new();
            for (a, b) in segs {
                s.push(isn.wrapping_add(a as u32), false, &stream[a..b]);
                out.extend(read_all(&mut s));
            }
            prop_assert_eq!(out, stream);
        }
    }
}
