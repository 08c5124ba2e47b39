//! The kernel stamps packets with the coarse monotonic clock (`bpf_ktime_get_coarse_ns`,
//! a few ns instead of ~40 for the precise one); the engine wants Unix time.

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

    pub fn to_unix_ns(&self, kernel_ns: u64) -> u64 {
        if kernel_ns == 0 {
            return 0;
        }
        (kernel_ns as i128 + self.offset_ns).max(0) as u64
    }
}

impl Default for KernelClock {
    fn default() -> Self {
        Self::new()
    }
}
