//! `peerscope run`: attach, poll every interval, print, detach on Ctrl-C/SIGTERM.

use std::{
    io::Write,
    process::ExitCode,
    time::Duration,
};

use peerscope_abi::{Counter, FlowStats};
use tokio::signal::unix::{signal, SignalKind};

use std::sync::{Arc, Mutex};

use crate::{
    cli::RunArgs,
    export::{server, Metrics},
    live::host::HostAddrs,
    live::{clock, AttachOptions, Attached, FlowDelta, FlowTable},
    view::{render_table, FlowRow},
};

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.interval > 0.0, "--interval must be positive");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(run_async(args))
}

async fn run_async(args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut opts = AttachOptions::new(&args.iface);
    opts.max_flows = args.max_flows;
    opts.thresholds = args.classes.thresholds();
    opts.samples_per_sec = args.samples_per_sec;
    opts.kernel_log = args.kernel_log;
    opts.keep_attached = args.keep_attached;
    let mut attached = Attached::attach(&opts)?;
    note(&format!(
        "peerscope: attached to {} (XDP {:?} mode, TCX egress); flow table of {} entries; Ctrl-C to stop",
        args.iface,
        attached.xdp_mode,
        attached.maps.capacity()
    ));
    let mut table = FlowTable::new(clock::KernelClock::new());
    let host = HostAddrs::of_interface(&args.iface);
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
        if let Err(e) = poll_once(&args, &mut attached, &mut table, &host, &metrics, n) {
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
    let kept = attached.keep_attached;
    drop(attached);
    if kept {
        note(&format!("peerscope: left attached to {} (pinned); `peerscope detach -i {}` removes it", args.iface, args.iface));
    } else {
        note(&format!("peerscope: detached from {}", args.iface));
    }
    Ok(ExitCode::SUCCESS)
}

fn poll_once(
    args: &RunArgs,
    attached: &mut Attached,
    table: &mut FlowTable,
    host: &HostAddrs,
    metrics: &Mutex<Metrics>,
    n: u64,
) -> anyhow::Result<()> {
    attached.flush_log();
    let snap = attached.maps.snapshot()?;
    let mut deltas: Vec<FlowDelta> = table.update(&snap);
    let now = clock::unix_now_ns();
    let idle = table.idle(now, (args.idle_timeout * 1e9) as u64);
    if !idle.is_empty() {
        attached.maps.remove(&idle)?;
        table.forget(&idle);
    }
    if let Ok(mut m) = metrics.lock() {
        m.observe(host, &deltas, &snap, attached.maps.capacity(), args.interval);
    }
    deltas.sort_by(|a, b| b.delta.total_bytes().cmp(&a.delta.total_bytes()).then(a.key.cmp(&b.key)));
    let mut interval_total = FlowStats::default();
    for d in &deltas {
        interval_total.merge(&d.delta);
    }
    let mut stdout = std::io::stdout().lock();
    let rows: Vec<FlowRow> = deltas
        .iter()
        .take(args.top)
        .map(|d| FlowRow::new(&d.key, Some(&d.delta), &d.total, args.interval))
        .collect();
    if args.json {
        let counters: serde_json::Map<String, serde_json::Value> =
            Counter::ALL.iter().map(|c| (c.name().to_string(), snap.counter(*c).into())).collect();
        let out = serde_json::json!({
            "interval": n,
            "time_unix_ns": now,
            "interval_secs": args.interval,
            "iface": args.iface,
            "active_flows": deltas.len(),
            "flows_in_table": snap.flows.len(),
            "flows_reaped": idle.len(),
            "packets": crate::view::PerClass::from(interval_total.packets),
            "bytes": crate::view::PerClass::from(interval_total.bytes),
            "flows": rows,
            "counters": counters,
        });
        writeln!(stdout, "{}", serde_json::to_string(&out)?)?;
    } else {
        writeln!(
            stdout,
            "-- interval {n}: {} active flows, {} in table, {} packets ({} overflow, {} truncated, {} non-IP)",
            deltas.len(),
            snap.flows.len(),
            interval_total.total_packets(),
            snap.counter(Counter::OverflowPackets),
            snap.counter(Counter::Truncated),
            snap.counter(Counter::NonIp)
        )?;
        write!(stdout, "{}", render_table(&rows))?;
    }
    stdout.flush()?;
    Ok(())
}

/// A status line on stderr; a closed stderr is no reason to fail.
fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}
