//! The kernel program attached to a veth counts exactly the packets sent through it,
//! per flow, per class, in both directions (segmentation offloads off), with ingress
//! on each hook: TCX (what `auto` picks on a veth) and native XDP.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use peerscope::live::hook::{HookChoice, IngressHook};
use peerscope_abi::{FlowKey, PacketClass, TcpFlags};
use peerscope_tests::{agent, netns, require_root, traffic, VethPair};

const ACK: usize = PacketClass::Ack as usize;
const CTL: usize = PacketClass::Control as usize;
const DATA: usize = PacketClass::Data as usize;

fn v4(b: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(b))
}

#[test]
fn counts_udp_tcp_and_ipv6_exactly_in_both_directions() {
    if !require_root("counts_udp_tcp_and_ipv6_exactly_in_both_directions") {
        return;
    }
    counts_exactly("cnt", HookChoice::Auto, IngressHook::Tcx);
}

#[test]
fn counts_exactly_with_ingress_on_native_xdp() {
    if !require_root("counts_exactly_with_ingress_on_native_xdp") {
        return;
    }
    counts_exactly("cnx", HookChoice::Xdp, IngressHook::XdpNative);
}

fn counts_exactly(name: &str, hook: HookChoice, expect: IngressHook) {
    let pair = VethPair::new(name, false);
    let attached = agent::attach(&pair, move |o| o.hook = hook);
    assert_eq!(attached.ingress, Some(expect), "{hook:?} on a veth: {}", attached.hook_why);

    // UDP payload sizes around the class boundaries (IP length = payload + 28):
    // 28, 128, 1023 are control; 1024, 1200 data; 1201, 1428 data and large.
    let sizes = [0, 100, 995, 996, 1172, 1173, 1400];
    let (a, b) = (v4(netns::A_V4), v4(netns::B_V4));
    let out_port = traffic::udp_burst(&pair.ns_a, a, &pair.ns_b, SocketAddr::new(b, 4004), &sizes);
    let in_port = traffic::udp_burst(&pair.ns_b, b, &pair.ns_a, SocketAddr::new(a, 4005), &sizes);

    // TCP with payloads of 10, 500 and 1300 bytes from A to B.
    let (tcp_port, read) = traffic::tcp_session(&pair.ns_a, a, &pair.ns_b, SocketAddr::new(b, 8008), &[10, 500, 1300]);
    assert_eq!(read, 1810);

    // IPv6 UDP: IP length = payload + 48: 148 is control, 1348 data and large.
    let (a6, b6): (IpAddr, IpAddr) = (netns::A_V6.parse().unwrap(), netns::B_V6.parse().unwrap());
    let v6_port = traffic::udp_burst(&pair.ns_a, a6, &pair.ns_b, SocketAddr::new(b6, 4006), &[100, 1300]);

    std::thread::sleep(std::time::Duration::from_millis(200));
    let flows = attached.maps.snapshot().expect("snapshot").flows;
    let get = |k: FlowKey| {
        *flows.get(&k).unwrap_or_else(|| panic!("flow {k:?} not counted; have {:?}", flows.keys().collect::<Vec<_>>()))
    };

    for (key, dir) in
        [(FlowKey::new(17, a, out_port, b, 4004), "egress"), (FlowKey::new(17, b, in_port, a, 4005), "ingress")]
    {
        let s = get(key);
        assert_eq!(s.packets, [0, 3, 4], "{dir} UDP packets per class");
        assert_eq!(s.bytes, [0, 28 + 128 + 1023, 1024 + 1200 + 1201 + 1428], "{dir} UDP bytes per class");
        assert_eq!(s.payload_bytes, 5836, "{dir} UDP payload");
        assert_eq!((s.large_packets, s.large_bytes), (2, 1201 + 1428), "{dir} UDP large packets");
        assert_eq!(s.tcp_flags, 0);
    }

    let up = get(FlowKey::new(6, a, tcp_port, b, 8008));
    assert_eq!(up.payload_bytes, 1810, "TCP payload A->B");
    assert_eq!(up.packets[DATA], 1, "the 1300-byte segment is data");
    assert_eq!(up.packets[CTL], 2, "the 10- and 500-byte segments are control");
    assert_eq!(up.large_packets, 1);
    assert!(up.packets[ACK] >= 2, "SYN and FIN/ACKs are ack class: {:?}", up.packets);
    assert_eq!(up.tcp_flags & (TcpFlags::SYN | TcpFlags::FIN), TcpFlags::SYN | TcpFlags::FIN);
    assert_eq!(up.syn_packets, 1, "one connection attempt");
    let down = get(FlowKey::new(6, b, 8008, a, tcp_port));
    assert_eq!(down.payload_bytes, 0, "B sent no payload");
    assert_eq!(down.packets[CTL] + down.packets[DATA], 0, "B->A is all acks");
    assert!(down.tcp_flags & TcpFlags::SYN != 0, "SYN-ACK seen");
    assert_eq!(down.syn_packets, 0, "a SYN-ACK is not a connection attempt");

    let s6 = get(FlowKey::new(17, a6, v6_port, b6, 4006));
    assert_eq!(s6.packets, [0, 1, 1]);
    assert_eq!(s6.bytes, [0, 148, 1348]);
    assert_eq!(s6.large_packets, 1);
}
