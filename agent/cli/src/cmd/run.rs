//! `peerscope run`: check everything, attach, poll every interval, compute the studies'
//! metrics per window with the same engine as `analyze`, print, detach on
//! Ctrl-C/SIGTERM.
//!
//! Every flag, file and port is checked before anything is loaded or attached, so a
//! bad configuration leaves nothing behind.

mod output;
mod report_file;

use std::{
    io::Write,
    process::ExitCode,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use clap::ArgMatches;
use tokio::signal::unix::{signal, SignalKind};

use crate::{cli::RunArgs, config_file, config_file::Origins};
use peerscope::{
    engine::{Engine, EngineConfig, MonitoredHost, WindowSummary},
    exit,
    export::{server, Metrics},
    live::{clock, host::interface_addrs, netns, AttachOptions, Attached, Measurement},
};

use super::{jsonl::JsonLines, UsageError};

/// Reads `--config` into `args` (the command line wins) and checks every value: a
/// failure is a usage error naming the flag, or the file, line and key.
pub fn prepare(args: &mut RunArgs, matches: &ArgMatches) -> anyhow::Result<Origins> {
    let origins = match args.config.clone() {
        Some(path) => config_file::apply(args, matches, &path)?,
        None => Origins::default(),
    };
    args.check().map_err(|e| UsageError(origins.explain(&e)))?;
    Ok(origins)
}

/// What the agent opened before attaching: if any of it fails, nothing was attached.
struct Prepared {
    config: EngineConfig,
    jsonl: Option<JsonLines>,
    metrics_listener: Option<std::net::TcpListener>,
}

fn open_outputs(args: &RunArgs, origins: &Origins) -> anyhow::Result<Prepared> {
    let config = args.engine.config().map_err(|e| UsageError(origins.explain(&e)))?;
    let jsonl =
        match &args.jsonl {
            Some(p) => Some(JsonLines::open(p).map_err(|e| {
                UsageError(origins.explain(&crate::cli::Invalid { key: "jsonl", msg: format!("{e:#}") }))
            })?),
            None => None,
        };
    let metrics_listener = match &args.metrics {
        Some(a) => {
            let addr = server::parse_addr(a).map_err(anyhow::Error::msg)?;
            Some(server::bind(addr).map_err(|e| {
                anyhow::anyhow!(
                    "cannot listen for --metrics on {addr}: {e} (one port per agent: give each interface its own in its [interface.NAME] table)"
                )
            })?)
        }
        None => None,
    };
    Ok(Prepared { config, jsonl, metrics_listener })
}

pub fn run(args: RunArgs, origins: Origins) -> anyhow::Result<ExitCode> {
    // First, while this is the only thread: every thread started later is in it too.
    if let Some(ns) = &args.netns {
        netns::enter(ns)?;
    }
    let prepared = open_outputs(&args, &origins)?;
    // The loop runs on this thread; the metrics server on the runtime's worker, so a
    // slow poll never holds a scrape.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    rt.block_on(run_async(args, prepared))
}

/// Everything one poll updates.
pub(crate) struct Live {
    attached: Attached,
    measure: Measurement,
    metrics: Arc<Mutex<Metrics>>,
    jsonl: Option<JsonLines>,
    /// The interval table or JSON on stdout (off with --quiet and with `--jsonl -`).
    stdout_output: bool,
}

async fn run_async(args: RunArgs, prepared: Prepared) -> anyhow::Result<ExitCode> {
    let mut opts = AttachOptions::new(&args.iface);
    opts.max_flows = args.max_flows;
    opts.thresholds = args.classes.thresholds();
    opts.samples_per_sec = args.samples_per_sec;
    opts.kernel_log = args.kernel_log;
    opts.keep_attached = args.keep_attached;
    let attached = Attached::attach(&opts)?;
    let addrs = interface_addrs(&args.iface);
    note(&format!(
        "peerscope: attached to {} (XDP {:?} mode, TCX egress); flow table of {} entries; monitored host {}; Ctrl-C to stop",
        attached.target.describe(),
        attached.xdp_mode,
        attached.maps.capacity(),
        if addrs.is_empty() {
            "unknown (no address on the interface)".to_string()
        } else {
            addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
        }
    ));
    let metrics = Arc::new(Mutex::new(Metrics::new(&args.iface, attached.target.netns.inode)));
    let _server = match prepared.metrics_listener {
        Some(l) => {
            let bound = l.local_addr()?;
            let task = server::serve(l, metrics.clone())?;
            note(&format!("peerscope: metrics at http://{bound}/metrics"));
            Some(task)
        }
        None => None,
    };
    let mut live = Live {
        attached,
        measure: Measurement::new(Engine::new(prepared.config, MonitoredHost::new(addrs)), clock::unix_now_ns()),
        metrics,
        jsonl: prepared.jsonl,
        stdout_output: !(args.quiet || args.jsonl_to_stdout()),
    };

    let period = Duration::from_secs_f64(args.interval);
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    // A late poll is followed by the next one on the interval's grid, not by a burst;
    // the intervals it skipped are counted and reported.
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut n = 0u64;
    let mut last_poll = Instant::now();
    let mut pipe_closed = false;
    loop {
        tokio::select! {
            biased;
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
            _ = ticker.tick() => {}
        }
        n += 1;
        let missed = (last_poll.elapsed().as_secs_f64() / args.interval).floor().max(1.0) as u64 - 1;
        last_poll = Instant::now();
        match poll_once(&args, &mut live, n, missed) {
            Ok(()) => {}
            // A reader that went away (`peerscope run | head`) ends the run cleanly.
            Err(e) if exit::is_broken_pipe(e.as_ref()) => {
                pipe_closed = true;
                break;
            }
            Err(e) => return Err(e),
        }
        if args.count.is_some_and(|c| n >= c) {
            break;
        }
    }
    if let Some(p) = live.attached.pins() {
        p.remove_reports();
    }
    let kept = live.attached.keep_attached;
    let target = live.attached.target.describe();
    drop(live);
    if kept {
        note(&format!(
            "peerscope: left attached to {target} (pinned); `peerscope detach -i {}` removes it",
            args.iface
        ));
    } else {
        note(&format!("peerscope: detached from {target}"));
    }
    if pipe_closed {
        exit::broken_pipe();
    }
    Ok(ExitCode::SUCCESS)
}

fn poll_once(args: &RunArgs, live: &mut Live, n: u64, missed: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    live.attached.flush_log();
    let now = clock::unix_now_ns();
    // Idle flows are retired after this poll read them; their slots are freed at the
    // next poll, with whatever was still being counted into them.
    let polled = live.measure.poll(&mut live.attached, now, Some((args.idle_timeout * 1e9) as u64))?;
    let counters = live.attached.maps.counters()?;
    if let Ok(mut m) = live.metrics.lock() {
        let (host, poll) = (live.measure.engine().host(), &polled.poll);
        m.observe(host, &poll.deltas, &counters, poll.flows_in_table, live.attached.maps.capacity());
    }
    let summary = if live.measure.window_due(now) { Some(close_window(live, now)?) } else { None };
    let interval = output::Interval {
        n,
        now,
        missed,
        poll: &polled.poll,
        counters: &counters,
        samples: polled.samples,
        decoded: polled.decoded,
    };
    if live.stdout_output {
        let mut stdout = std::io::stdout().lock();
        if args.json {
            output::json(&mut stdout, args, &interval, summary.as_ref())?;
        } else {
            output::table(&mut stdout, args, &interval, summary.as_ref())?;
        }
        stdout.flush()?;
    }
    if let Ok(mut m) = live.metrics.lock() {
        m.observe_poll(started.elapsed().as_secs_f64(), missed);
    }
    Ok(())
}

/// Feeds the finished window to the engine and publishes what it found.
fn close_window(live: &mut Live, now: u64) -> anyhow::Result<WindowSummary> {
    let summary = live.measure.close_window(now);
    if let Ok(mut m) = live.metrics.lock() {
        m.observe_window(&summary);
    }
    if let Some(j) = &mut live.jsonl {
        j.window(&summary)?;
    }
    if let Some(p) = live.attached.pins() {
        report_file::write(p, &live.attached.target, &live.measure)?;
    }
    Ok(summary)
}

/// A status line on stderr; a closed stderr is no reason to fail.
fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}
