//! Start-up delay ([H] §5): from channel selection until the download rate first
//! reaches the playback rate.
//!
//! Rule: channel selection is the first packet X sends on a TCP flow to port 80 (the
//! channel-list / update fetch that starts a client session, [M] §II-C); without
//! one, X's first packet. The rate is the video download rate of a window (IP bytes
//! of large packets received / Δ); the delay ends at the end of the first window, at
//! or after selection, whose rate reaches c, so its resolution is Δ.

use peerscope_abi::classify::IPPROTO_TCP;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::host::{Direction, MonitoredHost};
use super::util::secs;
use super::window::WindowFlows;

/// What the tracker needs of each window.
#[derive(Clone, Copy, Debug)]
struct WindowRate {
    end_ns: u64,
    video_down_bytes_per_s: f64,
}

#[derive(Clone, Debug, Default)]
pub struct StartupTracker {
    first_port80_ns: Option<u64>,
    first_host_packet_ns: Option<u64>,
    windows: Vec<WindowRate>,
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
    /// End of the first window whose video download rate reached the playback rate.
    pub reached_unix_ns: Option<u64>,
    /// `null` when the rate never reached the playback rate.
    pub delay_s: Option<f64>,
}

impl StartupTracker {
    /// Takes one window: the selection instants it shows and its video download rate.
    pub fn observe(&mut self, w: &WindowFlows, host: &MonitoredHost, video_down_bytes_per_s: f64) {
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
        self.windows.push(WindowRate { end_ns: w.end_ns(), video_down_bytes_per_s });
    }

    pub fn result(&self, playback_kbps: f64) -> Option<StartupDelay> {
        let (rule, sel) = match (self.first_port80_ns, self.first_host_packet_ns) {
            (Some(t), _) => (SelectionRule::TcpPort80, t),
            (None, Some(t)) => (SelectionRule::FirstPacket, t),
            (None, None) => return None,
        };
        let c = playback_kbps * 1000.0 / 8.0;
        let reached = self.windows.iter().find(|w| w.end_ns > sel && w.video_down_bytes_per_s >= c).map(|w| w.end_ns);
        Some(StartupDelay {
            selection_rule: rule,
            selection_unix_ns: sel,
            reached_unix_ns: reached,
            delay_s: reached.map(|r| secs(r - sel)),
        })
    }
}

#[cfg(test)]
mod tests {

    use super::SelectionRule;
    use crate::offline::synth::{tcp, Link, SynthPcap};
    use crate::testing::*;

    /// Δ = 10 s, playback rate 8 kbit/s = 1000 B/s (times from T0):
    /// t = 0: X → Q one UDP packet (first packet of the capture);
    /// t = 2 s: X → S TCP SYN to port 80: channel selection;
    /// P → X TCP 1300-byte segments: 5 in [0,10) (650 B/s), 10 in [10,20) (1300 B/s
    /// ≥ 1000: reached at 20 s), 8 in [20,30), 8 in [30,40).
    /// Start-up delay = 20 − 2 = 18 s.
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
        assert_eq!(s.reached_unix_ns, Some(T0 + 20 * S));
        assert_eq!(s.delay_s, Some(18.0));
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
