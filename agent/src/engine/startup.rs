//! Start-up delay ([H] §5): from channel selection until the download rate first
//! reaches the playback rate.
//!
//! Rule: channel selection is the first packet X sends on a TCP flow to port 80 (the
//! channel-list / update fetch that starts a client session, [M] §II-C); without
//! one, X's first packet. The rate is the video download rate of a window (IP bytes
//! of large packets received / Δ); the delay ends at the end of the first window, at
//! or after selection, whose rate reaches c, so its resolution is Δ.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::util::secs;

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
    /// `port80_first_ns`: earliest first packet of X's TCP flows to port 80 in the
    /// window; `host_first_ns`: earliest packet X sent in the window.
    pub fn observe(
        &mut self,
        end_ns: u64,
        video_down_bytes_per_s: f64,
        port80_first_ns: Option<u64>,
        host_first_ns: Option<u64>,
    ) {
        if self.first_port80_ns.is_none() {
            self.first_port80_ns = port80_first_ns;
        }
        if self.first_host_packet_ns.is_none() {
            self.first_host_packet_ns = host_first_ns;
        }
        self.windows.push(WindowRate { end_ns, video_down_bytes_per_s });
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
