//! Unusual and malformed frames through BPF_PROG_TEST_RUN: the programs pass every one
//! and count each in the right place.

use aya::programs::{SchedClassifier, TestRun, TestRunOptions, Xdp};
use peerscope::live::{attach, AttachOptions, FlowMaps};
use peerscope_abi::{frames::*, names, Counter, FlowKey, FlowStats, KernelNs};
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
    let cases = [
        frame(&[&eth(ETH_P_IPV4, &[ETH_P_8021Q]), &ipv4(6, 4, &tcp(1, 2, 0x10, 0, 0), 0)]),
        frame(&[&eth(ETH_P_IPV6, &[]), &ipv6(17, &[], &udp(1, 2, 0))]),
        frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &udp(1, 2, 0), 0)]),
    ];
    let mut expected = 0;
    for full in &cases {
        // Frames shorter than an Ethernet header are refused by the test-run harness
        // itself, so cuts start at 14.
        for cut in 14..full.len() {
            assert_eq!(l.xdp(&full[..cut]), XDP_PASS, "xdp, cut at {cut}");
            expected += 1;
            if let Some(r) = l.tc_if_accepted(&full[..cut]) {
                assert_eq!(r, TCX_NEXT, "tc, cut at {cut}");
                expected += 1;
            }
        }
    }
    assert_eq!(l.counter(Counter::Truncated), expected);
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
