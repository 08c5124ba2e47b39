//! The soak in short (`cargo xtask soak` is the long one, against its targets): 100 000
//! flows of 2 packets in 50 s through `peerscope run --interval 1 --window 5
//! --idle-timeout 10`. The agent's memory stays within a bound that every flow it ever
//! saw would exceed (the engine once held ~3.7 KB per flow: 370 MB here), it does not
//! grow over the second half, and SIGTERM ends it within a few seconds with the window
//! open at that moment written.

use std::time::Duration;

use peerscope_tests::{bin_path, require_root, soak};

/// The debug build's heap bound: the flows of the last idle timeout (about 25 000
/// here), nothing of what went before (measured: 29 MiB at most).
const HEAP_BOUND_KIB: u64 = 48 << 10;
/// And its RSS without the kernel table's pages (kernel memory, mapped in to be
/// read): that heap and the binary.
const RSS_BOUND_KIB: u64 = 80 << 10;

#[test]
fn soak_of_100_000_flows_keeps_memory_bounded_and_sigterm_prompt() {
    if !require_root("soak_of_100_000_flows_keeps_memory_bounded_and_sigterm_prompt") {
        return;
    }
    let o = soak::Options {
        peerscope: bin_path::peerscope(),
        load: Duration::from_secs(50),
        idle: Duration::from_secs(6),
        flows_per_second: 2000,
        sample_every: Duration::from_secs(5),
        dir: std::env::temp_dir(),
    };
    let out = soak::run(&o).expect("soak run");
    eprintln!("{}", soak::tsv(&out));
    assert!(out.flows_sent >= 95_000, "the churn was real: {} flows", out.flows_sent);
    let heap = out.max_heap_kib();
    assert!(heap <= HEAP_BOUND_KIB, "the heap reached {} MiB after {} flows", heap / 1024, out.flows_sent);
    let rss = out.max_own_rss_kib();
    assert!(rss <= RSS_BOUND_KIB, "RSS reached {} MiB after {} flows", rss / 1024, out.flows_sent);
    let growth = out.late_heap_growth_kib();
    assert!(growth <= 8 << 10, "the heap grew {} KiB over the second half of the churn", growth);
    assert!(out.exit_ok, "the agent failed");
    assert!(out.stop <= Duration::from_secs(3), "SIGTERM took {:?}", out.stop);
    assert!(out.windows.len() >= 8, "{} windows written", out.windows.len());
    let end = out.last_window_end_ns().unwrap();
    assert!(end >= out.sigterm_unix_ns, "the window open at SIGTERM was written (ends {end})");
}
