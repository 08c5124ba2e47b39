//! `peerscope analyze FILE`: offline analysis of a capture.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::AnalyzeArgs;
use peerscope::engine::MonitoredHost;
use peerscope::offline::{analyze_file, OfflineOptions};
use peerscope::report;

/// Exit status of an analysis of a damaged file (the report is still written).
pub const EXIT_DAMAGED: u8 = 2;

pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let config = args.engine.config()?;
    let host = (!args.host.is_empty()).then(|| MonitoredHost::new(args.host.iter().copied()));
    let out = analyze_file(&args.file, OfflineOptions { config, host, progress: !args.no_progress })?;

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
    let doc = out.into_document(&args.file);
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
            args.file.display(),
            read.frames,
            read.bytes_read,
            read.file_size_bytes
        );
        return Ok(ExitCode::from(EXIT_DAMAGED));
    }
    Ok(ExitCode::SUCCESS)
}
