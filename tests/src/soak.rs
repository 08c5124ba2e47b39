//! The soak run (`cargo xtask soak`, and a short one in the test suite): the agent as a
//! busy host runs it (`run --interval 1 --window 5 --idle-timeout 10`) while a bounded
//! generator opens new flows of 2 packets at a steady rate, then with no traffic at
//! all; its memory, CPU and window timing are sampled as it goes, then SIGTERM.
//!
//! The traffic goes from namespace `a` (the monitored host, where the agent runs) to
//! `b` over a veth pair this run creates and removes: UDP from 32 sockets to every
//! port of `b` in turn, so about two million flows pass before a key comes back.

use std::{
    io::{BufRead, BufReader},
    net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket},
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use peerscope::live::clock;

use crate::{agent, bench::Section, in_netns, netns, netns::ChildGuard, VethPair};

/// The agent's flags, as the busy host ran it.
pub const AGENT_ARGS: [&str; 7] = ["--interval", "1", "--window", "5", "--idle-timeout", "10", "--quiet"];

/// Window length of [`AGENT_ARGS`], ns.
const WINDOW_NS: u64 = 5_000_000_000;

#[derive(Clone, Debug)]
pub struct Options {
    /// The `peerscope` binary.
    pub peerscope: PathBuf,
    /// Traffic for this long, then none for `idle`.
    pub load: Duration,
    pub idle: Duration,
    pub flows_per_second: u32,
    /// Memory and CPU read this often.
    pub sample_every: Duration,
    /// Where the run's `--jsonl` file goes.
    pub dir: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Load,
    Idle,
}

/// One reading of the agent.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// Seconds since the agent attached.
    pub t_s: f64,
    pub phase: Phase,
    pub flows_sent: u64,
    pub rss_kib: u64,
    /// Of which the kernel flow table's pages (`anon_inode:bpf-map` mappings): kernel
    /// memory, there whether or not the agent maps it.
    pub table_kib: u64,
    /// Of which the agent's own heap and stacks (anonymous pages).
    pub anon_kib: u64,
    /// CPU time since the previous sample over the time between them, in % of one core.
    pub cpu_percent: f64,
}

/// One window record of the run.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub start_ns: u64,
    pub len_ns: u64,
    pub nominal_len_ns: u64,
    pub missed_polls: u64,
    pub overflow_packets: u64,
}

impl Window {
    /// |len − Δ| / Δ.
    pub fn deviation(&self) -> f64 {
        (self.len_ns as f64 - self.nominal_len_ns as f64).abs() / self.nominal_len_ns.max(1) as f64
    }
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub samples: Vec<Sample>,
    pub flows_sent: u64,
    pub windows: Vec<Window>,
    /// SIGTERM to exit, and whether the exit was a success.
    pub stop: Duration,
    pub exit_ok: bool,
    pub sigterm_unix_ns: u64,
    /// The agent's peak RSS (VmHWM) just before SIGTERM.
    pub peak_rss_kib: u64,
}

impl Outcome {
    /// Windows closed on the Δ grid (the last one, closed by SIGTERM, left out).
    pub fn full_windows(&self) -> &[Window] {
        &self.windows[..self.windows.len().saturating_sub(1)]
    }

    pub fn windows_within(&self, fraction: f64) -> usize {
        self.full_windows().iter().filter(|w| w.deviation() <= fraction).count()
    }

    pub fn overflow_packets(&self) -> u64 {
        self.windows.iter().map(|w| w.overflow_packets).sum()
    }

    /// The end of the last window written.
    pub fn last_window_end_ns(&self) -> Option<u64> {
        self.windows.last().map(|w| w.start_ns + w.len_ns)
    }

    fn of(&self, phase: Phase) -> impl Iterator<Item = &Sample> {
        self.samples.iter().filter(move |s| s.phase == phase)
    }

    /// Mean CPU of the samples of a phase, the first left out (it straddles the start).
    pub fn mean_cpu(&self, phase: Phase) -> Option<f64> {
        let v: Vec<f64> = self.of(phase).skip(1).map(|s| s.cpu_percent).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    }

    pub fn max_rss_kib(&self) -> u64 {
        self.samples.iter().map(|s| s.rss_kib).max().unwrap_or(0)
    }

    /// The largest RSS without the kernel table's pages (see [`Sample::table_kib`]).
    pub fn max_own_rss_kib(&self) -> u64 {
        self.samples.iter().map(|s| s.rss_kib - s.table_kib).max().unwrap_or(0)
    }

    /// Heap growth over the second half of the load: the last load sample's anonymous pages
    /// minus the largest before halfway (flat memory: about zero, whatever the flows so
    /// far). The kernel table's mapping is left out: its pages come in as flows land
    /// on them, up to the size `--max-flows` sets.
    pub fn late_heap_growth_kib(&self) -> i64 {
        let load: Vec<&Sample> = self.of(Phase::Load).collect();
        let half = load.len() / 2;
        let before = load[..half].iter().map(|s| s.anon_kib).max();
        match (before, load.last()) {
            (Some(b), Some(last)) if half > 0 => last.anon_kib as i64 - b as i64,
            _ => 0,
        }
    }

    pub fn max_heap_kib(&self) -> u64 {
        self.samples.iter().map(|s| s.anon_kib).max().unwrap_or(0)
    }
}

/// Runs the soak; the namespaces, the agent and its files are gone when it returns.
pub fn run(o: &Options) -> anyhow::Result<Outcome> {
    let pair = VethPair::new("soak", false);
    std::fs::create_dir_all(&o.dir)?;
    let jsonl = o.dir.join(format!("soak-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&jsonl);
    let result = run_on(&pair, o, &jsonl);
    let windows = read_windows(&jsonl);
    let _ = std::fs::remove_file(&jsonl);
    let mut out = result?;
    out.windows = windows?;
    Ok(out)
}

fn run_on(pair: &VethPair, o: &Options, jsonl: &Path) -> anyhow::Result<Outcome> {
    let mut child = agent::command_in_a(pair, &o.peerscope)
        .args(["run", "-i", &pair.a_if])
        .args(AGENT_ARGS)
        .arg("--jsonl")
        .arg(jsonl)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
    let mut guard = ChildGuard(Some(child));
    let first = lines.next().transpose()?.unwrap_or_default();
    anyhow::ensure!(first.contains("attached to"), "the agent did not attach: {first}");
    // What the agent says after attaching: kept to explain an early end.
    let said = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    {
        let said = said.clone();
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                let mut v = said.lock().unwrap();
                v.push(l);
                if v.len() > 20 {
                    v.remove(0);
                }
            }
        });
    }
    let pid = guard.id() as i32;
    let attached = Instant::now();

    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let generator = churn(pair, o.flows_per_second, o.load, stop.clone(), sent.clone());
    let mut samples = Vec::new();
    let mut last = (Instant::now(), cpu_ticks(pid)?);
    let end = attached + o.load + o.idle;
    while Instant::now() < end {
        std::thread::sleep(o.sample_every.min(end.saturating_duration_since(Instant::now())));
        if let Some(status) = guard.0.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
            stop.store(true, Ordering::Relaxed);
            anyhow::bail!("the agent ended during the soak ({status}): {}", said.lock().unwrap().join("\n"));
        }
        let now = Instant::now();
        let ticks = cpu_ticks(pid)?;
        let cpu = (ticks - last.1) as f64 / clk_tck() / now.duration_since(last.0).as_secs_f64() * 100.0;
        last = (now, ticks);
        let t = now.duration_since(attached);
        let m = memory(pid)?;
        let s = Sample {
            t_s: t.as_secs_f64(),
            phase: if t <= o.load { Phase::Load } else { Phase::Idle },
            flows_sent: sent.load(Ordering::Relaxed),
            rss_kib: m.rss_kib,
            table_kib: m.table_kib,
            anon_kib: m.anon_kib,
            cpu_percent: cpu,
        };
        eprintln!(
            "soak: {:6.0} s {:?} flows {:>9} RSS {:6.1} MiB (table {:5.1}, heap {:5.1}) CPU {:5.2}%",
            s.t_s,
            s.phase,
            s.flows_sent,
            s.rss_kib as f64 / 1024.0,
            s.table_kib as f64 / 1024.0,
            s.anon_kib as f64 / 1024.0,
            s.cpu_percent
        );
        samples.push(s);
    }
    stop.store(true, Ordering::Relaxed);
    let flows_sent = generator.join().map_err(|_| anyhow::anyhow!("the generator panicked"))?;
    let peak_rss_kib = status_kib(pid, "VmHWM:")?;

    let sigterm_unix_ns = clock::unix_now_ns();
    let asked = Instant::now();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM)?;
    let mut child = guard.take();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if asked.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!("the agent was still running 30 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Ok(Outcome {
        samples,
        flows_sent,
        windows: Vec::new(),
        stop: asked.elapsed(),
        exit_ok: status.success(),
        sigterm_unix_ns,
        peak_rss_kib,
    })
}

/// New flows of 2 datagrams each at `rate` a second for at most `load`, from namespace
/// `a` to `b`, until `stop`; returns how many flows it opened (also kept in `sent`).
fn churn(
    pair: &VethPair,
    rate: u32,
    load: Duration,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
) -> std::thread::JoinHandle<u64> {
    const SOCKETS: u64 = 32;
    const PORTS: u64 = 65_536 - 1024;
    let ns = pair.ns_a.clone();
    std::thread::spawn(move || {
        in_netns(&ns, move || {
            let local = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::A_V4)), 0);
            let sockets: Vec<UdpSocket> = (0..SOCKETS).map(|_| UdpSocket::bind(local).expect("bind")).collect();
            let peer = Ipv4Addr::from(netns::B_V4);
            let budget = (rate as f64 * load.as_secs_f64()) as u64;
            let start = Instant::now();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) && start.elapsed() < load && n < budget {
                let due = ((start.elapsed().as_secs_f64() * rate as f64) as u64).min(budget);
                while n < due {
                    let port = 1024 + ((n / SOCKETS) % PORTS) as u16;
                    let s = &sockets[(n % SOCKETS) as usize];
                    let dst = SocketAddr::new(IpAddr::V4(peer), port);
                    // Two packets: a flow, not a probe. A full socket buffer drops one; the
                    // count is of flows opened, which the agent need not match exactly.
                    let _ = s.send_to(&[0u8; 36], dst);
                    let _ = s.send_to(&[0u8; 36], dst);
                    n += 1;
                }
                sent.store(n, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
            n
        })
    })
}

fn clk_tck() -> f64 {
    // SAFETY: sysconf reads a constant of the system; no memory is involved.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// utime + stime of process `pid`, in clock ticks.
fn cpu_ticks(pid: i32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name is in parentheses and may hold spaces: fields count after it.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of the line; the state (field 3) is the first after the name.
    let field = |i: usize| f.get(i - 3).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Ok(field(14) + field(15))
}

/// A `/proc/PID/status` line in KiB (`VmRSS:`, `VmHWM:`).
fn status_kib(pid: i32, key: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let v = status.lines().find_map(|l| l.strip_prefix(key)).unwrap_or_default();
    Ok(v.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0))
}

/// The process's resident memory from one reading of its smaps (so the parts add up
/// even when a poll maps the table in or out between two reads).
struct Memory {
    rss_kib: u64,
    table_kib: u64,
    anon_kib: u64,
}

/// Sums `Rss:` over every mapping, over the `anon_inode:bpf-map` ones (the kernel
/// table), and `Anonymous:` (the heap and stacks).
fn memory(pid: i32) -> anyhow::Result<Memory> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps"))?;
    let kib = |v: &str| v.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
    let mut m = Memory { rss_kib: 0, table_kib: 0, anon_kib: 0 };
    let mut bpf = false;
    for line in smaps.lines() {
        if let Some(v) = line.strip_prefix("Rss:") {
            m.rss_kib += kib(v);
            if bpf {
                m.table_kib += kib(v);
            }
        } else if let Some(v) = line.strip_prefix("Anonymous:") {
            m.anon_kib += kib(v);
        } else if line.split_whitespace().next().is_some_and(|f| f.contains('-') && !f.ends_with(':')) {
            // A mapping's first line: `start-end perms offset dev inode [name]`.
            bpf = line.ends_with("anon_inode:bpf-map");
        }
    }
    Ok(m)
}

fn read_windows(jsonl: &Path) -> anyhow::Result<Vec<Window>> {
    let text = std::fs::read_to_string(jsonl)?;
    let mut out = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        if v["document"] != "window_record" {
            continue;
        }
        let u = |x: &serde_json::Value| x.as_u64().unwrap_or(0);
        out.push(Window {
            start_ns: u(&v["window"]["start_unix_ns"]),
            len_ns: u(&v["window"]["len_ns"]),
            nominal_len_ns: Some(u(&v["conditions"]["nominal_len_ns"])).filter(|&n| n > 0).unwrap_or(WINDOW_NS),
            missed_polls: u(&v["conditions"]["missed_polls"]),
            overflow_packets: u(&v["conditions"]["overflow_packets"]),
        });
    }
    Ok(out)
}

/// The samples as a tab-separated table.
pub fn tsv(out: &Outcome) -> String {
    let mut s = String::from("t_s\tphase\tflows_sent\trss_kib\ttable_kib\tanon_kib\tcpu_percent\n");
    for x in &out.samples {
        s += &format!(
            "{:.0}\t{:?}\t{}\t{}\t{}\t{}\t{:.2}\n",
            x.t_s, x.phase, x.flows_sent, x.rss_kib, x.table_kib, x.anon_kib, x.cpu_percent
        );
    }
    s
}

/// RSS and CPU over the run, one SVG.
pub fn svg(out: &Outcome, path: &Path) -> std::io::Result<()> {
    use peerscope::report::svg::{line_chart, Series};
    use plotters::style::RGBColor;
    let rss = out.samples.iter().map(|s| (s.t_s, (s.rss_kib - s.table_kib) as f64 / 1024.0)).collect();
    let anon = out.samples.iter().map(|s| (s.t_s, s.anon_kib as f64 / 1024.0)).collect();
    let cpu = out.samples.iter().map(|s| (s.t_s, s.cpu_percent)).collect();
    line_chart(
        path,
        "peerscope soak: agent memory and CPU",
        "seconds since attach (load, then idle)",
        "RSS MiB / CPU % of one core",
        &[
            Series { name: "RSS without the kernel table (MiB)", points: rss, color: RGBColor(31, 119, 180) },
            Series { name: "of which heap (MiB)", points: anon, color: RGBColor(44, 160, 44) },
            Series { name: "CPU (% of one core)", points: cpu, color: RGBColor(214, 39, 40) },
        ],
    )
}

/// The "Soak" section of BENCHMARKS.md; `plot` is the SVG's path relative to it.
pub fn section(o: &Options, out: &Outcome, plot: &str) -> Section {
    let mib = |k: u64| k as f64 / 1024.0;
    let full = out.full_windows().len();
    let within = out.windows_within(0.01);
    let worst = out.full_windows().iter().map(Window::deviation).fold(0.0, f64::max);
    let missed: u64 = out.windows.iter().map(|w| w.missed_polls).sum();
    let load_cpu = out.mean_cpu(Phase::Load).unwrap_or(f64::NAN);
    let idle_cpu = out.mean_cpu(Phase::Idle).unwrap_or(f64::NAN);
    let yes = |target: &str, b: bool| match (target, b) {
        ("", _) => "",
        (_, true) => "yes",
        (_, false) => "**no**",
    };
    let mut body = format!(
        "{load} min at {rate} new flows/s (2 UDP packets each, {flows} flows in all, between namespaces), \
         then {idle} min without traffic; `peerscope run -i IF {args} --jsonl FILE` (release build), its \
         RSS and CPU read from /proc every {every} s, window timing from its window records, then SIGTERM.\n\n\
         | figure | measured | target | met |\n|---|---:|---:|:---:|\n",
        load = o.load.as_secs_f64() / 60.0,
        rate = o.flows_per_second,
        flows = out.flows_sent,
        idle = o.idle.as_secs_f64() / 60.0,
        args = AGENT_ARGS.join(" "),
        every = o.sample_every.as_secs_f64(),
    );
    let rows = [
        (
            "RSS without the kernel table, largest sample",
            format!("{:.1} MiB", mib(out.max_own_rss_kib())),
            "≤ 64 MiB",
            out.max_own_rss_kib() <= 64 << 10,
        ),
        ("RSS with the table's pages, largest sample", format!("{:.1} MiB", mib(out.max_rss_kib())), "", true),
        ("of which heap (anonymous pages), largest sample", format!("{:.1} MiB", mib(out.max_heap_kib())), "", true),
        (
            "heap growth over the second half of the load",
            format!("{:+.1} MiB", out.late_heap_growth_kib() as f64 / 1024.0),
            "flat (≤ 2 MiB)",
            out.late_heap_growth_kib() <= 2 << 10,
        ),
        ("peak RSS (VmHWM, the table's pages included)", format!("{:.1} MiB", mib(out.peak_rss_kib)), "", true),
        ("CPU under load", format!("{load_cpu:.2}% of one core"), "≤ 5%", load_cpu <= 5.0),
        ("CPU idle", format!("{idle_cpu:.2}% of one core"), "≈ 0 (≤ 0.5%)", idle_cpu <= 0.5),
        (
            "windows within 1% of Δ = 5 s",
            format!("{within} of {full} (worst {:.2}%, {missed} late polls)", worst * 100.0),
            "all",
            within == full && full > 0,
        ),
        ("packets in overflow", out.overflow_packets().to_string(), "0", out.overflow_packets() == 0),
        (
            "SIGTERM to exit (final window written)",
            format!("{:.2} s", out.stop.as_secs_f64()),
            "≤ 2 s",
            out.stop <= Duration::from_secs(2) && out.exit_ok && out.last_window_end_ns() >= Some(out.sigterm_unix_ns),
        ),
    ];
    for (what, got, target, met) in rows {
        body += &format!("| {what} | {got} | {target} | {} |\n", yes(target, met));
    }
    body += "\nThe kernel flow table (32 MiB for the default --max-flows 65 536 on 2 CPUs) is kernel memory that the \
             agent maps in to read it: RSS counts its pages as they are touched, whether the agent holds anything else \
             or not. The rest of RSS is the agent's heap and its binary.\n";
    body += &format!("\n![RSS and CPU over the soak]({plot})\n\n| s | phase | flows sent | RSS MiB | of which table MiB | of which heap MiB | CPU % |\n|---:|---|---:|---:|---:|---:|---:|\n");
    for s in &out.samples {
        body += &format!(
            "| {:.0} | {:?} | {} | {:.1} | {:.1} | {:.1} | {:.2} |\n",
            s.t_s,
            s.phase,
            s.flows_sent,
            mib(s.rss_kib),
            mib(s.table_kib),
            mib(s.anon_kib),
            s.cpu_percent
        );
    }
    Section {
        title: format!("Soak: {} min of churn at {} new flows/s", o.load.as_secs_f64() / 60.0, o.flows_per_second),
        body,
    }
}
