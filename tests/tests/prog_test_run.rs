//! Unusual and malformed frames through BPF_PROG_TEST_RUN: the programs pass every one
//! and count each in the right place.

use aya::programs::{SchedClassifier, TestRun, TestRunOptions, Xdp};
use peerscope::live::{attach, AttachOptions, FlowMaps};
use peerscope_abi::{frames::*, names, parse::Note, Counter, FlowKey, FlowStats, KernelNs, Tunnel};
use peerscope_tests::require_root;

const XDP_PASS: u32 = 2;
const TCX_NEXT: u32 = u32::MAX; // -1

struct Loaded {
    ebpf: aya::Ebpf,
    maps: FlowMaps,
}

impl Loaded {
    fn new() -> Self {
        Self::with_table(&AttachOptions::new("lo"))
    }

    fn with_table(o: &AttachOptions) -> Self {
        let mut ebpf = attach::load(o).expect("load kernel object");
        let xdp: &mut Xdp = ebpf.program_mut(names::INGRESS).unwrap().try_into().unwrap();
        xdp.load().expect("verifier accepts the XDP program");
        let tc: &mut SchedClassifier = ebpf.program_mut(names::EGRESS).unwrap().try_into().unwrap();
        tc.load().expect("verifier accepts the TC program");
        let maps = FlowMaps::take_from(&mut ebpf).unwrap();
        Loaded { ebpf, maps }
    }

    fn xdp(&self, frame: &[u8]) -> u32 {
        let p: &Xdp = self.ebpf.program(names::INGRESS).unwrap().try_into().unwrap();
        p.test_run(TestRunOptions { data_in: Some(frame), ..Default::default() }).expect("test run").return_value
    }

    fn tc(&self, frame: &[u8]) -> u32 {
        self.tc_if_accepted(frame).expect("the skb test harness refused the frame")
    }

    /// The skb test harness itself refuses some short frames (EINVAL before the
    /// program runs, e.g. an IPv6 ethertype with less than an IPv6 header): None then.
    fn tc_if_accepted(&self, frame: &[u8]) -> Option<u32> {
        let p: &SchedClassifier = self.ebpf.program(names::EGRESS).unwrap().try_into().unwrap();
        match p.test_run(TestRunOptions { data_in: Some(frame), ..Default::default() }) {
            Ok(r) => Some(r.return_value),
            Err(aya::programs::ProgramError::SyscallError(e)) if e.io_error.raw_os_error() == Some(libc::EINVAL) => {
                None
            }
            Err(e) => panic!("test run: {e}"),
        }
    }

    fn counter(&self, c: Counter) -> u64 {
        self.maps.counters().unwrap()[c as usize]
    }

    fn flow(&self, k: &FlowKey) -> Option<FlowStats<KernelNs>> {
        self.maps.snapshot().unwrap().flows.get(k).copied()
    }
}

const A: [u8; 4] = [192, 0, 2, 1];
const B: [u8; 4] = [198, 51, 100, 2];

#[test]
fn truncated_frames_pass_and_count_as_truncated() {
    if !require_root("truncated_frames_pass_and_count_as_truncated") {
        return;
    }
    let l = Loaded::new();
    // (frame, end of its fixed IP header)
    let cases = [
        (frame(&[&eth(ETH_P_IPV4, &[ETH_P_8021Q]), &ipv4(6, 4, &tcp(1, 2, 0x10, 0, 0), 0)]), 18 + 20),
        (frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(17, &[], &udp(1, 2, 0))]), 14 + 40),
        (frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &udp(1, 2, 0), 0)]), 14 + 20),
    ];
    let (mut truncated, mut short) = (0, 0);
    for (full, ip_end) in &cases {
        // Frames shorter than an Ethernet header are refused by the test-run harness
        // itself, so cuts start at 14.
        for cut in 14..full.len() {
            let n = if cut < *ip_end { &mut truncated } else { &mut short };
            assert_eq!(l.xdp(&full[..cut]), XDP_PASS, "xdp, cut at {cut}");
            *n += 1;
            if let Some(r) = l.tc_if_accepted(&full[..cut]) {
                assert_eq!(r, TCX_NEXT, "tc, cut at {cut}");
                *n += 1;
            }
        }
    }
    // Both families in one bucket; a whole fixed IP header makes an IP packet, counted
    // with what the frame carried, its transport header broken.
    assert_eq!(l.counter(Counter::Truncated), truncated);
    assert_eq!(l.counter(Counter::IpLengthExceedsFrame), short);
    assert_eq!(l.counter(Counter::TransportHeaderBroken), short);
    assert_eq!(l.counter(Counter::NonIp), 0);
}

/// 500 frames of 62 bytes whose IPv4 total length says 1400: counted as the 48 bytes
/// they carried, flagged in a counter and in the flow.
#[test]
fn hostile_lengths_count_what_the_frame_carried() {
    if !require_root("hostile_lengths_count_what_the_frame_carried") {
        return;
    }
    let l = Loaded::new();
    let mut f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &udp(5555, 4004, 20), 0)]);
    patch_v4(&mut f, 14);
    f.resize(62, 0);
    f[16..18].copy_from_slice(&1400u16.to_be_bytes());
    for _ in 0..500 {
        assert_eq!(l.xdp(&f), XDP_PASS);
    }
    let s = l.flow(&FlowKey::v4(17, A, B, 5555, 4004)).expect("flow of the hostile frames");
    assert_eq!((s.packets, s.bytes[1], s.payload_bytes), ([0, 500, 0], 500 * 48, 500 * 20));
    assert_eq!(s.notes, Note::LENGTH_EXCEEDS_FRAME as u16);
    assert_eq!(l.counter(Counter::IpLengthExceedsFrame), 500);
}

/// Frames the parser reads beyond plain Ethernet: each lands in its flow, or in the
/// counter that says why not.
#[test]
fn encapsulations_land_in_their_flows_or_counters() {
    if !require_root("encapsulations_land_in_their_flows_or_counters") {
        return;
    }
    let l = Loaded::new();
    let mut inner = ipv4(17, 0, &udp(6100, 4004, 100), 0);
    patch_v4(&mut inner, 0);
    let frames = [
        (6100, frame(&[&eth(ETH_P_PPP_SES, &[]), &pppoe(0x0021, inner.len()), &inner])),
        (6100, frame(&[&eth(ETH_P_PPP_SES, &[ETH_P_8021Q]), &pppoe(0x0021, inner.len()), &inner])),
        (6100, frame(&[&eth(ETH_P_MPLS_UC, &[]), &mpls(3), &inner])),
        (6100, frame(&[&eth(ETH_P_MPLS_UC, &[ETH_P_8021AD, ETH_P_8021Q]), &mpls(4), &inner])),
        (6100, frame(&[&fabricpath(), &ETH_P_IPV4.to_be_bytes(), &inner])),
    ];
    for (_, f) in &frames {
        assert_eq!(l.xdp(f), XDP_PASS);
        assert_eq!(l.tc(f), TCX_NEXT);
    }
    let s = l.flow(&FlowKey::v4(17, A, B, 6100, 4004)).expect("encapsulated flow");
    assert_eq!((s.packets, s.bytes[1]), ([0, 2 * frames.len() as u64, 0], 2 * frames.len() as u64 * 128));
    // Too deep for the parser: counted as such, never as another frame.
    run_both(&l, &frame(&[&eth(ETH_P_IPV4, &[ETH_P_8021AD, ETH_P_8021Q, ETH_P_8021Q]), &inner]));
    run_both(&l, &frame(&[&eth(ETH_P_MPLS_UC, &[]), &mpls(5), &inner]));
    assert_eq!((l.counter(Counter::VlanTooDeep), l.counter(Counter::MplsTooDeep)), (2, 2));
    assert_eq!((l.counter(Counter::NonIp), l.counter(Counter::Truncated)), (0, 0));
}

fn run_both(l: &Loaded, f: &[u8]) {
    assert_eq!(l.xdp(f), XDP_PASS);
    assert_eq!(l.tc(f), TCX_NEXT);
}

/// With decapsulation on, each tunnel's inner packet counts in its inner flow, named
/// by the tunnel; off, in the outer flow.
#[test]
fn tunnels_count_their_inner_flows_with_decap() {
    if !require_root("tunnels_count_their_inner_flows_with_decap") {
        return;
    }
    let mut o = AttachOptions::new("lo");
    o.decap = true;
    let on = Loaded::with_table(&o);
    let off = Loaded::new();
    let (outer_a, outer_b) = ([203, 0, 113, 1], [203, 0, 113, 2]);
    let mut inner = ipv4(17, 0, &udp(6200, 4004, 100), 0);
    patch_v4(&mut inner, 0);
    let eth_inner = frame(&[&eth(ETH_P_IPV4, &[]), &inner]);
    let over_udp = |port: u16, hdr: &[u8], payload: &[u8]| {
        let mut u = udp(port, port, 0);
        u.extend_from_slice(hdr);
        u.extend_from_slice(payload);
        let len = u.len() as u16;
        u[4..6].copy_from_slice(&len.to_be_bytes());
        u
    };
    let tunnels: [(Tunnel, u8, Vec<u8>); 5] = [
        (Tunnel::IpIp, 4, inner.clone()),
        (Tunnel::Gre, 47, [&gre(ETH_P_IPV4, true, false)[..], &inner].concat()),
        (Tunnel::GtpU, 17, over_udp(2152, &gtpu(inner.len(), true), &inner)),
        (Tunnel::Vxlan, 17, over_udp(4789, &vxlan(), &eth_inner)),
        (Tunnel::Gre, 47, [&gre(0x6558, false, false)[..], &eth_inner].concat()),
    ];
    for (t, proto, l4) in &tunnels {
        let f = frame(&[&eth(ETH_P_IPV4, &[ETH_P_8021Q]), &ipv4_between(outer_a, outer_b, *proto, l4)]);
        run_both(&on, &f);
        run_both(&off, &f);
        let outer = FlowKey::v4(*proto, outer_a, outer_b, 0, 0);
        assert!(off.flow(&outer).is_some() || *proto == 17, "{t:?}: outer flow without decap");
        assert!(on.flow(&outer).is_none(), "{t:?}: outer flow counted with decap");
    }
    let mut counted = 0;
    for t in [Tunnel::IpIp, Tunnel::Gre, Tunnel::GtpU, Tunnel::Vxlan] {
        let key = FlowKey { tunnel: t as u8, ..FlowKey::v4(17, A, B, 6200, 4004) };
        let s = on.flow(&key).unwrap_or_else(|| panic!("{t:?}: inner flow"));
        assert_eq!(s.bytes[1] % 128, 0, "{t:?}: the inner packet's length");
        counted += s.total_packets();
    }
    assert_eq!(counted, 2 * tunnels.len() as u64);
    assert_eq!(on.counter(Counter::Decapsulated), counted);
    assert_eq!(off.counter(Counter::Decapsulated), 0);
    assert!(off.flow(&FlowKey::v4(17, A, B, 6200, 4004)).is_none());
}

#[test]
fn unusual_frames_pass_and_land_in_the_right_flow() {
    if !require_root("unusual_frames_pass_and_land_in_the_right_flow") {
        return;
    }
    let l = Loaded::new();
    let run = |f: &[u8]| {
        assert_eq!(l.xdp(f), XDP_PASS);
    };
    // IPv4 options (IHL 7) and TCP options.
    let mut f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(6, 8, &tcp(4000, 8008, 0x18, 12, 30), 0)]);
    patch_v4(&mut f, 14);
    run(&f);
    let s = l.flow(&FlowKey::v4(6, A, B, 4000, 8008)).expect("IPv4 options flow");
    assert_eq!((s.packets, s.payload_bytes), ([0, 1, 0], 30));

    // 802.1Q and QinQ.
    for (vlans, port) in [(&[ETH_P_8021Q][..], 5001u16), (&[ETH_P_8021AD, ETH_P_8021Q][..], 5002)] {
        let mut f = frame(&[&eth(ETH_P_IPV4, vlans), &ipv4(17, 0, &udp(port, 4004, 1100), 0)]);
        patch_v4(&mut f, 14 + 4 * vlans.len());
        run(&f);
        let s = l.flow(&FlowKey::v4(17, A, B, port, 4004)).expect("VLAN flow");
        assert_eq!((s.packets, s.bytes[2]), ([0, 0, 1], 1128));
    }

    // IPv4 fragments: the first carries the ports, a later one is counted under ports 0.
    let mut f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &udp(6000, 4004, 1400), 0x2000)]);
    patch_v4(&mut f, 14);
    run(&f);
    assert!(l.flow(&FlowKey::v4(17, A, B, 6000, 4004)).is_some());
    let mut f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &[0xee; 600], 0x00b9)]);
    patch_v4(&mut f, 14);
    run(&f);
    let s = l.flow(&FlowKey::v4(17, A, B, 0, 0)).expect("non-first fragment flow");
    assert_eq!((s.packets, s.bytes[1]), ([0, 1, 0], 620));
    assert_eq!(l.counter(Counter::NonFirstFragments), 1);

    // IPv6 hop-by-hop + destination options, then UDP.
    let mut ext = vec![60, 0, 1, 4, 0, 0, 0, 0];
    ext.extend_from_slice(&[17, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    run(&frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(0, &ext, &udp(7000, 4004, 50))]));
    let a6: std::net::IpAddr = "2001:db8::1".parse().unwrap();
    let b6: std::net::IpAddr = "2001:db8::2".parse().unwrap();
    let s = l.flow(&FlowKey::new(17, a6, 7000, b6, 4004)).expect("IPv6 extension header flow");
    assert_eq!((s.bytes[1], s.payload_bytes), (40 + 24 + 58, 50));

    // IPv6 non-first fragment.
    let later = [6u8, 0, 0x05, 0x00, 0, 0, 0, 7];
    run(&frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(44, &later, &[0x11; 64])]));
    assert!(l.flow(&FlowKey::new(6, a6, 0, b6, 0)).is_some());
    assert_eq!(l.counter(Counter::NonFirstFragments), 2);

    // Non-IP (ARP).
    let mut arp = eth(0x0806, &[]);
    arp.extend_from_slice(&[0; 28]);
    run(&arp);
    assert_eq!(l.tc(&arp), TCX_NEXT);
    assert_eq!(l.counter(Counter::NonIp), 2);
    assert_eq!(l.counter(Counter::Truncated), 0);
}

/// The frame builders use 192.0.2.1 -> 198.51.100.2.
fn patch_v4(f: &mut [u8], l3: usize) {
    f[l3 + 12..l3 + 16].copy_from_slice(&A);
    f[l3 + 16..l3 + 20].copy_from_slice(&B);
}

#[test]
fn a_full_flow_table_counts_overflow_instead_of_losing_packets() {
    if !require_root("a_full_flow_table_counts_overflow_instead_of_losing_packets") {
        return;
    }
    let mut o = AttachOptions::new("lo");
    o.max_flows = 4;
    let l = Loaded::with_table(&o);
    // Ten flows of two 1100-byte packets each into a table of four.
    for port in 0..10u16 {
        let mut f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &udp(9000 + port, 4004, 1072), 0)]);
        patch_v4(&mut f, 14);
        assert_eq!(l.xdp(&f), XDP_PASS);
        assert_eq!(l.xdp(&f), XDP_PASS);
    }
    let in_table = (0..10u16).filter_map(|p| l.flow(&FlowKey::v4(17, A, B, 9000 + p, 4004))).collect::<Vec<_>>();
    assert_eq!(in_table.len(), 4);
    assert!(in_table.iter().all(|s| s.packets == [0, 0, 2]));
    assert_eq!(l.counter(Counter::FlowInsertFailures), 12, "6 flows x 2 packets failed to insert");
    assert_eq!(l.counter(Counter::OverflowPackets), 12);
    assert_eq!(l.counter(Counter::OverflowBytes), 12 * 1100);
}

/// The kernel's packet-size histogram: a UDP frame of IP length 20 + 8 + 1272 = 1300
/// through XDP (ingress) twice and TC (egress) once lands in bin 1300 / 8 = 162 of
/// each direction: 2 ingress, 1 egress; a 40-byte TCP ACK in bin 5 of ingress.
#[test]
fn sizes_land_in_their_bins_per_direction() {
    use peerscope_abi::sizes::{slot, SLOTS};
    if !require_root("sizes_land_in_their_bins_per_direction") {
        return;
    }
    let l = Loaded::new();
    let big = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4_between(A, B, 17, &udp(1, 2, 1272))]);
    let ack = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4_between(A, B, 6, &tcp(1, 2, 0x10, 0, 0))]);
    l.xdp(&big);
    l.xdp(&big);
    l.tc(&big);
    l.xdp(&ack);
    // Read as the agent reads it: the table's maps hold the histogram.
    let sizes = l.maps.sizes().expect("reading SIZES").expect("the object has SIZES");
    let count = |i: u32| sizes[i as usize];
    assert_eq!((count(slot(true, 1300)), count(slot(false, 1300)), count(slot(true, 40))), (2, 1, 1));
    let all: u64 = (0..SLOTS).map(count).sum();
    assert_eq!(all, 4, "nothing else counted");
}
