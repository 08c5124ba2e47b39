//! Upload capacity through the kernel's token bucket filter (netem is not available
//! everywhere; tbf is). The queue is deep enough that TCP's own small-queue limits
//! keep it from overflowing, so shaping delays packets instead of dropping them and
//! the ground truth stays free of losses.

/// The `tc` command (without the leading `tc`) that caps `dev`'s egress at `bps`.
pub fn tbf_line(dev: &str, bps: u64) -> String {
    // Burst of at least 10 ms of traffic, and never below a few full segments.
    let burst = (bps / 8 / 100).max(16 * 1024);
    let limit = 4 * 1024 * 1024;
    format!("qdisc add dev {dev} root tbf rate {bps}bit burst {burst} limit {limit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_tbf_line() {
        assert_eq!(tbf_line("ps0", 512_000), "qdisc add dev ps0 root tbf rate 512000bit burst 16384 limit 4194304");
        assert!(tbf_line("ps0", 10_000_000).contains("burst 16384"));
        assert!(tbf_line("ps0", 100_000_000).contains("burst 125000"));
    }
}
