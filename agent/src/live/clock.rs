//! The kernel stamps packets with the coarse monotonic clock (`bpf_ktime_get_coarse_ns`,
//! a few ns instead of ~40 for the precise one); the engine wants Unix time. The two
//! are two types ([`KernelNs`], [`UnixNs`]): this is where one becomes the other.

use peerscope_abi::{FlowStats, KernelNs, UnixNs};

fn now(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Unix time now, in ns.
pub fn unix_now_ns() -> u64 {
    now(libc::CLOCK_REALTIME)
}

/// Unix time now.
pub fn unix_now() -> UnixNs {
    UnixNs(unix_now_ns())
}

/// Converts kernel coarse-monotonic stamps to Unix time.
#[derive(Clone, Copy, Debug)]
pub struct KernelClock {
    offset_ns: i128,
}

impl KernelClock {
    pub fn new() -> Self {
        let mono = now(libc::CLOCK_MONOTONIC_COARSE) as i128;
        KernelClock { offset_ns: now(libc::CLOCK_REALTIME) as i128 - mono }
    }

    /// A kernel stamp in Unix time; unset (zero) stays unset.
    pub fn to_unix(&self, t: KernelNs) -> UnixNs {
        if t.0 == 0 {
            return UnixNs(0);
        }
        UnixNs((t.0 as i128 + self.offset_ns).max(0) as u64)
    }

    /// Counters read from the kernel, their timestamps in Unix time.
    pub fn stats_to_unix(&self, s: &FlowStats<KernelNs>) -> FlowStats<UnixNs> {
        s.map_clock(|t| self.to_unix(t))
    }
}

impl Default for KernelClock {
    fn default() -> Self {
        Self::new()
    }
}
