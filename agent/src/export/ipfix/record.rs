//! A flow record to export: the output schema's flow (its 5-tuple, direction and
//! the counts of one span), written as the values of its template's fields.

use std::collections::BTreeMap;
use std::net::IpAddr;

use peerscope_abi::{FlowKey, FlowStats, UnixNs};

use super::ie::EndReason;
use super::template::FlowTemplate;
use crate::engine::{MonitoredHost, WindowFlows};
use crate::schema::flow::TcpFlag;
use crate::schema::{FiveTuple, FlowCounts, FlowDirection};

/// One flow over one span (a window): what one data record says.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowRecord {
    pub key: FiveTuple,
    pub direction: Option<FlowDirection>,
    /// What the flow did in the span (deltas).
    pub counts: FlowCounts,
    /// The span's start (Unix ns): flowStartMilliseconds is the flow's first packet,
    /// or this when the flow began before the span.
    pub span_start_ns: u64,
    pub end: EndReason,
}

impl FlowRecord {
    /// From a flow's deltas over the span starting at `span_start_ns`.
    pub fn of_delta(
        key: &FlowKey,
        delta: &FlowStats<UnixNs>,
        host: Option<&MonitoredHost>,
        span_start_ns: u64,
        end: EndReason,
    ) -> Self {
        FlowRecord {
            key: key.into(),
            direction: host.filter(|h| !h.is_empty()).map(|h| h.direction(key).into()),
            counts: delta.into(),
            span_start_ns,
            end,
        }
    }

    pub fn template(&self) -> FlowTemplate {
        FlowTemplate {
            ipv6: self.key.src_ip.is_ipv6(),
            directed: matches!(self.direction, Some(FlowDirection::Download | FlowDirection::Upload)),
        }
    }

    /// flowStart/EndMilliseconds: the first and last packet within the span.
    pub fn start_end_ms(&self) -> (u64, u64) {
        let last = self.counts.last_seen_unix_ns.unwrap_or(self.span_start_ns);
        let first = self.counts.first_seen_unix_ns.unwrap_or(last).max(self.span_start_ns).min(last);
        (first / 1_000_000, last / 1_000_000)
    }

    /// Appends the values of its template's fields (see [`FlowTemplate::fields`]);
    /// `ifindex`: the interface it was observed on, when the templates carry one.
    pub fn write(&self, out: &mut Vec<u8>, ifindex: Option<u32>) {
        let t = self.template();
        let ip = |out: &mut Vec<u8>, a: IpAddr| match a {
            IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
            IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
        };
        // A flow's ends are of one family; a v6 template writes v4 ends mapped.
        let widen = |a: IpAddr| match (a, t.ipv6) {
            (IpAddr::V4(v4), true) => IpAddr::V6(v4.to_ipv6_mapped()),
            (a, _) => a,
        };
        ip(out, widen(self.key.src_ip));
        ip(out, widen(self.key.dst_ip));
        out.extend_from_slice(&self.key.src_port.to_be_bytes());
        out.extend_from_slice(&self.key.dst_port.to_be_bytes());
        out.push(self.key.ip_protocol);
        let c = &self.counts.classes;
        out.extend_from_slice(&c.bytes.to_be_bytes());
        out.extend_from_slice(&c.packets.to_be_bytes());
        let (start, end) = self.start_end_ms();
        out.extend_from_slice(&start.to_be_bytes());
        out.extend_from_slice(&end.to_be_bytes());
        out.extend_from_slice(&tcp_control_bits(&self.counts.tcp_flags).to_be_bytes());
        out.push(self.end as u8);
        if t.directed {
            // flowDirection: 0 ingress (peer → X), 1 egress (X → peer).
            out.push((self.direction == Some(FlowDirection::Upload)) as u8);
        }
        if let Some(i) = ifindex {
            let (ingress, egress) = match self.direction {
                Some(FlowDirection::Upload) => (0, i),
                _ => (i, 0),
            };
            out.extend_from_slice(&u32::to_be_bytes(ingress));
            out.extend_from_slice(&u32::to_be_bytes(egress));
        }
        let counts = &self.counts;
        for v in [
            c.ack_packets,
            c.ack_bytes,
            c.control_packets,
            c.control_bytes,
            c.data_packets,
            c.data_bytes,
            counts.large_packets,
            counts.large_bytes,
            counts.payload_bytes,
        ] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

/// The records of one window: its flows with packets, a key given twice summed.
pub fn window_records(w: &WindowFlows, host: Option<&MonitoredHost>, end: EndReason) -> Vec<FlowRecord> {
    let mut by_key: BTreeMap<FlowKey, FlowStats<UnixNs>> = BTreeMap::new();
    for (k, s) in w.flows.iter().filter(|(_, s)| !s.is_empty()) {
        by_key.entry(*k).or_default().merge(s);
    }
    by_key.iter().map(|(k, s)| FlowRecord::of_delta(k, s, host, w.start_ns, end)).collect()
}

/// tcpControlBits of the flags a flow keeps (RFC 7125 bit positions).
fn tcp_control_bits(flags: &[TcpFlag]) -> u16 {
    flags.iter().fold(0, |b, f| {
        b | match f {
            TcpFlag::Fin => 0x01,
            TcpFlag::Syn => 0x02,
            TcpFlag::Rst => 0x04,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::ipfix::template::record_len;
    use peerscope_abi::{flow::ipv4, PacketObservation, Thresholds};

    #[test]
    fn test_record_is_as_long_as_its_template_and_starts_within_the_span() {
        let k = FlowKey::new(6, ipv4(192, 0, 2, 1), 8008, ipv4(198, 51, 100, 9), 4000);
        let mut s = FlowStats::default();
        s.record(&PacketObservation::new(&Thresholds::STUDIES, 6, 1400, 1360, 0x02, UnixNs(1_000_000_000)));
        s.record(&PacketObservation::new(&Thresholds::STUDIES, 6, 40, 0, 0x11, UnixNs(5_000_000_000)));
        let host = MonitoredHost::new([ipv4(198, 51, 100, 9)]);
        let r = FlowRecord::of_delta(&k, &s, Some(&host), 2_000_000_000, EndReason::ActiveTimeout);
        assert_eq!(r.direction, Some(FlowDirection::Download));
        assert_eq!(r.start_end_ms(), (2_000, 5_000));
        for ifindex in [None, Some(7)] {
            let mut out = Vec::new();
            r.write(&mut out, ifindex);
            assert_eq!(out.len(), record_len(&r.template().fields(ifindex.is_some())));
        }
        assert_eq!(tcp_control_bits(&r.counts.tcp_flags), 0x03, "{:?}", r.counts.tcp_flags);
    }

    #[test]
    fn test_window_records_sum_a_key_given_twice_and_leave_idle_flows_out() {
        let t = Thresholds::STUDIES;
        let a = FlowKey::new(17, ipv4(192, 0, 2, 1), 1, ipv4(198, 51, 100, 9), 2);
        let b = FlowKey::new(17, ipv4(192, 0, 2, 1), 3, ipv4(198, 51, 100, 9), 4);
        let one = |len, ts| {
            let mut s = FlowStats::default();
            s.record(&PacketObservation::new(&t, 17, len, len - 28, 0, UnixNs(ts)));
            s
        };
        let mut w = WindowFlows::new(10_000_000_000, 1_000_000_000);
        w.flows = vec![(a, one(100, 10_100_000_000)), (b, FlowStats::default()), (a, one(300, 10_200_000_000))];
        let r = window_records(&w, None, EndReason::ActiveTimeout);
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!((r[0].counts.classes.packets, r[0].counts.classes.bytes), (2, 400));
        assert_eq!(r[0].start_end_ms(), (10_100, 10_200));
    }
}
