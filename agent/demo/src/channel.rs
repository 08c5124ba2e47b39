//! The live channel every peer plays: a stream of fixed-size chunks that the source
//! produces at the playback rate.

use std::time::Duration;

#[derive(Clone, Copy, Debug)]
pub struct Channel {
    pub bitrate_bps: u64,
    pub chunk_bytes: usize,
    /// When the source produced chunk 0 (Unix ns).
    pub start_unix_ns: u64,
}

impl Channel {
    pub fn chunk_interval(&self) -> Duration {
        Duration::from_secs_f64(self.chunk_bytes as f64 * 8.0 / self.bitrate_bps as f64)
    }

    /// The newest chunk the source has produced at `unix_ns`.
    pub fn live_seq(&self, unix_ns: u64) -> u32 {
        (unix_ns.saturating_sub(self.start_unix_ns) / self.chunk_interval().as_nanos().max(1) as u64) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_live_seq_follows_the_bitrate() {
        // 16 KiB at 400 kbit/s: one chunk every 327.68 ms.
        let c = Channel { bitrate_bps: 400_000, chunk_bytes: 16384, start_unix_ns: 1_000_000_000 };
        assert_eq!(c.live_seq(0), 0);
        assert_eq!(c.live_seq(1_000_000_000 + 327_000_000), 0);
        assert_eq!(c.live_seq(1_000_000_000 + 328_000_000), 1);
        assert_eq!(c.live_seq(1_000_000_000 + 10_000_000_000), 30);
    }
}
