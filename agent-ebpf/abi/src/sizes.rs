//! The packet-size histogram the kernel keeps ([M] Fig. 1): IP lengths per direction
//! in bins of [`BIN_BYTES`] up to [`TAIL_FROM_BYTES`] and a tail bin, in a per-CPU
//! array of `u64` of [`SLOTS`] entries, ingress bins first. The offline histogram uses
//! the same bins.

/// Bin width: bin i holds IP lengths [8·i, 8·i + 8).
pub const BIN_BYTES: u32 = 8;
/// IP lengths from here on share the last bin.
pub const TAIL_FROM_BYTES: u32 = 1536;
/// Bins per direction: 192 fine bins and the tail.
pub const BINS: u32 = TAIL_FROM_BYTES / BIN_BYTES + 1;
/// Entries of the kernel's array: ingress bins, then egress bins.
pub const SLOTS: u32 = 2 * BINS;

/// The bin of an IP length.
#[inline(always)]
pub fn bin(ip_len: u32) -> u32 {
    let b = ip_len / BIN_BYTES;
    if b < BINS - 1 {
        b
    } else {
        BINS - 1
    }
}

/// The array entry of an IP length in one direction (always below [`SLOTS`]).
#[inline(always)]
pub fn slot(ingress: bool, ip_len: u32) -> u32 {
    bin(ip_len) + if ingress { 0 } else { BINS }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_bins_and_slots() {
        assert_eq!((bin(0), bin(7), bin(8), bin(1535), bin(1536), bin(65535)), (0, 0, 1, 191, 192, 192));
        assert_eq!((slot(true, 1300), slot(false, 1300)), (162, 162 + 193));
        assert!(slot(false, u32::MAX) < SLOTS);
    }
}
