//! Command-line interface of `peerscope`.

use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use peerscope::engine::{geo::Geolocator, EngineConfig, Retention, NS_PER_S};

/// Exit statuses, listed in `--help` and the man page.
pub fn exit_status_help() -> String {
    format!("Exit status:\n{}", peerscope::exit::describe())
}

#[derive(Debug, Parser)]
#[command(
    name = "peerscope",
    version,
    about = "Measure peer-to-peer live-TV traffic (PPLive, SOPCast and kin) at almost no cost",
    long_about = "peerscope counts every packet of an interface into per-flow ack/control/data counters in the kernel \
(XDP on ingress, TCX on egress; it never drops or alters a packet) and computes the measurement methods of two \
P2P-TV studies: rates per window, parents and children, video sessions, stability, distance and cost. \
The same analysis runs offline on pcap/pcapng files.\n\nLive commands need root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN). \
An interface is named in its network namespace: `flows`, `report` and `detach` act on the caller's namespace \
(or the one --netns names), so same-named interfaces of two namespaces or containers never mix.",
    after_long_help = exit_status_help()
)]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace); RUST_LOG overrides. Colour
    /// only on a terminal, never with NO_COLOR set.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// `--hook`'s values (see `peerscope::live::hook`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookArg {
    Auto,
    Xdp,
    XdpGeneric,
    Tcx,
}

impl From<HookArg> for peerscope::live::hook::HookChoice {
    fn from(h: HookArg) -> Self {
        use peerscope::live::hook::HookChoice;
        match h {
            HookArg::Auto => HookChoice::Auto,
            HookArg::Xdp => HookChoice::Xdp,
            HookArg::XdpGeneric => HookChoice::XdpGeneric,
            HookArg::Tcx => HookChoice::Tcx,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Attach to an interface and print per-flow counters every interval.
    Run(Box<RunArgs>),
    /// Print the flows of an agent running on an interface (reads its pinned maps).
    Flows(FlowsArgs),
    /// Print the current state and the history of the agent running on an interface
    /// (the studies' figures so far, one line per window).
    Report(ReportArgs),
    /// List the interfaces peerscope is attached to, in every network namespace, and
    /// their agents.
    Status(StatusArgs),
    /// Detach peerscope from an interface: stop its agent, remove program, links and pins.
    Detach(DetachArgs),
    /// Analyse a pcap/pcapng file with the studies' metrics.
    Analyze(AnalyzeArgs),
    /// Decode every PPLive/PPTV control message of a pcap/pcapng file, malformed ones
    /// included, and name SOPCast/PPStream traffic (like `tshark -2 -V` with the plugin).
    Dissect(DissectArgs),
    /// Build a PPLive-like swarm on network namespaces, measure one peer live, and
    /// compare with the swarm's own record of what it sent.
    Demo(DemoArgs),
    /// Print a shell completion script (`peerscope completions bash > /usr/share/bash-completion/completions/peerscope`).
    Completions(CompletionsArgs),
    /// Print the manual page (roff), as `cargo xtask install` installs it.
    #[command(hide = true)]
    Man,
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
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The interface a command acts on: a name in a network namespace.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Interface a running `peerscope run` is attached to.
    #[arg(short, long, value_name = "IFACE")]
    pub iface: String,
    /// The interface's network namespace, as a path (`/run/netns/NAME`,
    /// `/proc/PID/ns/net`); default: this process's own.
    #[arg(long, value_name = "PATH")]
    pub netns: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub target: TargetArgs,
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
    #[command(flatten)]
    pub target: TargetArgs,
}

/// IPFIX export (RFC 7011) of one record per flow per window, shared by `run` and
/// `analyze`.
#[derive(Debug, Clone, Args)]
pub struct IpfixArgs {
    /// Export flow records over IPFIX to the collector at HOST:PORT: one record per
    /// flow per window (its deltas), enterprise-specific elements for the size classes.
    #[arg(long, value_name = "HOST:PORT", overrides_with = "no_ipfix")]
    pub ipfix: Option<String>,
    /// Undoes --ipfix (say, a configuration file's).
    #[arg(long, overrides_with = "ipfix", hide_short_help = true)]
    pub no_ipfix: bool,
    /// IPFIX transport: udp (templates re-sent every --ipfix-template-refresh) or tcp
    /// (reconnects with back-off; records queue while the collector is away).
    #[arg(long, value_name = "udp|tcp", default_value = "udp")]
    pub ipfix_transport: String,
    /// Private Enterprise Number of peerscope's own elements; the default, 32473, is
    /// the one RFC 5612 reserves for documentation.
    #[arg(long, value_name = "N", default_value_t = peerscope::export::ipfix::DOCUMENTATION_ENTERPRISE)]
    pub ipfix_enterprise: u32,
    /// UDP: send the templates again after this many seconds (RFC 7011 §8.4), so a
    /// collector that restarted decodes again.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub ipfix_template_refresh: f64,
}

impl IpfixArgs {
    pub fn check(&self) -> Result<(), Invalid> {
        self.transport()?;
        if !(self.ipfix_template_refresh.is_finite() && self.ipfix_template_refresh >= 0.0) {
            return Err(invalid(
                "ipfix-template-refresh",
                format!("{} is no number of seconds", self.ipfix_template_refresh),
            ));
        }
        if self.ipfix_enterprise == 0 {
            return Err(invalid("ipfix-enterprise", "0 is IANA's own number, not an enterprise's"));
        }
        if let Some(c) = &self.ipfix {
            if !c.contains(':') {
                return Err(invalid("ipfix", format!("{c:?}: give HOST:PORT")));
            }
        }
        Ok(())
    }

    fn transport(&self) -> Result<peerscope::export::ipfix::Transport, Invalid> {
        self.ipfix_transport.parse().map_err(|e| invalid("ipfix-transport", e))
    }

    /// The transport to the collector, its name resolved; `None` without --ipfix.
    pub fn transport_config(&self) -> Result<Option<peerscope::export::ipfix::TransportConfig>, Invalid> {
        use std::net::ToSocketAddrs;
        let Some(c) = &self.ipfix else { return Ok(None) };
        let addr = c
            .to_socket_addrs()
            .map_err(|e| invalid("ipfix", format!("{c}: {e}")))?
            .next()
            .ok_or_else(|| invalid("ipfix", format!("{c}: no address")))?;
        let mut t = peerscope::export::ipfix::TransportConfig::new(addr, self.transport()?);
        t.template_refresh = std::time::Duration::from_secs_f64(self.ipfix_template_refresh);
        Ok(Some(t))
    }
}

/// Size-class thresholds ([M] §II-D, [H] §4.1), in bytes of IP total length.
#[derive(Debug, Clone, Args)]
pub struct ClassArgs {
    /// A packet of at least this IP length is "data" (1 to 65535, below --large-above).
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
#[command(after_long_help = RUN_AFTER_HELP)]
pub struct RunArgs {
    /// Read settings from this TOML file: its keys are these flags without dashes
    /// (`max-flows = 65536`), `[interface.NAME]` tables hold one interface's own
    /// values; flags on the command line win. Every key and value is checked before
    /// anything is attached.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Network interface to attach to.
    #[arg(short, long, value_name = "IFACE")]
    pub iface: String,
    /// Attach in this network namespace (`/run/netns/NAME`, `/proc/PID/ns/net`)
    /// instead of this process's own.
    #[arg(long, value_name = "PATH")]
    pub netns: Option<std::path::PathBuf>,
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
    #[arg(long, overrides_with = "no_json")]
    pub json: bool,
    /// Undoes --json (say, a configuration file's).
    #[arg(long, overrides_with = "json", hide_short_help = true)]
    pub no_json: bool,
    /// No per-interval output on stdout (status lines still go to stderr). Implied by
    /// `--jsonl -`, which has stdout to itself.
    #[arg(short, long, overrides_with = "no_quiet")]
    pub quiet: bool,
    /// Undoes --quiet (say, a configuration file's).
    #[arg(long, overrides_with = "quiet", hide_short_help = true)]
    pub no_quiet: bool,
    /// Flows shown per interval (the busiest first).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
    /// Stop after this many intervals (default: until Ctrl-C or SIGTERM).
    #[arg(long, value_name = "N", overrides_with = "no_count")]
    pub count: Option<u64>,
    /// Undoes --count (say, a configuration file's).
    #[arg(long, overrides_with = "count", hide_short_help = true)]
    pub no_count: bool,
    /// Flows idle this long are removed from the kernel table (their totals are kept).
    #[arg(long, default_value_t = 300.0, value_name = "SECS")]
    pub idle_timeout: f64,
    /// How much of the past the agent keeps for `peerscope report`: window and sample
    /// summaries of this long (e.g. 90m, 24h, 7d; bare numbers are seconds). Memory
    /// is set by this, not by how long the agent runs; the report's totals still cover
    /// the whole run. Flows idle for --idle-timeout (at least one window) are folded
    /// into the totals, the 1000 largest still listed.
    #[arg(long, default_value = "2h", value_name = "DURATION")]
    pub history: String,
    /// Control-packet samples per second per CPU sent to the decoder (0: none).
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub samples_per_sec: u32,
    /// Forward the kernel program's diagnostics (aya-log) to the log.
    #[arg(long, overrides_with = "no_kernel_log")]
    pub kernel_log: bool,
    /// Undoes --kernel-log (say, a configuration file's).
    #[arg(long, overrides_with = "kernel_log", hide_short_help = true)]
    pub no_kernel_log: bool,
    /// Open tunnels (GRE, IP-in-IP, 6in4, GTP-U, VXLAN) and count each tunnelled
    /// packet once, in its inner flow, which names the tunnel; the outer flow does
    /// not count it. Off: tunnels count as their outer flows. Set when the program is
    /// loaded (a program left attached with --keep-attached keeps its setting).
    #[arg(long, overrides_with = "no_decap")]
    pub decap: bool,
    /// Undoes --decap (say, a configuration file's).
    #[arg(long, overrides_with = "decap", hide_short_help = true)]
    pub no_decap: bool,
    /// Serve OpenMetrics/Prometheus metrics at http://ADDR/metrics. A bare port
    /// (`9464` or `:9464`) listens on 127.0.0.1 only; give an address such as
    /// `0.0.0.0:9464` to listen beyond this host. One port per agent: with several
    /// interfaces, give each its own in its `[interface.NAME]` table.
    #[arg(long, value_name = "ADDR", overrides_with = "no_metrics")]
    pub metrics: Option<String>,
    /// Undoes --metrics (say, a configuration file's).
    #[arg(long, overrides_with = "metrics", hide_short_help = true)]
    pub no_metrics: bool,
    /// Leave the program attached and pinned on exit, so that a restarted agent
    /// continues from the kernel's counters (a service's restarts lose nothing);
    /// `peerscope detach` removes it. After SIGKILL it stays attached in any case.
    #[arg(long, overrides_with = "no_keep_attached")]
    pub keep_attached: bool,
    /// Undoes --keep-attached (say, a configuration file's).
    #[arg(long, overrides_with = "keep_attached", hide_short_help = true)]
    pub no_keep_attached: bool,
    /// The hook that counts ingress. `auto` picks TCX wherever the kernel has it
    /// (Linux 6.6+): on veth (containers) and virtio-net (VMs) native XDP costs the
    /// interface its segmentation offloads, TCX costs none and counts a GRO
    /// super-packet as its wire packets. `xdp` is native XDP or an error,
    /// `xdp-generic` runs on any interface at a higher cost, `tcx` is TCX or an
    /// error. `status` shows the hook and why it was chosen.
    #[arg(long, value_enum, default_value_t = HookArg::Auto, value_name = "HOOK")]
    pub hook: HookArg,
    /// When the interface is deleted, end (status 1) instead of waiting for an
    /// interface of its name to come back in this namespace and attaching to it.
    #[arg(long, overrides_with = "no_exit_on_link_loss")]
    pub exit_on_link_loss: bool,
    /// Undoes --exit-on-link-loss (say, a configuration file's).
    #[arg(long, overrides_with = "exit_on_link_loss", hide_short_help = true)]
    pub no_exit_on_link_loss: bool,
    /// Append one JSON record per window (host metrics) and per peer to this file
    /// ("-" for stdout, which then carries nothing else; documents `window_record`
    /// and `peer_record`).
    #[arg(long, value_name = "PATH", overrides_with = "no_jsonl")]
    pub jsonl: Option<std::path::PathBuf>,
    /// Undoes --jsonl (say, a configuration file's).
    #[arg(long, overrides_with = "jsonl", hide_short_help = true)]
    pub no_jsonl: bool,
    #[command(flatten)]
    pub classes: ClassArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub ipfix: IpfixArgs,
}

const RUN_AFTER_HELP: &str = "Every flag that turns something on has a --no-… form that turns it off again (e.g. \
--no-keep-attached against a configuration file's keep-attached = true).\n\n\
Files: pins in /sys/fs/bpf/peerscope/COOKIE-IFINDEX/ (the network namespace's cookie and the interface's index), \
the attachment record, report and baseline in /run/peerscope/.";

#[derive(Debug, Args)]
pub struct FlowsArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print JSON instead of a table (`peerscope schema --document flows`).
    #[arg(long)]
    pub json: bool,
    /// Flows shown (the largest first; 0 for all).
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub top: usize,
    /// Seconds between the two readings the rate column comes from (0: one reading,
    /// no rate).
    #[arg(long, default_value_t = 1.0, value_name = "SECS")]
    pub interval: f64,
}

/// The capture a command reads, named as tcpdump and tshark take it.
#[derive(Debug, Clone, Args)]
pub struct CaptureInput {
    /// Capture file (pcap or pcapng); `-` reads standard input
    /// (`tcpdump -w - | peerscope analyze -`).
    #[arg(value_name = "FILE", required_unless_present = "read_file")]
    pub file: Option<std::path::PathBuf>,
    /// The capture file, as `tcpdump -r` and `tshark -r` take it.
    #[arg(short = 'r', long = "read-file", value_name = "FILE", conflicts_with = "file")]
    pub read_file: Option<std::path::PathBuf>,
    /// Read only the first N packets (frames), as `tcpdump -c` and `tshark -c`.
    #[arg(short = 'c', long = "count", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
}

impl CaptureInput {
    /// The file named, positionally or with `-r`.
    pub fn path(&self) -> &std::path::Path {
        self.read_file.as_deref().or(self.file.as_deref()).expect("clap requires FILE or -r FILE")
    }
}

/// `peerscope analyze`: the same engine as the live path, on a capture file.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Reads a pcap or pcapng file, parses every frame with the kernel program's own parser, counts every packet into per-flow ack/control/data counters with the kernel's classifier, buckets them into windows of Δ seconds and computes rates, parents and children, stability S_n/X_n, video sessions, video peers, packet sizes, distance and cost, the continent table, redundancy and start-up delay. Prints a text report; --json, --csv and --plots write the rest.\n\nLink types: Ethernet (802.1Q/802.1ad VLAN tags, PPPoE sessions, MPLS, Cisco FabricPath), Linux cooked capture v1 and v2, raw IPv4/IPv6, BSD null/loopback, PPP, Cisco HDLC, 802.11 data frames (plain or with radiotap), and PPI around those. Frames of other link types are counted and named; a file with none peerscope reads is an error. A damaged file is analysed up to the damage, which is reported.",
    after_help = peerscope::exit::HELP
)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub input: CaptureInput,
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
    /// Open tunnels (GRE, IP-in-IP, 6in4, GTP-U, VXLAN) and count each tunnelled
    /// packet once, in its inner flow, which names the tunnel; the outer flow does
    /// not count it. Off: tunnels count as their outer flows.
    #[arg(long)]
    pub decap: bool,
    // Boxed: the command enum's variants stay of a size.
    #[command(flatten)]
    pub ipfix: Box<IpfixArgs>,
}

/// The measurement engine's parameters, shared by `run` and `analyze` (the studies'
/// values are the defaults).
#[derive(Debug, Clone, clap::Args)]
pub struct EngineArgs {
    /// Window length Δ in seconds for rates, parents/children and stability ([M]: 20).
    #[arg(long, value_name = "SECS", default_value_t = 20.0)]
    pub window: f64,
    /// Video-peer and video-rate sampling period in seconds ([H]: 30), on its own
    /// grid whatever --window is (offline at 1 s resolution; live, each poll
    /// interval counts in the sample it starts in).
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub sample: f64,
    /// Parent/child threshold Rp = Rc in bytes per second ([M]: 4 KB/s = 4000).
    #[arg(long, value_name = "BYTES_PER_S", default_value_t = 4000.0)]
    pub rate_threshold: f64,
    /// Geolocation: a CSV table `prefix,latitude,longitude[,label]` (IPv4/IPv6,
    /// longest prefix wins) or a MaxMind `.mmdb` file. Enables distance, cost and
    /// continent-label overrides.
    #[arg(long, value_name = "FILE", overrides_with = "no_geo")]
    pub geo: Option<std::path::PathBuf>,
    /// Undoes --geo (say, a configuration file's).
    #[arg(long, overrides_with = "geo", hide_short_help = true)]
    pub no_geo: bool,
    /// Location of X as LAT,LON in degrees, when its address cannot be located.
    #[arg(long, value_name = "LAT,LON", allow_hyphen_values = true, overrides_with = "no_host_location")]
    pub host_location: Option<String>,
    /// Undoes --host-location (say, a configuration file's).
    #[arg(long, overrides_with = "host_location", hide_short_help = true)]
    pub no_host_location: bool,
    /// Playback rate c in kbit/s: enables the redundancy ratio and the start-up delay.
    #[arg(long, value_name = "KBPS", overrides_with = "no_playback_rate")]
    pub playback_rate: Option<f64>,
    /// Undoes --playback-rate (say, a configuration file's).
    #[arg(long, overrides_with = "playback_rate", hide_short_help = true)]
    pub no_playback_rate: bool,
    /// Also classify UDP "sessions" (5-tuples) as video/signaling; [H] uses TCP only.
    #[arg(long, overrides_with = "no_udp_sessions")]
    pub udp_sessions: bool,
    /// Undoes --udp-sessions (say, a configuration file's).
    #[arg(long, overrides_with = "udp_sessions", hide_short_help = true)]
    pub no_udp_sessions: bool,
    /// Per-flow rates R(A1, X1, t1) ([M] §III-B) listed per window: X's N fastest
    /// flows (`windows[].flow_rates`, `window_flows.csv`); the others are counted in
    /// `flow_rates_omitted`. 0 lists none.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub flow_rates_top: usize,
    /// Start-up delay ([H] §5): the length in seconds of the sliding window over
    /// which the video download rate must reach --playback-rate (offline in 1 s steps,
    /// whatever --window is).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub startup_window: f64,
}

/// `peerscope dissect`: the dissector library on a capture file.
#[derive(Debug, clap::Args)]
#[command(after_help = peerscope::exit::HELP)]
pub struct DissectArgs {
    #[command(flatten)]
    pub input: CaptureInput,
    /// Print each message's tree (the default; accepted for tshark users' `-V`).
    #[arg(short = 'V', long = "tree")]
    pub tree: bool,
    /// One JSON object per message instead of the tree, then a summary
    /// (`peerscope schema --document control_message`, `dissect_summary`).
    #[arg(long)]
    pub json: bool,
    /// Show only messages matching a Wireshark display filter over the pplive.*,
    /// pptv.*, peerscope.* fields and the pplive, pptv, sopcast, ppstream protocols:
    /// `FIELD` (present), `==`, `!=` (present, none equal), `~=`, `<`, `<=`, `>`, `>=`,
    /// `contains`; `&&`, `||`, `!`, parentheses; numbers in decimal, 0x hex or 0 octal;
    /// booleans 0/1/true/false; quoted strings (e.g. `pplive.host.ip == 59.64.198.250`,
    /// `pptv.action == 0x31`, `pplive.http.host == "list.pplive.com"`). An unknown field
    /// is an error, as in tshark.
    #[arg(short = 'Y', long = "filter", value_name = "FILTER")]
    pub filter: Option<String>,
    /// Look inside tunnels (GRE, IP-in-IP, 6in4, GTP-U, VXLAN) for control messages.
    #[arg(long)]
    pub decap: bool,
    /// Decode every message to or from a port as PPLive/PPTV, whatever its bytes
    /// match, as tshark's `-d`: `udp.port==8000` or `tcp.port==8008,pplive`
    /// (repeatable). Messages no layout explains are shown raw with a note.
    #[arg(short = 'd', long = "decode-as", value_name = "TABLE==PORT")]
    pub decode_as: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seconds the swarm runs.
    #[arg(long, default_value_t = 90.0, value_name = "SECS")]
    pub duration: f64,
    /// Peers in the swarm, the monitored one included (besides the source, tracker
    /// and web server).
    #[arg(long, default_value_t = 40, value_name = "N")]
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

/// A value out of range: the flag (or file key) it was given as, and why it is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The flag without dashes, as the configuration file names it.
    pub key: &'static str,
    pub msg: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "--{}: {}", self.key, self.msg)
    }
}

impl std::error::Error for Invalid {}

fn invalid(key: &'static str, msg: impl Into<String>) -> Invalid {
    Invalid { key, msg: msg.into() }
}

fn positive_secs(key: &'static str, s: f64) -> Result<u64, Invalid> {
    if !(s.is_finite() && s > 0.0) {
        return Err(invalid(key, format!("must be a positive number of seconds, not {s}")));
    }
    Ok((s * NS_PER_S as f64).round() as u64)
}

/// A duration such as `90`, `90s`, `15m`, `24h`, `7d`, in ns.
pub fn parse_duration(key: &'static str, s: &str) -> Result<u64, Invalid> {
    let t = s.trim();
    let (num, unit) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => t.split_at(i),
        None => (t, "s"),
    };
    let per = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(invalid(key, format!("wants a duration such as 90m, 24h or 7d, not {s:?}"))),
    };
    let n: f64 =
        num.trim().parse().map_err(|_| invalid(key, format!("wants a duration such as 90m, 24h or 7d, not {s:?}")))?;
    positive_secs(key, n * per)
}

fn parse_location(s: &str) -> Result<(f64, f64), Invalid> {
    let bad = || invalid("host-location", format!("wants LAT,LON in degrees (e.g. 40.44,-79.94), not {s:?}"));
    let (a, b) = s.split_once(',').ok_or_else(bad)?;
    let lat: f64 = a.trim().parse().map_err(|_| bad())?;
    let lon: f64 = b.trim().parse().map_err(|_| bad())?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(invalid("host-location", format!("{s:?} is out of range (latitude ±90, longitude ±180)")));
    }
    Ok((lat, lon))
}

impl ClassArgs {
    /// The thresholds are IP lengths, and every large packet must be a data packet.
    pub fn check(&self) -> Result<(), Invalid> {
        for (key, v) in [("data-min", self.data_min), ("large-above", self.large_above)] {
            if !(1..=65_535).contains(&v) {
                return Err(invalid(key, format!("{v} is no IP packet length (1 to 65535)")));
            }
        }
        if self.data_min >= self.large_above {
            return Err(invalid(
                "data-min",
                format!(
                    "{} must be below --large-above {} (a large packet is a data packet)",
                    self.data_min, self.large_above
                ),
            ));
        }
        Ok(())
    }
}

impl RunArgs {
    /// What the engine keeps of the past: `--history` of windows, and flows for
    /// `--idle-timeout` (when the kernel forgets them too), at least one window.
    pub fn retention(&self, window_ns: u64) -> Result<Retention, Invalid> {
        let history = parse_duration("history", &self.history)?;
        let idle = positive_secs("idle-timeout", self.idle_timeout)?;
        Ok(Retention {
            windows: Some(history.div_ceil(window_ns.max(1)).max(1) as usize),
            flow_linger_ns: Some(idle.max(window_ns)),
        })
    }

    /// Checks every value that needs no system resource (files and ports are checked
    /// by opening them, still before anything is attached).
    pub fn check(&self) -> Result<(), Invalid> {
        positive_secs("interval", self.interval)?;
        positive_secs("idle-timeout", self.idle_timeout)?;
        parse_duration("history", &self.history)?;
        if self.count == Some(0) {
            return Err(invalid("count", "must be at least 1 (leave it out to run until stopped)"));
        }
        let cpus = peerscope::live::attach::possible_cpus();
        if peerscope_abi::Geometry::checked(self.max_flows, cpus).is_none() {
            return Err(invalid(
                "max-flows",
                format!(
                    "{} is out of range: a flow table on {cpus} CPUs holds 1 to {} flows",
                    self.max_flows,
                    peerscope_abi::Geometry::max_flows_limit(cpus)
                ),
            ));
        }
        if let Some(m) = &self.metrics {
            peerscope::export::server::parse_addr(m).map_err(|e| invalid("metrics", e))?;
        }
        if self.json && self.jsonl_to_stdout() {
            return Err(invalid("jsonl", "`-` wants stdout to itself; --json wants it too (drop one)"));
        }
        self.classes.check()?;
        self.ipfix.check()?;
        self.engine.check()
    }

    /// `--jsonl -`: stdout carries the JSON lines only.
    pub fn jsonl_to_stdout(&self) -> bool {
        self.jsonl.as_deref().is_some_and(|p| p.as_os_str() == "-")
    }
}

impl EngineArgs {
    /// Checks the values that need no file.
    pub fn check(&self) -> Result<(), Invalid> {
        positive_secs("window", self.window)?;
        positive_secs("sample", self.sample)?;
        positive_secs("startup-window", self.startup_window)?;
        if !(self.rate_threshold.is_finite() && self.rate_threshold >= 0.0) {
            return Err(invalid("rate-threshold", "must be a non-negative number of bytes per second"));
        }
        if let Some(c) = self.playback_rate {
            if !(c.is_finite() && c > 0.0) {
                return Err(invalid("playback-rate", "must be a positive number of kbit/s"));
            }
        }
        if let Some(l) = &self.host_location {
            parse_location(l)?;
        }
        Ok(())
    }

    /// The engine configuration these flags describe, checked (the geolocation file is
    /// opened and read here).
    pub fn config(&self) -> Result<EngineConfig, Invalid> {
        self.check()?;
        let mut cfg = EngineConfig {
            window_ns: positive_secs("window", self.window)?,
            sample_ns: positive_secs("sample", self.sample)?,
            udp_sessions: self.udp_sessions,
            parent_rate_bps: self.rate_threshold,
            child_rate_bps: self.rate_threshold,
            playback_rate_kbps: self.playback_rate,
            flow_rates_top: self.flow_rates_top,
            startup_rate_window_ns: positive_secs("startup-window", self.startup_window)?,
            ..EngineConfig::default()
        };
        if let Some(g) = &self.geo {
            let geo = Geolocator::open(g).map_err(|e| invalid("geo", format!("{e:#}")))?;
            cfg.geo = Some(Arc::new(geo));
        }
        if let Some(l) = &self.host_location {
            cfg.host_location = Some(parse_location(l)?);
        }
        Ok(cfg)
    }
}
