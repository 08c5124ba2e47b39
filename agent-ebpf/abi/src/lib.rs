//! The ABI between peerscope's kernel program and its userspace agent: the flow
//! key, counters and flow-table layout, the packet size classifier and the frame
//! parser, all used by both sides.
//!
//! This crate operates on byte slices and plain memory only: no I/O, no allocation
//! (but for the `test-support` frame builders), no dependency on the kernel program
//! or on aya beyond the `user` feature's marker impls.
//!
//! Everything here is `no_std`, `#[repr(C)]` and `bytemuck::Pod`, with its size
//! asserted at compile time, so the kernel and the agent cannot disagree on a layout.
//! The pcap path of the agent calls the very same [`classify`] and
//! [`FlowStats::record`] as the kernel, so live and offline counts agree by
//! construction.
#![no_std]

pub mod classify;
pub mod clock;
pub mod counters;
pub mod flow;
#[cfg(any(test, feature = "test-support"))]
pub mod frames;
pub mod parse;
pub mod sample;
pub mod sizes;
pub mod table;

pub use classify::{classify, PacketClass, Thresholds};
pub use clock::{KernelNs, Stamp, UnixNs};
pub use counters::Counter;
pub use flow::{FlowKey, FlowStats, PacketObservation, TcpFlags, Tunnel};
pub use sample::{Config, ControlSample, SAMPLE_CAPTURE_LEN};
pub use table::{FlowSlot, Geometry, SlotState, TableHeader};

/// Names of the maps and programs in the kernel object; the agent looks them up by these.
pub mod names {
    /// The flow table: slots (keys), per-CPU counters, header ([`crate::table`]).
    pub const FLOW_SLOTS: &str = "FLOW_SLOTS";
    pub const FLOW_STATS: &str = "FLOW_STATS";
    pub const FLOW_TABLE: &str = "FLOW_TABLE";
    pub const COUNTERS: &str = "COUNTERS";
    pub const CONFIG: &str = "CONFIG";
    pub const SAMPLES: &str = "SAMPLES";
    /// The packet-size histogram ([`crate::sizes`]).
    pub const SIZES: &str = "SIZES";
    /// Ingress on XDP.
    pub const INGRESS: &str = "peerscope_ingress";
    /// Ingress on TCX: the same accounting as egress, GRO super-packets as wire packets.
    pub const INGRESS_TC: &str = "peerscope_ingress_tc";
    pub const EGRESS: &str = "peerscope_egress";
    /// Pass-only XDP program, the benchmarks' reference; never attached.
    pub const BASELINE: &str = "peerscope_baseline";
    /// Pass-only TC program, the benchmarks' reference on TCX; never attached by the agent.
    pub const BASELINE_TC: &str = "peerscope_baseline_tc";
    /// The benchmarks' reference flow counter (XDP and TC) and its map; never attached.
    pub const REFERENCE: &str = "peerscope_reference";
    pub const REFERENCE_TC: &str = "peerscope_reference_tc";
    pub const REFERENCE_FLOWS: &str = "REFERENCE_FLOWS";
}
