//! Time for the agent to read a full flow table (mapped into its memory) and to poll
//! it, and the resident memory of a real agent holding 65 536 flows.

use std::{
    io::{BufRead, BufReader},
    process::Stdio,
    time::{Duration, Instant},
};

use peerscope::live::{attach, clock::KernelClock, pins::PinDir, AttachOptions, FlowMaps, FlowTable};
use peerscope_abi::{FlowKey, FlowStats, KernelNs};

use super::{kernel, Section};
use crate::{netns::ChildGuard, VethPair};

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

pub fn run(sizes: &[u32], peerscope: &std::path::Path) -> anyhow::Result<Section> {
    let mut body = String::from(
        "Reading every flow of a full table (per-CPU copies merged), and the agent's poll: that reading plus each flow's delta since the last poll. \
         The table is mapped into the agent's memory, so a reading makes no system call. \
         Targets: at most 50 ms at 65 536 flows and 500 ms at 1 048 576; agent RSS at most 64 MB at 65 536 flows.\n\n\
         | flows | table read ms | agent poll (read + deltas) ms |\n|---:|---:|---:|\n",
    );
    for &n in sizes {
        let mut o = AttachOptions::new("lo");
        o.max_flows = n;
        let mut ebpf = attach::load(&o)?;
        let maps = FlowMaps::take_from(&mut ebpf)?;
        eprintln!("bench poll: filling {n} flows");
        kernel::fill(&maps, n)?;
        let read = (0..3)
            .map(|_| {
                let (seen, d) = timed(|| {
                    let mut seen = 0usize;
                    maps.view().unwrap().for_each_slot(|_| seen += 1);
                    seen
                });
                assert_eq!(seen, n as usize);
                d
            })
            .min()
            .unwrap();
        // The agent's poll: mapping the table, the reading, each flow's delta.
        let mut table = FlowTable::new(KernelClock::new());
        table.poll(&maps, 0, None)?;
        let poll = (0..3)
            .map(|_| {
                let (p, d) = timed(|| table.poll(&maps, 0, None).unwrap());
                assert_eq!(p.flows_in_table, n as usize);
                d
            })
            .min()
            .unwrap();
        body.push_str(&format!("| {n} | {:.1} | {:.1} |\n", read.as_secs_f64() * 1e3, poll.as_secs_f64() * 1e3));
    }
    let rss = agent_rss(peerscope, 65_536)?;
    body.push_str(&format!(
        "\nResident memory of `peerscope run` holding 65 536 flows (after two polls): **{:.1} MiB** (peak {:.1} MiB: during a poll the agent also maps the kernel's table, {:.1} MiB, which is kernel memory whether mapped or not).\n",
        rss.0 as f64 / 1024.0,
        rss.1 as f64 / 1024.0,
        table_mib(65_536)
    ));
    Ok(Section { title: "Polling the flow table, and the agent's memory".into(), body })
}

/// Size of the kernel's flow table for `max_flows` on this machine, in MiB.
fn table_mib(max_flows: u32) -> f64 {
    let cpus = aya::util::nr_cpus().map(|n| n as u32).unwrap_or(1);
    let g = peerscope_abi::Geometry::new(max_flows, cpus);
    let bytes = g.slots as usize * std::mem::size_of::<peerscope_abi::FlowSlot>()
        + g.stats_entries() as usize * std::mem::size_of::<FlowStats<KernelNs>>();
    bytes as f64 / (1024.0 * 1024.0)
}

/// (VmRSS, VmHWM) in KiB of a real agent whose table holds `n` flows.
fn agent_rss(peerscope: &std::path::Path, n: u32) -> anyhow::Result<(u64, u64)> {
    let pair = VethPair::new("rss", false);
    // A table of exactly `n`: the interface's own few packets (neighbour discovery)
    // may land in the overflow counters once it is full.
    let mut agent = ChildGuard(Some(
        crate::agent::command_in_a(&pair, peerscope)
            .args(["run", "-i", &pair.a_if, "--interval", "0.5", "--json", "--max-flows", &n.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?,
    ));
    let mut lines = BufReader::new(agent.0.as_mut().unwrap().stderr.take().unwrap()).lines();
    let _ = lines.next();
    std::thread::spawn(move || for _ in lines {});
    // Fill the agent's pinned table from outside, as traffic would.
    let maps = FlowMaps::open_pinned(&PinDir::for_iface(&pair.a_if))?;
    let cpus = maps.geometry().cpus as usize;
    let view = maps.view()?;
    // Stamped now on the kernel's clock, so the agent holds them rather than reaping.
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    let now = ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
    // Until the table is full (the interface's own first flows are in it too).
    for i in 0..n {
        let b = i.to_be_bytes();
        let key = FlowKey::v4(17, [198, 51, b[2], b[3]], [203, 0, 113, b[1]], 4004, 4004);
        let s = FlowStats {
            packets: [0, 1, 1],
            bytes: [0, 100, 1400],
            last_seen: KernelNs(now),
            first_seen: KernelNs(now),
            ..Default::default()
        };
        if view.insert(&key, &vec![s; cpus]).is_err() {
            break;
        }
    }
    anyhow::ensure!(maps.live() == n as u64, "the agent's table holds {} flows, not {n}", maps.live());
    drop(view);
    drop(maps);
    std::thread::sleep(Duration::from_millis(1500));
    let status = std::fs::read_to_string(format!("/proc/{}/status", agent.id()))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let out = (field("VmRSS:"), field("VmHWM:"));
    drop(agent);
    Ok(out)
}
