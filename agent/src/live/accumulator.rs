//! Turns the agent's per-poll deltas into the engine's windows of Δ: the same
//! `WindowFlows` the offline path builds from packets.

use std::collections::HashMap;

use peerscope_abi::{FlowKey, FlowStats, UnixNs};

use crate::engine::WindowFlows;

use super::FlowDelta;

/// Sums the deltas of the polls that fall in the current window.
#[derive(Debug)]
pub struct WindowAccumulator {
    start_ns: u64,
    len_ns: u64,
    flows: HashMap<FlowKey, FlowStats<UnixNs>>,
}

impl WindowAccumulator {
    pub fn new(start_ns: u64, len_ns: u64) -> Self {
        WindowAccumulator { start_ns, len_ns, flows: HashMap::new() }
    }

    pub fn add(&mut self, deltas: &[FlowDelta]) {
        for d in deltas {
            self.flows.entry(d.key).or_default().merge(&d.delta);
        }
    }

    /// Whether the window has ended at `now_ns`.
    pub fn due(&self, now_ns: u64) -> bool {
        now_ns >= self.start_ns + self.len_ns
    }

    /// Closes the window and starts the next one where it ended. A poll that came
    /// late makes a longer window (its real length), so rates stay right.
    pub fn close(&mut self, now_ns: u64) -> WindowFlows {
        let len = now_ns.saturating_sub(self.start_ns).max(1);
        let flows = std::mem::take(&mut self.flows).into_iter().collect();
        let w = WindowFlows { start_ns: self.start_ns, len_ns: len, flows };
        self.start_ns = now_ns;
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::{flow::ipv4, PacketObservation, Thresholds};

    #[test]
    fn test_polls_sum_into_windows() {
        let k = FlowKey::new(17, ipv4(192, 0, 2, 1), 1, ipv4(192, 0, 2, 2), 2);
        let mut s = FlowStats::default();
        s.record(&PacketObservation::new(&Thresholds::STUDIES, 17, 1100, 1072, 0, peerscope_abi::UnixNs(5)));
        let d = FlowDelta { key: k, delta: s, total: s };
        let mut w = WindowAccumulator::new(0, 20);
        w.add(&[d]);
        assert!(!w.due(19));
        w.add(&[d]);
        assert!(w.due(20));
        let closed = w.close(21);
        assert_eq!((closed.start_ns, closed.len_ns), (0, 21));
        assert_eq!(
            closed.flows,
            vec![(k, FlowStats { packets: [0, 0, 2], bytes: [0, 0, 2200], payload_bytes: 2144, ..s })]
        );
        let next = w.close(41);
        assert_eq!((next.start_ns, next.len_ns, next.flows.len()), (21, 20, 0));
    }
}
