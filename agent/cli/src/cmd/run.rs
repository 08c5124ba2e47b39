//! `peerscope run`: attach, poll every interval, compute the studies' metrics per
//! window with the same engine as `analyze`, print, detach on Ctrl-C/SIGTERM.

use std::{
    io::Write,
    process::ExitCode,
    sync::{Arc, Mutex},
    time::Duration,
};

use peerscope_abi::{Counter, FlowStats};
use tokio::signal::unix::{signal, SignalKind};

use crate::cli::RunArgs;
use peerscope::{
    control::{ledger::ever_family, ControlLedger},
    engine::{Engine, MonitoredHost, WindowSummary},
    export::{server, Metrics},
    live::{
        clock, host::interface_addrs, pins::PinDir, window::WindowAccumulator, AttachOptions, Attached, FlowDelta,
        FlowTable,
    },
    view::{render_table, FlowRow, PerClass},
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
    table: FlowTable,
    window: WindowAccumulator,
    engine: Engine,
    metrics: Arc<Mutex<Metrics>>,
    jsonl: Option<JsonLines>,
    pins: PinDir,
    iface: String,
    ledger: ControlLedger,
}

async fn run_async(args: RunArgs) -> anyhow::Result<ExitCode> {
    let config = args.engine.config()?;
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
    let window_ns = config.window_ns;
    let mut live = Live {
        attached,
        table: FlowTable::new(clock::KernelClock::new()),
        window: WindowAccumulator::new(clock::unix_now_ns(), window_ns),
        engine: Engine::new(config, MonitoredHost::new(addrs)),
        metrics,
        jsonl: args.jsonl.as_deref().map(JsonLines::open).transpose()?,
        pins: PinDir::for_iface(&args.iface),
        iface: args.iface.clone(),
        ledger: ControlLedger::default(),
    };

    let period = Duration::from_secs_f64(args.interval);
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
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
    let _ = std::fs::remove_file(&live.pins.report_text_file);
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
    let poll = live.table.poll(&live.attached.maps, now, Some((args.idle_timeout * 1e9) as u64))?;
    let mut deltas: Vec<FlowDelta> = poll.deltas;
    let counters = live.attached.maps.counters()?;
    let flows_in_table = poll.flows_in_table;
    live.window.add(&deltas);
    // The kernel's control-packet samples feed the control ledger.
    let samples = live.attached.drain_samples(usize::MAX);
    let mut decoded = 0usize;
    for s in &samples {
        if let Some(m) = peerscope::control::decode_sample(&s.key, s.payload(), s.payload_len as usize) {
            live.ledger.observe(&s.key, &m);
            decoded += 1;
        }
    }
    if let Ok(mut m) = live.metrics.lock() {
        m.observe(live.engine.host(), &deltas, &counters, flows_in_table, live.attached.maps.capacity(), args.interval);
    }
    let summary = if live.window.due(now) { Some(close_window(live, now)?) } else { None };

    deltas.sort_by(|a, b| b.delta.total_bytes().cmp(&a.delta.total_bytes()).then(a.key.cmp(&b.key)));
    let mut interval_total = FlowStats::default();
    for d in &deltas {
        interval_total.merge(&d.delta);
    }
    let rows: Vec<FlowRow> =
        deltas.iter().take(args.top).map(|d| FlowRow::new(&d.key, Some(&d.delta), &d.total, args.interval)).collect();
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let counters: serde_json::Map<String, serde_json::Value> =
            Counter::ALL.iter().map(|c| (c.name().to_string(), counters[*c as usize].into())).collect();
        let out = serde_json::json!({
            "interval": n,
            "time_unix_ns": now,
            "interval_secs": args.interval,
            "iface": args.iface,
            "active_flows": deltas.len(),
            "flows_in_table": flows_in_table,
            "flows_reaped": poll.reaped,
            "packets": PerClass::from(interval_total.packets),
            "bytes": PerClass::from(interval_total.bytes),
            "flows": rows,
            "counters": counters,
            "control_samples": samples.len(),
            "control_messages": decoded,
            "window": summary,
        });
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
        write!(stdout, "{}", render_table(&rows))?;
        if let Some(s) = &summary {
            peerscope::report::text::window_line(&mut stdout, s)?;
        }
    }
    stdout.flush()?;
    Ok(())
}

/// Feeds the finished window to the engine and publishes what it found.
fn close_window(live: &mut Live, now: u64) -> anyhow::Result<WindowSummary> {
    let summary = live.engine.observe_window(live.window.close(now));
    if let Ok(mut m) = live.metrics.lock() {
        m.observe_window(&summary);
    }
    if let Some(j) = &mut live.jsonl {
        j.window(&summary)?;
    }
    // `peerscope report` reads the state and history from here.
    let report = live.engine.snapshot();
    let (parents, children) = ever_family(&report);
    let control = live.ledger.summary(&parents, &children);
    write_private(
        &live.pins.report_file,
        &serde_json::to_vec(&serde_json::json!({ "report": report, "control": control }))?,
    )?;
    let mut text =
        format!("peerscope live report for {} (agent pid {})\n", live.iface, std::process::id()).into_bytes();
    peerscope::report::text::write_body(&mut text, &report)?;
    peerscope::report::text::write_control(&mut text, &control)?;
    writeln!(text, "\nWindows so far:")?;
    for w in &report.windows {
        peerscope::report::text::window_line(&mut text, w)?;
    }
    write_private(&live.pins.report_text_file, &text)?;
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
