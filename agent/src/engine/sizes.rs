//! Packet-size distribution by class, and the control share of bytes ([M] §II-D,
//! [H] §4.1).
//!
//! The counters keep classes, not every size, so the CDF has one step per size
//! class, in increasing size: ack (TCP without payload), control (below the data
//! threshold), data up to the large threshold, large (> 1200 B). [M] saw ~40% ack,
//! 10–20% control (~5% of bytes), ~50% data packets.

use peerscope_abi::{FlowStats, PacketClass, Thresholds, UnixNs};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::histogram::SizeDistribution;
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
    /// The class counts as cumulative steps (one per class, not a size CDF).
    pub cdf: Vec<SizeBucket>,
    /// The distribution of IP lengths per direction of X, in 8-byte bins, with its
    /// CDF ([M] Fig. 1); `null` where it was not counted (live, for now).
    pub distribution: Option<SizeDistribution>,
}

type Row = (SizeBucketKind, Option<u32>, Option<u32>, u64, u64);

pub fn size_summary<'a>(flows: impl IntoIterator<Item = &'a FlowStats<UnixNs>>, t: &Thresholds) -> SizeSummary {
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
        distribution: None,
    }
}

#[cfg(test)]
mod tests {

    use crate::offline::synth::{tcp, Link, SynthPcap};
    use crate::testing::*;

    /// 4 TCP ACKs of 40 B (ack class), 3 UDP × 100 B (control), 2 UDP × 1100 B (data,
    /// not large), 1 UDP × 1300 B (large): 10 packets, 3960 bytes.
    #[test]
    fn test_packet_size_cdf_and_control_share() {
        let (x, p) = (sa(X, 5000), sa("198.51.100.21", 80));
        let (a, x2) = (sa("198.51.100.21", 1), sa(X, 2));
        let mut c = SynthPcap::new(Link::Ethernet);
        for i in 0..4 {
            c.tcp(T0 + i * S, p, x, tcp::ACK, 40);
        }
        c.udp_train(T0, S, 3, a, x2, 100).udp_train(T0, S, 2, a, x2, 1100).udp(T0, a, x2, 1300);
        let s = analyze(&c, window_config(20)).report.sizes;
        assert_eq!((s.classes.packets, s.classes.bytes), (10, 3960));
        assert_eq!((s.classes.ack_packets, s.classes.control_packets, s.classes.data_packets), (4, 3, 3));
        assert_eq!((s.classes.ack_bytes, s.classes.control_bytes, s.classes.data_bytes), (160, 300, 2200 + 1300));
        assert_eq!(s.ack_packet_fraction, Some(0.4));
        assert_close(s.control_byte_fraction.unwrap(), 300.0 / 3960.0);
        let cdf: Vec<_> = s
            .cdf
            .iter()
            .map(|b| (b.bucket.name(), b.packets, b.bytes, b.cumulative_packet_fraction.unwrap()))
            .collect();
        assert_eq!(
            cdf,
            vec![("ack", 4, 160, 0.4), ("control", 3, 300, 0.7), ("data", 2, 2200, 0.9), ("large", 1, 1300, 1.0)]
        );
        assert_eq!(s.cdf[2].mean_ip_len_bytes, Some(1100.0));
        assert_eq!((s.cdf[3].min_ip_len_bytes, s.cdf[1].max_ip_len_bytes), (Some(1201), Some(1023)));
    }

    /// Sizes 40, 100, 1201, 1300, 1400 and 2000 B down (UDP but the TCP ACK of 40),
    /// and 1300 up: bins of 8 B hold 40 in bin 5, 100 in 12, 1201 in 150, 1300 in
    /// 162, 1400 in 175, 2000 in the tail (192). Down CDF: 1/6 up to bin 5, 2/6 from
    /// bin 12, 3/6 from 150, 4/6 from 162, 5/6 from 175, 1 at the tail: 1201, 1300
    /// and 1400 are three steps, not one.
    #[test]
    fn test_size_histogram_per_direction() {
        use crate::engine::histogram::BINS;
        let (a, x) = (sa("198.51.100.21", 1), sa(X, 2));
        let mut c = SynthPcap::new(Link::Ethernet);
        c.tcp(T0, sa("198.51.100.21", 80), sa(X, 5000), tcp::ACK, 40);
        for (i, len) in [100, 1201, 1300, 1400, 2000].into_iter().enumerate() {
            c.udp(T0 + (i as u64 + 1) * S, a, x, len);
        }
        c.udp(T0 + 7 * S, x, a, 1300);
        let d = analyze(&c, window_config(20)).report.sizes.distribution.unwrap();
        assert_eq!((d.download.packets, d.upload.packets, d.download.bins.len()), (6, 1, BINS));
        let nonzero: Vec<usize> = (0..BINS).filter(|&i| d.download.bins[i] > 0).collect();
        assert_eq!(nonzero, vec![5, 12, 150, 162, 175, 192]);
        assert_eq!(d.upload.bins[162], 1);
        let cdf = |i: usize| d.download.cdf[i].unwrap();
        assert_close(cdf(4), 0.0);
        assert_close(cdf(5), 1.0 / 6.0);
        assert_close(cdf(149), 2.0 / 6.0);
        assert_close(cdf(161), 3.0 / 6.0);
        assert_close(cdf(174), 4.0 / 6.0);
        assert_close(cdf(191), 5.0 / 6.0);
        assert_close(cdf(192), 1.0);
    }
}
