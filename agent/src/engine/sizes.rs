//! Packet-size distribution by class, and the control share of bytes ([M] §II-D,
//! [H] §4.1).
//!
//! The counters keep classes, not every size, so the CDF has one step per size
//! class, in increasing size: ack (TCP without payload), control (below the data
//! threshold), data up to the large threshold, large (> 1200 B). [M] saw ~40% ack,
//! 10–20% control (~5% of bytes), ~50% data packets.

use peerscope_abi::{FlowStats, PacketClass, Thresholds, UnixNs};
use serde::Serialize;

use super::util::ratio;

/// One step of the size CDF.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SizeBucket {
    pub bucket: &'static str,
    /// Smallest and largest IP length the bucket can hold (ack: any).
    pub min_ip_len: Option<u32>,
    pub max_ip_len: Option<u32>,
    pub packets: u64,
    pub bytes: u64,
    pub mean_ip_len: Option<f64>,
    /// Fraction of packets (bytes) in this bucket and the ones before it.
    pub cumulative_packet_fraction: Option<f64>,
    pub cumulative_byte_fraction: Option<f64>,
}

/// Size distribution over a set of flows.
#[derive(Clone, Debug, Serialize)]
pub struct SizeSummary {
    pub packets: u64,
    pub bytes: u64,
    pub class_packets: [u64; 3],
    pub class_bytes: [u64; 3],
    pub ack_packet_fraction: Option<f64>,
    pub control_packet_fraction: Option<f64>,
    pub data_packet_fraction: Option<f64>,
    /// Control bytes / all bytes ([M]: ~5%).
    pub control_byte_fraction: Option<f64>,
    pub large_packets: u64,
    pub large_bytes: u64,
    pub cdf: Vec<SizeBucket>,
}

type Row = (&'static str, Option<u32>, Option<u32>, u64, u64);

pub fn size_summary<'a>(flows: impl IntoIterator<Item = &'a FlowStats<UnixNs>>, t: &Thresholds) -> SizeSummary {
    let mut all = FlowStats::default();
    for f in flows {
        all.merge(f);
    }
    let (p, b) = (all.total_packets(), all.total_bytes());
    let [ack, ctl, data] = [PacketClass::Ack, PacketClass::Control, PacketClass::Data].map(|c| c as usize);
    // (bucket, min IP length, max IP length, packets, bytes)
    let rows: [Row; 4] = [
        ("ack", None, None, all.packets[ack], all.bytes[ack]),
        ("control", Some(0), Some(t.data_min_ip_len.saturating_sub(1)), all.packets[ctl], all.bytes[ctl]),
        (
            "data",
            Some(t.data_min_ip_len),
            Some(t.large_above_ip_len),
            all.packets[data].saturating_sub(all.large_packets),
            all.bytes[data].saturating_sub(all.large_bytes),
        ),
        ("large", Some(t.large_above_ip_len + 1), None, all.large_packets, all.large_bytes),
    ];
    let (mut cp, mut cb) = (0u64, 0u64);
    let cdf = rows
        .iter()
        .map(|&(bucket, min, max, packets, bytes)| {
            cp += packets;
            cb += bytes;
            SizeBucket {
                bucket,
                min_ip_len: min,
                max_ip_len: max,
                packets,
                bytes,
                mean_ip_len: ratio(bytes as f64, packets as f64),
                cumulative_packet_fraction: ratio(cp as f64, p as f64),
                cumulative_byte_fraction: ratio(cb as f64, b as f64),
            }
        })
        .collect();
    SizeSummary {
        packets: p,
        bytes: b,
        class_packets: all.packets,
        class_bytes: all.bytes,
        ack_packet_fraction: ratio(all.packets[ack] as f64, p as f64),
        control_packet_fraction: ratio(all.packets[ctl] as f64, p as f64),
        data_packet_fraction: ratio(all.packets[data] as f64, p as f64),
        control_byte_fraction: ratio(all.bytes[ctl] as f64, b as f64),
        large_packets: all.large_packets,
        large_bytes: all.large_bytes,
        cdf,
    }
}
