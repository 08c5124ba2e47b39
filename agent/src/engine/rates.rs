//! Window rates per flow, per host pair and of X ([M] §III-A..C).
//!
//! Rate of a flow: `R(A1, X1, t1) = Σ_{t1 ≤ t < t1+Δ} Pl(A1, X1, t) / Δ`, `Pl` the
//! packet length (IP total length). Host-pair rate: `R(A, X, t1) = Σ_ports R(A1, X1, t1)`.
//! X's download (upload) rate is the sum of its host-pair rates from (to) every peer.
//! Rates are in bytes per second.

use std::collections::BTreeMap;
use std::net::IpAddr;

use peerscope_abi::{FlowKey, FlowStats, UnixNs};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::window::{HostView, PairTraffic};

/// `R = Σ Pl / Δ` for one flow's delta over a window of `len_ns`, in bytes/s.
pub fn flow_rate(delta: &FlowStats<UnixNs>, len_ns: u64) -> f64 {
    delta.total_bytes() as f64 / (len_ns.max(1) as f64 / 1e9)
}

/// Rate of one flow in one window.
#[derive(Clone, Debug)]
pub struct FlowRate {
    pub key: FlowKey,
    pub bytes_per_s: f64,
}

/// Rates of every flow in a window.
pub fn flow_rates(flows: &[(FlowKey, FlowStats<UnixNs>)], len_ns: u64) -> Vec<FlowRate> {
    flows.iter().map(|(k, s)| FlowRate { key: *k, bytes_per_s: flow_rate(s, len_ns) }).collect()
}

/// `R(A1, X1, t1)` of one of X's flows in one window ([M] §III-B).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WindowFlowRate {
    /// IP protocol number (6 TCP, 17 UDP).
    pub ip_protocol: u8,
    pub src_ip: IpAddr,
    pub src_port: u16,
    pub dst_ip: IpAddr,
    pub dst_port: u16,
    /// IP bytes in the window.
    pub bytes: u64,
    pub bytes_per_s: f64,
}

/// The `top` fastest of X's flows (`host_flows`) in a window of `len_ns`, fastest
/// first (ties by key), and how many of X's active flows were left out.
pub fn top_flow_rates(
    host_flows: impl Iterator<Item = (FlowKey, FlowStats<UnixNs>)>,
    len_ns: u64,
    top: usize,
) -> (Vec<WindowFlowRate>, usize) {
    // A key given twice in a window is one flow.
    let mut merged: BTreeMap<FlowKey, u64> = BTreeMap::new();
    for (k, s) in host_flows {
        *merged.entry(k).or_default() += s.total_bytes();
    }
    let mut all: Vec<(FlowKey, u64)> = merged.into_iter().filter(|f| f.1 > 0).collect();
    all.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let omitted = all.len().saturating_sub(top);
    all.truncate(top);
    let len_s = len_ns.max(1) as f64 / 1e9;
    let rates = all
        .into_iter()
        .map(|(k, bytes)| WindowFlowRate {
            ip_protocol: k.proto,
            src_ip: k.src_ip(),
            src_port: k.src_port,
            dst_ip: k.dst_ip(),
            dst_port: k.dst_port,
            bytes,
            bytes_per_s: bytes as f64 / len_s,
        })
        .collect();
    (rates, omitted)
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

/// X's rates over a window or a sample: `Σ_peers R(peer, X, t1)` down, `Σ_peers R(X, peer, t1)` up.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HostRate {
    pub down_bytes_per_s: f64,
    pub up_bytes_per_s: f64,
}

/// X's rates from its traffic per peer over `len_s` seconds.
pub fn host_rate(pairs: &BTreeMap<IpAddr, PairTraffic>, len_s: f64) -> HostRate {
    let (down, up) = pairs.values().fold((0u64, 0u64), |a, t| (a.0 + t.down.total_bytes(), a.1 + t.up.total_bytes()));
    HostRate { down_bytes_per_s: down as f64 / len_s, up_bytes_per_s: up as f64 / len_s }
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
    use crate::testing::scenario::{rates, RA, RB};
    use crate::testing::*;
    use peerscope_abi::{classify::IPPROTO_UDP, PacketObservation, Thresholds};

    #[test]
    fn test_flow_rate_is_ip_bytes_over_delta() {
        let mut s = FlowStats::default();
        let o = PacketObservation::new(&Thresholds::STUDIES, IPPROTO_UDP, 1000, 972, 0, peerscope_abi::UnixNs(1));
        s.record_n(&o, 60);
        assert_eq!(flow_rate(&s, 20_000_000_000), 3000.0);
        let k = FlowKey::v4(IPPROTO_UDP, [198, 51, 100, 1], [192, 0, 2, 10], 1, 2);
        let r = flow_rates(&[(k, s)], 20_000_000_000);
        assert_eq!((r[0].key, r[0].bytes_per_s), (k, 3000.0));
    }

    /// See [`rates`]: window 0 carries 100 000 + 50 000 B down and 90 000 B up in 20 s;
    /// RA's two flows add up to a host-pair rate of 5000 B/s; window 1 is empty.
    #[test]
    fn test_window_and_host_pair_rates_by_hand() {
        let r = analyze(&rates(), window_config(20)).report;
        assert_eq!(r.windows.len(), 4);
        let w0 = &r.windows[0];
        assert_eq!(w0.start_unix_ns, T0);
        assert_close(w0.down_bytes_per_s, (100_000.0 + 50_000.0) / 20.0);
        assert_close(w0.up_bytes_per_s, 90_000.0 / 20.0);
        let a = w0.pairs.iter().find(|p| p.peer == ip(RA)).unwrap();
        assert_close(a.down_bytes_per_s, 5000.0);
        assert_eq!((a.down_bytes, a.up_bytes), (100_000, 0));
        let w1 = &r.windows[1];
        assert_eq!((w1.packets, w1.active_flows, w1.down_bytes_per_s), (0, 0, 0.0));
    }

    /// See [`rates`], window 0 (20 s): X's flows RA:1 → X 60 000 B (3000 B/s), RA:2 →
    /// X 40 000 (2000), RB → X 50 000 (2500), X → RC 90 000 (4500). The top 3,
    /// fastest first: X → RC, RA:1, RB; RA:2 left out (1 omitted).
    #[test]
    fn test_per_flow_rates_per_window_top_n() {
        let mut cfg = window_config(20);
        cfg.flow_rates_top = 3;
        let r = analyze(&rates(), cfg).report;
        let w0 = &r.windows[0];
        let got: Vec<_> = w0.flow_rates.iter().map(|f| (f.src_ip, f.src_port, f.bytes_per_s)).collect();
        assert_eq!(got, vec![(ip(X), 4004, 4500.0), (ip(RA), 1, 3000.0), (ip(RB), 7, 2500.0)]);
        assert_eq!(w0.flow_rates_omitted, 1);
        assert!(r.windows[1].flow_rates.is_empty());
    }
}
