//! Builds the swarm, starts its parts on their namespace threads, runs the agent on
//! the monitored peer's interface window by window, winds everything down and
//! writes the report.
//!
//! Teardown needs no code path of its own: namespaces belong to threads, so they
//! go when the threads end — after the run, on an error (the guards drop), on
//! Ctrl-C, and when the process is killed.

use std::{
    future::Future,
    net::{IpAddr, Ipv4Addr},
    path::{Path, PathBuf},
    sync::mpsc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use serde::Serialize;
use tokio::{
    signal::unix::{signal, Signal, SignalKind},
    sync::watch,
};

use super::{
    churn, geo, http,
    netns::NetNs,
    now_unix_ns,
    peer::{self, PeerCfg},
    plan::{self, PeerPlan, Profile},
    plot,
    report::{self, Collector, Report},
    source,
    topology::{Hub, HOST_IF},
    tracker,
    truth::GroundTruth,
    window::Windower,
    Channel, Ctx,
};
use peerscope::{
    control::{ledger::ever_family, ControlLedger},
    engine::{geo::Geolocator, Engine, EngineConfig, MonitoredHost},
    live::{AttachOptions, Attached},
};

#[derive(Clone, Debug)]
pub struct DemoOpts {
    pub duration: Duration,
    pub peers: usize,
    pub bitrate_bps: u64,
    pub window: Duration,
    pub monitored: Profile,
    pub out: PathBuf,
    pub seed: u64,
    pub top: usize,
}

/// What the teardown test needs to know was ours.
#[derive(Serialize)]
struct Topology<'a> {
    pid: u32,
    netns_inodes: Vec<u64>,
    host_interface: &'a str,
    hosts: Vec<(String, Ipv4Addr)>,
}

/// Every namespace of the swarm. Dropping it ends their threads, and with them the
/// namespaces, peers first and the hub last (fields drop in order).
struct Built {
    peers: Vec<NetNs>,
    tracker: NetNs,
    http: NetNs,
    source: NetNs,
    hub: Hub,
}

impl Built {
    fn new(cast: &[PeerPlan]) -> anyhow::Result<Self> {
        let mut hub = Hub::new()?;
        let tracker = hub.host("tracker", plan::TRACKER, None)?;
        let http = hub.host("http", plan::HTTP, None)?;
        let source = hub.host("source", source::ADDR, Some(source::UPLOAD_BPS))?;
        let mut peers = Vec::new();
        for p in cast {
            peers.push(hub.host(&format!("peer{}", p.index), p.ip, p.profile.upload_bps())?);
        }
        Ok(Built { peers, tracker, http, source, hub })
    }

    fn topology(&self, cast: &[PeerPlan]) -> Topology<'static> {
        let mut inodes = vec![self.hub.ns.inode(), self.tracker.inode(), self.http.inode(), self.source.inode()];
        inodes.extend(self.peers.iter().map(NetNs::inode));
        Topology {
            pid: std::process::id(),
            netns_inodes: inodes,
            host_interface: HOST_IF,
            hosts: cast.iter().map(|p| (format!("peer{}", p.index), p.ip)).collect(),
        }
    }

    /// Starts every part on its namespace's thread, each reporting on `done` when it
    /// has finished; returns how many were started.
    fn start(&self, cast: &[PeerPlan], ctx: &Ctx, t0: Instant, done: &mpsc::Sender<()>) -> anyhow::Result<usize> {
        let (c, n) = (ctx.clone(), cast.len());
        start_part(&self.tracker, done, move || async move {
            let _ = tracker::serve(c, plan::TRACKER).await;
        })?;
        let c = ctx.clone();
        start_part(&self.http, done, move || async move {
            let _ = http::serve(c, plan::HTTP, n).await;
        })?;
        let c = ctx.clone();
        start_part(&self.source, done, move || async move {
            let stop = c.stop.clone();
            peer::run(c, source::cfg(), stop).await
        })?;
        for (p, ns) in cast.iter().zip(&self.peers) {
            let c = ctx.clone();
            let cfg = PeerCfg {
                ip: p.ip,
                accepts: p.profile.accepts(),
                max_children: p.profile.max_children(),
                is_source: false,
            };
            let (join, leave) = (t0 + p.join, p.leave.map(|l| t0 + l));
            start_part(ns, done, move || async move {
                c.servers.wait_all(SERVERS_LIMIT).await;
                if !churn::wait_to_join(join, &c.stop).await {
                    return;
                }
                let stop = churn::peer_stop(&c.stop, leave);
                peer::run(c, cfg, stop).await
            })?;
        }
        Ok(3 + cast.len())
    }
}

/// Runs `f` in a current-thread runtime on the namespace's thread.
fn start_part<F, Fut>(ns: &NetNs, done: &mpsc::Sender<()>, f: F) -> anyhow::Result<()>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let done = done.clone();
    ns.spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
            rt.block_on(f());
        }
        let _ = done.send(());
    })
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let p = dir.join(name);
    std::fs::write(&p, bytes).with_context(|| format!("writing {}", p.display()))
}

struct Signals {
    int: Signal,
    term: Signal,
}

impl Signals {
    async fn recv(&mut self) {
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
    }
}

pub fn run(opts: DemoOpts) -> anyhow::Result<Report> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(run_async(opts))
}

async fn run_async(opts: DemoOpts) -> anyhow::Result<Report> {
    // Registered first, so Ctrl-C during set-up is caught, not fatal.
    let mut signals = Signals { int: signal(SignalKind::interrupt())?, term: signal(SignalKind::terminate())? };
    std::fs::create_dir_all(&opts.out).with_context(|| format!("creating {}", opts.out.display()))?;
    write(&opts.out, "geo.csv", geo::csv().as_bytes())?;

    let cast = plan::plan(opts.peers, opts.monitored, opts.duration, opts.seed);
    eprintln!("peerscope demo: building the swarm ({} peers, a source, a tracker, a web server)", cast.len());
    let built = Built::new(&cast)?;
    write(&opts.out, "topology.json", &serde_json::to_vec_pretty(&built.topology(&cast))?)?;

    let monitored = &cast[0];
    let mut attach = AttachOptions::new(HOST_IF);
    attach.pin = false;
    let mut attached: Attached = built.peers[0].exec(move || Attached::attach(&attach))??;
    eprintln!(
        "peerscope demo: attached to {} of {} ({:?}, XDP {:?} mode); {} s, window {} s; Ctrl-C to stop early",
        HOST_IF,
        monitored.ip,
        monitored.profile,
        attached.xdp_mode,
        opts.duration.as_secs(),
        opts.window.as_secs_f64()
    );

    let (stop_tx, stop_rx) = watch::channel(false);
    let channel = Channel { bitrate_bps: opts.bitrate_bps, chunk_bytes: 16 * 1024, start_unix_ns: now_unix_ns() };
    let truth = GroundTruth::default();
    let ctx = Ctx { channel, truth: truth.clone(), stop: stop_rx, servers: Default::default() };
    let (done_tx, done_rx) = mpsc::channel();
    let t0 = Instant::now();
    let parts = built.start(&cast, &ctx, t0 + SERVERS_FIRST, &done_tx)?;
    drop(done_tx);

    let mut m = Measure {
        windower: Windower::new(now_unix_ns()),
        collector: Collector::new(monitored.ip),
        engine: Engine::new(engine_config(&opts)?, MonitoredHost::new([IpAddr::V4(monitored.ip)])),
        ledger: ControlLedger::default(),
    };
    let interrupted = measure(&mut attached, &mut m, &opts, t0 + opts.duration, &mut signals).await?;
    eprintln!("peerscope demo: {}; winding the swarm down", if interrupted { "interrupted" } else { "time is up" });
    let _ = stop_tx.send(true);
    wind_down(done_rx, parts, &mut signals).await;
    // Let the last acknowledgements and FINs reach the interface.
    tokio::time::sleep(Duration::from_millis(300)).await;
    print!("{}", m.window(&mut attached, opts.top)?);
    drop(attached);

    let truth = truth.snapshot();
    write(&opts.out, "truth.csv", truth.to_csv().as_bytes())?;
    let report = m.collector.finish(&truth, &cast, opts.bitrate_bps, t0.elapsed().as_secs_f64());
    write(&opts.out, "report.json", &serde_json::to_vec_pretty(&report)?)?;
    for (name, svg) in plot::plots(&report, &truth) {
        write(&opts.out, name, svg.as_bytes())?;
    }
    // The studies' figures of the monitored peer, from the same engine as `run` and
    // `analyze`, and what its control packets taught.
    let figures = m.engine.finish();
    let (parents, children) = ever_family(&figures);
    let control = m.ledger.summary(&parents, &children);
    write(
        &opts.out,
        "analysis.json",
        &serde_json::to_vec_pretty(&serde_json::json!({ "report": &figures, "control": &control }))?,
    )?;
    peerscope::report::svg::write_dir(&opts.out, &figures)
        .with_context(|| format!("writing plots into {}", opts.out.display()))?;
    let mut text = Vec::new();
    peerscope::report::text::write_body(&mut text, &figures)?;
    peerscope::report::text::write_control(&mut text, &control)?;
    write(&opts.out, "analysis.txt", &text)?;
    println!("\npeerscope's figures of the monitored peer {} (the studies' methods)", monitored.ip);
    print!("{}", String::from_utf8_lossy(&text));
    print!("{}", report::render_final(&report));
    drop(built);
    eprintln!("peerscope demo: swarm removed; report in {}", opts.out.display());
    Ok(report)
}

/// Servers start before the first client asks; peers also wait until every server
/// listens ([`super::Listening`]), at most `SERVERS_LIMIT`.
const SERVERS_FIRST: Duration = Duration::from_millis(300);
const SERVERS_LIMIT: Duration = Duration::from_secs(10);

/// What the demo measures with: the agent's windowing, the engine, the control
/// ledger, and the comparison with the swarm's ground truth.
struct Measure {
    windower: Windower,
    collector: Collector,
    engine: Engine,
    ledger: ControlLedger,
}

impl Measure {
    /// Closes a window: the engine's figures, the control samples, the live text.
    fn window(&mut self, attached: &mut Attached, top: usize) -> anyhow::Result<String> {
        let w = self.windower.close(&attached.maps, now_unix_ns())?;
        for s in attached.drain_samples(usize::MAX) {
            if let Some(msg) = peerscope::control::decode_sample(&s.key, s.payload(), s.payload_len as usize) {
                self.ledger.observe(&s.key, &msg);
            }
        }
        let figures = self.engine.observe_window(w.clone());
        let mut text = self.collector.add(&w, &figures, top);
        let mut line = Vec::new();
        peerscope::report::text::window_line(&mut line, &figures)?;
        text.push_str(&String::from_utf8_lossy(&line));
        Ok(text)
    }
}

/// The engine as the demo runs it: the demo's window, its geolocation table, the
/// channel's playback rate.
fn engine_config(opts: &DemoOpts) -> anyhow::Result<EngineConfig> {
    let geo = Geolocator::open(&opts.out.join("geo.csv")).context("reading the demo's geo.csv")?;
    Ok(EngineConfig {
        window_ns: opts.window.as_nanos() as u64,
        geo: Some(std::sync::Arc::new(geo)),
        playback_rate_kbps: Some(opts.bitrate_bps as f64 / 1000.0),
        ..EngineConfig::default()
    })
}

/// Prints a window every `opts.window` until `end` or a signal; true if a signal.
async fn measure(
    attached: &mut Attached,
    m: &mut Measure,
    opts: &DemoOpts,
    end: Instant,
    signals: &mut Signals,
) -> anyhow::Result<bool> {
    loop {
        let next = (Instant::now() + opts.window).min(end);
        let interrupted = tokio::select! {
            _ = tokio::time::sleep_until(next.into()) => false,
            _ = signals.recv() => true,
        };
        print!("{}", m.window(attached, opts.top)?);
        if interrupted || Instant::now() >= end {
            return Ok(interrupted);
        }
    }
}

/// Waits (at most 15 s) for every part to close its connections in order. A second
/// Ctrl-C exits at once: the namespaces still go with the process.
async fn wind_down(done: mpsc::Receiver<()>, parts: usize, signals: &mut Signals) {
    let wait = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(15);
        for _ in 0..parts {
            if done.recv_timeout(deadline.saturating_duration_since(Instant::now())).is_err() {
                break;
            }
        }
    });
    tokio::select! {
        _ = wait => {}
        _ = signals.recv() => std::process::exit(130),
    }
}
