//! When a reading of kernel counters can be skipped: the programs count every packet
//! (ingress and egress) before they touch any other map, so a map read after an
//! interval in which that count did not move holds everything those packets did, and
//! reads as it did while the count stays put.

/// The packet count at the last reading of some map, and whether that reading came
/// an interval after the count had last moved.
#[derive(Clone, Copy, Debug, Default)]
pub struct Settle {
    packets: Option<u64>,
    settled: bool,
}

impl Settle {
    /// Whether a reading now would give what the last one gave (`packets`: the count
    /// read now, before the map would be).
    pub fn unchanged(&self, packets: u64) -> bool {
        self.settled && self.packets == Some(packets)
    }

    /// Records a reading made after the count was `packets`.
    pub fn read(&mut self, packets: u64) {
        self.settled = self.packets == Some(packets);
        self.packets = Some(packets);
    }
}

#[cfg(test)]
mod tests {
    use super::Settle;

    /// A packet counted at 5 may still be updating the maps during the reading made at
    /// 5; the reading made a poll later at 5 holds it, and only then is a reading
    /// skipped; a new packet makes the next two readings count.
    #[test]
    fn test_a_reading_is_skipped_only_after_one_made_a_poll_after_the_count_moved() {
        let mut s = Settle::default();
        assert!(!s.unchanged(0));
        s.read(5);
        assert!(!s.unchanged(5), "the first reading at 5 may miss a packet in flight");
        s.read(5);
        assert!(s.unchanged(5));
        assert!(!s.unchanged(6));
        s.read(6);
        assert!(!s.unchanged(6));
        s.read(6);
        assert!(s.unchanged(6));
    }
}
