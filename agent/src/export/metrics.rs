//! The agent's metric families, each defined once in [`Metrics::encode`]. Names follow
//! Prometheus conventions (`promtool check metrics` finds nothing): base units (bytes,
//! seconds, meters), `_total` counters, one unit per family, every series labelled
//! with the interface and its network namespace (`iface`, `netns` = the namespace's
//! inode, as `lsns` shows it), and label sets bounded by the code, never by the
//! traffic: peers appear only through a histogram of their rates.

use peerscope_abi::{Counter as KernelCounter, PacketClass};

use super::exposition::{Exposition, Format, Kind};
use crate::{
    engine::{host::Direction, MonitoredHost, WindowSummary},
    live::FlowDelta,
};

/// Meters in a statute mile: the studies' costs are in miles, Prometheus wants meters.
pub const METERS_PER_MILE: f64 = 1609.344;

/// Directions seen from the monitored host, as label values.
const DIRECTIONS: [&str; 3] = ["in", "out", "unrelated"];

fn direction_index(d: &Direction) -> usize {
    match d {
        Direction::Download { .. } => 0,
        Direction::Upload { .. } => 1,
        Direction::Unrelated => 2,
    }
}

/// Upper bounds of the per-peer rate histogram, bytes per second: around [M]'s 4 kB/s
/// parent threshold and up to a fast peer.
const PEER_RATE_BUCKETS: [f64; 9] = [1e3, 4e3, 1.6e4, 6.4e4, 2.56e5, 1e6, 4e6, 1.6e7, 6.4e7];

/// A histogram with fixed bounds.
#[derive(Clone, Debug, Default)]
struct Histogram {
    counts: [u64; PEER_RATE_BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, v: f64) {
        for (i, le) in PEER_RATE_BUCKETS.iter().enumerate() {
            if v <= *le {
                self.counts[i] += 1;
            }
        }
        self.sum += v;
        self.count += 1;
    }

    fn buckets(&self) -> Vec<(f64, u64)> {
        PEER_RATE_BUCKETS.iter().copied().zip(self.counts.iter().copied()).collect()
    }
}

/// What the kernel counters mean, for their families' help texts.
const KERNEL_HELP: &[(KernelCounter, &str)] = &[
    (KernelCounter::NonIp, "Frames that are not IPv4 or IPv6 (ARP, LLDP ...), passed and not counted in a flow"),
    (KernelCounter::Truncated, "Frames cut short inside a header the program needed, passed and not counted in a flow"),
    (KernelCounter::NonFirstFragments, "IP fragments after the first, counted in their flow with ports 0"),
    (KernelCounter::FlowInsertFailures, "New flows the full flow table could not take (their packets go to overflow)"),
    (
        KernelCounter::OverflowPackets,
        "Packets of flows the full table could not take: in no flow and no per-flow figure",
    ),
    (
        KernelCounter::OverflowBytes,
        "IP bytes of flows the full table could not take: in no flow and no per-flow figure",
    ),
    (KernelCounter::GsoSkbs, "Egress GSO/TSO super-packets split into their wire packets"),
    (
        KernelCounter::Ipv6HeaderChainTooLong,
        "IPv6 packets whose extension-header chain is longer than the program walks",
    ),
    (KernelCounter::SamplesSent, "Control-packet samples queued for the decoder"),
    (KernelCounter::SamplesDropped, "Control-packet samples lost because the ring buffer was full"),
    (KernelCounter::SamplesRateLimited, "Control-packet samples skipped by --samples-per-sec"),
    (KernelCounter::IngressPackets, "Packets the program saw on ingress (XDP)"),
    (KernelCounter::EgressPackets, "Packets the program saw on egress (TCX), wire packets"),
    (
        KernelCounter::TransportHeaderBroken,
        "IP packets whose transport header is cut or bogus, counted in their flow with ports 0",
    ),
    (
        KernelCounter::IpLengthExceedsFrame,
        "IP packets whose header claims more bytes than the frame carried (the frame's bytes are counted)",
    ),
    (KernelCounter::VlanTooDeep, "Frames with more VLAN tags than the parser reads, not counted in a flow"),
    (KernelCounter::MplsTooDeep, "Frames with more MPLS labels than the parser reads, not counted in a flow"),
    (KernelCounter::Decapsulated, "Tunnelled packets counted in their inner flow (--decap)"),
];

/// The agent's metrics: plain numbers updated once per poll and per window, written out
/// on each scrape.
#[derive(Clone, Debug)]
pub struct Metrics {
    iface: String,
    netns: String,
    /// `[direction][class]`.
    packets: [[u64; 3]; 3],
    bytes: [[u64; 3]; 3],
    payload: [u64; 3],
    large: [u64; 3],
    /// The kernel's counters, as read (they count from the program's load).
    kernel: Vec<u64>,
    flows_in_table: f64,
    capacity: f64,
    active_flows: f64,
    polls: u64,
    missed_polls: u64,
    poll_seconds: f64,
    attached: bool,
    windows: u64,
    window_seconds: f64,
    parents: f64,
    children: f64,
    contacted: f64,
    sn: f64,
    xn: f64,
    download_cost: f64,
    upload_cost: f64,
    /// Per-peer window rates, `[down, up]`.
    peer_rate: [Histogram; 2],
    start_unix_s: f64,
}

impl Metrics {
    /// Metrics of the agent on `iface` in the network namespace of inode `netns`.
    pub fn new(iface: &str, netns: u64) -> Self {
        Metrics {
            iface: iface.to_string(),
            netns: netns.to_string(),
            packets: [[0; 3]; 3],
            bytes: [[0; 3]; 3],
            payload: [0; 3],
            large: [0; 3],
            kernel: vec![0; KernelCounter::COUNT as usize],
            flows_in_table: 0.0,
            capacity: 0.0,
            active_flows: 0.0,
            polls: 0,
            missed_polls: 0,
            poll_seconds: 0.0,
            attached: true,
            windows: 0,
            window_seconds: f64::NAN,
            parents: f64::NAN,
            children: f64::NAN,
            contacted: f64::NAN,
            sn: f64::NAN,
            xn: f64::NAN,
            download_cost: f64::NAN,
            upload_cost: f64::NAN,
            peer_rate: Default::default(),
            start_unix_s: crate::live::clock::unix_now_ns() as f64 / 1e9,
        }
    }

    /// Adds one poll's deltas and takes the kernel's counters and the table's fill.
    pub fn observe(
        &mut self,
        host: &MonitoredHost,
        deltas: &[FlowDelta],
        counters: &[u64],
        flows_in_table: usize,
        capacity: u32,
    ) {
        for d in deltas {
            let dir = direction_index(&host.direction(&d.key));
            for c in PacketClass::ALL {
                self.packets[dir][c as usize] += d.delta.packets[c as usize];
                self.bytes[dir][c as usize] += d.delta.bytes[c as usize];
            }
            self.payload[dir] += d.delta.payload_bytes;
            self.large[dir] += d.delta.large_packets;
        }
        for (k, v) in self.kernel.iter_mut().zip(counters) {
            *k = *v;
        }
        self.flows_in_table = flows_in_table as f64;
        self.capacity = capacity as f64;
        self.active_flows = deltas.len() as f64;
    }

    /// One poll took `secs`; `missed` intervals went by without a poll before it.
    pub fn observe_poll(&mut self, secs: f64, missed: u64) {
        self.polls += 1;
        self.poll_seconds += secs;
        self.missed_polls += missed;
    }

    /// Whether the program is attached to a present interface.
    pub fn set_attached(&mut self, attached: bool) {
        self.attached = attached;
    }

    /// The engine's figures of a finished window.
    pub fn observe_window(&mut self, w: &WindowSummary) {
        self.windows += 1;
        self.window_seconds = w.len_ns as f64 / 1e9;
        self.parents = w.parent_count as f64;
        self.children = w.child_count as f64;
        self.contacted = w.pairs.len() as f64;
        // Gauges cannot be absent: an undefined figure is NaN, which Prometheus reads as
        // "no value" (the JSON outputs use null instead).
        self.sn = w.stability.s_n.unwrap_or(f64::NAN);
        self.xn = w.stability.x_n.unwrap_or(f64::NAN);
        self.download_cost = w.cost.download_miles_per_byte.map_or(f64::NAN, |c| c * METERS_PER_MILE);
        self.upload_cost = w.cost.upload_miles_per_byte.map_or(f64::NAN, |c| c * METERS_PER_MILE);
        for p in &w.pairs {
            if p.down_bytes > 0 {
                self.peer_rate[0].observe(p.down_bytes_per_s);
            }
            if p.up_bytes > 0 {
                self.peer_rate[1].observe(p.up_bytes_per_s);
            }
        }
    }

    /// The exposition in `format`.
    pub fn encode(&self, format: Format) -> String {
        let mut e = Exposition::new(format, &[("iface", &self.iface), ("netns", &self.netns)]);
        self.encode_traffic(&mut e);
        self.encode_kernel(&mut e);
        self.encode_agent(&mut e);
        self.encode_window(&mut e);
        encode_process(&mut e);
        e.finish()
    }

    fn encode_traffic(&self, e: &mut Exposition) {
        let per_class = |e: &mut Exposition, v: &[[u64; 3]; 3]| {
            for (d, dir) in DIRECTIONS.iter().enumerate() {
                for c in PacketClass::ALL {
                    e.sample(&[("direction", dir), ("class", c.name())], v[d][c as usize] as f64);
                }
            }
        };
        e.family(
            "peerscope_packets",
            Kind::Counter,
            None,
            "Packets by direction seen from the monitored host (in, out, unrelated) and size class (ack, control, data)",
        );
        per_class(e, &self.packets);
        e.family("peerscope_ip_bytes", Kind::Counter, Some("bytes"), "IP bytes by direction and size class");
        per_class(e, &self.bytes);
        let per_dir = |e: &mut Exposition, v: &[u64; 3]| {
            for (d, dir) in DIRECTIONS.iter().enumerate() {
                e.sample(&[("direction", dir)], v[d] as f64);
            }
        };
        e.family("peerscope_payload_bytes", Kind::Counter, Some("bytes"), "Transport payload bytes by direction");
        per_dir(e, &self.payload);
        e.family(
            "peerscope_large_packets",
            Kind::Counter,
            None,
            "Packets above --large-above by direction (large packets of any session; [H]'s video traffic is those inside video sessions)",
        );
        per_dir(e, &self.large);
    }

    fn encode_kernel(&self, e: &mut Exposition) {
        for c in KernelCounter::ALL {
            let name = format!("peerscope_kernel_{}", c.name());
            let unit = c.name().ends_with("_bytes").then_some("bytes");
            let help = KERNEL_HELP.iter().find(|(k, _)| *k == c).map_or("Kernel program counter", |(_, h)| h);
            e.family(&name, Kind::Counter, unit, help);
            e.sample(&[], self.kernel.get(c as usize).copied().unwrap_or(0) as f64);
        }
        e.family("peerscope_flows_in_table", Kind::Gauge, None, "Flows in the kernel flow table at the last poll");
        e.sample(&[], self.flows_in_table);
        e.family(
            "peerscope_flow_table_capacity",
            Kind::Gauge,
            None,
            "Flows the kernel table holds at most (--max-flows)",
        );
        e.sample(&[], self.capacity);
        e.family("peerscope_active_flows", Kind::Gauge, None, "Flows with packets since the poll before the last");
        e.sample(&[], self.active_flows);
    }

    fn encode_agent(&self, e: &mut Exposition) {
        e.family("peerscope_build", Kind::Info, None, "The agent's version");
        e.sample(&[("version", env!("CARGO_PKG_VERSION"))], 1.0);
        e.family("peerscope_start_time_seconds", Kind::Gauge, Some("seconds"), "When the agent started, Unix time");
        e.sample(&[], self.start_unix_s);
        e.family(
            "peerscope_attached",
            Kind::Gauge,
            None,
            "1 while the program is attached to the interface, 0 while the interface is gone",
        );
        e.sample(&[], if self.attached { 1.0 } else { 0.0 });
        e.family("peerscope_polls", Kind::Counter, None, "Readings of the kernel maps");
        e.sample(&[], self.polls as f64);
        e.family(
            "peerscope_poll_duration_seconds",
            Kind::Counter,
            Some("seconds"),
            "Time spent reading the maps and updating the figures",
        );
        e.sample(&[], self.poll_seconds);
        e.family(
            "peerscope_missed_polls",
            Kind::Counter,
            None,
            "Intervals that passed without a poll because the one before ran late",
        );
        e.sample(&[], self.missed_polls as f64);
    }

    fn encode_window(&self, e: &mut Exposition) {
        let gauges: [(&str, Option<&str>, &str, f64); 8] = [
            (
                "peerscope_window_length_seconds",
                Some("seconds"),
                "Real length of the last window (Δ when polls are on time)",
                self.window_seconds,
            ),
            ("peerscope_parents", None, "Parents of the host in the last window ([M] §III-D)", self.parents),
            ("peerscope_children", None, "Children of the host in the last window ([M] §III-D)", self.children),
            (
                "peerscope_contacted_peers",
                None,
                "Peers the host exchanged packets with in the last window",
                self.contacted,
            ),
            (
                "peerscope_parent_set_sn_ratio",
                None,
                "S_n = 1 - |P(n-1) ∩ P(n)| / |P(n)| of the last window ([M] §III-G)",
                self.sn,
            ),
            (
                "peerscope_parent_set_xn_ratio",
                None,
                "X_n = 1 - |P(n)| / (|P(n)| + |A(n)| + |L(n)|) of the last window ([M] §III-G)",
                self.xn,
            ),
            (
                "peerscope_download_cost_meters_per_byte",
                None,
                "Cost of download of the last window, distance × bytes / bytes ([M] §III-F; the report gives miles)",
                self.download_cost,
            ),
            (
                "peerscope_upload_cost_meters_per_byte",
                None,
                "Cost of upload of the last window ([M] §III-F; the report gives miles)",
                self.upload_cost,
            ),
        ];
        e.family("peerscope_windows", Kind::Counter, None, "Windows closed");
        e.sample(&[], self.windows as f64);
        for (name, unit, help, v) in gauges {
            e.family(name, Kind::Gauge, unit, help);
            e.sample(&[], v);
        }
        e.family(
            "peerscope_peer_rate_bytes_per_second",
            Kind::Histogram,
            None,
            "Per-peer rates of each window, one observation per peer and direction (in: from the peer)",
        );
        for (i, dir) in ["in", "out"].iter().enumerate() {
            let h = &self.peer_rate[i];
            e.histogram(&[("direction", dir)], &h.buckets(), h.sum, h.count);
        }
    }
}

/// The standard process metrics (names as every Prometheus client library writes them).
fn encode_process(e: &mut Exposition) {
    let Some((cpu_s, rss_bytes)) = process_usage() else { return };
    e.family("process_cpu_seconds", Kind::Counter, Some("seconds"), "User and system CPU time of the agent");
    e.sample(&[], cpu_s);
    e.family("process_resident_memory_bytes", Kind::Gauge, Some("bytes"), "Resident memory of the agent");
    e.sample(&[], rss_bytes);
}

/// CPU seconds and resident bytes of this process, from `/proc/self/stat`.
pub fn process_usage() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // SAFETY: sysconf has no preconditions.
    let (tick, page) = unsafe { (libc::sysconf(libc::_SC_CLK_TCK), libc::sysconf(libc::_SC_PAGESIZE)) };
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    let rss: f64 = f.get(21)?.parse().ok()?;
    Some(((utime + stime) / tick.max(1) as f64, rss * page.max(1) as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::{flow::ipv4, FlowKey, FlowStats, PacketObservation, Thresholds};

    #[test]
    fn test_counters_follow_deltas_and_directions() {
        let host = MonitoredHost::new([ipv4(192, 0, 2, 1)]);
        let key = FlowKey::new(17, ipv4(192, 0, 2, 1), 4004, ipv4(203, 0, 113, 9), 4004);
        let mut s = FlowStats::default();
        s.record(&PacketObservation::new(&Thresholds::STUDIES, 17, 1300, 1272, 0, peerscope_abi::UnixNs(1)));
        let d = FlowDelta { key, delta: s, total: s };
        let mut m = Metrics::new("eth0", 4026531840);
        let mut counters = vec![0; KernelCounter::COUNT as usize];
        counters[KernelCounter::OverflowBytes as usize] = 77;
        m.observe(&host, &[d], &counters, 1, 65536);
        m.observe(&host, &[d], &counters, 1, 65536);
        let text = m.encode(Format::Prometheus);
        let l = r#"{iface="eth0",netns="4026531840""#;
        assert!(text.contains(&format!(r#"peerscope_packets_total{l},direction="out",class="data"}} 2"#)), "{text}");
        assert!(
            text.contains(&format!(r#"peerscope_ip_bytes_total{l},direction="out",class="data"}} 2600"#)),
            "{text}"
        );
        assert!(text.contains(&format!("peerscope_kernel_overflow_bytes_total{l}}} 77")), "{text}");
        assert!(text.contains(&format!("peerscope_flow_table_capacity{l}}} 65536")), "{text}");
        assert!(text.contains("peerscope_build_info{"), "{text}");
    }

    #[test]
    fn test_every_family_has_help_and_one_name() {
        let text = Metrics::new("eth0", 1).encode(Format::Prometheus);
        let mut seen = std::collections::HashSet::new();
        for l in text.lines().filter(|l| l.starts_with("# HELP ")) {
            let name = l.split_whitespace().nth(2).unwrap();
            assert!(seen.insert(name.to_string()), "{name} defined twice");
            assert!(!l.ends_with("Kernel program counter"), "a kernel counter without its own help: {l}");
        }
        assert!(seen.len() > 30, "{}", seen.len());
    }
}
