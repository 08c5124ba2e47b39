//! An independent reader agrees: tcpdump captures the veth while the agent counts it,
//! and the per-flow packet and byte counts tshark reads from that capture equal the
//! agent's (segmentation offloads off: AF_PACKET would see GSO super-packets), with
//! ingress on TCX and on native XDP.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use peerscope::live::hook::HookChoice;
use peerscope_tests::{
    agent, netns, require_root, require_tool,
    tools::{tshark_flows, Capture, TsharkFlow},
    traffic, VethPair,
};

#[test]
fn tshark_counts_equal_agent_counts_per_flow() {
    let name = "tshark_counts_equal_agent_counts_per_flow";
    if !require_root(name) || !require_tool(name, "tcpdump") || !require_tool(name, "tshark") {
        return;
    }
    for hook in [HookChoice::Tcx, HookChoice::Xdp] {
        agrees(hook);
    }
}

fn agrees(hook: HookChoice) {
    let pair = VethPair::new("tsh", false);
    let attached = agent::attach(&pair, move |o| o.hook = hook);
    let pcap = std::env::temp_dir().join(format!("peerscope-{}.pcap", pair.a_if));
    let capture = Capture::start(&pair.ns_a, &pair.a_if, &pcap);

    let a = IpAddr::V4(Ipv4Addr::from(netns::A_V4));
    let b = IpAddr::V4(Ipv4Addr::from(netns::B_V4));
    let sizes: Vec<usize> = (0..60).map(|i| (i * 97) % 1450).collect();
    traffic::udp_burst(&pair.ns_a, a, &pair.ns_b, SocketAddr::new(b, 4004), &sizes);
    traffic::udp_burst(&pair.ns_b, b, &pair.ns_a, SocketAddr::new(a, 4004), &sizes[..30]);
    traffic::tcp_session(&pair.ns_a, a, &pair.ns_b, SocketAddr::new(b, 8008), &[1, 700, 1400, 30, 1448]);
    traffic::tcp_session(&pair.ns_b, b, &pair.ns_a, SocketAddr::new(a, 8009), &[200, 1200]);
    let (a6, b6): (IpAddr, IpAddr) = (netns::A_V6.parse().unwrap(), netns::B_V6.parse().unwrap());
    traffic::udp_burst(&pair.ns_a, a6, &pair.ns_b, SocketAddr::new(b6, 4010), &sizes[..20]);

    std::thread::sleep(std::time::Duration::from_millis(300));
    let pcap = capture.stop();
    let agent = attached.maps.snapshot().expect("snapshot").flows;
    let tshark = tshark_flows(&pcap);
    let _ = std::fs::remove_file(&pcap);

    let mut agent_tcp_udp = std::collections::HashMap::new();
    for (k, s) in &agent {
        if k.proto == 6 || k.proto == 17 {
            let key = TsharkFlow {
                proto: k.proto,
                src: k.src_ip().to_string(),
                dst: k.dst_ip().to_string(),
                sport: k.src_port,
                dport: k.dst_port,
            };
            agent_tcp_udp.insert(key, (s.total_packets(), s.total_bytes()));
        }
    }
    assert!(tshark.len() >= 7, "tshark saw too few flows: {tshark:?}");
    assert_eq!(agent_tcp_udp, tshark, "per-flow (packets, IP bytes), ingress on {hook:?}: agent vs tshark");
}
