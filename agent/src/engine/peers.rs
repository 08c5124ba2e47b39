//! Total and active IPs, and the top peer's share ([H] §4.1, §6).
//!
//! - total IP: a peer with a TCP connection attempt between it and X, in either
//!   direction (a SYN without ACK sent by X or received by X);
//! - active IP: a peer X exchanged non-zero transport payload with;
//! - top-peer share: the largest single peer's share of X's download (and upload)
//!   bytes, over all traffic and over video traffic ([H]: ~50% of download, ~5% of
//!   upload).

use std::collections::BTreeMap;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::util::ratio;
use super::window::{HostView, PairTraffic};

/// Lifetime traffic per peer.
#[derive(Clone, Debug, Default)]
pub struct PeerLedger {
    peers: BTreeMap<IpAddr, PairTraffic>,
}

impl PeerLedger {
    pub fn observe(&mut self, view: &HostView) {
        for (peer, t) in &view.pairs {
            let e = self.peers.entry(*peer).or_default();
            e.down.merge(&t.down);
            e.up.merge(&t.up);
        }
    }

    pub fn get(&self, peer: &IpAddr) -> Option<&PairTraffic> {
        self.peers.get(peer)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&IpAddr, &PairTraffic)> {
        self.peers.iter()
    }

    /// `video` gives (down, up) video bytes per peer (see `SessionTable`).
    pub fn summary(&self, video: &BTreeMap<IpAddr, (u64, u64)>) -> PeerSummary {
        let total_ips = self.peers.values().filter(|t| t.up.syn_packets + t.down.syn_packets > 0).count();
        let active_ips = self.peers.values().filter(|t| t.up.payload_bytes + t.down.payload_bytes > 0).count();
        let down: Vec<(IpAddr, u64)> = self.peers.iter().map(|(p, t)| (*p, t.down.total_bytes())).collect();
        let up: Vec<(IpAddr, u64)> = self.peers.iter().map(|(p, t)| (*p, t.up.total_bytes())).collect();
        let vdown: Vec<(IpAddr, u64)> = video.iter().map(|(p, v)| (*p, v.0)).collect();
        let vup: Vec<(IpAddr, u64)> = video.iter().map(|(p, v)| (*p, v.1)).collect();
        PeerSummary {
            peers: self.peers.len(),
            total_ips,
            active_ips,
            top_download: top_share(&down),
            top_upload: top_share(&up),
            top_video_download: top_share(&vdown),
            top_video_upload: top_share(&vup),
        }
    }
}

/// The largest single peer's share of a byte total.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TopShare {
    pub peer: IpAddr,
    pub bytes: u64,
    pub total_bytes: u64,
    pub share: f64,
}

/// `None` when the total is zero.
pub fn top_share(bytes: &[(IpAddr, u64)]) -> Option<TopShare> {
    let total: u64 = bytes.iter().map(|b| b.1).sum();
    let (peer, top) = bytes.iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))?;
    Some(TopShare { peer: *peer, bytes: *top, total_bytes: total, share: ratio(*top as f64, total as f64)? })
}

/// Peers over the run.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct PeerSummary {
    /// Peers X exchanged any packet with.
    pub peers: usize,
    /// [H] Table 1 "Total IPs": peers with a TCP connection attempt (SYN) between
    /// them and X, in either direction.
    pub total_ips: usize,
    /// [H] Table 1 "Active IPs": peers with non-zero payload exchanged.
    pub active_ips: usize,
    pub top_download: Option<TopShare>,
    pub top_upload: Option<TopShare>,
    pub top_video_download: Option<TopShare>,
    pub top_video_upload: Option<TopShare>,
}

#[cfg(test)]
mod tests {

    use crate::testing::scenario::{sessions, P1, P5};
    use crate::testing::*;

    /// See [`sessions`]. Download bytes: P1 40 + 14 300, P2 13 000 + 1200, P3 300,
    /// P5 26 000 (54 840 in all). Upload: P1 2 × 40 (SYN, ACK) + 5 × 40, P2 40,
    /// P3 40 + 200, P4 40 (600). Video peers exchanged > 10 large packets: P1 (11) and
    /// P5 (20), not P2 (10).
    #[test]
    fn test_total_and_active_ips_and_top_peer_share() {
        let r = analyze(&sessions(), window_config(20)).report;
        let p = &r.peers;
        assert_eq!(p.peers, 5);
        assert_eq!(p.total_ips, 4, "SYN sent to P1..P4");
        assert_eq!(p.active_ips, 4, "P1, P2, P3 and P5 carried payload; P4 did not");
        let top = p.top_download.as_ref().unwrap();
        assert_eq!((top.peer, top.bytes, top.total_bytes), (ip(P5), 26_000, 54_840));
        assert_close(top.share, 26_000.0 / 54_840.0);
        let up = p.top_upload.as_ref().unwrap();
        assert_eq!((up.peer, up.bytes, up.total_bytes), (ip(P1), 280, 600));
        let v = p.top_video_download.as_ref().unwrap();
        assert_eq!((v.peer, v.bytes, v.share), (ip(P1), 14_300, 1.0));
        assert_eq!(r.video_peers_ever, 2);
    }

    /// SYNs both ways: X → A a SYN never answered; B → X a SYN (B connects to X),
    /// X → B the SYN-ACK, B → X 200 B of data. Connection attempts with A and B:
    /// 2 total IPs; payload only with B: 1 active IP (never more active than total).
    #[test]
    fn test_total_ips_count_connection_attempts_in_either_direction() {
        use crate::offline::synth::{tcp, Link, SynthPcap};
        let (x, a, b) = (sa(X, 5000), sa("198.51.100.31", 8008), sa("198.51.100.32", 40000));
        let mut p = SynthPcap::new(Link::Ethernet);
        p.tcp(T0, x, a, tcp::SYN, 40)
            .tcp(T0 + S, b, x, tcp::SYN, 40)
            .tcp(T0 + S + 10 * MS, x, b, tcp::SYN | tcp::ACK, 40)
            .tcp(T0 + 2 * S, b, x, tcp::ACK | tcp::PSH, 240);
        let peers = analyze(&p, window_config(20)).report.peers;
        assert_eq!((peers.peers, peers.total_ips, peers.active_ips), (2, 2, 1));
    }
}
