//! How flows are shown: one row type for the text table and the JSON output.

use std::net::IpAddr;

use peerscope_abi::{FlowKey, FlowStats, PacketClass};
use serde::Serialize;

/// Per-class numbers, named as the studies name the classes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PerClass {
    pub ack: u64,
    pub control: u64,
    pub data: u64,
}

impl From<[u64; 3]> for PerClass {
    fn from(v: [u64; 3]) -> Self {
        PerClass {
            ack: v[PacketClass::Ack as usize],
            control: v[PacketClass::Control as usize],
            data: v[PacketClass::Data as usize],
        }
    }
}

/// Counters of one flow as shown to users.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlowCounts {
    pub packets: PerClass,
    pub bytes: PerClass,
    pub payload_bytes: u64,
    pub large_packets: u64,
    pub large_bytes: u64,
    pub tcp_flags: Vec<&'static str>,
    /// What the parser noted on the packets ("transport_header_broken", ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<&'static str>,
    pub first_seen_unix_ns: u64,
    pub last_seen_unix_ns: u64,
}

impl From<&FlowStats> for FlowCounts {
    fn from(s: &FlowStats) -> Self {
        use peerscope_abi::TcpFlags;
        let mut flags = Vec::new();
        for (bit, name) in [(TcpFlags::SYN, "SYN"), (TcpFlags::FIN, "FIN"), (TcpFlags::RST, "RST")] {
            if s.tcp_flags & bit != 0 {
                flags.push(name);
            }
        }
        FlowCounts {
            packets: s.packets.into(),
            bytes: s.bytes.into(),
            payload_bytes: s.payload_bytes,
            large_packets: s.large_packets,
            large_bytes: s.large_bytes,
            tcp_flags: flags,
            notes: peerscope_abi::parse::Note::names(s.notes).collect(),
            first_seen_unix_ns: s.first_seen_ns,
            last_seen_unix_ns: s.last_seen_ns,
        }
    }
}

/// One flow row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlowRow {
    pub proto: String,
    pub src: String,
    pub dst: String,
    /// The tunnel the flow was carried in (`--decap`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<&'static str>,
    /// IP bytes per second over the interval.
    pub rate_bytes_per_sec: f64,
    /// What happened in this interval (absent for lifetime views).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<FlowCounts>,
    pub total: FlowCounts,
}

pub fn proto_name(p: u8) -> String {
    match p {
        6 => "tcp".into(),
        17 => "udp".into(),
        1 => "icmp".into(),
        58 => "icmpv6".into(),
        n => format!("ip{n}"),
    }
}

pub fn endpoint(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

impl FlowRow {
    pub fn new(key: &FlowKey, interval: Option<&FlowStats>, total: &FlowStats, secs: f64) -> Self {
        let rate = match (interval, secs > 0.0) {
            (Some(d), true) => d.total_bytes() as f64 / secs,
            _ => 0.0,
        };
        FlowRow {
            proto: proto_name(key.proto),
            src: endpoint(key.src_ip(), key.src_port),
            dst: endpoint(key.dst_ip(), key.dst_port),
            tunnel: key.tunnel_name(),
            rate_bytes_per_sec: (rate * 10.0).round() / 10.0,
            interval: interval.map(FlowCounts::from),
            total: total.into(),
        }
    }
}

/// A fixed-width text table of flows.
pub fn render_table(rows: &[FlowRow]) -> String {
    let mut s = format!(
        "{:<5} {:<28} {:<28} {:>21} {:>27} {:>10}\n",
        "proto", "source", "destination", "pkts ack/ctl/data", "bytes ack/ctl/data", "rate B/s"
    );
    for r in rows {
        let c = r.interval.as_ref().unwrap_or(&r.total);
        s.push_str(&format!(
            "{:<5} {:<28} {:<28} {:>21} {:>27} {:>10.0}\n",
            r.proto,
            r.src,
            r.dst,
            format!("{}/{}/{}", c.packets.ack, c.packets.control, c.packets.data),
            format!("{}/{}/{}", c.bytes.ack, c.bytes.control, c.bytes.data),
            r.rate_bytes_per_sec
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::{flow::ipv4, PacketObservation, Thresholds};

    #[test]
    fn test_row_rate_and_classes() {
        let k = FlowKey::new(6, ipv4(192, 0, 2, 1), 8008, ipv4(198, 51, 100, 9), 4000);
        let mut s = FlowStats::default();
        s.record(&PacketObservation::new(&Thresholds::STUDIES, 6, 1400, 1360, 0x12, 1));
        s.record(&PacketObservation::new(&Thresholds::STUDIES, 6, 40, 0, 0x10, 2));
        let r = FlowRow::new(&k, Some(&s), &s, 2.0);
        assert_eq!(r.rate_bytes_per_sec, 720.0);
        assert_eq!(r.src, "192.0.2.1:8008");
        assert_eq!(r.total.packets, PerClass { ack: 1, control: 0, data: 1 });
        assert_eq!(r.total.tcp_flags, vec!["SYN"]);
        let text = render_table(&[r]);
        assert!(text.contains("1/0/1"), "{text}");
    }
}
