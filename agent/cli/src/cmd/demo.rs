//! `peerscope demo`: a PPLive-like swarm on this machine, measured live.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use peerscope_demo::{run, DemoOpts};

use crate::cli::DemoArgs;

pub fn demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.duration >= 5.0, "--duration must be at least 5 seconds");
    anyhow::ensure!((2..=100).contains(&args.peers), "--peers must be between 2 and 100");
    anyhow::ensure!(args.bitrate >= 32, "--bitrate must be at least 32 kbit/s");
    anyhow::ensure!(args.window >= 1.0, "--window must be at least 1 second");
    let most = peerscope_demo::plan::crowd_addrs().len();
    anyhow::ensure!(args.gossip_hosts <= most, "--gossip-hosts must be at most {most}");
    let out = args.out.unwrap_or_else(|| {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        PathBuf::from(format!("peerscope-demo-{secs}"))
    });
    let report = run(DemoOpts {
        duration: Duration::from_secs_f64(args.duration),
        peers: args.peers,
        bitrate_bps: args.bitrate * 1000,
        window: Duration::from_secs_f64(args.window),
        monitored: args.monitored,
        gossip_hosts: args.gossip_hosts,
        out,
        seed: args.seed,
        top: args.top,
    })?;
    Ok(if report.all_match { ExitCode::SUCCESS } else { ExitCode::from(peerscope::exit::MISMATCH) })
}
