//! Window rates per flow and per host pair ([M] §III-A..C).
//!
//! Rate of a flow: `R(A1, X1, t1) = Σ_{t1 ≤ t < t1+Δ} Pl(A1, X1, t) / Δ`, `Pl` the
//! packet length (IP total length). Host-pair rate: `R(A, X, t1) = Σ_ports R(A1, X1, t1)`.
//! Rates are in bytes per second.

use std::net::IpAddr;

use peerscope_abi::{FlowKey, FlowStats};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::window::HostView;

/// `R = Σ Pl / Δ` for one flow's delta over a window of `len_ns`, in bytes/s.
pub fn flow_rate(delta: &FlowStats, len_ns: u64) -> f64 {
    delta.total_bytes() as f64 / (len_ns.max(1) as f64 / 1e9)
}

/// Rate of one flow in one window.
#[derive(Clone, Debug)]
pub struct FlowRate {
    pub key: FlowKey,
    pub bytes_per_s: f64,
}

/// Rates of every flow in a window.
pub fn flow_rates(flows: &[(FlowKey, FlowStats)], len_ns: u64) -> Vec<FlowRate> {
    flows.iter().map(|(k, s)| FlowRate { key: *k, bytes_per_s: flow_rate(s, len_ns) }).collect()
}

/// Host-pair rates of X with one peer in one window, both directions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PairRate {
    pub peer: IpAddr,
    /// `R(peer, X, t1)`: bytes per second received by X from the peer.
    pub down_bytes_per_s: f64,
    /// `R(X, peer, t1)`: bytes per second sent by X to the peer.
    pub up_bytes_per_s: f64,
    pub down_bytes: u64,
    pub up_bytes: u64,
}

/// Host-pair rates of every peer X exchanged packets with in the window.
pub fn pair_rates(view: &HostView) -> Vec<PairRate> {
    let len_s = view.len_s();
    view.pairs
        .iter()
        .map(|(peer, t)| PairRate {
            peer: *peer,
            down_bytes_per_s: t.down.total_bytes() as f64 / len_s,
            up_bytes_per_s: t.up.total_bytes() as f64 / len_s,
            down_bytes: t.down.total_bytes(),
            up_bytes: t.up.total_bytes(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::{classify::IPPROTO_UDP, PacketObservation, Thresholds};

    #[test]
    fn test_flow_rate_is_ip_bytes_over_delta() {
        let mut s = FlowStats::default();
        let o = PacketObservation::new(&Thresholds::STUDIES, IPPROTO_UDP, 1000, 972, 0, 1);
        s.record_n(&o, 60);
        assert_eq!(flow_rate(&s, 20_000_000_000), 3000.0);
        let k = FlowKey::v4(IPPROTO_UDP, [198, 51, 100, 1], [192, 0, 2, 10], 1, 2);
        let r = flow_rates(&[(k, s)], 20_000_000_000);
        assert_eq!((r[0].key, r[0].bytes_per_s), (k, 3000.0));
    }
}
