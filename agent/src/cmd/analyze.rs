//! `peerscope analyze FILE`: offline analysis of a capture.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};

use crate::cli::{AnalyzeArgs, EngineArgs};
use crate::engine::geo::Geolocator;
use crate::engine::{EngineConfig, MonitoredHost, NS_PER_S};
use crate::offline::{analyze_file, OfflineJson, OfflineOptions};
use crate::report;

/// Exit status of an analysis of a damaged file (the report is still written).
pub const EXIT_DAMAGED: u8 = 2;

fn secs_to_ns(s: f64, what: &str) -> anyhow::Result<u64> {
    if !(s.is_finite() && s > 0.0) {
        bail!("--{what} must be a positive number of seconds");
    }
    Ok((s * NS_PER_S as f64).round() as u64)
}

fn parse_location(s: &str) -> anyhow::Result<(f64, f64)> {
    let (a, b) = s.split_once(',').context("--host-location wants LAT,LON")?;
    let lat: f64 = a.trim().parse().context("latitude")?;
    let lon: f64 = b.trim().parse().context("longitude")?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        bail!("--host-location out of range");
    }
    Ok((lat, lon))
}

pub fn config_from(args: &EngineArgs) -> anyhow::Result<EngineConfig> {
    let mut cfg = EngineConfig {
        window_ns: secs_to_ns(args.window, "window")?,
        sample_ns: secs_to_ns(args.sample, "sample")?,
        udp_sessions: args.udp_sessions,
        ..EngineConfig::default()
    };
    if !(args.rate_threshold.is_finite() && args.rate_threshold >= 0.0) {
        bail!("--rate-threshold must be a non-negative number");
    }
    cfg.parent_rate_bps = args.rate_threshold;
    cfg.child_rate_bps = args.rate_threshold;
    if let Some(c) = args.playback_rate {
        if !(c.is_finite() && c > 0.0) {
            bail!("--playback-rate must be a positive number of kbit/s");
        }
        cfg.playback_rate_kbps = Some(c);
    }
    if let Some(g) = &args.geo {
        cfg.geo = Some(Arc::new(Geolocator::open(g)?));
    }
    if let Some(l) = &args.host_location {
        cfg.host_location = Some(parse_location(l)?);
    }
    Ok(cfg)
}

pub fn run(args: AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let config = config_from(&args.engine)?;
    let host = (!args.host.is_empty()).then(|| MonitoredHost::new(args.host.iter().copied()));
    let out = analyze_file(&args.file, OfflineOptions { config, host, progress: !args.no_progress })?;

    if let Some(g) = &out.host_guess {
        eprintln!(
            "peerscope: monitored host inferred: {} (in {} of {} flows; give --host to choose)",
            g.addr, g.flows, g.total_flows
        );
    }
    if out.host_guess.is_none() && out.report.family.contacted_hosts == 0 {
        eprintln!("peerscope: warning: the given host exchanged no packet with any peer in this capture");
    }
    let stdout = std::io::stdout();
    let json_to_stdout = args.json.as_deref().is_some_and(|p| p.as_os_str() == "-");
    if !json_to_stdout {
        let mut o = stdout.lock();
        report::text::write(&mut o, &out.report, &out.read, out.host_guess.as_ref())?;
        report::text::write_control(&mut o, &out.control)?;
        o.flush()?;
    }
    if let Some(p) = &args.json {
        let doc = OfflineJson { report: &out.report, input: out.input(&args.file), control: &out.control };
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
        report::csv::write_dir(d, &out.report).with_context(|| format!("writing CSV into {}", d.display()))?;
    }
    if let Some(d) = &args.plots {
        report::svg::write_dir(d, &out.report).with_context(|| format!("writing plots into {}", d.display()))?;
    }
    if let Some(d) = &out.damage {
        eprintln!(
            "peerscope: {}: damaged capture, {d}; the {} packets before it were analysed ({} of {} bytes)",
            args.file.display(),
            out.read.frames,
            out.read.bytes_read,
            out.read.file_size
        );
        return Ok(ExitCode::from(EXIT_DAMAGED));
    }
    Ok(ExitCode::SUCCESS)
}
