//! `peerscope run`: check everything, attach, poll every interval, compute the studies'
//! metrics per window with the same engine as `analyze`, print, detach on
//! Ctrl-C/SIGTERM.
//!
//! Every flag, file and port is checked before anything is loaded or attached, so a
//! bad configuration leaves nothing behind.

mod agent;
mod ipfix;
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
    engine::{Engine, EngineConfig, MonitoredHost},
    exit,
    export::{server, Metrics},
    live::{
        baseline::WindowNotes,
        clock,
        host::interface_addrs,
        link::{LinkEvent, LinkWatch},
        memory, netns, AttachOptions, Attached,
    },
};

use agent::{Live, Resumed};

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
    ipfix: Option<peerscope::export::ipfix::TransportConfig>,
    jsonl: Option<JsonLines>,
    metrics_listener: Option<std::net::TcpListener>,
}

fn open_outputs(args: &RunArgs, origins: &Origins) -> anyhow::Result<Prepared> {
    let mut config = args.engine.config().map_err(|e| UsageError(origins.explain(&e)))?;
    config.retention = args.retention(config.window_ns).map_err(|e| UsageError(origins.explain(&e)))?;
    let jsonl =
        match &args.jsonl {
            Some(p) => Some(JsonLines::open(p, &args.iface).map_err(|e| {
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
    let ipfix = args.ipfix.transport_config().map_err(|e| UsageError(origins.explain(&e)))?;
    Ok(Prepared { config, ipfix, jsonl, metrics_listener })
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

fn attach_options(args: &RunArgs) -> AttachOptions {
    let mut opts = AttachOptions::new(&args.iface);
    opts.max_flows = args.max_flows;
    opts.thresholds = args.classes.thresholds();
    opts.samples_per_sec = args.samples_per_sec;
    opts.kernel_log = args.kernel_log;
    opts.decap = args.decap;
    opts.keep_attached = args.keep_attached;
    opts.hook = args.hook.into();
    opts
}

async fn run_async(args: RunArgs, prepared: Prepared) -> anyhow::Result<ExitCode> {
    let opts = attach_options(&args);
    // Caught from before attaching, so a signal as soon as "attached" is printed still
    // ends the run through its detaching path (received, it waits for the loop).
    let signals = Signals { term: signal(SignalKind::terminate())?, int: signal(SignalKind::interrupt())? };
    let attached = Attached::attach(&opts)?;
    let addrs = interface_addrs(&args.iface);
    note(&format!(
        "peerscope: attached to {} (ingress: {}, {}; egress: TCX){}; flow table of {} entries; monitored host {}; Ctrl-C to stop",
        attached.target.describe(),
        attached.ingress.map_or("as an earlier agent attached it", |h| h.describe()),
        attached.hook_why,
        if attached.reused { ", taken over" } else { "" },
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
    let ipfix = match &prepared.ipfix {
        Some(t) => {
            let mut enc =
                peerscope::export::ipfix::EncoderConfig::new(args.ipfix.ipfix_enterprise, prepared.config.thresholds);
            enc.ifindex = Some(attached.target.ifindex);
            let x = ipfix::LiveExport::open(enc, t, clock::unix_now_ns())?;
            note(&format!("peerscope: IPFIX records to {} over {}", t.collector, args.ipfix.ipfix_transport));
            Some(x)
        }
        None => None,
    };
    let engine = Engine::new(prepared.config, MonitoredHost::new(addrs));
    let (live, resumed) = Live::start(attached, engine, metrics, prepared.jsonl, clock::unix_now_ns());
    match &resumed {
        Resumed::Fresh => {}
        Resumed::Baseline { redo } => note(&format!(
            "peerscope: continuing from the previous agent's baseline: only counts it did not report are reported{}",
            if *redo { " (its last window had not reached --jsonl: written now)" } else { "" }
        )),
        Resumed::NoBaseline => note(
            "peerscope: warning: the program left attached has no baseline of what was reported; its counts so far are reported as new",
        ),
        Resumed::Unusable(why) => note(&format!("peerscope: warning: {why}; the counts so far are reported as new")),
    }
    let mut lp = Loop {
        live,
        opts,
        stdout_output: !(args.quiet || args.jsonl_to_stdout()),
        link: LinkState::Up,
        n: 0,
        last_poll: Instant::now(),
        ipfix,
    };
    let outcome = lp.run(&args, signals).await?;
    finish(lp, &args, outcome)
}

/// How the loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Stopped (signal, --count): the last window was written.
    Done,
    /// The reader of stdout went away.
    PipeClosed,
    /// The interface went away and --exit-on-link-loss was given.
    LinkLost,
}

/// Whether the interface is there.
#[derive(Clone, Debug, PartialEq, Eq)]
enum LinkState {
    Up,
    Gone,
}

/// The signals that end the run.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

struct Loop {
    live: Live,
    opts: AttachOptions,
    /// The interval table or JSON on stdout (off with --quiet and with `--jsonl -`).
    stdout_output: bool,
    link: LinkState,
    n: u64,
    last_poll: Instant,
    ipfix: Option<ipfix::LiveExport>,
}

impl Loop {
    async fn run(&mut self, args: &RunArgs, signals: Signals) -> anyhow::Result<Outcome> {
        let period = Duration::from_secs_f64(args.interval);
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        // A late poll is followed by the next one on the interval's grid, not by a
        // burst; the intervals it skipped are counted and reported in the window.
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let Signals { term: mut sigterm, int: mut sigint } = signals;
        let mut links = match LinkWatch::open() {
            Ok(w) => Some(w),
            Err(e) => {
                note(&format!("peerscope: warning: no netlink link events ({e}); a deleted interface goes unnoticed"));
                None
            }
        };
        loop {
            tokio::select! {
                biased;
                _ = sigterm.recv() => return self.last_poll_then(args, Outcome::Done),
                _ = sigint.recv() => return self.last_poll_then(args, Outcome::Done),
                events = next_events(&mut links) => {
                    if let Some(o) = self.on_links(args, events?)? {
                        return Ok(o);
                    }
                }
                _ = ticker.tick() => {}
            }
            if let Some(o) = self.tick(args, false)? {
                return Ok(o);
            }
            if args.count.is_some_and(|c| self.n >= c) {
                return self.last_poll_then(args, Outcome::Done);
            }
        }
    }

    /// One poll and its output; `Some` when the loop must end.
    fn tick(&mut self, args: &RunArgs, last: bool) -> anyhow::Result<Option<Outcome>> {
        self.n += 1;
        let missed = (self.last_poll.elapsed().as_secs_f64() / args.interval).floor().max(1.0) as u64 - 1;
        self.last_poll = Instant::now();
        let started = Instant::now();
        if self.link == LinkState::Gone {
            self.live.notes.flags |= WindowNotes::INTERFACE_GONE;
        }
        self.live.attached.flush_log();
        let now = clock::unix_now_ns();
        let polled =
            self.live.poll(now, Some((args.idle_timeout * 1e9) as u64), if last { 0 } else { missed }, last)?;
        if let Some(x) = &mut self.ipfix {
            x.poll(&polled, self.live.measure.engine().host(), now, last);
        }
        // `peerscope report` reads the state and history from here (not at the last
        // poll: the file goes when the agent does).
        if let (Some(p), true, false) = (self.live.attached.pins(), polled.window.is_some(), last) {
            report_file::write(p, &self.live.attached.target, &self.live.measure, &self.live.counters, now)?;
        }
        if polled.window.is_some() {
            // The window's buffers (closed window, report, records) are gone by now.
            memory::give_back();
        }
        if self.stdout_output {
            let interval = output::Interval {
                n: self.n,
                now,
                missed,
                polled: &polled,
                counters: &self.live.counters,
                host: self.live.measure.engine().host(),
                window_ns: self.live.window_ns,
            };
            let mut stdout = std::io::stdout().lock();
            let wrote = if args.json {
                output::json(&mut stdout, args, &interval)
            } else {
                output::table(&mut stdout, args, &interval)
            };
            match wrote.and_then(|_| stdout.flush().map_err(Into::into)) {
                Ok(()) => {}
                // A reader that went away (`peerscope run | head`) ends the run cleanly.
                Err(e) if exit::is_broken_pipe(e.as_ref()) => {
                    self.stdout_output = false;
                    return Ok(Some(Outcome::PipeClosed));
                }
                Err(e) => return Err(e),
            }
        }
        if let Ok(mut m) = self.live.metrics.lock() {
            m.observe_poll(started.elapsed().as_secs_f64(), missed);
        }
        Ok(None)
    }

    /// The last poll, which closes the open window and writes it, then `outcome`.
    fn last_poll_then(&mut self, args: &RunArgs, outcome: Outcome) -> anyhow::Result<Outcome> {
        match self.tick(args, true) {
            Ok(_) => Ok(outcome),
            Err(e) if exit::is_broken_pipe(e.as_ref()) => Ok(Outcome::PipeClosed),
            Err(e) => Err(e),
        }
    }

    /// The interface deleted (the kernel detached the program) or back.
    fn on_links(&mut self, args: &RunArgs, events: Vec<LinkEvent>) -> anyhow::Result<Option<Outcome>> {
        let ours = self.live.attached.target.ifindex;
        for e in events {
            match e {
                LinkEvent::Deleted { ifindex, .. } if ifindex == ours && self.link == LinkState::Up => {
                    self.link = LinkState::Gone;
                    if let Ok(mut m) = self.live.metrics.lock() {
                        m.set_attached(false);
                    }
                    note(&format!(
                        "peerscope: {} is gone (the kernel detached the program); {}",
                        self.live.attached.target.describe(),
                        if args.exit_on_link_loss {
                            "stopping (--exit-on-link-loss)".to_string()
                        } else {
                            format!("waiting for an interface named {} in this namespace", args.iface)
                        }
                    ));
                    if args.exit_on_link_loss {
                        return self.last_poll_then(args, Outcome::LinkLost).map(Some);
                    }
                }
                LinkEvent::New { name: Some(name), .. } if self.link == LinkState::Gone && name == args.iface => {
                    self.reattach()?;
                }
                _ => {}
            }
        }
        Ok(None)
    }

    /// An interface of our name is back: the old program's pins go (its links are
    /// dead), a new program is attached, the measurement goes on.
    fn reattach(&mut self) -> anyhow::Result<()> {
        // Counts up to the deletion are in the old table: read them first.
        let now = clock::unix_now_ns();
        let polled = self.live.poll(now, None, 0, false)?;
        if let Some(x) = &mut self.ipfix {
            x.poll(&polled, self.live.measure.engine().host(), now, false);
        }
        let attached = Attached::attach(&self.opts)?;
        note(&format!("peerscope: {} is back: attached again", attached.target.describe()));
        let mut old = self.live.replace_attachment(attached);
        old.keep_attached = false;
        drop(old);
        self.link = LinkState::Up;
        if let Ok(mut m) = self.live.metrics.lock() {
            m.set_attached(true);
        }
        Ok(())
    }
}

/// The next link events, or never when there is no netlink socket.
async fn next_events(links: &mut Option<LinkWatch>) -> std::io::Result<Vec<LinkEvent>> {
    match links {
        Some(w) => w.next().await,
        None => std::future::pending().await,
    }
}

fn finish(lp: Loop, args: &RunArgs, outcome: Outcome) -> anyhow::Result<ExitCode> {
    if let Some(x) = lp.ipfix {
        let c = x.collector;
        let s = x.close();
        note(&format!(
            "peerscope: IPFIX: {} records in {} messages to {c}; {} records lost",
            s.records_sent, s.messages_sent, s.records_dropped
        ));
    }
    let live = lp.live;
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
    match outcome {
        Outcome::Done => Ok(ExitCode::SUCCESS),
        Outcome::PipeClosed => exit::broken_pipe(),
        Outcome::LinkLost => Ok(ExitCode::from(exit::FAILURE)),
    }
}

/// A status line on stderr; a closed stderr is no reason to fail.
fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}
