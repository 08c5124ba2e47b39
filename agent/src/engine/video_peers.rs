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
