//! Command-line interface of `peerscope`.

use clap::{Args, Parser, Subcommand};

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
    /// Build a PPLive-like swarm on network namespaces, measure one peer live, and
    /// compare with the swarm's own record of what it sent.
    Demo(DemoArgs),
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
pub struct RunArgs {
    /// Network interface to attach to.
    #[arg(short, long, value_name = "IFACE")]
    pub iface: String,
    /// Seconds between two readings of the kernel counters.
    #[arg(long, default_value_t = 2.0, value_name = "SECS")]
    pub interval: f64,
    /// Size of the kernel flow table; when it is full, new flows are counted in the
    /// overflow counters instead (never lost).
    #[arg(long, default_value_t = 65_536, value_name = "N")]
    pub max_flows: u32,
    /// Print one JSON object per interval instead of a table.
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
    #[command(flatten)]
    pub classes: ClassArgs,
}

#[derive(Debug, Args)]
pub struct FlowsArgs {
    /// Interface a running `peerscope run` is attached to.
    #[arg(short, long, value_name = "IFACE")]
    pub iface: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Flows shown (the largest first; 0 for all).
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub top: usize,
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
    #[arg(long, value_enum, default_value_t = crate::demo::plan::Profile::Campus)]
    pub monitored: crate::demo::plan::Profile,
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
