//! Parents and children of X per window ([M] §III-D).
//!
//! A is a parent of X in window t1 if `R(A, X, t1) > Rp`; B is a child if
//! `R(X, B, t1) > Rc` (both 4000 B/s by default). Below that a pair is taken to
//! exchange control only. Also: the fraction of contacted hosts that ever became a
//! parent / a child, and X's upload:download byte ratio.

use std::collections::BTreeSet;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::rates::PairRate;
use super::util::{ratio, RunningMean};

/// A peer above the threshold in one window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PeerRate {
    pub peer: IpAddr,
    pub bytes_per_s: f64,
    pub bytes: u64,
}

/// Parents and children of one window, each sorted by rate (highest first).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Family {
    pub parents: Vec<PeerRate>,
    pub children: Vec<PeerRate>,
}

impl Family {
    pub fn parent_set(&self) -> BTreeSet<IpAddr> {
        self.parents.iter().map(|p| p.peer).collect()
    }
}

/// Applies the thresholds window after window and remembers who ever qualified.
#[derive(Clone, Debug, Default)]
pub struct FamilyTracker {
    contacted: BTreeSet<IpAddr>,
    ever_parents: BTreeSet<IpAddr>,
    ever_children: BTreeSet<IpAddr>,
    parents_per_window: RunningMean,
    children_per_window: RunningMean,
    max_parents: usize,
    max_children: usize,
    up_bytes: u64,
    down_bytes: u64,
}

/// Strictly above the threshold, as in [M].
pub fn classify(rates: &[PairRate], rp: f64, rc: f64) -> Family {
    let mut parents: Vec<PeerRate> = rates
        .iter()
        .filter(|r| r.down_bytes_per_s > rp)
        .map(|r| PeerRate { peer: r.peer, bytes_per_s: r.down_bytes_per_s, bytes: r.down_bytes })
        .collect();
    let mut children: Vec<PeerRate> = rates
        .iter()
        .filter(|r| r.up_bytes_per_s > rc)
        .map(|r| PeerRate { peer: r.peer, bytes_per_s: r.up_bytes_per_s, bytes: r.up_bytes })
        .collect();
    let by_rate = |a: &PeerRate, b: &PeerRate| b.bytes_per_s.total_cmp(&a.bytes_per_s).then(a.peer.cmp(&b.peer));
    parents.sort_by(by_rate);
    children.sort_by(by_rate);
    Family { parents, children }
}

impl FamilyTracker {
    pub fn observe(&mut self, rates: &[PairRate], rp: f64, rc: f64) -> Family {
        let fam = classify(rates, rp, rc);
        for r in rates {
            if r.down_bytes + r.up_bytes > 0 {
                self.contacted.insert(r.peer);
            }
            self.up_bytes += r.up_bytes;
            self.down_bytes += r.down_bytes;
        }
        self.ever_parents.extend(fam.parents.iter().map(|p| p.peer));
        self.ever_children.extend(fam.children.iter().map(|p| p.peer));
        self.parents_per_window.add(fam.parents.len() as f64);
        self.children_per_window.add(fam.children.len() as f64);
        self.max_parents = self.max_parents.max(fam.parents.len());
        self.max_children = self.max_children.max(fam.children.len());
        fam
    }

    /// `n` more windows with no peer at all.
    pub fn add_empty_windows(&mut self, n: u64) {
        self.parents_per_window.add_n(0.0, n);
        self.children_per_window.add_n(0.0, n);
    }

    /// Every peer that was a parent, and every peer that was a child, in some window.
    pub fn ever(&self) -> (&BTreeSet<IpAddr>, &BTreeSet<IpAddr>) {
        (&self.ever_parents, &self.ever_children)
    }

    pub fn summary(&self) -> FamilySummary {
        let contacted = self.contacted.len();
        FamilySummary {
            contacted_hosts: contacted,
            hosts_ever_parent: self.ever_parents.len(),
            hosts_ever_child: self.ever_children.len(),
            parent_fraction_of_contacted: ratio(self.ever_parents.len() as f64, contacted as f64),
            child_fraction_of_contacted: ratio(self.ever_children.len() as f64, contacted as f64),
            mean_parents_per_window: self.parents_per_window.mean(),
            max_parents_per_window: self.max_parents,
            mean_children_per_window: self.children_per_window.mean(),
            max_children_per_window: self.max_children,
            upload_bytes: self.up_bytes,
            download_bytes: self.down_bytes,
            upload_download_ratio: ratio(self.up_bytes as f64, self.down_bytes as f64),
        }
    }
}

/// Parents and children over the whole run.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct FamilySummary {
    /// Peers X exchanged at least one packet with.
    pub contacted_hosts: usize,
    pub hosts_ever_parent: usize,
    pub hosts_ever_child: usize,
    /// [M]: ~1% of contacted hosts became parents, ~2% children. `null` when no host
    /// was contacted.
    pub parent_fraction_of_contacted: Option<f64>,
    pub child_fraction_of_contacted: Option<f64>,
    pub mean_parents_per_window: Option<f64>,
    pub max_parents_per_window: usize,
    pub mean_children_per_window: Option<f64>,
    pub max_children_per_window: usize,
    /// IP bytes X sent to / received from peers.
    pub upload_bytes: u64,
    pub download_bytes: u64,
    /// upload_bytes / download_bytes ([M]: 16:1 and 8:1 on a campus host); `null`
    /// when nothing was downloaded.
    pub upload_download_ratio: Option<f64>,
}

#[cfg(test)]
mod tests {

    use crate::testing::scenario::{rates, RA, RB, RC};
    use crate::testing::*;

    /// See [`rates`]: RA a parent at 5000 B/s and RC a child at 4500 B/s in window 0;
    /// no one in window 1; RB (6000) and RA (5000) in window 2; RA in window 3.
    #[test]
    fn test_parents_and_children_by_hand() {
        let r = analyze(&rates(), window_config(20)).report;
        let w0 = &r.windows[0];
        assert_eq!(w0.parents.len(), 1);
        assert_eq!(w0.parents[0].peer, ip(RA));
        assert_close(w0.parents[0].bytes_per_s, 5000.0);
        assert_eq!(w0.children.len(), 1);
        assert_eq!(w0.children[0].peer, ip(RC));
        assert_close(w0.children[0].bytes_per_s, 4500.0);
        assert_eq!((r.windows[1].parent_count, r.windows[1].child_count), (0, 0));
        let parents: Vec<_> = r.windows[2].parents.iter().map(|p| (p.peer, p.bytes_per_s)).collect();
        assert_eq!(parents, vec![(ip(RB), 6000.0), (ip(RA), 5000.0)]);
        assert_eq!(r.windows[3].parent_count, 1);
    }

    /// Contacted hosts RA, RB, RC; ever parents RA and RB, ever child RC; 470 000 B down,
    /// 90 000 B up; parents per window 1, 0, 2, 1.
    #[test]
    fn test_family_summary_fractions_and_ratio() {
        let r = analyze(&rates(), window_config(20)).report;
        let f = &r.family;
        assert_eq!((f.contacted_hosts, f.hosts_ever_parent, f.hosts_ever_child), (3, 2, 1));
        assert_close(f.parent_fraction_of_contacted.unwrap(), 2.0 / 3.0);
        assert_close(f.child_fraction_of_contacted.unwrap(), 1.0 / 3.0);
        assert_eq!(f.download_bytes, 100_000 + 50_000 + 100_000 + 120_000 + 100_000);
        assert_eq!(f.upload_bytes, 90_000);
        assert_close(f.upload_download_ratio.unwrap(), 90_000.0 / 470_000.0);
        assert_eq!(f.max_parents_per_window, 2);
        assert_close(f.mean_parents_per_window.unwrap(), 1.0);
    }

    #[test]
    fn test_thresholds_are_parameters() {
        let mut cfg = window_config(20);
        cfg.parent_rate_bps = 5000.0; // strictly above: RA's 5000 B/s no longer counts
        let r = analyze(&rates(), cfg).report;
        assert_eq!(r.windows[0].parent_count, 0);
        assert_eq!(r.windows[2].parents.iter().map(|p| p.peer).collect::<Vec<_>>(), vec![ip(RB)]);
    }
}
