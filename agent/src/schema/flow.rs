//! A flow (one direction of a 5-tuple) and its counters: one shape in `flows`,
//! `run --json` and the report's `flows`.

use std::net::IpAddr;

use peerscope_abi::{FlowKey, FlowStats, Stamp, TcpFlags, UnixNs};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{protocol_name, ClassCounts};
use crate::engine::host::{Direction, MonitoredHost};

/// Where a flow goes, seen from the monitored host X.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlowDirection {
    /// Peer → X.
    Download,
    /// X → peer.
    Upload,
    /// Neither or both ends are X.
    Other,
}

impl FlowDirection {
    pub fn name(self) -> &'static str {
        match self {
            FlowDirection::Download => "download",
            FlowDirection::Upload => "upload",
            FlowDirection::Other => "other",
        }
    }
}

impl From<Direction> for FlowDirection {
    fn from(d: Direction) -> Self {
        match d {
            Direction::Download { .. } => FlowDirection::Download,
            Direction::Upload { .. } => FlowDirection::Upload,
            Direction::Unrelated => FlowDirection::Other,
        }
    }
}

/// A TCP flag peerscope keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum TcpFlag {
    Syn,
    Fin,
    Rst,
}

/// Counters of one flow over some span (its lifetime, or one interval).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FlowCounts {
    #[serde(flatten)]
    pub classes: ClassCounts,
    /// Transport payload bytes (after the TCP/UDP header), all classes.
    pub payload_bytes: u64,
    /// Packets above the large threshold ([H]'s video packets), their IP bytes and
    /// their payload bytes.
    pub large_packets: u64,
    pub large_bytes: u64,
    pub large_payload_bytes: u64,
    /// TCP segments with SYN set and ACK clear (connection attempts).
    pub syn_packets: u32,
    /// TCP flags seen (of SYN, FIN, RST).
    pub tcp_flags: Vec<TcpFlag>,
    /// The flow's first and last packet (Unix ns); `null` before any. In an
    /// interval these are still the flow's, not the interval's.
    pub first_seen_unix_ns: Option<u64>,
    pub last_seen_unix_ns: Option<u64>,
    /// First to last packet, gaps included.
    pub duration_s: f64,
}

impl From<&FlowStats<UnixNs>> for FlowCounts {
    fn from(s: &FlowStats<UnixNs>) -> Self {
        let flags = [(TcpFlags::SYN, TcpFlag::Syn), (TcpFlags::FIN, TcpFlag::Fin), (TcpFlags::RST, TcpFlag::Rst)];
        FlowCounts {
            classes: s.into(),
            payload_bytes: s.payload_bytes,
            large_packets: s.large_packets,
            large_bytes: s.large_bytes,
            large_payload_bytes: s.large_payload_bytes,
            syn_packets: s.syn_packets,
            tcp_flags: flags.iter().filter(|(bit, _)| s.tcp_flags & bit != 0).map(|(_, f)| *f).collect(),
            first_seen_unix_ns: s.first_seen.is_set().then_some(s.first_seen.0),
            last_seen_unix_ns: s.last_seen.is_set().then_some(s.last_seen.0),
            duration_s: crate::engine::flows::duration_ns(s) as f64 / 1e9,
        }
    }
}

/// The 5-tuple of a flow (one direction): how every document names a flow's ends.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
pub struct FiveTuple {
    /// IP protocol by name (`tcp`, `udp`, `icmp`, `icmpv6`, else `ip<N>`) and number.
    pub protocol: String,
    pub ip_protocol: u8,
    pub src_ip: IpAddr,
    pub src_port: u16,
    pub dst_ip: IpAddr,
    pub dst_port: u16,
}

impl From<&FlowKey> for FiveTuple {
    fn from(k: &FlowKey) -> Self {
        FiveTuple {
            protocol: protocol_name(k.proto),
            ip_protocol: k.proto,
            src_ip: k.src_ip(),
            src_port: k.src_port,
            dst_ip: k.dst_ip(),
            dst_port: k.dst_port,
        }
    }
}

/// One flow: its 5-tuple, its direction and its counters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Flow {
    #[serde(flatten)]
    pub key: FiveTuple,
    /// Relative to the monitored host; `null` when no host is known (`flows` on an
    /// interface without an address).
    pub direction: Option<FlowDirection>,
    /// What the counters hold: the flow's lifetime (offline, and the report), or
    /// since its kernel slot was claimed (live).
    pub total: FlowCounts,
    /// What it did in this interval (`run --json` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<FlowCounts>,
    /// IP bytes per second over this interval (`run --json` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_bytes_per_s: Option<f64>,
}

impl Flow {
    /// A flow's totals; `host`, when known, gives the direction.
    pub fn new(key: &FlowKey, total: &FlowStats<UnixNs>, host: Option<&MonitoredHost>) -> Self {
        Flow {
            key: key.into(),
            direction: host.filter(|h| !h.is_empty()).map(|h| h.direction(key).into()),
            total: total.into(),
            interval: None,
            interval_bytes_per_s: None,
        }
    }

    /// With what it did during an interval of `secs` seconds.
    pub fn with_interval(mut self, delta: &FlowStats<UnixNs>, secs: f64) -> Self {
        self.interval = Some(delta.into());
        self.interval_bytes_per_s = Some(if secs > 0.0 { delta.total_bytes() as f64 / secs } else { 0.0 });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::{flow::ipv4, PacketObservation, Thresholds};

    #[test]
    fn test_flow_counts_classes_flags_and_rate() {
        let k = FlowKey::new(6, ipv4(192, 0, 2, 1), 8008, ipv4(198, 51, 100, 9), 4000);
        let mut s = FlowStats::default();
        s.record(&PacketObservation::new(&Thresholds::STUDIES, 6, 1400, 1360, 0x02, UnixNs(1_000)));
        s.record(&PacketObservation::new(&Thresholds::STUDIES, 6, 40, 0, 0x10, UnixNs(3_000)));
        let host = MonitoredHost::new([ipv4(192, 0, 2, 1)]);
        let f = Flow::new(&k, &s, Some(&host)).with_interval(&s, 2.0);
        assert_eq!((f.key.protocol.as_str(), f.key.ip_protocol, f.key.src_port), ("tcp", 6, 8008));
        assert_eq!(f.direction, Some(FlowDirection::Upload));
        assert_eq!(f.interval_bytes_per_s, Some(720.0));
        let t = &f.total;
        assert_eq!((t.classes.ack_packets, t.classes.data_packets, t.classes.bytes), (1, 1, 1440));
        assert_eq!(t.tcp_flags, vec![TcpFlag::Syn]);
        assert_eq!((t.first_seen_unix_ns, t.last_seen_unix_ns, t.duration_s), (Some(1_000), Some(3_000), 2e-6));
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["total"]["data_bytes"], 1400, "class counts are flattened: {v}");
        assert_eq!(v["total"]["tcp_flags"], serde_json::json!(["SYN"]));
        assert_eq!(serde_json::from_value::<Flow>(v).unwrap(), f);
        assert_eq!(Flow::new(&k, &FlowStats::default(), None).direction, None);
    }
}
