//! `run --ipfix`: each poll's per-flow deltas as IPFIX records (a poll interval is
//! the records' window), flows the poll reaped ending "idle timeout", the last
//! poll's "forced end". The exporter never blocks the poll loop.

use std::collections::HashSet;
use std::time::Duration;

use peerscope::engine::MonitoredHost;
use peerscope::export::ipfix::{EncoderConfig, EndReason, ExportStats, Exporter, FlowRecord, TransportConfig};
use peerscope_abi::{FlowKey, FlowStats, UnixNs};

use super::agent::Polled;

pub struct LiveExport {
    exporter: Exporter,
    pub collector: std::net::SocketAddr,
    /// Where the next records' span starts (the previous poll), Unix ns.
    span_start_ns: u64,
    /// Records dropped by the previous poll, and whether they were still growing.
    dropped: u64,
    away: bool,
}

impl LiveExport {
    pub fn open(enc: EncoderConfig, t: &TransportConfig, start_unix_ns: u64) -> std::io::Result<Self> {
        Ok(LiveExport {
            exporter: Exporter::open(enc, t)?,
            collector: t.collector,
            span_start_ns: start_unix_ns,
            dropped: 0,
            away: false,
        })
    }

    /// The records of one poll at `now`; `last`: the agent is stopping.
    pub fn poll(&mut self, polled: &Polled, host: &MonitoredHost, now: u64, last: bool) {
        let released: HashSet<FlowKey> = polled.released.iter().copied().collect();
        let mut by_key: std::collections::BTreeMap<FlowKey, FlowStats<UnixNs>> = Default::default();
        for d in polled.poll.deltas.iter().filter(|d| !d.delta.is_empty()) {
            by_key.entry(d.key).or_default().merge(&d.delta);
        }
        // A reaped flow without packets since the last poll still gets its end record.
        for k in &released {
            by_key.entry(*k).or_default();
        }
        let host = Some(host).filter(|h| !h.is_empty());
        let records: Vec<FlowRecord> = by_key
            .iter()
            .map(|(k, s)| {
                let end = if released.contains(k) {
                    EndReason::IdleTimeout
                } else if last {
                    EndReason::ForcedEnd
                } else {
                    EndReason::ActiveTimeout
                };
                FlowRecord::of_delta(k, s, host, self.span_start_ns, end)
            })
            .collect();
        self.span_start_ns = now;
        self.exporter.export(&records);
        // Said once when records start to be lost and once when they stop.
        let s = self.exporter.stats();
        let dropping = s.records_dropped > self.dropped;
        if dropping != self.away {
            super::note(&if dropping {
                format!("peerscope: warning: IPFIX collector {} unreachable: records are lost", self.collector)
            } else {
                format!(
                    "peerscope: IPFIX collector {} reachable again ({} records lost)",
                    self.collector, s.records_dropped
                )
            });
        }
        (self.away, self.dropped) = (dropping, s.records_dropped);
    }

    pub fn close(self) -> ExportStats {
        // Bounded, so that stopping stays quick with the collector away.
        self.exporter.close(Duration::from_secs(1))
    }
}
