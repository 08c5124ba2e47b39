//! Unix time, as the agent stamps flows: the ground truth and the channel use the
//! same clock, so their seconds line up with the engine's windows.

pub fn now_unix_ns() -> u64 {
    peerscope::live::clock::unix_now_ns()
}

pub fn now_unix_secs() -> u64 {
    now_unix_ns() / 1_000_000_000
}
