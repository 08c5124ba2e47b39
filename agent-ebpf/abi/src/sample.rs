//! Control-packet samples the kernel sends to the agent through a ring buffer, and
//! the load-time configuration of the kernel program.

use bytemuck::{Pod, Zeroable};

use crate::classify::Thresholds;
use crate::clock::KernelNs;
use crate::flow::FlowKey;

/// Bytes of transport payload copied per sample: the studies captured 128 bytes.
pub const SAMPLE_CAPTURE_LEN: usize = 128;

/// Direction of a packet relative to the interface the program is attached to.
pub const DIRECTION_INGRESS: u8 = 0;
pub const DIRECTION_EGRESS: u8 = 1;

/// The first bytes of one control-class packet's transport payload.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct ControlSample {
    pub key: FlowKey,
    pub ts: KernelNs,
    pub ip_len: u32,
    pub payload_len: u32,
    /// How many bytes of `data` are valid (≤ [`SAMPLE_CAPTURE_LEN`]).
    pub captured_len: u16,
    pub direction: u8,
    pub _pad: [u8; 5],
    pub data: [u8; SAMPLE_CAPTURE_LEN],
}

const _: () = assert!(core::mem::size_of::<ControlSample>() == 192);

impl ControlSample {
    pub fn payload(&self) -> &[u8] {
        &self.data[..(self.captured_len as usize).min(SAMPLE_CAPTURE_LEN)]
    }
}

/// Load-time configuration, a global of the kernel program (`CONFIG`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct Config {
    pub thresholds: Thresholds,
    /// Control samples allowed per second per CPU (0 turns sampling off).
    pub samples_per_sec: u32,
    /// Bit set of [`Config::LOG`].
    pub flags: u32,
    /// The flow table's [`crate::table::Geometry`]: slots - 1, CPUs, flow limit.
    pub slot_mask: u32,
    pub cpus: u32,
    pub max_flows: u32,
    pub _pad: u32,
    /// Seed of [`crate::table::slot_hash`], random per load.
    pub hash_seed: u64,
}

const _: () = assert!(core::mem::size_of::<Config>() == 40);

impl Config {
    /// Emit aya-log diagnostics from the kernel (off by default: they cost per packet).
    pub const LOG: u32 = 1;

    /// The object's built-in values; the agent always overrides the table's geometry.
    pub const DEFAULT: Config = Config {
        thresholds: Thresholds::STUDIES,
        samples_per_sec: 200,
        flags: 0,
        slot_mask: 7,
        cpus: 1,
        max_flows: 4,
        _pad: 0,
        hash_seed: 0,
    };
}

impl Default for Config {
    fn default() -> Self {
        Self::DEFAULT
    }
}

#[cfg(feature = "user")]
mod user {
    // aya's map and global APIs want their own Pod marker; the layouts are the ones
    // asserted above.
    unsafe impl aya::Pod for super::ControlSample {}
    unsafe impl aya::Pod for super::Config {}
    unsafe impl aya::Pod for crate::flow::FlowKey {}
    unsafe impl aya::Pod for crate::flow::FlowStats<crate::clock::KernelNs> {}
    unsafe impl aya::Pod for crate::table::FlowSlot {}
    unsafe impl aya::Pod for crate::table::TableHeader {}
}
