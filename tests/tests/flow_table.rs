//! The flow table shared by the kernel and the agent: the agent reads exactly what is
//! in it (per-CPU copies merged), the kernel finds the slot the agent's hash says, and
//! retired slots give their last counts and are freed.

use aya::programs::{TestRun, TestRunOptions, Xdp};
use peerscope::live::{attach, clock::KernelClock, AttachOptions, FlowMaps, FlowTable};
use peerscope_abi::{frames::*, names, FlowKey, FlowStats, KernelNs};
use peerscope_tests::require_root;

fn loaded(max_flows: u32) -> (aya::Ebpf, FlowMaps) {
    let mut o = AttachOptions::new("lo");
    o.max_flows = max_flows;
    let mut ebpf = attach::load(&o).expect("load kernel object");
    let xdp: &mut Xdp = ebpf.program_mut(names::INGRESS).unwrap().try_into().unwrap();
    xdp.load().expect("verifier accepts the XDP program");
    let maps = FlowMaps::take_from(&mut ebpf).unwrap();
    (ebpf, maps)
}

fn run_xdp(ebpf: &aya::Ebpf, frame: &[u8]) {
    let p: &Xdp = ebpf.program(names::INGRESS).unwrap().try_into().unwrap();
    assert_eq!(p.test_run(TestRunOptions { data_in: Some(frame), ..Default::default() }).unwrap().return_value, 2);
}

/// A 1100-byte UDP packet 192.0.2.1:`sport` -> 198.51.100.2:4004, and its key.
fn packet(sport: u16) -> (Vec<u8>, FlowKey) {
    let mut f = frame(&[&eth(ETH_P_IPV4, &[]), &ipv4(17, 0, &udp(sport, 4004, 1072), 0)]);
    f[26..30].copy_from_slice(&[192, 0, 2, 1]);
    f[30..34].copy_from_slice(&[198, 51, 100, 2]);
    (f, FlowKey::v4(17, [192, 0, 2, 1], [198, 51, 100, 2], sport, 4004))
}

#[test]
fn the_agent_reads_every_flow_with_per_cpu_copies_merged() {
    if !require_root("the_agent_reads_every_flow_with_per_cpu_copies_merged") {
        return;
    }
    let (_ebpf, maps) = loaded(20_000);
    let cpus = maps.geometry().cpus as u64;
    let view = maps.view().unwrap();
    for i in 0..10_000u32 {
        let b = i.to_be_bytes();
        let key = FlowKey::v4(17, [198, 51, b[2], b[3]], [203, 0, 113, 7], 4004, (i % 7) as u16);
        let per_cpu: Vec<FlowStats<KernelNs>> = (0..cpus)
            .map(|c| FlowStats {
                packets: [c, i as u64, 1],
                bytes: [0, 0, 1000 + i as u64],
                last_seen: KernelNs(5 + c),
                ..Default::default()
            })
            .collect();
        view.insert(&key, &per_cpu).unwrap();
    }
    assert_eq!(maps.live(), 10_000);
    let flows = maps.snapshot().unwrap().flows;
    assert_eq!(flows.len(), 10_000);
    let k = FlowKey::v4(17, [198, 51, 0, 42], [203, 0, 113, 7], 4004, 0);
    let s = flows[&k];
    assert_eq!(s.packets, [cpus * (cpus - 1) / 2, 42 * cpus, cpus], "per-CPU copies summed");
    assert_eq!(s.bytes[2], 1042 * cpus);
    assert_eq!(s.last_seen, KernelNs(5 + cpus - 1));
    // The table refuses flows beyond its limit.
    let (_ebpf, small) = loaded(3);
    for p in 0..3 {
        small.view().unwrap().insert(&packet(p).1, &vec![FlowStats::default(); cpus as usize]).unwrap();
    }
    assert!(small.view().unwrap().insert(&packet(9).1, &vec![FlowStats::default(); cpus as usize]).is_err());
}

#[test]
fn kernel_and_agent_agree_on_where_a_flow_lives() {
    if !require_root("kernel_and_agent_agree_on_where_a_flow_lives") {
        return;
    }
    let (ebpf, maps) = loaded(1024);
    let cpus = maps.geometry().cpus as usize;
    // Flows the agent put in: the kernel's packets for them land in the same slot.
    for sport in 1000..1100u16 {
        let (_, key) = packet(sport);
        let seeded = FlowStats { packets: [0, 1, 0], bytes: [0, 100, 0], ..Default::default() };
        let mut per_cpu = vec![FlowStats::default(); cpus];
        per_cpu[0] = seeded;
        maps.view().unwrap().insert(&key, &per_cpu).unwrap();
    }
    for sport in 1000..1100u16 {
        run_xdp(&ebpf, &packet(sport).0);
    }
    let flows = maps.snapshot().unwrap().flows;
    assert_eq!(flows.len(), 100, "no flow got a second slot");
    assert_eq!(maps.live(), 100);
    for sport in 1000..1100u16 {
        let s = flows[&packet(sport).1];
        assert_eq!((s.packets, s.bytes), ([0, 1, 1], [0, 100, 1100]), "port {sport}");
    }
}

#[test]
fn retired_flows_give_their_last_counts_then_free_their_slot() {
    if !require_root("retired_flows_give_their_last_counts_then_free_their_slot") {
        return;
    }
    let (ebpf, maps) = loaded(16);
    let mut table = FlowTable::new(KernelClock::new());
    let (f, key) = packet(7000);
    run_xdp(&ebpf, &f);
    let p = table.poll(&maps, u64::MAX, None).unwrap();
    assert_eq!((p.deltas.len(), p.flows_in_table), (1, 1));
    assert_eq!(p.deltas[0].delta.packets, [0, 0, 1]);
    // Idle for "ever" at now = u64::MAX: retired after this reading.
    run_xdp(&ebpf, &f);
    let p = table.poll(&maps, u64::MAX, Some(1)).unwrap();
    assert_eq!((p.reaped, p.deltas[0].delta.packets), (1, [0, 0, 1]));
    // The retired slot no longer counts: the flow's next packet opens a new slot...
    run_xdp(&ebpf, &f);
    assert_eq!(maps.live(), 2);
    // ...and the next poll reads both (one last reading of the old slot), frees the
    // old one, and loses nothing.
    let p = table.poll(&maps, 0, None).unwrap();
    assert_eq!(p.flows_in_table, 2);
    let packets: u64 = p.deltas.iter().filter(|d| d.key == key).map(|d| d.delta.total_packets()).sum();
    assert_eq!(packets, 1);
    assert_eq!(maps.live(), 1);
    assert_eq!(maps.snapshot().unwrap().flows[&key].packets, [0, 0, 1]);
    // Freed slots are claimed again: fill the table to its limit.
    for sport in 0..15 {
        run_xdp(&ebpf, &packet(sport).0);
    }
    assert_eq!(maps.live(), 16);
    assert_eq!(maps.snapshot().unwrap().flows.len(), 16);
}

/// An idle table is not read: after a packet, one reading counts it and the next
/// (a poll later, the count unmoved) settles; later polls read nothing until a packet
/// comes or a flow is due to retire, and that packet is counted exactly.
#[test]
fn an_idle_table_is_not_read_and_nothing_is_missed() {
    if !require_root("an_idle_table_is_not_read_and_nothing_is_missed") {
        return;
    }
    let (ebpf, maps) = loaded(16);
    let mut table = FlowTable::new(KernelClock::new());
    let (f, key) = packet(7100);
    run_xdp(&ebpf, &f);
    let polls: Vec<_> = (0..4).map(|_| table.poll(&maps, 0, Some(u64::MAX)).unwrap()).collect();
    let read: Vec<bool> = polls.iter().map(|p| p.read_table).collect();
    assert_eq!(read, [true, true, false, false], "read, settle, then idle");
    assert_eq!(polls[0].deltas.len(), 1);
    assert!(polls[1..].iter().all(|p| p.deltas.is_empty() && p.flows_in_table == 1));
    // A packet: read at once, counted once.
    run_xdp(&ebpf, &f);
    let p = table.poll(&maps, 0, Some(u64::MAX)).unwrap();
    assert!(p.read_table);
    assert_eq!(p.deltas.iter().filter(|d| d.key == key).map(|d| d.delta.total_packets()).sum::<u64>(), 1);
    assert!(table.poll(&maps, 0, Some(u64::MAX)).unwrap().read_table, "settling");
    assert!(!table.poll(&maps, 0, Some(u64::MAX)).unwrap().read_table);
    // Quiet, but the flow is due to retire: read, retired; the next poll frees it.
    let p = table.poll(&maps, u64::MAX, Some(1)).unwrap();
    assert!(p.read_table && p.reaped == 1);
    assert!(table.poll(&maps, u64::MAX, Some(1)).unwrap().read_table, "the retired slot is freed");
    assert_eq!(maps.live(), 0);
    let p = table.poll(&maps, u64::MAX, Some(1)).unwrap();
    assert!(!p.read_table && p.flows_in_table == 0, "an empty idle table is not read");
}

#[test]
fn a_table_size_out_of_range_is_refused_with_its_limits() {
    if !require_root("a_table_size_out_of_range_is_refused_with_its_limits") {
        return;
    }
    for max_flows in [0, u32::MAX] {
        let mut o = AttachOptions::new("lo");
        o.max_flows = max_flows;
        let err = attach::load(&o).map(|_| ()).expect_err("refused").to_string();
        assert!(
            err.contains(&format!("--max-flows {max_flows} is out of range")) && err.contains("holds 1 to"),
            "{err}"
        );
    }
}

#[test]
fn a_slot_claimed_before_its_first_packet_is_not_idle() {
    if !require_root("a_slot_claimed_before_its_first_packet_is_not_idle") {
        return;
    }
    let (_ebpf, maps) = loaded(16);
    // What a poll can see between the kernel's claim and its first count.
    let zero = vec![FlowStats::default(); maps.geometry().cpus as usize];
    maps.view().unwrap().insert(&packet(1).1, &zero).unwrap();
    let mut seen = zero.clone();
    seen[0].packets = [0, 1, 0];
    seen[0].last_seen = KernelNs(1);
    maps.view().unwrap().insert(&packet(2).1, &seen).unwrap();
    let mut table = FlowTable::new(KernelClock::new());
    let p = table.poll(&maps, u64::MAX, Some(1)).unwrap();
    assert_eq!((p.flows_in_table, p.reaped), (2, 1), "only the flow with an old packet is idle");
}
