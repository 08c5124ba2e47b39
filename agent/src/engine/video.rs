//! Video traffic, one definition for every figure ([H] §4.1): the IP bytes of large
//! (> 1200 B) packets inside video sessions, a video session being one that carries
//! more than `video_min_large_packets` large packets over its lifetime (TCP; UDP
//! too with `udp_sessions`). The session totals, the per-window and per-sample
//! video rates, the per-peer video rates and the start-up delay all use it.
//!
//! Whether a session is a video session is only known once it has carried its
//! eleventh large packet, possibly long after its first. So each time span (window,
//! sample) keeps the large bytes of every session in it ([`VideoShares`]), and its
//! video rates are stated twice: when the span closes, counting the sessions that
//! are video sessions by then ([`VideoBasis::SessionsSoFar`], what a live window can
//! know), and in the report, with every session's final classification
//! ([`VideoBasis::Final`]; a snapshot's "final" is as of the snapshot).

use std::collections::BTreeMap;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::sessions::SessionId;

/// Which classification of sessions a video rate rests on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VideoBasis {
    /// Sessions that were video sessions when the span closed: a session that
    /// becomes one later is not counted (live windows).
    #[default]
    SessionsSoFar,
    /// Every session's classification at the end of the run (or of the snapshot).
    Final,
}

/// Large-packet IP bytes of one session within one time span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLarge {
    pub session: SessionId,
    pub peer: IpAddr,
    pub down_bytes: u64,
    pub up_bytes: u64,
}

/// Large-packet bytes per session within one time span: the input of its video
/// rates under either basis. Memory: one entry per session with large packets in
/// the span.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VideoShares(Vec<SessionLarge>);

impl VideoShares {
    /// Counts `bytes` of large packets of `session` (with `peer`), down or up.
    pub fn add(&mut self, session: SessionId, peer: IpAddr, down: bool, bytes: u64) {
        if bytes == 0 {
            return;
        }
        let i = match self.0.iter().position(|e| e.session == session) {
            Some(i) => i,
            None => {
                self.0.push(SessionLarge { session, peer, down_bytes: 0, up_bytes: 0 });
                self.0.len() - 1
            }
        };
        if down {
            self.0[i].down_bytes += bytes;
        } else {
            self.0[i].up_bytes += bytes;
        }
    }

    pub fn merge(&mut self, other: &VideoShares) {
        for e in &other.0 {
            self.add(e.session, e.peer, true, e.down_bytes);
            self.add(e.session, e.peer, false, e.up_bytes);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &SessionLarge> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Video bytes (down, up) per peer: the large bytes of the sessions `is_video`
    /// accepts. Peers without video bytes are left out.
    pub fn per_peer(&self, is_video: impl Fn(SessionId) -> bool) -> BTreeMap<IpAddr, (u64, u64)> {
        let mut m: BTreeMap<IpAddr, (u64, u64)> = BTreeMap::new();
        for e in self.0.iter().filter(|e| is_video(e.session)) {
            let v = m.entry(e.peer).or_default();
            v.0 += e.down_bytes;
            v.1 += e.up_bytes;
        }
        m
    }

    /// X's video bytes (down, up).
    pub fn total(&self, is_video: impl Fn(SessionId) -> bool) -> (u64, u64) {
        self.per_peer(is_video).values().fold((0, 0), |a, v| (a.0 + v.0, a.1 + v.1))
    }
}
