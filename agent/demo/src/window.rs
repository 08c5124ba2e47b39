//! Windowing of the kernel's flow counters ([M] §III-A: non-overlapping windows of
//! Δ seconds), and the host-pair bytes the ground-truth comparison needs.
//!
//! [`Windower::close`] produces the metrics engine's input (`WindowFlows`: window
//! start, length, and per-flow deltas with Unix-ns timestamps), one per window in
//! time order, empty windows included; parents, children and every other figure
//! come from the engine.

use std::{collections::BTreeMap, net::IpAddr};

use peerscope_abi::{FlowKey, FlowStats};

use peerscope::{
    engine::WindowFlows,
    live::{clock::KernelClock, FlowMaps, FlowTable, LiveError},
};

/// Turns successive snapshots of the kernel table into windows.
pub struct Windower {
    table: FlowTable,
    start_ns: u64,
}

impl Windower {
    pub fn new(start_ns: u64) -> Self {
        Windower { table: FlowTable::new(KernelClock::new()), start_ns }
    }

    /// Ends the current window at `now_ns`: every flow's counts since the previous
    /// close (flows with nothing new are left out). The next window starts here.
    pub fn close(&mut self, maps: &FlowMaps, now_ns: u64) -> Result<WindowFlows, LiveError> {
        // A flow the kernel gave two slots (a rare insertion race) is one flow here.
        let mut by_key: std::collections::HashMap<FlowKey, FlowStats> = std::collections::HashMap::new();
        for d in self.table.poll(maps, now_ns, None)?.deltas {
            by_key.entry(d.key).or_default().merge(&d.delta);
        }
        let mut flows: Vec<(FlowKey, FlowStats)> = by_key.into_iter().collect();
        flows.sort_by(|a, b| b.1.total_bytes().cmp(&a.1.total_bytes()).then(a.0.cmp(&b.0)));
        let w = WindowFlows { start_ns: self.start_ns, len_ns: now_ns.saturating_sub(self.start_ns), flows };
        self.start_ns = now_ns;
        Ok(w)
    }
}

/// Bytes between the monitored host and one other host in a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PairBytes {
    /// IP bytes (the studies' packet lengths), monitored → other and back.
    pub up: u64,
    pub down: u64,
    /// TCP payload bytes, for the ground truth.
    pub up_tcp_payload: u64,
    pub down_tcp_payload: u64,
}

/// Per other host, what it exchanged with `me` in the window.
pub fn host_pairs(w: &WindowFlows, me: IpAddr) -> BTreeMap<IpAddr, PairBytes> {
    let mut out: BTreeMap<IpAddr, PairBytes> = BTreeMap::new();
    for (k, s) in &w.flows {
        let tcp = if k.proto == 6 { s.payload_bytes } else { 0 };
        if k.src_ip() == me {
            let p = out.entry(k.dst_ip()).or_default();
            p.up += s.total_bytes();
            p.up_tcp_payload += tcp;
        } else if k.dst_ip() == me {
            let p = out.entry(k.src_ip()).or_default();
            p.down += s.total_bytes();
            p.down_tcp_payload += tcp;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::flow::ipv4;

    fn stats(bytes: u64, payload: u64) -> FlowStats {
        FlowStats { bytes: [0, 0, bytes], packets: [0, 0, 1], payload_bytes: payload, ..Default::default() }
    }

    #[test]
    fn test_host_pairs_split_directions_and_tcp_payload() {
        let me = ipv4(198, 51, 100, 10);
        let a = ipv4(203, 0, 113, 20);
        let b = ipv4(192, 0, 2, 20);
        let w = WindowFlows {
            start_ns: 0,
            len_ns: 10_000_000_000,
            flows: vec![
                (FlowKey::new(6, a, 8008, me, 40000), stats(50_000, 48_000)),
                (FlowKey::new(6, me, 40000, a, 8008), stats(1_000, 100)),
                (FlowKey::new(17, me, 4004, b, 4004), stats(41_000, 40_000)),
                (FlowKey::new(6, me, 8008, b, 40001), stats(39_000, 38_000)),
            ],
        };
        let pairs = host_pairs(&w, me);
        assert_eq!(pairs[&a], PairBytes { up: 1_000, down: 50_000, up_tcp_payload: 100, down_tcp_payload: 48_000 });
        assert_eq!(pairs[&b].up, 80_000);
        assert_eq!(pairs[&b].up_tcp_payload, 38_000, "UDP is not TCP payload");
    }
}
