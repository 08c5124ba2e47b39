//! A frame in memory, read through raw bounds the way the BPF verifier demands.

/// A frame by its bounds, and its length on the wire.
///
/// `data..end` is what can be read (XDP: the frame; TC: the skb's linear part; pcap:
/// the captured bytes). `wire_len` is how long the frame was as received (XDP: the
/// frame; TC: `skb->len`; pcap: the record's original length): the IP length counted
/// is bounded by it, never by what happens to be readable.
#[derive(Clone, Copy)]
pub struct Frame {
    data: usize,
    end: usize,
    wire_len: usize,
}

impl Frame {
    /// # Safety
    /// `data..end` must be readable memory (a packet given by the kernel, or a slice)
    /// for as long as the frame is used.
    #[inline(always)]
    pub unsafe fn new(data: usize, end: usize, wire_len: usize) -> Self {
        Frame { data, end, wire_len }
    }

    /// A frame whose bytes are `s`, `wire_len` long on the wire (at least `s.len()`).
    pub fn from_slice(s: &[u8], wire_len: usize) -> Self {
        let data = s.as_ptr() as usize;
        Frame { data, end: data + s.len(), wire_len: wire_len.max(s.len()) }
    }

    /// Bytes that can be read.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.end - self.data
    }

    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.end <= self.data
    }

    /// The frame's length on the wire.
    #[inline(always)]
    pub fn wire_len(&self) -> usize {
        self.wire_len
    }

    /// Wire bytes from `off` on (0 past the end).
    #[inline(always)]
    pub fn wire_from(&self, off: usize) -> u32 {
        if off >= self.wire_len {
            return 0;
        }
        let n = self.wire_len - off;
        // Lengths counted are 32-bit; no frame comes near.
        if n > u32::MAX as usize {
            u32::MAX
        } else {
            n as u32
        }
    }

    /// The `N` bytes at `off`, in place (no copy: the BPF stack is 512 bytes), or
    /// `None` past the end. `N` is at least 2: for one byte the compiler rewrites the
    /// check into a form (`data + off >= end`) from which the verifier learns no room.
    #[inline(always)]
    pub fn bytes<const N: usize>(&self, off: usize) -> Option<&[u8; N]> {
        if self.data + off + N > self.end {
            return None;
        }
        // SAFETY: in bounds per the check above; `[u8; N]` has alignment 1.
        Some(unsafe { &*((self.data + off) as *const [u8; N]) })
    }

    #[inline(always)]
    pub fn be16(&self, off: usize) -> Option<u16> {
        self.bytes::<2>(off).map(|b| u16::from_be_bytes(*b))
    }
}
