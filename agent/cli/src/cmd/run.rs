//! `peerscope run`: attach, poll every interval, compute the studies' metrics per
//! window with the same engine as `analyze`, print, detach on Ctrl-C/SIGTERM.

use std::{
    io::Write,
    process::ExitCode,
    sync::{Arc, Mutex},
    time::Duration,
};

use peerscope::schema::{interval::IntervalTag, Flow, IntervalDocument, KernelCounters, ReportSource, SchemaVersion};
use peerscope_abi::{Counter, FlowStats};
use tokio::signal::unix::{signal, SignalKind};

use crate::cli::RunArgs;
use peerscope::{
    engine::{Engine, MonitoredHost, WindowSummary},
    export::{server, Metrics},
    live::{clock, host::interface_addrs, pins::PinDir, AttachOptions, Attached, FlowDelta, Measurement},
    view::render_table,
};

use super::jsonl::JsonLines;

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.interval > 0.0 && args.interval.is_finite(),
        "--interval must be a positive number of seconds"
    );
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(run_async(args))
}

/// Everything one poll updates.
struct Live {
    attached: Attached,
    measure: Measurement,
    metrics: Arc<Mutex<Metrics>>,
    jsonl: Option<JsonLines>,
    pins: PinDir,
    iface: String,
}

async fn run_async(args: RunArgs) -> anyhow::Result<ExitCode> {
    let config = args.engine.config().map_err(|e| super::UsageError(format!("{e:#}")))?;
    let mut opts = AttachOptions::new(&args.iface);
    opts.max_flows = args.max_flows;
    opts.thresholds = args.classes.thresholds();
    opts.samples_per_sec = args.samples_per_sec;
    opts.kernel_log = args.kernel_log;
    opts.decap = args.decap;
    opts.keep_attached = args.keep_attached;
    // Caught from before attaching, so a signal as soon as "attached" is printed still
    // ends the run through its detaching path (received, it waits for the loop).
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let attached = Attached::attach(&opts)?;
    let addrs = interface_addrs(&args.iface);
    note(&format!(
        "peerscope: attached to {} (XDP {:?} mode, TCX egress); flow table of {} entries; monitored host {}; Ctrl-C to stop",
        args.iface,
        attached.xdp_mode,
        attached.maps.capacity(),
        if addrs.is_empty() { "unknown (no address on the interface)".to_string() } else { addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ") }
    ));
    let metrics = Arc::new(Mutex::new(Metrics::new()));
    let _server = match &args.metrics {
        Some(a) => {
            let addr = server::parse_addr(a).map_err(anyhow::Error::msg)?;
            let (bound, task) = server::serve(addr, metrics.clone())
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen for --metrics on {addr}: {e}"))?;
            note(&format!("peerscope: metrics at http://{bound}/metrics"));
            Some(task)
        }
        None => None,
    };
    let mut live = Live {
        attached,
        measure: Measurement::new(Engine::new(config, MonitoredHost::new(addrs)), clock::unix_now_ns()),
        metrics,
        jsonl: args.jsonl.as_deref().map(|p| JsonLines::open(p, &args.iface)).transpose()?,
        pins: PinDir::for_iface(&args.iface),
        iface: args.iface.clone(),
    };

    let period = Duration::from_secs_f64(args.interval);
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let mut n = 0u64;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
        }
        n += 1;
        if let Err(e) = poll_once(&args, &mut live, n) {
            // A reader that went away (`peerscope run | head`) ends the run cleanly.
            if e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) {
                break;
            }
            return Err(e);
        }
        if args.count.is_some_and(|c| n >= c) {
            break;
        }
    }
    let _ = std::fs::remove_file(&live.pins.report_file);
    let kept = live.attached.keep_attached;
    drop(live);
    if kept {
        note(&format!(
            "peerscope: left attached to {} (pinned); `peerscope detach -i {}` removes it",
            args.iface, args.iface
        ));
    } else {
        note(&format!("peerscope: detached from {}", args.iface));
    }
    Ok(ExitCode::SUCCESS)
}

fn poll_once(args: &RunArgs, live: &mut Live, n: u64) -> anyhow::Result<()> {
    live.attached.flush_log();
    let now = clock::unix_now_ns();
    // Idle flows are retired after this poll read them; their slots are freed at the
    // next poll, with whatever was still being counted into them.
    let polled = live.measure.poll(&mut live.attached, now, Some((args.idle_timeout * 1e9) as u64))?;
    let (samples, decoded, reaped) = (polled.samples, polled.decoded, polled.poll.reaped);
    let mut deltas: Vec<FlowDelta> = polled.poll.deltas;
    let counters = live.attached.maps.counters()?;
    let flows_in_table = polled.poll.flows_in_table;
    if let Ok(mut m) = live.metrics.lock() {
        let host = live.measure.engine().host();
        m.observe(host, &deltas, &counters, flows_in_table, live.attached.maps.capacity(), args.interval);
    }
    let summary = if live.measure.window_due(now) { Some(close_window(live, now)?) } else { None };

    deltas.sort_by(|a, b| b.delta.total_bytes().cmp(&a.delta.total_bytes()).then(a.key.cmp(&b.key)));
    let mut interval_total = FlowStats::default();
    for d in &deltas {
        interval_total.merge(&d.delta);
    }
    let host = Some(live.measure.engine().host());
    let flows: Vec<Flow> = deltas
        .iter()
        .take(args.top)
        .map(|d| Flow::new(&d.key, &d.total, host).with_interval(&d.delta, args.interval))
        .collect();
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let out = IntervalDocument {
            schema_version: SchemaVersion,
            document: IntervalTag,
            iface: args.iface.clone(),
            index: n,
            time_unix_ns: now,
            interval_s: args.interval,
            active_flows: deltas.len(),
            flows_in_table,
            flows_reaped: reaped,
            traffic: (&interval_total).into(),
            flows,
            counters: KernelCounters::new(&counters),
            control_samples: samples,
            control_messages: decoded,
            window: summary,
        };
        writeln!(stdout, "{}", serde_json::to_string(&out)?)?;
    } else {
        writeln!(
            stdout,
            "-- interval {n}: {} active flows, {} in table, {} packets ({} overflow, {} truncated, {} non-IP)",
            deltas.len(),
            flows_in_table,
            interval_total.total_packets(),
            counters[Counter::OverflowPackets as usize],
            counters[Counter::Truncated as usize],
            counters[Counter::NonIp as usize]
        )?;
        write!(stdout, "{}", render_table(&flows))?;
        if let Some(s) = &summary {
            peerscope::report::text::window_line(&mut stdout, s)?;
        }
    }
    stdout.flush()?;
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
    // `peerscope report` reads the state and history from here.
    let source = ReportSource::Live { iface: live.iface.clone(), agent_pid: std::process::id(), written_unix_ns: now };
    let doc = live.measure.snapshot().into_document(source);
    write_private(&live.pins.report_file, &serde_json::to_vec(&doc)?)?;
    Ok(summary)
}

/// Writes a file only the owner can read (0600), replacing it atomically.
fn write_private(path: &std::path::Path, data: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    f.write_all(data)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// A status line on stderr; a closed stderr is no reason to fail.
fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}
