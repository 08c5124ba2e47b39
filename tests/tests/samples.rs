//! Control-class packets reach the agent as samples through the ring buffer: the first
//! bytes of their payload with the flow key, within the per-CPU rate limit; what the
//! limit holds back is counted, never silent.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use peerscope_abi::{sample::DIRECTION_EGRESS, Counter, FlowKey, SAMPLE_CAPTURE_LEN};
use peerscope_tests::{agent, netns, require_root, traffic, VethPair};

#[test]
fn control_packets_are_sampled_within_the_rate_limit() {
    if !require_root("control_packets_are_sampled_within_the_rate_limit") {
        return;
    }
    let pair = VethPair::new("smp", false);
    let mut attached = agent::attach(&pair, |o| o.samples_per_sec = 50);
    let a = IpAddr::V4(Ipv4Addr::from(netns::A_V4));
    let b = IpAddr::V4(Ipv4Addr::from(netns::B_V4));
    // 120 control packets (300 bytes of payload, all 0x5a) and 3 data packets: only
    // control is sampled. The burst takes well under a second; the budget is 50.
    let mut sizes = vec![300; 120];
    sizes.extend([1200; 3]);
    // A fresh one-second budget, past the interface's own start-up chatter.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let port = traffic::udp_burst(&pair.ns_a, a, &pair.ns_b, SocketAddr::new(b, 4004), &sizes);
    std::thread::sleep(std::time::Duration::from_millis(100));

    let key = FlowKey::new(17, a, port, b, 4004);
    let samples: Vec<_> = attached.drain_samples(1000).into_iter().filter(|s| s.key == key).collect();
    let snap = attached.maps.snapshot().unwrap();
    let limited = snap.counter(Counter::SamplesRateLimited);
    // The budget is per CPU (the sender may move between CPUs mid-burst) and shared
    // with the interface's own control packets (neighbour discovery, MLD): our flow
    // gets at most 50 per CPU, at least one, and the limit must have held some back.
    let cpus = std::thread::available_parallelism().unwrap().get();
    assert!((1..=50 * cpus).contains(&samples.len()), "samples of our flow: {}", samples.len());
    assert!(limited as usize >= 120usize.saturating_sub(50 * cpus), "the rate limit held packets back: {limited}");
    assert!(samples.len() as u64 + limited >= 120, "every control packet sampled or counted as limited: {limited}");
    for s in &samples {
        assert_eq!(s.direction, DIRECTION_EGRESS);
        assert_eq!((s.ip_len, s.payload_len), (328, 300));
        assert_eq!(s.payload(), &[0x5a; SAMPLE_CAPTURE_LEN][..]);
    }
    assert_eq!(snap.counter(Counter::SamplesDropped), 0);
}
