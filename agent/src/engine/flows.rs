//! Lifetime totals and duration of every flow ([M] §III-A).
//!
//! Duration of a flow: first packet to last packet, gaps included
//! (`last_seen − first_seen`).

use std::collections::HashMap;
use std::net::IpAddr;

use peerscope_abi::{FlowKey, FlowStats};
use serde::Serialize;

use super::host::{Direction, MonitoredHost};

/// Cumulative counters of every flow seen (memory grows with flows, not time).
#[derive(Clone, Debug, Default)]
pub struct FlowLedger {
    flows: HashMap<FlowKey, FlowStats>,
}

impl FlowLedger {
    pub fn add(&mut self, key: &FlowKey, delta: &FlowStats) {
        self.flows.entry(*key).or_default().merge(delta);
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&FlowKey, &FlowStats)> {
        self.flows.iter()
    }

    /// Every flow as a report record, ordered by key.
    pub fn records(&self, host: &MonitoredHost) -> Vec<FlowRecord> {
        let mut v: Vec<_> = self.flows.iter().map(|(k, s)| FlowRecord::new(k, s, host)).collect();
        v.sort_by_key(|a| (a.src, a.src_port, a.dst, a.dst_port, a.proto, a.tunnel));
        v
    }
}

/// Duration of a flow in ns: first to last packet, gaps included.
pub fn duration_ns(s: &FlowStats) -> u64 {
    s.last_seen_ns.saturating_sub(s.first_seen_ns)
}

/// One flow's lifetime totals.
#[derive(Clone, Debug, Serialize)]
pub struct FlowRecord {
    pub proto: u8,
    pub src: IpAddr,
    pub src_port: u16,
    pub dst: IpAddr,
    pub dst_port: u16,
    /// The tunnel the flow was carried in ("gre", "ipip", "6in4", "gtp-u", "vxlan"),
    /// with `--decap`; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<&'static str>,
    /// What the parser noted on the flow's packets ("transport_header_broken",
    /// "ip_length_exceeds_frame", ...); absent when nothing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<&'static str>,
    /// "download" (peer → X), "upload" (X → peer) or "other".
    pub direction: &'static str,
    pub packets: u64,
    /// IP bytes (sum of IP total lengths).
    pub bytes: u64,
    /// Packets and IP bytes per class: ack, control, data.
    pub class_packets: [u64; 3],
    pub class_bytes: [u64; 3],
    pub payload_bytes: u64,
    pub large_packets: u64,
    pub large_bytes: u64,
    pub syn_packets: u32,
    pub first_seen_ns: u64,
    pub last_seen_ns: u64,
    pub duration_s: f64,
}

impl FlowRecord {
    pub fn new(k: &FlowKey, s: &FlowStats, host: &MonitoredHost) -> Self {
        let direction = match host.direction(k) {
            Direction::Download { .. } => "download",
            Direction::Upload { .. } => "upload",
            Direction::Unrelated => "other",
        };
        FlowRecord {
            proto: k.proto,
            src: k.src_ip(),
            src_port: k.src_port,
            dst: k.dst_ip(),
            dst_port: k.dst_port,
            tunnel: k.tunnel_name(),
            notes: peerscope_abi::parse::Note::names(s.notes).collect(),
            direction,
            packets: s.total_packets(),
            bytes: s.total_bytes(),
            class_packets: s.packets,
            class_bytes: s.bytes,
            payload_bytes: s.payload_bytes,
            large_packets: s.large_packets,
            large_bytes: s.large_bytes,
            syn_packets: s.syn_packets,
            first_seen_ns: s.first_seen_ns,
            last_seen_ns: s.last_seen_ns,
            duration_s: duration_ns(s) as f64 / 1e9,
        }
    }
}
