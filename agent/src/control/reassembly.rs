//! TCP stream reassembly for `peerscope dissect`: a message that spans segments
//! (a channel list, an HTTP reply, a peer list) is decoded once it is whole.

use std::collections::HashMap;

use peerscope_abi::FlowKey;

/// At most this much of one direction of a stream is held while waiting for a whole
/// message; more is a stream that does not carry one.
pub const MAX_PENDING: usize = 256 * 1024;

#[derive(Default, Debug)]
struct Stream {
    next_seq: Option<u32>,
    buf: Vec<u8>,
}

/// The in-order bytes of each TCP flow direction.
#[derive(Default, Debug)]
pub struct Reassembler {
    streams: HashMap<FlowKey, Stream>,
}

impl Reassembler {
    /// Appends a segment and returns the bytes pending in its direction. Segments
    /// already seen (retransmissions) are skipped; a gap restarts the buffer at the
    /// new segment, since what is missing cannot be decoded.
    pub fn push(&mut self, key: &FlowKey, seq: u32, syn: bool, data: &[u8]) -> &[u8] {
        let s = self.streams.entry(*key).or_default();
        let seq = if syn { seq.wrapping_add(1) } else { seq };
        match s.next_seq {
            Some(next) if seq == next => s.buf.extend_from_slice(data),
            Some(next) if seq.wrapping_sub(next) > u32::MAX / 2 => {
                // Old data: keep only the part beyond what we have.
                let seen = next.wrapping_sub(seq) as usize;
                if seen < data.len() {
                    s.buf.extend_from_slice(&data[seen..]);
                } else {
                    return &s.buf;
                }
            }
            _ => {
                s.buf.clear();
                s.buf.extend_from_slice(data);
            }
        }
        s.next_seq = Some(seq.wrapping_add(data.len() as u32));
        if s.buf.len() > MAX_PENDING {
            let cut = s.buf.len() - MAX_PENDING;
            s.buf.drain(..cut);
        }
        &s.buf
    }

    /// Drops the pending bytes of a direction (a message was decoded from them).
    pub fn consume(&mut self, key: &FlowKey) {
        if let Some(s) = self.streams.get_mut(key) {
            s.buf.clear();
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

    #[test]
    fn test_in_order_segments_join() {
        let mut r = Reassembler::default();
        assert_eq!(r.push(&key(), 1000, false, b"HTTP/1.1 200"), b"HTTP/1.1 200");
        assert_eq!(r.push(&key(), 1012, false, b" OK\r\n"), b"HTTP/1.1 200 OK\r\n");
        r.consume(&key());
        assert_eq!(r.push(&key(), 1017, false, b"next"), b"next");
    }

    #[test]
    fn test_retransmission_is_skipped_and_overlap_trimmed() {
        let mut r = Reassembler::default();
        r.push(&key(), 1, false, b"abcd");
        assert_eq!(r.push(&key(), 1, false, b"abcd"), b"abcd");
        assert_eq!(r.push(&key(), 3, false, b"cdef"), b"abcdef");
    }

    #[test]
    fn test_gap_restarts_the_buffer() {
        let mut r = Reassembler::default();
        r.push(&key(), 1, false, b"abcd");
        assert_eq!(r.push(&key(), 100, false, b"xyz"), b"xyz");
    }
}
