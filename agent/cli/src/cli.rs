//! Command-line interface of `peerscope`.

use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use peerscope::engine::{geo::Geolocator, EngineConfig, NS_PER_S};

#[derive(Debug, Parser)]
#[command(
    name = "peerscope",
    version,
    about = "Measure peer-to-peer live-TV traffic (PPLive, SOPCast and kin) at almost no cost",
    long_about = "peerscope counts every packet of an interface into per-flow ack/control/data counters in the kernel \
(XDP on ingress, TCX on egress; it never drops or alters a packet) and computes the measurement methods of two \
P2P-TV studies: rates per window, parents and children, video sessions, stability, distance and cost. \
The same analysis runs offline on pcap/pcapng files.\n\nLive commands need root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN)."
)]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Attach to an interface and print per-flow counters every interval.
    Run(RunArgs),
    /// Print the flows of an agent running on an interface (reads its pinned maps).
    Flows(FlowsArgs),
    /// Print the current state and the history of the agent running on an interface
    /// (the studies' figures so far, one line per window).
    Report(ReportArgs),
    /// List the interfaces peerscope is attached to, and their agents.
    Status(StatusArgs),
    /// Detach peerscope from an interface: stop its agent, remove program, links and pins.
    Detach(DetachArgs),
    /// Analyse a pcap/pcapng file with the studies' metrics.
    Analyze(AnalyzeArgs),
    /// Decode every PPLive/PPTV control message of a pcap/pcapng file (like tshark -V).
    Dissect(DissectArgs),
    /// Build a PPLive-like swarm on network namespaces, measure one peer live, and
    /// compare with the swarm's own record of what it sent.
    Demo(DemoArgs),
    /// Print the JSON Schema (draft 2020-12) of every JSON document peerscope prints
    /// or writes.
    Schema(SchemaArgs),
}

#[derive(Debug, Args)]
#[command(
    long_about = "Prints the JSON Schema (draft 2020-12) of the JSON documents peerscope prints or writes: by default one schema whose `oneOf` lists every document (each in `$defs`), or with --document the schema of one. Every document starts with `schema_version` and `document` (its name). --list names each document and the commands that write it."
)]
pub struct SchemaArgs {
    /// Only this document's schema.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(peerscope::schema::DOCUMENTS.iter().map(|d| d.name)))]
    pub document: Option<String>,
    /// List the documents and what writes each, instead of printing a schema.
    #[arg(long, conflicts_with = "document")]
    pub list: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Interface a running `peerscope run` is attached to.
    #[arg(short, long, value_name = "IFACE")]
    pub iface: String,
    /// Print the report document as JSON (the document `analyze --json` writes;
    /// `peerscope schema --document report`).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON instead of a table (`peerscope schema --document status`).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DetachArgs {
    /// Interface to detach from.
    #[arg(short, long, value_name = "IFACE")]
    pub iface: String,
}

/// Size-class thresholds ([M] §II-D, [H] §4.1), in bytes of IP total length.
#[derive(Debug, Clone, Args)]
pub struct ClassArgs {
    /// A packet of at least this IP length is "data".
    #[arg(long, default_value_t = 1024, value_name = "BYTES")]
    pub data_min: u32,
    /// A packet above this IP length is "large" (video packets of [H]).
    #[arg(long, default_value_t = 1200, value_name = "BYTES")]
    pub large_above: u32,
}

impl ClassArgs {
    pub fn thresholds(&self) -> peerscope_abi::Thresholds {
        peerscope_abi::Thresholds { data_min_ip_len: self.data_min, large_above_ip_len: self.large_above }
    }
}

#[derive(Debug, Args)]
#[command(
    args_override_self = true,
    after_help = "--config FILE reads a TOML file whose keys are these flags without dashes (see dist/peerscope.toml); flags on the command line override it."
)]
pub struct RunArgs {
    /// Network interface to attach to.
    #[arg(short, long, value_name = "IFACE")]
    pub iface: String,
    /// Seconds between two readings of the kernel counters.
    #[arg(long, default_value_t = 2.0, value_name = "SECS")]
    pub interval: f64,
    /// Flows the kernel table holds; when it is full, new flows are counted in the
    /// overflow counters instead (never lost). Kernel memory: the next power of two
    /// of 2 × N slots, each 48 bytes plus 104 per CPU (32 MiB for 65 536 on 2 CPUs).
    #[arg(long, default_value_t = 65_536, value_name = "N")]
    pub max_flows: u32,
    /// Print one JSON object per interval instead of a table (`peerscope schema
    /// --document interval`).
    #[arg(long)]
    pub json: bool,
    /// Flows shown per interval (the busiest first).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
    /// Stop after this many intervals (default: until Ctrl-C or SIGTERM).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Flows idle this long are removed from the kernel table (their totals are kept).
    #[arg(long, default_value_t = 300.0, value_name = "SECS")]
    pub idle_timeout: f64,
    /// Control-packet samples per second per CPU sent to the decoder (0: none).
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub samples_per_sec: u32,
    /// Forward the kernel program's diagnostics (aya-log) to the log.
    #[arg(long)]
    pub kernel_log: bool,
    /// Serve OpenMetrics/Prometheus metrics at http://ADDR/metrics. A bare port
    /// (`9464` or `:9464`) listens on 127.0.0.1 only; give an address such as
    /// `0.0.0.0:9464` to listen beyond this host.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
    /// Leave the program attached and pinned on exit, so that a restarted agent
    /// continues from the kernel's counters (a service's restarts lose nothing);
    /// `peerscope detach` removes it. After SIGKILL it stays attached in any case.
    #[arg(long)]
    pub keep_attached: bool,
    /// Append one JSON record per window (host metrics) and per peer to this file
    /// ("-" for stdout; documents `window_record` and `peer_record`).
    #[arg(long, value_name = "PATH")]
    pub jsonl: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub classes: ClassArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Args)]
pub struct FlowsArgs {
    /// Interface a running `peerscope run` is attached to.
    #[arg(short, long, value_name = "IFACE")]
    pub iface: String,
    /// Print JSON instead of a table (`peerscope schema --document flows`).
    #[arg(long)]
    pub json: bool,
    /// Flows shown (the largest first; 0 for all).
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub top: usize,
}

/// `peerscope analyze`: the same engine as the live path, on a capture file.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Reads a pcap or pcapng file (Ethernet, VLAN, Linux cooked v1/v2, raw IP), counts every packet into per-flow ack/control/data counters with the kernel's classifier, buckets them into windows of Δ seconds and computes rates, parents and children, stability S_n/X_n, video sessions, video peers, packet sizes, distance and cost, the continent table, redundancy and start-up delay. Prints a text report; --json, --csv and --plots write the rest. A damaged file is analysed up to the damage, reported, and the exit status is 2."
)]
pub struct AnalyzeArgs {
    /// Capture file (pcap or pcapng).
    pub file: std::path::PathBuf,
    /// Address of the monitored host X (repeat for several). Default: the address
    /// present in the most flows, printed.
    #[arg(long = "host", value_name = "IP")]
    pub host: Vec<std::net::IpAddr>,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Write the report document as JSON to this file ("-" for stdout; `peerscope
    /// schema --document report`).
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

/// The measurement engine's parameters, shared by `run` and `analyze` (the studies'
/// values are the defaults).
#[derive(Debug, Clone, clap::Args)]
pub struct EngineArgs {
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
}

/// `peerscope dissect`: the dissector library on a capture file.
#[derive(Debug, clap::Args)]
pub struct DissectArgs {
    /// Capture file (pcap or pcapng).
    pub file: std::path::PathBuf,
    /// One JSON object per message instead of the tree (`peerscope schema
    /// --document control_message`).
    #[arg(long)]
    pub json: bool,
    /// Show only messages matching a display filter: `FIELD`, `FIELD == VALUE`,
    /// `FIELD != VALUE`, joined by `&&` / `||` (e.g. `pplive.host.ip == 59.64.198.250`).
    #[arg(short = 'Y', long = "filter", value_name = "FILTER")]
    pub filter: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seconds the swarm runs.
    #[arg(long, default_value_t = 90.0, value_name = "SECS")]
    pub duration: f64,
    /// Peers in the swarm, the monitored one included (besides the source, tracker
    /// and web server).
    #[arg(long, default_value_t = 30, value_name = "N")]
    pub peers: usize,
    /// The channel's playback rate in kbit/s.
    #[arg(long, default_value_t = 400, value_name = "KBPS")]
    pub bitrate: u64,
    /// Seconds per measurement window (the studies use 20 s).
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub window: f64,
    /// How the monitored peer is connected.
    #[arg(long, value_enum, default_value_t = peerscope_demo::plan::Profile::Campus)]
    pub monitored: peerscope_demo::plan::Profile,
    /// Gossip-only hosts: idle peers that answer the tracker and gossip but exchange
    /// no video, so that few of the hosts a peer contacts become parents or children
    /// (as the studies saw). All share one namespace. At most 477.
    #[arg(long, default_value_t = 450, value_name = "N")]
    pub gossip_hosts: usize,
    /// Directory for report.json and geo.csv (default ./peerscope-demo-<unix time>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
    /// Seed of the swarm's cast (addresses, profiles, churn).
    #[arg(long, default_value_t = 2006)]
    pub seed: u64,
    /// Flows and peers shown per window.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub top: usize,
}

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

impl EngineArgs {
    /// The engine configuration these flags describe, checked.
    pub fn config(&self) -> anyhow::Result<EngineConfig> {
        let args = self;
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
}
