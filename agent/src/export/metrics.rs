//! The agent's OpenMetrics families. Names follow Prometheus conventions: `_total`
//! counters, bytes as the unit, and bounded label sets (direction × class; per-peer
//! series only for a fixed top N).

use std::sync::atomic::AtomicU64;

use peerscope_abi::{Counter as KernelCounter, PacketClass};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

use crate::{
    engine::{host::Direction, MonitoredHost},
    live::FlowDelta,
};

/// Label value of a flow's direction seen from the monitored host.
fn direction_label(d: &Direction) -> &'static str {
    match d {
        Direction::Upload { .. } => "out",
        Direction::Download { .. } => "in",
        Direction::Unrelated => "unrelated",
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClassLabels {
    pub direction: &'static str,
    pub class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DirectionLabels {
    pub direction: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    pub event: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PeerLabels {
    pub peer: String,
    pub direction: &'static str,
}

/// Per-peer series are limited to this many peers (the busiest of the last window).
pub const TOP_PEERS: usize = 10;

/// The agent's metrics; cheap to update once per poll.
pub struct Metrics {
    pub registry: Registry,
    packets: Family<ClassLabels, Counter>,
    bytes: Family<ClassLabels, Counter>,
    payload: Family<DirectionLabels, Counter>,
    large: Family<DirectionLabels, Counter>,
    kernel_events: Family<EventLabels, Counter>,
    flows: Gauge,
    capacity: Gauge,
    active_flows: Gauge,
    pub parents: Gauge,
    pub children: Gauge,
    pub stability_s: Gauge<f64, AtomicU64>,
    pub stability_x: Gauge<f64, AtomicU64>,
    pub download_cost: Gauge<f64, AtomicU64>,
    pub upload_cost: Gauge<f64, AtomicU64>,
    peer_rate: Family<PeerLabels, Gauge<f64, AtomicU64>>,
    last_kernel: Vec<u64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("peerscope");
        let m = Metrics {
            packets: Family::default(),
            bytes: Family::default(),
            payload: Family::default(),
            large: Family::default(),
            kernel_events: Family::default(),
            flows: Gauge::default(),
            capacity: Gauge::default(),
            active_flows: Gauge::default(),
            parents: Gauge::default(),
            children: Gauge::default(),
            stability_s: Gauge::default(),
            stability_x: Gauge::default(),
            download_cost: Gauge::default(),
            upload_cost: Gauge::default(),
            peer_rate: Family::default(),
            last_kernel: vec![0; KernelCounter::COUNT as usize],
            registry: Registry::default(),
        };
        registry.register("packets", "Packets by direction and size class (ack, control, data)", m.packets.clone());
        registry.register_with_unit(
            "ip",
            "IP bytes by direction and size class",
            prometheus_client::registry::Unit::Bytes,
            m.bytes.clone(),
        );
        registry.register_with_unit(
            "payload",
            "Transport payload bytes by direction",
            prometheus_client::registry::Unit::Bytes,
            m.payload.clone(),
        );
        registry.register("large_packets", "Packets above the large threshold (video packets)", m.large.clone());
        registry.register(
            "kernel_events",
            "Kernel program events (overflow, truncated frames, samples ...)",
            m.kernel_events.clone(),
        );
        registry.register("flows_in_table", "Flows in the kernel flow table", m.flows.clone());
        registry.register("flow_table_capacity", "Size of the kernel flow table", m.capacity.clone());
        registry.register("active_flows", "Flows with packets in the last poll", m.active_flows.clone());
        registry.register("parents", "Parents of the host in the last window (METHODS 3)", m.parents.clone());
        registry.register("children", "Children of the host in the last window (METHODS 3)", m.children.clone());
        registry.register(
            "stability_s",
            "Parent-set instability S_n of the last window (METHODS 5)",
            m.stability_s.clone(),
        );
        registry.register(
            "stability_x",
            "Parent-set instability X_n of the last window (METHODS 5)",
            m.stability_x.clone(),
        );
        registry.register(
            "download_cost_miles_per_byte",
            "Cost of download of the last window (METHODS 6)",
            m.download_cost.clone(),
        );
        registry.register(
            "upload_cost_miles_per_byte",
            "Cost of upload of the last window (METHODS 6)",
            m.upload_cost.clone(),
        );
        registry.register(
            "peer_rate_bytes_per_second",
            "IP bytes per second to/from the busiest peers of the last poll",
            m.peer_rate.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Adds one poll's deltas and the kernel counters.
    pub fn observe(
        &mut self,
        host: &MonitoredHost,
        deltas: &[FlowDelta],
        counters: &[u64],
        flows_in_table: usize,
        capacity: u32,
        secs: f64,
    ) {
        let mut per_peer: std::collections::HashMap<(std::net::IpAddr, &'static str), u64> = Default::default();
        for d in deltas {
            let direction = host.direction(&d.key);
            let dir = direction_label(&direction);
            for c in PacketClass::ALL {
                let l = ClassLabels { direction: dir, class: c.name() };
                self.packets.get_or_create(&l).inc_by(d.delta.packets[c as usize]);
                self.bytes.get_or_create(&l).inc_by(d.delta.bytes[c as usize]);
            }
            let l = DirectionLabels { direction: dir };
            self.payload.get_or_create(&l).inc_by(d.delta.payload_bytes);
            self.large.get_or_create(&l).inc_by(d.delta.large_packets);
            let peer = match direction {
                Direction::Upload { peer } | Direction::Download { peer } => peer,
                Direction::Unrelated => d.key.src_ip(),
            };
            *per_peer.entry((peer, dir)).or_default() += d.delta.total_bytes();
        }
        for c in KernelCounter::ALL {
            let now = counters.get(c as usize).copied().unwrap_or(0);
            let last = &mut self.last_kernel[c as usize];
            self.kernel_events.get_or_create(&EventLabels { event: c.name() }).inc_by(now.saturating_sub(*last));
            *last = now;
        }
        self.flows.set(flows_in_table as i64);
        self.capacity.set(capacity as i64);
        self.active_flows.set(deltas.len() as i64);
        let mut top: Vec<_> = per_peer.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        self.peer_rate.clear();
        for ((peer, dir), bytes) in top.into_iter().take(TOP_PEERS) {
            let rate = if secs > 0.0 { bytes as f64 / secs } else { 0.0 };
            self.peer_rate.get_or_create(&PeerLabels { peer: peer.to_string(), direction: dir }).set(rate);
        }
    }

    /// The engine's figures of a finished window.
    pub fn observe_window(&mut self, w: &crate::engine::WindowSummary) {
        self.parents.set(w.parent_count as i64);
        self.children.set(w.child_count as i64);
        // Gauges cannot be absent: an undefined figure is exported as NaN, which
        // Prometheus reads as "no value" (the JSON outputs use null instead).
        self.stability_s.set(w.stability.s_n.unwrap_or(f64::NAN));
        self.stability_x.set(w.stability.x_n.unwrap_or(f64::NAN));
        self.download_cost.set(w.cost.download_miles_per_byte.unwrap_or(f64::NAN));
        self.upload_cost.set(w.cost.upload_miles_per_byte.unwrap_or(f64::NAN));
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut s = String::new();
        prometheus_client::encoding::text::encode(&mut s, &self.registry).expect("writing to a String");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::{flow::ipv4, FlowKey, FlowStats, PacketObservation, Thresholds};

    #[test]
    fn test_counters_follow_deltas_and_directions() {
        let host = MonitoredHost::new([ipv4(192, 0, 2, 1)]);
        let key = FlowKey::new(17, ipv4(192, 0, 2, 1), 4004, ipv4(203, 0, 113, 9), 4004);
        let mut s = FlowStats::default();
        s.record(&PacketObservation::new(&Thresholds::STUDIES, 17, 1300, 1272, 0, peerscope_abi::UnixNs(1)));
        let d = FlowDelta { key, delta: s, total: s };
        let mut m = Metrics::new();
        let counters = vec![0; KernelCounter::COUNT as usize];
        m.observe(&host, &[d], &counters, 1, 65536, 2.0);
        m.observe(&host, &[d], &counters, 1, 65536, 2.0);
        let text = m.encode();
        assert!(text.contains(r#"peerscope_packets_total{direction="out",class="data"} 2"#), "{text}");
        assert!(text.contains(r#"peerscope_ip_bytes_total{direction="out",class="data"} 2600"#), "{text}");
        assert!(
            text.contains(r#"peerscope_peer_rate_bytes_per_second{peer="203.0.113.9",direction="out"} 650.0"#),
            "{text}"
        );
        assert!(text.contains("peerscope_flow_table_capacity 65536"), "{text}");
    }
}
