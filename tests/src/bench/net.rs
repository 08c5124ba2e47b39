//! Throughput of a veth pair with the agent attached against nothing attached and
//! against a pass-only program on the same hook, in one run (iperf3), with the
//! segmentation offloads every host has (on) and with them off, in both directions
//! through the monitored end, for TCP bulk and for many small UDP flows; rounds
//! alternate the setups so drift of the machine spreads over all of them, and each
//! row gives the median and the spread. The extra CPU per packet the agent costs is
//! set against `tcpdump -w` on the same traffic. CPU is the whole machine's busy time
//! (/proc/stat): the kernel programs run in softirq context, charged to no process.

use std::{
    fmt::Write as _,
    process::{Command, Stdio},
    time::Duration,
};

use aya::{
    programs::{tc::TcAttachOptions, LinkOrder, SchedClassifier, TcAttachType, Xdp, XdpMode},
    Ebpf,
};
use peerscope::live::{attach::load, hook::HookChoice, AttachOptions, Attached};
use peerscope_abi::names;

use super::Section;
use crate::{in_netns, netns::ChildGuard, VethPair};

const SECS: u32 = 3;
const ROUNDS: usize = 3;

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

/// What iperf3 sends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Traffic {
    TcpBulk,
    /// 32 parallel UDP flows of 200-byte datagrams, unlimited rate.
    SmallUdp,
}

/// Which way the traffic goes through the monitored end A.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// A sends: bulk through A's egress, its ingress sees the ACKs.
    ASends,
    /// A receives: bulk through A's ingress.
    AReceives,
}

/// What is attached to A during a run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Setup {
    Nothing,
    PassXdp,
    PeerscopeXdp,
    PassTcx,
    Peerscope,
    Tcpdump,
}

impl Setup {
    const ALL: [Setup; 6] =
        [Setup::Nothing, Setup::PassXdp, Setup::PeerscopeXdp, Setup::PassTcx, Setup::Peerscope, Setup::Tcpdump];

    fn name(self) -> &'static str {
        match self {
            Setup::Nothing => "nothing attached",
            Setup::PassXdp => "pass-only XDP program (native)",
            Setup::PeerscopeXdp => "peerscope, --hook xdp",
            Setup::PassTcx => "pass-only TCX program (ingress and egress)",
            Setup::Peerscope => "peerscope, --hook auto (TCX)",
            Setup::Tcpdump => "tcpdump -w",
        }
    }
}

#[derive(Clone, Copy)]
struct Run {
    gbps: f64,
    busy_s: f64,
    packets: u64,
}

impl Run {
    fn ns_per_packet(&self) -> f64 {
        self.busy_s / self.packets.max(1) as f64 * 1e9
    }
}

fn iperf(pair: &VethPair, traffic: Traffic, dir: Direction) -> anyhow::Result<Run> {
    let _server = ChildGuard(Some(
        Command::new("ip")
            .args(["netns", "exec", &pair.ns_b, "iperf3", "-s", "-1", "-B", "192.0.2.2"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    ));
    std::thread::sleep(Duration::from_millis(300));
    let p0 = packets(&pair.ns_a, &pair.a_if);
    let (b0, _) = cpu_jiffies();
    let secs = SECS.to_string();
    let mut args = vec!["netns", "exec", &pair.ns_a, "iperf3", "-c", "192.0.2.2", "-B", "192.0.2.1", "-t", &secs, "-J"];
    if traffic == Traffic::SmallUdp {
        args.extend(["-u", "-b", "0", "-l", "200", "-P", "32"]);
    }
    if dir == Direction::AReceives {
        args.push("-R");
    }
    let out = Command::new("ip").args(&args).output()?;
    let (b1, _) = cpu_jiffies();
    let p1 = packets(&pair.ns_a, &pair.a_if);
    anyhow::ensure!(out.status.success(), "iperf3: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let end = &v["end"];
    let bps = match traffic {
        Traffic::TcpBulk => end["sum_received"]["bits_per_second"].as_f64(),
        // What arrived: UDP's sender figure counts datagrams lost on the way.
        Traffic::SmallUdp => end["sum_received"]["bits_per_second"].as_f64().or(end["sum"]["bits_per_second"].as_f64()),
    }
    .unwrap_or(0.0);
    let hz = 100.0; // USER_HZ: /proc/stat counts in 1/100 s.
    Ok(Run { gbps: bps / 1e9, busy_s: (b1 - b0) as f64 / hz, packets: p1 - p0 })
}

/// Something attached to A for the length of a run; dropped, it detaches.
enum Held {
    None,
    // Held only to be dropped: that detaches (ends tcpdump: ChildGuard kills it).
    Agent(#[allow(dead_code)] Box<Attached>),
    Programs(#[allow(dead_code)] Box<Ebpf>),
    Tcpdump(#[allow(dead_code)] ChildGuard),
}

fn pass_only(pair: &VethPair, xdp: bool) -> anyhow::Result<Held> {
    let iface = pair.a_if.clone();
    let ebpf = in_netns(&pair.ns_a, move || -> anyhow::Result<Ebpf> {
        let mut ebpf = load(&AttachOptions::new(&iface))?;
        if xdp {
            let p: &mut Xdp = ebpf.program_mut(names::BASELINE).expect("baseline program").try_into()?;
            p.load()?;
            p.attach(&iface, XdpMode::Driver)?;
        } else {
            let p: &mut SchedClassifier =
                ebpf.program_mut(names::BASELINE_TC).expect("baseline TC program").try_into()?;
            p.load()?;
            for t in [TcAttachType::Ingress, TcAttachType::Egress] {
                p.attach_with_options(&iface, t, TcAttachOptions::TcxOrder(LinkOrder::default()))?;
            }
        }
        Ok(ebpf)
    })?;
    Ok(Held::Programs(Box::new(ebpf)))
}

fn attach(pair: &VethPair, setup: Setup) -> anyhow::Result<Held> {
    Ok(match setup {
        Setup::Nothing => Held::None,
        Setup::PassXdp => pass_only(pair, true)?,
        Setup::PassTcx => pass_only(pair, false)?,
        Setup::Peerscope | Setup::PeerscopeXdp => {
            let hook = if setup == Setup::Peerscope { HookChoice::Auto } else { HookChoice::Xdp };
            Held::Agent(Box::new(crate::agent::attach(pair, move |o| o.hook = hook)))
        }
        Setup::Tcpdump => {
            // Whole packets, written to /dev/null: at tens of Gbit/s a file would fill
            // the disk in seconds, and the cost measured is the capture's, not the disk's.
            let child = ChildGuard(Some(
                Command::new("ip")
                    .args(["netns", "exec", &pair.ns_a, "tcpdump", "-i", &pair.a_if, "-s", "0", "-w", "/dev/null"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()?,
            ));
            std::thread::sleep(Duration::from_millis(500));
            Held::Tcpdump(child)
        }
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One table: every setup, `ROUNDS` alternating rounds.
fn measure(pair: &VethPair, traffic: Traffic, dir: Direction) -> anyhow::Result<Vec<(Setup, Vec<Run>)>> {
    let mut runs: Vec<(Setup, Vec<Run>)> = Setup::ALL.iter().map(|s| (*s, Vec::new())).collect();
    for round in 0..ROUNDS {
        for (setup, out) in &mut runs {
            eprintln!("bench net: round {}/{ROUNDS}, {}", round + 1, setup.name());
            let held = attach(pair, *setup)?;
            out.push(iperf(pair, traffic, dir)?);
            drop(held);
        }
    }
    Ok(runs)
}

pub fn run() -> anyhow::Result<Section> {
    let cases = [
        ("TCP bulk, offloads on (the default)", Traffic::TcpBulk, true),
        ("TCP bulk, offloads off (MTU-sized packets)", Traffic::TcpBulk, false),
        ("32 UDP flows of 200-byte datagrams, offloads on", Traffic::SmallUdp, true),
    ];
    let mut body = format!(
        "iperf3 over a veth pair, {SECS} s per run, {ROUNDS} rounds alternating the setups; each cell is the median \
         and, in brackets, the lowest and highest round. Ingress is counted on TCX (`--hook auto`, the default on a \
         veth) or native XDP (`--hook xdp`); egress on TCX in both. Each peerscope row is set against nothing \
         attached and against a pass-only program on the same hook. CPU is the machine's busy time per packet \
         through A; \"extra\" is that above nothing attached (at or below zero: within the noise). Targets: \
         throughput with the agent at least 0.97x of nothing attached in every row; the agent's extra CPU per \
         packet at most 1/10 of tcpdump's.\n"
    );
    let mut summary = Vec::new();
    for (title, traffic, offloads) in cases {
        let pair = VethPair::new(if offloads { "neton" } else { "netoff" }, offloads);
        for dir in [Direction::ASends, Direction::AReceives] {
            let runs = measure(&pair, traffic, dir)?;
            let dir_name = match dir {
                Direction::ASends => "A sends (A's ingress sees the ACKs)",
                Direction::AReceives => "A receives (the bulk through A's ingress)",
            };
            let _ = write!(
                body,
                "\n### {title}; {dir_name}\n\n| attached to A | Gbit/s | busy ns/packet | extra ns/packet | vs nothing | vs pass-only, same hook |\n|---|---:|---:|---:|---:|---:|\n"
            );
            let gbps = |s: Setup| median(runs.iter().find(|r| r.0 == s).unwrap().1.iter().map(|r| r.gbps).collect());
            let ns =
                |s: Setup| median(runs.iter().find(|r| r.0 == s).unwrap().1.iter().map(Run::ns_per_packet).collect());
            for (setup, rs) in &runs {
                let lo = rs.iter().map(|r| r.gbps).fold(f64::INFINITY, f64::min);
                let hi = rs.iter().map(|r| r.gbps).fold(0.0, f64::max);
                let vs_pass = match setup {
                    Setup::Peerscope => format!("{:.3}x", gbps(*setup) / gbps(Setup::PassTcx).max(1e-9)),
                    Setup::PeerscopeXdp => format!("{:.3}x", gbps(*setup) / gbps(Setup::PassXdp).max(1e-9)),
                    _ => "-".into(),
                };
                let _ = writeln!(
                    body,
                    "| {} | {:.2} ({:.2}-{:.2}) | {:.0} | {} | {:.3}x | {vs_pass} |",
                    setup.name(),
                    gbps(*setup),
                    lo,
                    hi,
                    ns(*setup),
                    if *setup == Setup::Nothing {
                        "-".into()
                    } else {
                        format!("{:.0}", ns(*setup) - ns(Setup::Nothing))
                    },
                    gbps(*setup) / gbps(Setup::Nothing).max(1e-9),
                );
            }
            let extra = |s: Setup| ns(s) - ns(Setup::Nothing);
            summary.push(format!(
                "| {title}; {} | **{:.3}x** | {:.3}x | {:.3} |",
                if dir == Direction::ASends { "A sends" } else { "A receives" },
                gbps(Setup::Peerscope) / gbps(Setup::Nothing).max(1e-9),
                gbps(Setup::PeerscopeXdp) / gbps(Setup::Nothing).max(1e-9),
                extra(Setup::Peerscope).max(0.0) / extra(Setup::Tcpdump).max(1e-9),
            ));
        }
    }
    let _ = write!(
        body,
        "\n### Summary\n\n| traffic | throughput, peerscope (auto) / nothing | the same with --hook xdp | extra CPU per packet, peerscope / tcpdump |\n|---|---:|---:|---:|\n{}\n",
        summary.join("\n")
    );
    Ok(Section { title: "Throughput and CPU with the agent attached".into(), body })
}
