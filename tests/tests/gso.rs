//! With segmentation offloads on (the default), TCX sees GSO super-packets on egress
//! and GRO'd ones on ingress; the program splits each into the wire packets it stands
//! for, so counts describe the wire, not skbs. Native XDP on ingress sees wire packets
//! (the veth gives up GRO for it): the same counts, by another road.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use peerscope::live::hook::{HookChoice, IngressHook};
use peerscope_abi::{Counter, FlowKey, FlowStats, KernelNs, PacketClass};
use peerscope_tests::{agent, netns, require_root, traffic, VethPair};

#[test]
fn gso_super_packets_are_counted_as_wire_packets() {
    if !require_root("gso_super_packets_are_counted_as_wire_packets") {
        return;
    }
    let pair = VethPair::new("gso", true);
    let attached = agent::attach(&pair, |_| {});
    let a = IpAddr::V4(Ipv4Addr::from(netns::A_V4));
    let b = IpAddr::V4(Ipv4Addr::from(netns::B_V4));
    // Large writes: the stack hands TCX 64 KB skbs.
    let total = 400_000;
    let (port, read) = traffic::tcp_session(&pair.ns_a, a, &pair.ns_b, SocketAddr::new(b, 8008), &[total]);
    assert_eq!(read, total);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let snap = attached.maps.snapshot().expect("snapshot");
    assert!(snap.counter(Counter::GsoSkbs) > 0, "no GSO skb reached the egress program; offloads on?");
    wire_packets(&snap.flows[&FlowKey::new(6, a, port, b, 8008)], total);
}

/// Bulk from B into A with offloads on: A's ingress sees what the veth delivers (GRO
/// super-packets on TCX), on each hook.
#[test]
fn gro_super_packets_on_ingress_are_counted_as_wire_packets() {
    if !require_root("gro_super_packets_on_ingress_are_counted_as_wire_packets") {
        return;
    }
    for (name, hook, expect) in
        [("gri", HookChoice::Tcx, IngressHook::Tcx), ("grx", HookChoice::Xdp, IngressHook::XdpNative)]
    {
        let pair = VethPair::new(name, true);
        let attached = agent::attach(&pair, move |o| o.hook = hook);
        assert_eq!(attached.ingress, Some(expect));
        let a = IpAddr::V4(Ipv4Addr::from(netns::A_V4));
        let b = IpAddr::V4(Ipv4Addr::from(netns::B_V4));
        let total = 400_000;
        let before = attached.maps.snapshot().expect("snapshot").counter(Counter::GsoSkbs);
        let (port, read) = traffic::tcp_session(&pair.ns_b, b, &pair.ns_a, SocketAddr::new(a, 8008), &[total]);
        assert_eq!(read, total);
        std::thread::sleep(std::time::Duration::from_millis(200));
        let snap = attached.maps.snapshot().expect("snapshot");
        if expect == IngressHook::Tcx {
            assert!(
                snap.counter(Counter::GsoSkbs) > before,
                "{name}: no super-packet reached TCX ingress; offloads on?"
            );
        }
        wire_packets(&snap.flows[&FlowKey::new(6, b, port, a, 8008)], total);
    }
}

/// The counts of a flow that carried `total` payload bytes are those of wire packets.
fn wire_packets(s: &FlowStats<KernelNs>, total: usize) {
    assert_eq!(s.payload_bytes, total as u64, "every payload byte counted once");
    let data = PacketClass::Data as usize;
    // Each wire packet is at most the veth MTU.
    assert!(s.bytes[data] <= s.packets[data] * 1500, "data packets larger than the MTU: {s:?}");
    // Every segment that carries payload repeats the same 52 bytes of IPv4 + TCP
    // (timestamps) headers. (Pure ACKs are left out: they may carry SACK blocks.)
    let ctl = PacketClass::Control as usize;
    assert_eq!(s.bytes[ctl] + s.bytes[data], s.payload_bytes + (s.packets[ctl] + s.packets[data]) * 52, "{s:?}");
    // No segment carries more than the MSS (1448 bytes with timestamps).
    assert!((s.packets[ctl] + s.packets[data]) as usize >= total.div_ceil(1448), "{s:?}");
}
