//! Command-line interface of `peerscope`.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "peerscope", version, about = "Measure peer-to-peer live-TV traffic (PPLive, SOPCast and kin) at almost no cost",
    long_about = "peerscope counts every packet of an interface into per-flow ack/control/data counters in the kernel (XDP ingress, TCX egress) and computes the measurement methods of two P2P-TV studies: rates per window, parents and children, video sessions, stability, distance and cost. The same analysis runs on pcap/pcapng files.")]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse a pcap/pcapng file with the studies' metrics.
    Analyze(AnalyzeArgs),
}

/// `peerscope analyze`: the same engine as the live path, on a capture file.
#[derive(Debug, clap::Args)]
#[command(long_about = "Reads a pcap or pcapng file (Ethernet, VLAN, Linux cooked v1/v2, raw IP), counts every packet into per-flow ack/control/data counters with the kernel's classifier, buckets them into windows of Δ seconds and computes rates, parents and children, stability S_n/X_n, video sessions, video peers, packet sizes, distance and cost, the continent table, redundancy and start-up delay. Prints a text report; --json, --csv and --plots write the rest. A damaged file is analysed up to the damage, reported, and the exit status is 2.")]
pub struct AnalyzeArgs {
    /// Capture file (pcap or pcapng).
    pub file: std::path::PathBuf,
    /// Address of the monitored host X (repeat for several). Default: the address
    /// present in the most flows, printed.
    #[arg(long = "host", value_name = "IP")]
    pub host: Vec<std::net::IpAddr>,
    /// Window length Δ in seconds for rates, parents/children and stability ([M]: 20).
    #[arg(long, value_name = "SECS", default_value_t = 20.0)]
    pub window: f64,
    /// Video-peer and video-rate sampling period in seconds ([H]: 30); rounded up
    /// to a whole number of windows.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub sample: f64,
    /// Parent/child threshold Rp = Rc in bytes per second ([M]: 4 KB/s = 4000).
    #[arg(long, value_name = "BYTES_PER_S", default_value_t = 4000.0)]
    pub rate_threshold: f64,
    /// Geolocation: a CSV table `prefix,latitude,longitude[,label]` (IPv4/IPv6,
    /// longest prefix wins) or a MaxMind `.mmdb` file. Enables distance, cost and
    /// continent-label overrides.
    #[arg(long, value_name = "FILE")]
    pub geo: Option<std::path::PathBuf>,
    /// Location of X as LAT,LON in degrees, when its address cannot be located.
    #[arg(long, value_name = "LAT,LON", allow_hyphen_values = true)]
    pub host_location: Option<String>,
    /// Playback rate c in kbit/s: enables the redundancy ratio and the start-up delay.
    #[arg(long, value_name = "KBPS")]
    pub playback_rate: Option<f64>,
    /// Also classify UDP "sessions" (5-tuples) as video/signaling; [H] uses TCP only.
    #[arg(long)]
    pub udp_sessions: bool,
    /// Write the full report as JSON to this file ("-" for stdout).
    #[arg(long, value_name = "OUT")]
    pub json: Option<std::path::PathBuf>,
    /// Write CSV time series and tables into this directory.
    #[arg(long, value_name = "DIR")]
    pub csv: Option<std::path::PathBuf>,
    /// Write SVG plots into this directory.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<std::path::PathBuf>,
    /// No progress bar (it is shown only for large files on a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
}
