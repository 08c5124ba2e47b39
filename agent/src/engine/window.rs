//! One window of per-flow deltas, and its aggregation per peer of X.

use std::collections::BTreeMap;
use std::net::IpAddr;

use peerscope_abi::{FlowKey, FlowStats, UnixNs};

use super::host::{Direction, MonitoredHost};

/// Per-flow counters added during one window `[start_ns, start_ns + len_ns)`.
///
/// `flows` holds DELTAS (what each flow gained in this window, e.g.
/// `FlowStats::since` of two polls), stamped in Unix time. A key may appear more
/// than once; its entries are merged. Windows
/// are given in time order, empty ones included.
#[derive(Clone, Debug, Default)]
pub struct WindowFlows {
    pub start_ns: u64,
    pub len_ns: u64,
    pub flows: Vec<(FlowKey, FlowStats<UnixNs>)>,
}

impl WindowFlows {
    pub fn new(start_ns: u64, len_ns: u64) -> Self {
        WindowFlows { start_ns, len_ns, flows: Vec::new() }
    }

    pub fn end_ns(&self) -> u64 {
        self.start_ns + self.len_ns
    }

    /// Flows with at least one packet in the window (a key given twice counts once).
    pub fn active_flows(&self) -> usize {
        let mut keys: Vec<FlowKey> = self.flows.iter().filter(|(_, s)| !s.is_empty()).map(|(k, _)| *k).collect();
        keys.sort_unstable();
        keys.dedup();
        keys.len()
    }

    /// Every flow's counts added up (all flows, not only X's).
    pub fn total(&self) -> FlowStats<UnixNs> {
        let mut t = FlowStats::default();
        for (_, s) in &self.flows {
            t.merge(s);
        }
        t
    }
}

/// What X exchanged with one peer in a window (all flows, all ports merged).
#[derive(Clone, Copy, Debug, Default)]
pub struct PairTraffic {
    /// Peer → X.
    pub down: FlowStats<UnixNs>,
    /// X → peer.
    pub up: FlowStats<UnixNs>,
}

/// A window seen from X: traffic per peer (host pair), ordered by address.
#[derive(Clone, Debug, Default)]
pub struct HostView {
    pub start_ns: u64,
    pub len_ns: u64,
    pub pairs: BTreeMap<IpAddr, PairTraffic>,
}

impl HostView {
    pub fn build(w: &WindowFlows, host: &MonitoredHost) -> Self {
        let mut pairs: BTreeMap<IpAddr, PairTraffic> = BTreeMap::new();
        for (key, stats) in &w.flows {
            match host.direction(key) {
                Direction::Download { peer } => pairs.entry(peer).or_default().down.merge(stats),
                Direction::Upload { peer } => pairs.entry(peer).or_default().up.merge(stats),
                Direction::Unrelated => {}
            }
        }
        HostView { start_ns: w.start_ns, len_ns: w.len_ns, pairs }
    }

    /// Window length in seconds (never zero, so rates stay finite).
    pub fn len_s(&self) -> f64 {
        (self.len_ns.max(1)) as f64 / 1e9
    }
}
