//! The two clocks a packet's time can be read on, as two types, so that counters
//! stamped by the kernel cannot be mistaken for Unix time (or the other way round).
//!
//! - [`KernelNs`]: the kernel's coarse monotonic clock (`bpf_ktime_get_coarse_ns`),
//!   nanoseconds since boot. The kernel program stamps every packet with it.
//! - [`UnixNs`]: Unix time in nanoseconds. The pcap path stamps packets with it, and
//!   the agent converts kernel stamps to it (`KernelClock` in the agent) before the
//!   measurement engine sees them.
//!
//! Both are a `u64` underneath (`#[repr(transparent)]`): no cost in the kernel.
//! Zero means "unset" on both clocks.

use bytemuck::{Pod, Zeroable};

/// Nanoseconds on the kernel's coarse monotonic clock.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Pod, Zeroable)]
pub struct KernelNs(pub u64);

/// Nanoseconds of Unix time.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Pod, Zeroable)]
pub struct UnixNs(pub u64);

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::KernelNs {}
    impl Sealed for super::UnixNs {}
}

/// A timestamp of one of the two clocks. Sealed: implemented only by [`KernelNs`] and
/// [`UnixNs`], both a transparent `u64`, which is what makes the `Pod` impls of the
/// types generic over a stamp sound.
pub trait Stamp: sealed::Sealed + Pod + Ord + Default + core::fmt::Debug + core::hash::Hash {
    /// The raw nanosecond count.
    fn ns(self) -> u64;
    /// Zero stands for "no packet yet".
    #[inline(always)]
    fn is_set(self) -> bool {
        self.ns() != 0
    }
}

impl Stamp for KernelNs {
    #[inline(always)]
    fn ns(self) -> u64 {
        self.0
    }
}

impl Stamp for UnixNs {
    #[inline(always)]
    fn ns(self) -> u64 {
        self.0
    }
}

const _: () = assert!(core::mem::size_of::<KernelNs>() == 8 && core::mem::align_of::<KernelNs>() == 8);
const _: () = assert!(core::mem::size_of::<UnixNs>() == 8 && core::mem::align_of::<UnixNs>() == 8);
