//! Throughput of a veth pair with the agent attached against without, in the same
//! run (iperf3), and the extra CPU per packet the agent costs against `tcpdump -w`
//! on the same traffic. CPU is the whole machine's busy time (/proc/stat), because
//! the kernel program runs in softirq context, charged to no process.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use super::Section;
use crate::{netns::ChildGuard, VethPair};

const SECS: u32 = 5;

/// Busy and total jiffies of all CPUs.
fn cpu_jiffies() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<u64> =
        stat.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total: u64 = v.iter().sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

fn packets(ns: &str, ifc: &str) -> u64 {
    let out = Command::new("ip").args(["-n", ns, "-j", "-s", "link", "show", "dev", ifc]).output().ok();
    let v: serde_json::Value = out.and_then(|o| serde_json::from_slice(&o.stdout).ok()).unwrap_or_default();
    let s = &v[0]["stats64"];
    s["rx"]["packets"].as_u64().unwrap_or(0) + s["tx"]["packets"].as_u64().unwrap_or(0)
}

struct Run {
    gbps: f64,
    busy_s: f64,
    packets: u64,
}

fn iperf(pair: &VethPair) -> anyhow::Result<Run> {
    let _server = ChildGuard(Some(
        Command::new("ip")
            .args(["netns", "exec", &pair.ns_b, "iperf3", "-s", "-1", "-B", "192.0.2.2"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    ));
    std::thread::sleep(Duration::from_millis(500));
    let p0 = packets(&pair.ns_a, &pair.a_if);
    let (b0, _) = cpu_jiffies();
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &pair.ns_a,
            "iperf3",
            "-c",
            "192.0.2.2",
            "-B",
            "192.0.2.1",
            "-t",
            &SECS.to_string(),
            "-J",
        ])
        .output()?;
    let (b1, _) = cpu_jiffies();
    let p1 = packets(&pair.ns_a, &pair.a_if);
    anyhow::ensure!(out.status.success(), "iperf3: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let bps = v["end"]["sum_received"]["bits_per_second"].as_f64().unwrap_or(0.0);
    let hz = 100.0; // USER_HZ: /proc/stat counts in 1/100 s.
    Ok(Run { gbps: bps / 1e9, busy_s: (b1 - b0) as f64 / hz, packets: p1 - p0 })
}

pub fn run() -> anyhow::Result<Section> {
    // MTU-sized packets, so per-packet costs show (no GSO super-packets).
    let pair = VethPair::new("net", false);
    eprintln!("bench net: iperf3 without anything attached");
    let base = iperf(&pair)?;
    eprintln!("bench net: iperf3 with the agent attached");
    let attached = crate::agent::attach(&pair, |_| {});
    let with_agent = iperf(&pair)?;
    drop(attached);
    eprintln!("bench net: iperf3 with tcpdump -w");
    let pcap = std::env::temp_dir().join(format!("peerscope-bench-{}.pcap", pair.a_if));
    let tcpdump = ChildGuard(Some(
        Command::new("ip")
            .args(["netns", "exec", &pair.ns_a, "tcpdump", "-i", &pair.a_if, "-s", "0", "-w"])
            .arg(&pcap)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    ));
    std::thread::sleep(Duration::from_millis(500));
    let with_tcpdump = iperf(&pair)?;
    drop(tcpdump);
    let _ = std::fs::remove_file(&pcap);

    let per_pkt = |r: &Run| r.busy_s / r.packets.max(1) as f64 * 1e9;
    // Signed: a value at or below zero is within the run-to-run noise.
    let extra = |r: &Run| per_pkt(r) - per_pkt(&base);
    let body = format!(
        "iperf3 over a veth pair for {SECS} s per run, segmentation offloads off (MTU-sized packets). CPU is the machine's busy time; \
         \"extra\" is the busy ns per packet above the run with nothing attached (zero or below: within run-to-run noise). Targets: throughput with the agent at least 0.97x; \
         the agent's extra CPU per packet at most 1/10 of tcpdump's.\n\n\
         | run | Gbit/s | packets | busy ns/packet | extra ns/packet |\n|---|---:|---:|---:|---:|\n\
         | nothing attached | {:.2} | {} | {:.0} | - |\n\
         | peerscope attached | {:.2} | {} | {:.0} | {:.0} |\n\
         | tcpdump -w | {:.2} | {} | {:.0} | {:.0} |\n\n\
         Throughput with the agent: **{:.3}x**; extra CPU per packet, agent / tcpdump: **{:.3}**.\n",
        base.gbps,
        base.packets,
        per_pkt(&base),
        with_agent.gbps,
        with_agent.packets,
        per_pkt(&with_agent),
        extra(&with_agent),
        with_tcpdump.gbps,
        with_tcpdump.packets,
        per_pkt(&with_tcpdump),
        extra(&with_tcpdump),
        with_agent.gbps / base.gbps.max(1e-9),
        extra(&with_agent).max(0.0) / extra(&with_tcpdump).max(1e-9),
    );
    Ok(Section { title: "Throughput and CPU with the agent attached".into(), body })
}
