//! `peerscope demo` from end to end: plans the cast, builds the swarm, attaches the
//! agent to the monitored peer's interface and measures it window by window with
//! the library's live measurement, winds the swarm down, and writes what was
//! measured beside what the swarm recorded.

use std::{
    net::IpAddr,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use tokio::{
    signal::unix::{signal, Signal, SignalKind},
    sync::watch,
};

use super::{
    channel::Channel,
    clock::now_unix_ns,
    ctx::Ctx,
    geo,
    plan::{self, Profile},
    plot, report,
    swarm::{Running, Swarm, SERVERS_FIRST},
    topology::HOST_IF,
    truth::GroundTruth,
};
use peerscope::{
    engine::{geo::Geolocator, Engine, EngineConfig, MonitoredHost},
    live::{AttachOptions, Attached, Measurement},
    schema::{DemoRecord, ReportDocument, ReportSource},
};

#[derive(Clone, Debug)]
pub struct DemoOpts {
    pub duration: Duration,
    pub peers: usize,
    pub bitrate_bps: u64,
    pub window: Duration,
    pub monitored: Profile,
    /// Gossip-only hosts beside the peers (at most [`plan::crowd_addrs`]' length).
    pub gossip_hosts: usize,
    pub out: PathBuf,
    pub seed: u64,
    pub top: usize,
}

pub fn run(opts: DemoOpts) -> anyhow::Result<DemoRecord> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(run_async(opts))
}

async fn run_async(opts: DemoOpts) -> anyhow::Result<DemoRecord> {
    // Registered first, so Ctrl-C during set-up is caught, not fatal.
    let mut signals = Signals { int: signal(SignalKind::interrupt())?, term: signal(SignalKind::terminate())? };
    std::fs::create_dir_all(&opts.out).with_context(|| format!("creating {}", opts.out.display()))?;
    write(&opts.out, "geo.csv", geo::csv().as_bytes())?;

    let cast = plan::plan(opts.peers, opts.gossip_hosts, opts.monitored, opts.duration, opts.seed);
    eprintln!(
        "peerscope demo: building the swarm ({} peers, {} gossip-only hosts, a source, a tracker, a web server)",
        cast.peers.len(),
        cast.crowd.len()
    );
    let swarm = Swarm::build(&cast)?;
    write(&opts.out, "topology.json", &serde_json::to_vec_pretty(&swarm.topology(&cast))?)?;

    let monitored = &cast.peers[0];
    let mut attach = AttachOptions::new(HOST_IF);
    attach.pin = false;
    let mut attached: Attached = swarm.monitored().exec(move || Attached::attach(&attach))??;
    eprintln!(
        "peerscope demo: attached to {} of {} ({:?}, ingress on {}); {} s, window {} s; Ctrl-C to stop early",
        HOST_IF,
        monitored.ip,
        monitored.profile,
        attached.ingress.map_or("an earlier agent's hook", |h| h.describe()),
        opts.duration.as_secs(),
        opts.window.as_secs_f64()
    );

    let (stop_tx, stop_rx) = watch::channel(false);
    let channel = Channel { bitrate_bps: opts.bitrate_bps, chunk_bytes: 16 * 1024, start_unix_ns: now_unix_ns() };
    let truth = GroundTruth::default();
    let ctx = Ctx { channel, truth: truth.clone(), stop: stop_rx, servers: Default::default() };
    let t0 = Instant::now();
    let running = swarm.start(&cast, &ctx, t0 + SERVERS_FIRST)?;
    eprintln!(
        "peerscope demo: the swarm warms up for {} s; then the monitored peer joins and is measured",
        plan::WARM_UP.as_secs()
    );
    let engine = Engine::new(engine_config(&opts)?, MonitoredHost::new([IpAddr::V4(monitored.ip)]));
    let joined = t0 + SERVERS_FIRST + monitored.join;
    let signalled = tokio::select! {
        _ = tokio::time::sleep_until(joined.into()) => false,
        _ = signals.recv() => true,
    };
    let mut m = Measurement::new(engine, now_unix_ns());
    // The swarm winds down inside the last window, so that every window is Δ long.
    let end = joined + opts.duration;
    let stop_at = end - WIND_DOWN_LEAD.min(opts.window / 3).min(opts.duration / 2);
    let interrupted = signalled || measure(&mut attached, &mut m, &opts, joined, stop_at, &mut signals).await?;
    eprintln!("peerscope demo: {}; winding the swarm down", if interrupted { "interrupted" } else { "time is up" });
    let _ = stop_tx.send(true);
    wind_down(running, &mut signals).await;
    // Let the last acknowledgements and FINs reach the interface.
    tokio::time::sleep(Duration::from_millis(300)).await;
    if !interrupted {
        tokio::time::sleep_until(end.into()).await;
    }
    print!("{}", window(&mut attached, &mut m, opts.top)?);
    drop(attached);

    let measured_secs = Instant::now().saturating_duration_since(joined).as_secs_f64();
    let source = ReportSource::Demo { iface: HOST_IF.to_string(), monitored: IpAddr::V4(monitored.ip) };
    let measured = m.finish().into_document(source);
    let truth = truth.snapshot();
    write(&opts.out, "truth.csv", truth.to_csv().as_bytes())?;
    let report = report::truth_report(&measured.report, &truth, &cast, opts.bitrate_bps, measured_secs);
    write(&opts.out, "report.json", &serde_json::to_vec_pretty(&report)?)?;
    plot::write_plots(&opts.out, &report, &truth)?;
    let text = write_analysis(&opts.out, &measured)?;
    println!("\npeerscope's figures of the monitored peer {} (the studies' methods)", monitored.ip);
    print!("{}", String::from_utf8_lossy(&text));
    print!("{}", report::render_final(&report));
    drop(swarm);
    eprintln!("peerscope demo: swarm removed; report in {}", opts.out.display());
    Ok(report)
}

/// The studies' figures of the monitored peer, from the same engine as `run` and
/// `analyze`, and what its control packets taught: `analysis.json`, its text and
/// plots. Returns the text.
fn write_analysis(dir: &Path, measured: &ReportDocument) -> anyhow::Result<Vec<u8>> {
    write(dir, "analysis.json", &serde_json::to_vec_pretty(measured)?)?;
    peerscope::report::svg::write_dir(dir, &measured.report)
        .with_context(|| format!("writing plots into {}", dir.display()))?;
    let mut text = Vec::new();
    peerscope::report::text::write_document(&mut text, measured)?;
    write(dir, "analysis.txt", &text)?;
    Ok(text)
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

/// Closes a window (one poll per window): the engine's figures, the live text.
fn window(attached: &mut Attached, m: &mut Measurement, top: usize) -> anyhow::Result<String> {
    attached.flush_log();
    let now = now_unix_ns();
    // No flow is retired: the report compares every flow's lifetime bytes.
    let polled = m.poll(attached, now, None)?;
    let figures = m.close_window(now);
    let mut text = report::render_window(&figures, polled.deltas(), top);
    let mut line = Vec::new();
    peerscope::report::text::window_line(&mut line, &figures)?;
    text.push_str(&String::from_utf8_lossy(&line));
    Ok(text)
}

/// The swarm is told to stop this long before the run's end (at most a third of a
/// window): its last connections close inside the last window.
const WIND_DOWN_LEAD: Duration = Duration::from_secs(1);

/// Prints a window every `opts.window` from `start` (the windows' grid) until
/// `stop_at` or a signal; true if a signal. The window running at `stop_at` is left
/// open.
async fn measure(
    attached: &mut Attached,
    m: &mut Measurement,
    opts: &DemoOpts,
    start: Instant,
    stop_at: Instant,
    signals: &mut Signals,
) -> anyhow::Result<bool> {
    for k in 1.. {
        let next = start + opts.window * k;
        let interrupted = tokio::select! {
            _ = tokio::time::sleep_until(next.min(stop_at).into()) => false,
            _ = signals.recv() => true,
        };
        if interrupted {
            print!("{}", window(attached, m, opts.top)?);
            return Ok(true);
        }
        if next > stop_at {
            return Ok(false);
        }
        print!("{}", window(attached, m, opts.top)?);
    }
    unreachable!("the windows run out before u32 does")
}

/// Waits (at most 15 s) for every part to close its connections in order. A second
/// Ctrl-C exits at once: the namespaces still go with the process.
async fn wind_down(running: Running, signals: &mut Signals) {
    let wait = tokio::task::spawn_blocking(move || running.wait(Duration::from_secs(15)));
    tokio::select! {
        _ = wait => {}
        _ = signals.recv() => std::process::exit(130),
    }
}
