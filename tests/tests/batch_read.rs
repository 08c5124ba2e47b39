//! The agent reads the flow table with BPF_MAP_LOOKUP_BATCH; it must see exactly what
//! key-by-key iteration sees, per-CPU copies merged, across many batches.

use aya::maps::{PerCpuHashMap, PerCpuValues};
use peerscope::live::{attach, AttachOptions, FlowMaps};
use peerscope_abi::{names, FlowKey, FlowStats};
use peerscope_tests::require_root;

#[test]
fn batched_snapshot_equals_key_by_key_reading() {
    if !require_root("batched_snapshot_equals_key_by_key_reading") {
        return;
    }
    let mut o = AttachOptions::new("lo");
    o.max_flows = 20_000;
    let mut ebpf = attach::load(&o).expect("load kernel object");
    let cpus = aya::util::nr_cpus().unwrap();
    {
        let mut flows: PerCpuHashMap<_, FlowKey, FlowStats> = PerCpuHashMap::try_from(ebpf.map_mut(names::FLOWS).unwrap()).unwrap();
        for i in 0..10_000u32 {
            let b = i.to_be_bytes();
            let key = FlowKey::v4(17, [198, 51, b[2], b[3]], [203, 0, 113, 7], 4004, (i % 7) as u16);
            let per_cpu: Vec<FlowStats> = (0..cpus)
                .map(|c| FlowStats { packets: [c as u64, i as u64, 1], bytes: [0, 0, 1000 + i as u64], last_seen_ns: 5 + c as u64, ..Default::default() })
                .collect();
            flows.insert(key, PerCpuValues::try_from(per_cpu).unwrap(), 0).unwrap();
        }
    }
    let maps = FlowMaps::from_maps(ebpf.take_map(names::FLOWS).unwrap(), ebpf.take_map(names::COUNTERS).unwrap()).unwrap();
    let batched = maps.snapshot().unwrap().flows;
    let iterated = maps.flows_iterated().unwrap();
    assert_eq!(batched.len(), 10_000);
    assert_eq!(batched, iterated);
    let k = FlowKey::v4(17, [198, 51, 0, 42], [203, 0, 113, 7], 4004, 0);
    let s = batched[&k];
    let n = cpus as u64;
    assert_eq!(s.packets, [n * (n - 1) / 2, 42 * n, n], "per-CPU copies summed");
    assert_eq!(s.last_seen_ns, 5 + n - 1);
}
