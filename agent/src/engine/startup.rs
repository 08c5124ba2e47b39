//! Start-up delay ([H] §5): from channel selection until the download rate first
//! reaches the playback rate.
//!
//! Rule: channel selection is the first packet X sends on a TCP flow to port 80 (the
//! channel-list / update fetch that starts a client session, [M] §II-C); without
//! one, X's first packet. The rate is X's video download rate ([`super::video`]:
//! large packets in video sessions, final classification) as a sliding rate: at the
//! end t of every step (1 s offline, whatever Δ is; a window live), the video bytes
//! of the steps ending in (t − L, t] over L, L = `startup_rate_window_ns` (10 s; a
//! step longer than L counts over its own length). The delay ends at the first
//! such t after selection at which the rate reaches c, so its resolution is the
//! step, 1 s offline.
//!
//! Memory: one entry per step with large packets, until the rate (with the
//! sessions that are video sessions so far, which can only reach c later than
//! with the final classification) has reached c, and for at most
//! [`HORIZON_NS`] after the first step.

use std::collections::VecDeque;

use peerscope_abi::classify::IPPROTO_TCP;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::host::{Direction, MonitoredHost};
use super::sessions::SessionId;
use super::util::secs;
use super::video::VideoShares;
use super::window::WindowFlows;

/// How long after the first step the rate is followed (the studies saw at most
/// 2 minutes).
pub const HORIZON_NS: u64 = 3600 * 1_000_000_000;

/// Large download bytes per session of one step.
#[derive(Clone, Debug)]
struct Step {
    end_ns: u64,
    len_ns: u64,
    down: Vec<(SessionId, u64)>,
}

#[derive(Clone, Debug)]
pub struct StartupTracker {
    rate_window_ns: u64,
    first_port80_ns: Option<u64>,
    first_host_packet_ns: Option<u64>,
    first_step_ns: Option<u64>,
    steps: Vec<Step>,
    /// Reached c with the sessions that were video sessions so far: no step after
    /// this matters.
    done: bool,
}

/// Which rule found the channel-selection instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SelectionRule {
    /// X's first packet on a TCP flow to port 80.
    #[serde(rename = "tcp_port_80")]
    TcpPort80,
    /// X's first packet (no TCP flow to port 80).
    FirstPacket,
}

impl SelectionRule {
    pub fn name(self) -> &'static str {
        match self {
            SelectionRule::TcpPort80 => "tcp_port_80",
            SelectionRule::FirstPacket => "first_packet",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StartupDelay {
    pub selection_rule: SelectionRule,
    /// The channel-selection instant (Unix ns).
    pub selection_unix_ns: u64,
    /// The first step end after selection at which the sliding video download rate
    /// reached the playback rate.
    pub reached_unix_ns: Option<u64>,
    /// L of the sliding rate, and the step it is evaluated at (1 s offline; live,
    /// the window).
    pub rate_window_s: f64,
    pub step_s: f64,
    /// `null` when the rate never reached the playback rate.
    pub delay_s: Option<f64>,
}

impl StartupTracker {
    pub fn new(rate_window_ns: u64) -> Self {
        StartupTracker {
            rate_window_ns: rate_window_ns.max(1),
            first_port80_ns: None,
            first_host_packet_ns: None,
            first_step_ns: None,
            steps: Vec::new(),
            done: false,
        }
    }

    /// Takes one window: the selection instants it shows (to the packet).
    pub fn observe_selection(&mut self, w: &WindowFlows, host: &MonitoredHost) {
        let (mut port80, mut first) = (None::<u64>, None::<u64>);
        let earliest = |a: Option<u64>, t: u64| Some(a.map_or(t, |a| a.min(t)));
        for (key, delta) in &w.flows {
            if delta.is_empty() || !matches!(host.direction(key), Direction::Upload { .. }) {
                continue;
            }
            first = earliest(first, delta.first_seen.0);
            if key.proto == IPPROTO_TCP && key.dst_port == 80 {
                port80 = earliest(port80, delta.first_seen.0);
            }
        }
        self.first_port80_ns = self.first_port80_ns.or(port80);
        self.first_host_packet_ns = self.first_host_packet_ns.or(first);
    }

    /// Takes one step's large bytes per session; `so_far` says which sessions are
    /// video sessions by now, `c_kbps` is the playback rate.
    pub fn observe_step(
        &mut self,
        start_ns: u64,
        len_ns: u64,
        shares: &VideoShares,
        so_far: impl Fn(SessionId) -> bool,
        c_kbps: f64,
    ) {
        let first = *self.first_step_ns.get_or_insert(start_ns);
        if self.done || start_ns.saturating_sub(first) > HORIZON_NS {
            return;
        }
        let down: Vec<(SessionId, u64)> =
            shares.iter().filter(|e| e.down_bytes > 0).map(|e| (e.session, e.down_bytes)).collect();
        if down.is_empty() {
            return;
        }
        self.steps.push(Step { end_ns: start_ns + len_ns, len_ns, down });
        if let Some(sel) = self.selection().map(|s| s.1) {
            self.done = self.first_reached(sel, c_kbps, &so_far).is_some();
        }
    }

    fn selection(&self) -> Option<(SelectionRule, u64)> {
        match (self.first_port80_ns, self.first_host_packet_ns) {
            (Some(t), _) => Some((SelectionRule::TcpPort80, t)),
            (None, Some(t)) => Some((SelectionRule::FirstPacket, t)),
            (None, None) => None,
        }
    }

    /// The first step end after `sel` at which the sliding rate reaches c. The rate
    /// only rises at a step end, so step ends are the only candidates.
    fn first_reached(&self, sel: u64, c_kbps: f64, is_video: &impl Fn(SessionId) -> bool) -> Option<u64> {
        let c = c_kbps * 1000.0 / 8.0;
        let mut in_window: VecDeque<(u64, u64)> = VecDeque::new();
        let mut sum = 0u64;
        for s in &self.steps {
            let bytes: u64 = s.down.iter().filter(|(id, _)| is_video(*id)).map(|e| e.1).sum();
            in_window.push_back((s.end_ns, bytes));
            sum += bytes;
            let l = self.rate_window_ns.max(s.len_ns);
            while in_window.front().is_some_and(|f| f.0 + l <= s.end_ns) {
                sum -= in_window.pop_front().map_or(0, |f| f.1);
            }
            if s.end_ns > sel && sum as f64 / secs(l) >= c {
                return Some(s.end_ns);
            }
        }
        None
    }

    /// The delay with the sessions' final classification (`is_video`).
    pub fn result(&self, playback_kbps: f64, is_video: impl Fn(SessionId) -> bool) -> Option<StartupDelay> {
        let (rule, sel) = self.selection()?;
        let reached = self.first_reached(sel, playback_kbps, &is_video);
        let step = self.steps.iter().map(|s| s.len_ns).max().unwrap_or(0);
        Some(StartupDelay {
            selection_rule: rule,
            selection_unix_ns: sel,
            reached_unix_ns: reached,
            delay_s: reached.map(|r| secs(r - sel)),
            rate_window_s: secs(self.rate_window_ns),
            step_s: secs(step),
        })
    }
}

#[cfg(test)]
mod tests {

    use super::SelectionRule;
    use crate::offline::synth::{tcp, Link, SynthPcap};
    use crate::testing::*;

    /// Playback rate 8 kbit/s = 1000 B/s, the sliding rate over L = 10 s at 1 s steps
    /// from the first packet (times from T0):
    /// t = 0: X → Q one UDP packet (first packet of the capture);
    /// t = 2 s: X → S TCP SYN to port 80: channel selection;
    /// P → X TCP 1300-byte segments (one video session of 31): at 0.5..4.5 s (5),
    /// 10..19 s (10), 21..28 s (8), 31..38 s (8).
    /// Steps with video end at 1..5, 11..20, 22..29, 32..39 s. Rate at t = video bytes
    /// of the steps ending in (t − 10, t] / 10 s: t = 15: 11..15, 5 segments, 650 B/s;
    /// t = 16: 6, 780; t = 17: 7, 910; t = 18: 8 (11..18), 1040 ≥ 1000: reached at
    /// 18 s. Start-up delay = 18 − 2 = 16 s, for any Δ (with windows of Δ = 20 s it
    /// would have been 40 − 2 = 38 s, with Δ = 10 s 20 − 2 = 18 s).
    fn capture() -> SynthPcap {
        let (x, peer) = (sa(X, 7000), sa("198.51.100.9", 8008));
        let mut p = SynthPcap::new(Link::Ethernet);
        p.udp(T0, sa(X, 53000), sa("203.0.113.1", 53), 60)
            .tcp(T0 + 2 * S, sa(X, 6000), sa("203.0.113.80", 80), tcp::SYN, 40)
            .tcp_train(T0 + S / 2, S, 5, peer, x, 1300)
            .tcp_train(T0 + 10 * S, S, 10, peer, x, 1300)
            .tcp_train(T0 + 21 * S, S, 8, peer, x, 1300)
            .tcp_train(T0 + 31 * S, S, 8, peer, x, 1300);
        p
    }

    fn config() -> crate::engine::EngineConfig {
        let mut cfg = window_config(10);
        cfg.playback_rate_kbps = Some(8.0);
        cfg
    }

    #[test]
    fn test_startup_delay_by_hand() {
        let r = analyze(&capture(), config()).report;
        let s = r.startup.unwrap();
        assert_eq!(s.selection_rule, SelectionRule::TcpPort80);
        assert_eq!(s.selection_unix_ns, T0 + 2 * S);
        assert_eq!(s.reached_unix_ns, Some(T0 + 18 * S));
        assert_eq!(s.delay_s, Some(16.0));
        assert_eq!((s.rate_window_s, s.step_s), (10.0, 1.0));
    }

    /// The same capture: 16 s whatever Δ is.
    #[test]
    fn test_startup_delay_does_not_depend_on_the_window() {
        for window_s in [20, 5, 1] {
            let mut cfg = config();
            cfg.window_ns = window_s * S;
            let s = analyze(&capture(), cfg).report.startup.unwrap();
            assert_eq!(s.delay_s, Some(16.0), "Δ = {window_s} s");
        }
    }

    #[test]
    fn test_no_playback_rate_no_startup() {
        assert!(analyze(&capture(), window_config(10)).report.startup.is_none());
    }

    /// X's first packet (UDP at 1 s) is the selection when X never fetched from port
    /// 80; 5 × 1300 B in 10 s (650 B/s) never reach 1000 B/s.
    #[test]
    fn test_startup_falls_back_to_first_packet_and_may_never_be_reached() {
        let (x, peer) = (sa(X, 7000), sa("198.51.100.9", 8008));
        let mut p = SynthPcap::new(Link::Ethernet);
        p.udp(T0 + S, x, peer, 60).tcp_train(T0 + S, S, 5, peer, x, 1300);
        let r = analyze(&p, config()).report;
        let s = r.startup.unwrap();
        assert_eq!((s.selection_rule, s.selection_unix_ns), (SelectionRule::FirstPacket, T0 + S));
        assert_eq!((s.reached_unix_ns, s.delay_s), (None, None));
    }
}
