//! `peerscope analyze FILE`: offline analysis of a capture.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::AnalyzeArgs;
use peerscope::engine::MonitoredHost;
use peerscope::engine::WindowFlows;
use peerscope::export::ipfix::{window_records, EncoderConfig, EndReason, ExportStats, Exporter, FlowRecord};
use peerscope::offline::{analyze_file, analyze_file_observed, OfflineOptions};
use peerscope::{exit, report};

pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    // Flags out of range are bad usage, not bad input.
    let config = args.engine.config().map_err(|e| super::UsageError(format!("{e:#}")))?;
    args.ipfix.check().map_err(|e| super::UsageError(format!("--{}: {}", e.key, e.msg)))?;
    let mut ipfix =
        match args.ipfix.transport_config().map_err(|e| super::UsageError(format!("--{}: {}", e.key, e.msg)))? {
            Some(mut t) => {
                // A capture yields windows far faster than a collector reads datagrams.
                t.max_messages_per_s = OFFLINE_UDP_MESSAGES_PER_S;
                let enc = EncoderConfig::new(args.ipfix.ipfix_enterprise, config.thresholds);
                let e = Exporter::open(enc, &t).with_context(|| format!("IPFIX export to {}", t.collector))?;
                Some(WindowExport { exporter: e, held: None, collector: t.collector })
            }
            None => None,
        };
    let host = (!args.host.is_empty()).then(|| MonitoredHost::new(args.host.iter().copied()));
    let input = crate::input::resolve(&args.input)?;
    let opts =
        OfflineOptions { config, host, progress: !args.no_progress, max_frames: args.input.count, decap: args.decap };
    let out = match ipfix.as_mut() {
        Some(x) => analyze_file_observed(input.path(), opts, &mut |w, host| x.window(w, host))?,
        None => analyze_file(input.path(), opts)?,
    };
    if let Some(x) = ipfix {
        let c = x.collector;
        let s = x.finish();
        eprintln!(
            "peerscope: IPFIX: {} records in {} messages to {c}{}",
            s.records_sent,
            s.messages_sent,
            if s.messages_dropped > 0 { format!("; {} records not sent", s.records_dropped) } else { String::new() }
        );
    }
    if out.read.unsupported_link_frames > 0 {
        eprintln!("peerscope: warning: {} skipped: not a link type peerscope reads", out.read.unsupported_summary());
    }

    if let Some(g) = &out.host_guess {
        eprintln!(
            "peerscope: monitored host inferred: {} (in {} of {} flows; give --host to choose)",
            g.ip, g.flows, g.total_flows
        );
    }
    if out.host_guess.is_none() && out.report.family.contacted_hosts == 0 {
        eprintln!("peerscope: warning: the given host exchanged no packet with any peer in this capture");
    }
    let (damage, read) = (out.damage.clone(), out.read.clone());
    let doc = out.into_document(args.input.path());
    let stdout = std::io::stdout();
    let json_to_stdout = args.json.as_deref().is_some_and(|p| p.as_os_str() == "-");
    if !json_to_stdout {
        let mut o = stdout.lock();
        report::text::write_document(&mut o, &doc)?;
        o.flush()?;
    }
    if let Some(p) = &args.json {
        if json_to_stdout {
            serde_json::to_writer_pretty(stdout.lock(), &doc)?;
            println!();
        } else {
            if let Some(parent) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            }
            let f = std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?;
            serde_json::to_writer_pretty(std::io::BufWriter::new(f), &doc)?;
        }
    }
    if let Some(d) = &args.csv {
        report::csv::write_dir(d, &doc.report).with_context(|| format!("writing CSV into {}", d.display()))?;
    }
    if let Some(d) = &args.plots {
        report::svg::write_dir(d, &doc.report).with_context(|| format!("writing plots into {}", d.display()))?;
    }
    if let Some(d) = &damage {
        eprintln!(
            "peerscope: {}: damaged capture, {d}; the {} packets before it were analysed ({} of {} bytes)",
            input.shown(),
            read.frames,
            read.bytes_read,
            read.file_size_bytes
        );
        return Ok(ExitCode::from(exit::DAMAGED));
    }
    Ok(ExitCode::SUCCESS)
}

/// Datagrams per second `analyze --ipfix` sends at most over UDP.
const OFFLINE_UDP_MESSAGES_PER_S: u32 = 5000;

/// `analyze --ipfix`: each window's records, held until the next window shows
/// whether they were the capture's last (those end as "forced end").
struct WindowExport {
    exporter: Exporter,
    held: Option<Vec<FlowRecord>>,
    collector: std::net::SocketAddr,
}

impl WindowExport {
    fn window(&mut self, w: &WindowFlows, host: &MonitoredHost) {
        let recs = window_records(w, Some(host), EndReason::ActiveTimeout);
        if let Some(prev) = self.held.replace(recs) {
            self.exporter.export(&prev);
        }
    }

    fn finish(mut self) -> ExportStats {
        if let Some(mut last) = self.held.take() {
            last.iter_mut().for_each(|r| r.end = EndReason::ForcedEnd);
            self.exporter.export(&last);
        }
        self.exporter.close(std::time::Duration::from_secs(10))
    }
}
