//! Packet-size distribution by class, and the control share of bytes ([M] §II-D,
//! [H] §4.1).
//!
//! The counters keep classes, not every size, so the CDF has one step per size
//! class, in increasing size: ack (TCP without payload), control (below the data
//! threshold), data up to the large threshold, large (> 1200 B). [M] saw ~40% ack,
//! 10–20% control (~5% of bytes), ~50% data packets.

use peerscope_abi::{FlowStats, PacketClass, Thresholds};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::util::ratio;
use crate::schema::ClassCounts;

/// A step of the size CDF, in increasing size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SizeBucketKind {
    /// TCP without payload, any length.
    Ack,
    /// Below the data threshold.
    Control,
    /// From the data threshold up to the large threshold.
    Data,
    /// Above the large threshold.
    Large,
}

impl SizeBucketKind {
    pub fn name(self) -> &'static str {
        match self {
            SizeBucketKind::Ack => "ack",
            SizeBucketKind::Control => "control",
            SizeBucketKind::Data => "data",
            SizeBucketKind::Large => "large",
        }
    }
}

/// One step of the size CDF.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SizeBucket {
    pub bucket: SizeBucketKind,
    /// Smallest and largest IP length the bucket can hold (`null`: no bound).
    pub min_ip_len_bytes: Option<u32>,
    pub max_ip_len_bytes: Option<u32>,
    pub packets: u64,
    pub bytes: u64,
    pub mean_ip_len_bytes: Option<f64>,
    /// Fraction of packets (bytes) in this bucket and the ones before it.
    pub cumulative_packet_fraction: Option<f64>,
    pub cumulative_byte_fraction: Option<f64>,
}

/// Size distribution over a set of flows.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct SizeSummary {
    #[serde(flatten)]
    pub classes: ClassCounts,
    pub ack_packet_fraction: Option<f64>,
    pub control_packet_fraction: Option<f64>,
    pub data_packet_fraction: Option<f64>,
    /// Control bytes / all bytes ([M]: ~5%).
    pub control_byte_fraction: Option<f64>,
    pub large_packets: u64,
    pub large_bytes: u64,
    pub cdf: Vec<SizeBucket>,
}

type Row = (SizeBucketKind, Option<u32>, Option<u32>, u64, u64);

pub fn size_summary<'a>(flows: impl IntoIterator<Item = &'a FlowStats>, t: &Thresholds) -> SizeSummary {
    let mut all = FlowStats::default();
    for f in flows {
        all.merge(f);
    }
    let (p, b) = (all.total_packets(), all.total_bytes());
    let [ack, ctl, data] = [PacketClass::Ack, PacketClass::Control, PacketClass::Data].map(|c| c as usize);
    // (bucket, min IP length, max IP length, packets, bytes)
    let rows: [Row; 4] = [
        (SizeBucketKind::Ack, None, None, all.packets[ack], all.bytes[ack]),
        (SizeBucketKind::Control, Some(0), Some(t.data_min_ip_len.saturating_sub(1)), all.packets[ctl], all.bytes[ctl]),
        (
            SizeBucketKind::Data,
            Some(t.data_min_ip_len),
            Some(t.large_above_ip_len),
            all.packets[data].saturating_sub(all.large_packets),
            all.bytes[data].saturating_sub(all.large_bytes),
        ),
        (SizeBucketKind::Large, Some(t.large_above_ip_len + 1), None, all.large_packets, all.large_bytes),
    ];
    let (mut cp, mut cb) = (0u64, 0u64);
    let cdf = rows
        .iter()
        .map(|&(bucket, min, max, packets, bytes)| {
            cp += packets;
            cb += bytes;
            SizeBucket {
                bucket,
                min_ip_len_bytes: min,
                max_ip_len_bytes: max,
                packets,
                bytes,
                mean_ip_len_bytes: ratio(bytes as f64, packets as f64),
                cumulative_packet_fraction: ratio(cp as f64, p as f64),
                cumulative_byte_fraction: ratio(cb as f64, b as f64),
            }
        })
        .collect();
    SizeSummary {
        classes: ClassCounts::from(&all),
        ack_packet_fraction: ratio(all.packets[ack] as f64, p as f64),
        control_packet_fraction: ratio(all.packets[ctl] as f64, p as f64),
        data_packet_fraction: ratio(all.packets[data] as f64, p as f64),
        control_byte_fraction: ratio(all.bytes[ctl] as f64, b as f64),
        large_packets: all.large_packets,
        large_bytes: all.large_bytes,
        cdf,
    }
}
