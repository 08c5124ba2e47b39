//! Time for the agent to read a full flow table (batch lookup, and key by key for
//! reference), and the resident memory of a real agent holding 65 536 flows.

use std::{
    io::{BufRead, BufReader},
    process::Stdio,
    time::{Duration, Instant},
};

use aya::maps::{Map, MapData, PerCpuHashMap, PerCpuValues};
use peerscope::live::{attach, clock::KernelClock, AttachOptions, FlowMaps, FlowTable};
use peerscope_abi::{names, FlowKey, FlowStats};

use super::{kernel, Section};
use crate::{netns::ChildGuard, VethPair};

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

pub fn run(sizes: &[u32], peerscope: &std::path::Path) -> anyhow::Result<Section> {
    let mut body = String::from(
        "Reading every flow of a full table (per-CPU values merged). Targets: at most 50 ms at 65 536 flows and 500 ms at 1 048 576; agent RSS at most 64 MB at 65 536 flows.\n\n\
         | flows | batch read ms | agent poll (read + deltas) ms | key by key read ms |\n|---:|---:|---:|---:|\n",
    );
    for &n in sizes {
        let mut o = AttachOptions::new("lo");
        o.max_flows = n;
        let mut ebpf = attach::load(&o)?;
        eprintln!("bench poll: filling {n} flows");
        kernel::fill(&mut ebpf, n)?;
        let maps = FlowMaps::from_maps(ebpf.take_map(names::FLOWS).unwrap(), ebpf.take_map(names::COUNTERS).unwrap())?;
        let best = |f: &dyn Fn() -> usize| (0..3).map(|_| timed(f)).map(|(got, d)| { assert_eq!(got, n as usize); d }).min().unwrap();
        let batch = best(&|| {
            let mut seen = 0;
            maps.for_each_flow(|_, _| seen += 1).unwrap();
            seen
        });
        // The agent's poll: the read, and each flow's delta against the last poll.
        let mut table = FlowTable::new(KernelClock::new());
        table.poll(&maps)?;
        let poll = (0..3).map(|_| timed(|| table.poll(&maps).unwrap()).1).min().unwrap();
        let (iter_n, iter) = timed(|| maps.flows_iterated().unwrap().len());
        assert_eq!(iter_n, n as usize);
        body.push_str(&format!("| {n} | {:.1} | {:.1} | {:.1} |\n", batch.as_secs_f64() * 1e3, poll.as_secs_f64() * 1e3, iter.as_secs_f64() * 1e3));
    }
    let rss = agent_rss(peerscope, 65_536)?;
    body.push_str(&format!(
        "\nResident memory of `peerscope run` holding 65 536 flows (after two polls): **{:.1} MiB** (peak {:.1} MiB).\n",
        rss.0 as f64 / 1024.0,
        rss.1 as f64 / 1024.0
    ));
    Ok(Section { title: "Polling the flow table, and the agent's memory".into(), body })
}

/// (VmRSS, VmHWM) in KiB of a real agent whose table holds `n` flows.
fn agent_rss(peerscope: &std::path::Path, n: u32) -> anyhow::Result<(u64, u64)> {
    let pair = VethPair::new("rss", false);
    // Room for the interface's own few flows (neighbour discovery) beside ours.
    let mut agent = ChildGuard(Some(
        crate::agent::command_in_a(&pair, peerscope)
            .args(["run", "-i", &pair.a_if, "--interval", "0.5", "--json", "--max-flows", &(n + 1024).to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?,
    ));
    let mut lines = BufReader::new(agent.0.as_mut().unwrap().stderr.take().unwrap()).lines();
    let _ = lines.next();
    std::thread::spawn(move || for _ in lines {});
    // Fill the agent's pinned table from outside, as traffic would.
    let pin = std::path::Path::new("/sys/fs/bpf/peerscope").join(&pair.a_if).join(names::FLOWS);
    let mut flows: PerCpuHashMap<MapData, FlowKey, FlowStats> = PerCpuHashMap::try_from(Map::from_map_data(MapData::from_pin(&pin)?)?)?;
    let cpus = aya::util::nr_cpus().map_err(|(_, e)| e)?;
    for i in 0..n {
        let b = i.to_be_bytes();
        let key = FlowKey::v4(17, [198, 51, b[2], b[3]], [203, 0, 113, b[1]], 4004, 4004);
        let s = FlowStats { packets: [0, 1, 1], bytes: [0, 100, 1400], last_seen_ns: 1, first_seen_ns: 1, ..Default::default() };
        flows.insert(key, PerCpuValues::try_from(vec![s; cpus])?, 0)?;
    }
    std::thread::sleep(Duration::from_millis(1500));
    let status = std::fs::read_to_string(format!("/proc/{}/status", agent.id()))?;
    let field = |name: &str| {
        status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok()).unwrap_or(0)
    };
    let out = (field("VmRSS:"), field("VmHWM:"));
    drop(agent);
    Ok(out)
}
