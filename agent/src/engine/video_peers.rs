//! Active video peers and changed video peers per sample ([H] §6, Figure 7).
//!
//! An active video peer has exchanged more than 10 large (> 1200 B) packets with X
//! over its lifetime. At each sample point (every 30 s by default) the video peers
//! are those that are video peers by then and exchanged at least one large packet
//! during the sample. A changed video peer is one that stopped or started being a
//! video peer since the previous sample (the symmetric difference of the two sets).

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::samples::SampleTraffic;

#[derive(Clone, Debug, Default)]
pub struct VideoPeerTracker {
    lifetime_large: HashMap<IpAddr, u64>,
    prev: BTreeSet<IpAddr>,
    ever: BTreeSet<IpAddr>,
}

/// Video-peer counts of one sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VideoPeerCount {
    pub video_peers: usize,
    pub started: usize,
    pub stopped: usize,
    /// started + stopped.
    pub changed: usize,
}

impl VideoPeerTracker {
    pub fn observe(&mut self, s: &SampleTraffic, min_large: u64) -> VideoPeerCount {
        let mut cur = BTreeSet::new();
        for (peer, t) in &s.pairs {
            let large = t.down.large_packets + t.up.large_packets;
            let life = self.lifetime_large.entry(*peer).or_default();
            *life += large;
            if large > 0 && *life > min_large {
                cur.insert(*peer);
            }
        }
        let started = cur.difference(&self.prev).count();
        let stopped = self.prev.difference(&cur).count();
        self.ever.extend(cur.iter().copied());
        self.prev = cur;
        VideoPeerCount { video_peers: self.prev.len(), started, stopped, changed: started + stopped }
    }

    /// Peers that were a video peer in at least one sample.
    pub fn ever(&self) -> usize {
        self.ever.len()
    }
}

#[cfg(test)]
mod tests {

    use crate::engine::NS_PER_S;
    use crate::testing::scenario::samples;
    use crate::testing::*;

    /// See [`samples`]: video peers {A}, {A, B}, {} (started B; stopped A and B).
    #[test]
    fn test_video_peers_and_changed_video_peers_per_sample() {
        let mut cfg = window_config(10);
        cfg.sample_ns = 30 * NS_PER_S;
        let r = analyze(&samples(), cfg).report;
        let got: Vec<_> = r
            .samples
            .iter()
            .map(|s| (s.video_peers.video_peers, s.video_peers.started, s.video_peers.stopped, s.video_peers.changed))
            .collect();
        assert_eq!(got, vec![(1, 1, 0, 1), (2, 1, 0, 1), (0, 0, 2, 2)]);
        assert_eq!(r.video_peers_ever, 2);
    }
}
