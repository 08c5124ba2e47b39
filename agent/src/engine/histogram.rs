//! The packet-size distribution ([M] Fig. 1): a histogram of IP lengths per
//! direction of X, in bins of [`BIN_BYTES`] up to [`TAIL_FROM_BYTES`] and one tail
//! bin above, the bins the kernel counts in its `SIZES` per-CPU array. Offline it
//! is counted per packet ([`SizeHistogram::record`]); the CDF in the report comes
//! from it; live, the agent adds what the kernel's array gained at every window.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::util::ratio;

pub use peerscope_abi::sizes::{BIN_BYTES, TAIL_FROM_BYTES};

/// Bins per direction (192 fine bins and the tail), the kernel's
/// ([`peerscope_abi::sizes`]).
pub const BINS: usize = peerscope_abi::sizes::BINS as usize;

/// Packets per size bin, one direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bins(pub [u64; BINS]);

impl Default for Bins {
    fn default() -> Self {
        Bins([0; BINS])
    }
}

impl Bins {
    pub fn bin_of(ip_len: u32) -> usize {
        peerscope_abi::sizes::bin(ip_len) as usize
    }

    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

/// Packets per size bin, both directions of X.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SizeHistogram {
    /// Peer → X.
    pub down: Bins,
    /// X → peer.
    pub up: Bins,
}

impl SizeHistogram {
    pub fn record(&mut self, down: bool, ip_len: u32) {
        let b = if down { &mut self.down } else { &mut self.up };
        b.0[Bins::bin_of(ip_len)] += 1;
    }

    pub fn merge(&mut self, other: &SizeHistogram) {
        for (a, b) in self.down.0.iter_mut().zip(other.down.0.iter()) {
            *a += b;
        }
        for (a, b) in self.up.0.iter_mut().zip(other.up.0.iter()) {
            *a += b;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.down.total() + self.up.total() == 0
    }

    pub fn report(&self, source: HistogramSource) -> SizeDistribution {
        SizeDistribution {
            source,
            bin_bytes: BIN_BYTES,
            tail_from_ip_len_bytes: TAIL_FROM_BYTES,
            download: DirectionSizes::of(&self.down),
            upload: DirectionSizes::of(&self.up),
        }
    }
}

/// Where the histogram was counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HistogramSource {
    /// Every packet of the capture (offline).
    Packets,
    /// The kernel's per-CPU array (live): ingress as download, egress as upload,
    /// every packet on the interface.
    Kernel,
}

/// The size distribution per direction of X.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SizeDistribution {
    pub source: HistogramSource,
    /// Bin i holds IP lengths [bin_bytes · i, bin_bytes · (i + 1)); the last bin
    /// every length from `tail_from_ip_len_bytes` on.
    pub bin_bytes: u32,
    pub tail_from_ip_len_bytes: u32,
    pub download: DirectionSizes,
    pub upload: DirectionSizes,
}

/// One direction's histogram and its CDF.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DirectionSizes {
    pub packets: u64,
    /// Packets per bin, every bin.
    pub bins: Vec<u64>,
    /// Fraction of packets in this bin and the ones before it (`null` without
    /// packets).
    pub cdf: Vec<Option<f64>>,
}

impl DirectionSizes {
    fn of(b: &Bins) -> Self {
        let n = b.total();
        let mut acc = 0u64;
        let cdf =
            b.0.iter()
                .map(|c| {
                    acc += c;
                    ratio(acc as f64, n as f64)
                })
                .collect();
        DirectionSizes { packets: n, bins: b.0.to_vec(), cdf }
    }
}
