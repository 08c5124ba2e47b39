//! Video and signaling sessions ([H] §4.1).
//!
//! A TCP session (both directions of one connection) is a **video session** if it
//! carries more than `video_min_large_packets` (10) packets larger than 1200 bytes
//! over its lifetime; otherwise it is a **signaling session**. Video traffic is the
//! large packets inside video sessions.
//!
//! A session is identified by its unordered 5-tuple. A TCP SYN arriving after the
//! session has shown FIN or RST starts a new session on the same 5-tuple (seen at
//! window granularity: a close and a reopen inside one window stay one session).
//! Its duration is first to last packet of either direction.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use peerscope_abi::{classify::IPPROTO_TCP, classify::IPPROTO_UDP, FlowKey, FlowStats, TcpFlags, UnixNs};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::flows::duration_ns;
use super::host::{Direction, MonitoredHost};
use super::util::ratio;

/// Unordered 5-tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionKey {
    proto: u8,
    a: ([u8; 16], u16),
    b: ([u8; 16], u16),
}

impl SessionKey {
    pub fn of(k: &FlowKey) -> Self {
        let s = (k.src_addr, k.src_port);
        let d = (k.dst_addr, k.dst_port);
        let (a, b) = if s <= d { (s, d) } else { (d, s) };
        SessionKey { proto: k.proto, a, b }
    }
}

/// Names one session for the life of the run (a reused 5-tuple gets a new id).
pub type SessionId = u64;

/// Both directions of one session, seen from X.
#[derive(Clone, Debug)]
pub struct Session {
    pub id: SessionId,
    pub proto: u8,
    pub peer: IpAddr,
    pub down: FlowStats<UnixNs>,
    pub up: FlowStats<UnixNs>,
    /// Payload bytes of large packets received after the redundancy skip.
    pub down_large_payload_after_skip: u64,
}

impl Session {
    pub fn large_packets(&self) -> u64 {
        self.down.large_packets + self.up.large_packets
    }

    pub fn is_video(&self, min_large: u64) -> bool {
        self.large_packets() > min_large
    }

    /// A FIN or RST was seen in either direction.
    pub fn closed(&self) -> bool {
        (self.down.tcp_flags | self.up.tcp_flags) & (TcpFlags::FIN | TcpFlags::RST) != 0
    }

    pub fn duration_ns(&self) -> u64 {
        let mut both = self.down;
        both.merge(&self.up);
        duration_ns(&both)
    }
}

/// All sessions of X.
#[derive(Clone, Debug, Default)]
pub struct SessionTable {
    sessions: HashMap<SessionId, Session>,
    /// The current session of each 5-tuple (an earlier one of a reused 5-tuple
    /// stays in `sessions`).
    current: HashMap<SessionKey, SessionId>,
    next_id: SessionId,
}

impl SessionTable {
    /// Adds one flow delta and returns its session and the direction (true: down);
    /// flows not involving X, or of another protocol, are left out (`None`).
    pub fn add(
        &mut self,
        key: &FlowKey,
        delta: &FlowStats<UnixNs>,
        host: &MonitoredHost,
        udp: bool,
        after_skip: bool,
    ) -> Option<(SessionId, IpAddr, bool)> {
        let wanted = key.proto == IPPROTO_TCP || (udp && key.proto == IPPROTO_UDP);
        if !wanted {
            return None;
        }
        let (peer, down) = match host.direction(key) {
            Direction::Download { peer } => (peer, true),
            Direction::Upload { peer } => (peer, false),
            Direction::Unrelated => return None,
        };
        let skey = SessionKey::of(key);
        let reopened = |id: &SessionId| self.sessions.get(id).is_some_and(|s| s.proto == IPPROTO_TCP && s.closed());
        if delta.syn_packets > 0 && self.current.get(&skey).is_some_and(reopened) {
            self.current.remove(&skey);
        }
        let next = &mut self.next_id;
        let id = *self.current.entry(skey).or_insert_with(|| {
            *next += 1;
            *next
        });
        let s = self.sessions.entry(id).or_insert_with(|| Session {
            id,
            proto: key.proto,
            peer,
            down: FlowStats::default(),
            up: FlowStats::default(),
            down_large_payload_after_skip: 0,
        });
        if down {
            s.down.merge(delta);
            if after_skip {
                s.down_large_payload_after_skip += delta.large_payload_bytes;
            }
        } else {
            s.up.merge(delta);
        }
        Some((id, peer, down))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Session> {
        self.sessions.values()
    }

    /// The current session of a flow, as `add` returned it (`None`: not a session).
    pub fn lookup(&self, key: &FlowKey, host: &MonitoredHost, udp: bool) -> Option<(SessionId, IpAddr, bool)> {
        let wanted = key.proto == IPPROTO_TCP || (udp && key.proto == IPPROTO_UDP);
        let (peer, down) = match host.direction(key) {
            Direction::Download { peer } if wanted => (peer, true),
            Direction::Upload { peer } if wanted => (peer, false),
            _ => return None,
        };
        self.current.get(&SessionKey::of(key)).map(|id| (*id, peer, down))
    }

    /// Whether the session is a video session by now (its large packets so far).
    pub fn is_video(&self, id: SessionId, min_large: u64) -> bool {
        self.sessions.get(&id).is_some_and(|s| s.is_video(min_large))
    }

    /// Payload bytes of large packets received in video sessions after the
    /// redundancy skip ([`super::redundancy`]).
    pub fn video_down_payload_after_skip(&self, min_large: u64) -> u64 {
        self.iter().filter(|s| s.is_video(min_large)).map(|s| s.down_large_payload_after_skip).sum()
    }

    /// Video traffic per peer: (down, up) IP bytes of large packets in video sessions.
    pub fn video_bytes_per_peer(&self, min_large: u64) -> BTreeMap<IpAddr, (u64, u64)> {
        let mut m: BTreeMap<IpAddr, (u64, u64)> = BTreeMap::new();
        for s in self.iter().filter(|s| s.is_video(min_large)) {
            let e = m.entry(s.peer).or_default();
            e.0 += s.down.large_bytes;
            e.1 += s.up.large_bytes;
        }
        m
    }

    pub fn summary(&self, min_large: u64) -> SessionSummary {
        let mut video_d = Vec::new();
        let mut signaling_d = Vec::new();
        let mut sum = SessionSummary::default();
        for s in self.iter() {
            let d = s.duration_ns() as f64 / 1e9;
            if s.is_video(min_large) {
                sum.video_sessions += 1;
                sum.video_down_packets += s.down.large_packets;
                sum.video_down_bytes += s.down.large_bytes;
                sum.video_up_packets += s.up.large_packets;
                sum.video_up_bytes += s.up.large_bytes;
                video_d.push(d);
            } else {
                sum.signaling_sessions += 1;
                signaling_d.push(d);
            }
        }
        sum.sessions = sum.video_sessions + sum.signaling_sessions;
        sum.video_session_fraction = ratio(sum.video_sessions as f64, sum.sessions as f64);
        sum.median_video_session_s = median(&mut video_d.clone());
        sum.video_sessions_at_least_15_min_fraction =
            ratio(video_d.iter().filter(|&&d| d >= 900.0).count() as f64, video_d.len() as f64);
        let mut points: Vec<SessionPoint> = self
            .iter()
            .map(|s| {
                let mut both = s.down;
                both.merge(&s.up);
                SessionPoint {
                    duration_s: s.duration_ns() as f64 / 1e9,
                    mean_ip_len_bytes: ratio(both.total_bytes() as f64, both.total_packets() as f64).unwrap_or(0.0),
                    video: s.is_video(min_large),
                }
            })
            .collect();
        points.sort_by(|a, b| {
            b.duration_s.total_cmp(&a.duration_s).then(a.mean_ip_len_bytes.total_cmp(&b.mean_ip_len_bytes))
        });
        sum.points_omitted = points.len().saturating_sub(MAX_SESSION_POINTS);
        points.truncate(MAX_SESSION_POINTS);
        sum.points = points;
        sum.video_duration_ccdf = ccdf(video_d);
        sum.signaling_duration_ccdf = ccdf(signaling_d);
        sum
    }
}

/// Sessions listed in `SessionSummary::points` at most (the longest).
pub const MAX_SESSION_POINTS: usize = 10_000;

/// One session in [H] Fig. 3: its duration against its mean packet size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionPoint {
    pub duration_s: f64,
    /// IP bytes / packets over both directions.
    pub mean_ip_len_bytes: f64,
    pub video: bool,
}

/// One point of a complementary CDF: the fraction of sessions lasting at least
/// `duration_s`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CcdfPoint {
    pub duration_s: f64,
    pub fraction_at_least: f64,
}

/// CCDF of durations: one point per distinct value, ascending.
pub fn ccdf(mut d: Vec<f64>) -> Vec<CcdfPoint> {
    d.sort_by(f64::total_cmp);
    let n = d.len() as f64;
    let mut out: Vec<CcdfPoint> = Vec::new();
    for (i, v) in d.iter().enumerate() {
        if out.last().is_some_and(|p| p.duration_s == *v) {
            continue;
        }
        out.push(CcdfPoint { duration_s: *v, fraction_at_least: (n - i as f64) / n });
    }
    out
}

/// Median (mean of the two middle values for an even count).
pub fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 { v[m] } else { (v[m - 1] + v[m]) / 2.0 })
}

/// Video and signaling sessions over the run.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct SessionSummary {
    pub sessions: usize,
    pub video_sessions: usize,
    pub signaling_sessions: usize,
    pub video_session_fraction: Option<f64>,
    /// Video traffic: large packets (and their IP bytes) in video sessions.
    pub video_down_packets: u64,
    pub video_down_bytes: u64,
    pub video_up_packets: u64,
    pub video_up_bytes: u64,
    /// [H]: median video session ~20 s; ~10% last 15 min or more.
    pub median_video_session_s: Option<f64>,
    pub video_sessions_at_least_15_min_fraction: Option<f64>,
    pub video_duration_ccdf: Vec<CcdfPoint>,
    pub signaling_duration_ccdf: Vec<CcdfPoint>,
    /// Every session's duration and mean packet size ([H] Fig. 3), longest first,
    /// at most [`MAX_SESSION_POINTS`]; `points_omitted` the rest.
    pub points: Vec<SessionPoint>,
    pub points_omitted: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::offline::synth::{tcp, Link, SynthPcap};
    use crate::testing::scenario::{sessions, P1};
    use crate::testing::*;

    #[test]
    fn test_ccdf_steps() {
        let c = ccdf(vec![10.0, 20.0, 20.0, 40.0]);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0], CcdfPoint { duration_s: 10.0, fraction_at_least: 1.0 });
        assert_eq!(c[1], CcdfPoint { duration_s: 20.0, fraction_at_least: 0.75 });
        assert_eq!(c[2], CcdfPoint { duration_s: 40.0, fraction_at_least: 0.25 });
    }

    #[test]
    fn test_median() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }

    /// See [`sessions`]: P1 a video session of 11 s; P2 (exactly 10 large packets),
    /// P3 (0.2 s) and P4 (0 s) signaling sessions; P5 is UDP.
    #[test]
    fn test_video_and_signaling_sessions_by_hand() {
        let r = analyze(&sessions(), window_config(20)).report;
        let s = &r.sessions;
        assert_eq!((s.sessions, s.video_sessions, s.signaling_sessions), (4, 1, 3));
        assert_eq!((s.video_down_packets, s.video_down_bytes), (11, 14_300));
        assert_eq!((s.video_up_packets, s.video_up_bytes), (0, 0));
        assert_eq!(s.median_video_session_s, Some(11.0));
        assert_eq!(s.video_sessions_at_least_15_min_fraction, Some(0.0));
        assert_eq!(s.video_duration_ccdf, vec![CcdfPoint { duration_s: 11.0, fraction_at_least: 1.0 }]);
        let sig: Vec<(f64, f64)> =
            s.signaling_duration_ccdf.iter().map(|p| (p.duration_s, p.fraction_at_least)).collect();
        assert_eq!(sig.len(), 3);
        assert_eq!(sig[0], (0.0, 1.0));
        assert_close(sig[1].0, 0.2);
        assert_close(sig[1].1, 2.0 / 3.0);
        assert_eq!(sig[2].0, 11.0);
        assert_close(sig[2].1, 1.0 / 3.0);
        // [H] Fig. 3 points, longest first (ties by mean size): P1 11 s,
        // (40·3 + 1300·11 + 40·5) / 19 B, video; P2 11 s, (40 + 1300·10 + 1200) / 12 B;
        // P3 0.2 s, (40 + 200 + 300) / 3 B; P4 0 s, 40 B.
        let pts: Vec<_> = s.points.iter().map(|p| (p.duration_s, p.mean_ip_len_bytes, p.video)).collect();
        assert_eq!(pts.len(), 4);
        assert_eq!((pts[0].0, pts[0].2), (11.0, true));
        assert_close(pts[0].1, 14_620.0 / 19.0);
        assert_eq!((pts[1].0, pts[1].2), (11.0, false));
        assert_close(pts[1].1, 14_240.0 / 12.0);
        assert_close(pts[2].0, 0.2);
        assert_close(pts[2].1, 180.0);
        assert_eq!((pts[3].0, pts[3].1), (0.0, 40.0));
    }

    /// With UDP sessions on, P5's 20 × 1300 B make a fifth session, a video one.
    #[test]
    fn test_udp_sessions_are_an_option() {
        let mut cfg = window_config(20);
        cfg.udp_sessions = true;
        let s = analyze(&sessions(), cfg).report.sessions;
        assert_eq!((s.sessions, s.video_sessions), (5, 2));
        assert_eq!(s.video_down_bytes, 14_300 + 26_000);
    }

    /// The same 5-tuple used twice: X:6000 ↔ P1:8008 carries 11 × 1300 B and a FIN in
    /// window 0, then a new SYN and three 200-byte segments in window 2: two sessions,
    /// one video (12 s: SYN at 0, last data at 11 s, FIN at 12 s), one signaling.
    #[test]
    fn test_reused_five_tuple_after_fin_is_a_new_session() {
        let (x, p1) = (sa(X, 6000), sa(P1, 8008));
        let mut p = SynthPcap::new(Link::Ethernet);
        p.tcp(T0, x, p1, tcp::SYN, 40)
            .tcp_train(T0 + S, S, 11, p1, x, 1300)
            .tcp(T0 + 12 * S, p1, x, tcp::FIN | tcp::ACK, 40)
            .tcp(T0 + 45 * S, x, p1, tcp::SYN, 40)
            .tcp_train(T0 + 46 * S, S, 3, p1, x, 200);
        let s = analyze(&p, window_config(20)).report.sessions;
        assert_eq!((s.sessions, s.video_sessions, s.signaling_sessions), (2, 1, 1));
        assert_eq!(s.median_video_session_s, Some(12.0));
        assert_eq!(s.signaling_duration_ccdf, vec![CcdfPoint { duration_s: 3.0, fraction_at_least: 1.0 }]);
    }
}
