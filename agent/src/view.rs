//! How flows are shown as text: the fixed-width table of `run` and `flows` (their
//! JSON is [`crate::schema::Flow`]).

use std::net::IpAddr;

use crate::schema::Flow;

/// `ip:port`, with IPv6 addresses in brackets.
pub fn endpoint(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// A fixed-width text table of flows: what each did in the interval when known,
/// else its totals.
pub fn render_table(flows: &[Flow]) -> String {
    let mut s = format!(
        "{:<5} {:<28} {:<28} {:>21} {:>27} {:>10}\n",
        "proto", "source", "destination", "pkts ack/ctl/data", "bytes ack/ctl/data", "rate B/s"
    );
    for f in flows {
        let c = &f.interval.as_ref().unwrap_or(&f.total).classes;
        s.push_str(&format!(
            "{:<5} {:<28} {:<28} {:>21} {:>27} {:>10.0}\n",
            f.key.protocol,
            endpoint(f.key.src_ip, f.key.src_port),
            endpoint(f.key.dst_ip, f.key.dst_port),
            format!("{}/{}/{}", c.ack_packets, c.control_packets, c.data_packets),
            format!("{}/{}/{}", c.ack_bytes, c.control_bytes, c.data_bytes),
            f.interval_bytes_per_s.unwrap_or(0.0)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::{flow::ipv4, FlowKey, FlowStats, PacketObservation, Thresholds, UnixNs};

    #[test]
    fn test_table_shows_the_interval_classes_and_rate() {
        let k = FlowKey::new(6, ipv4(192, 0, 2, 1), 8008, "2001:db8::9".parse().unwrap(), 4000);
        let mut s = FlowStats::default();
        s.record(&PacketObservation::new(&Thresholds::STUDIES, 6, 1400, 1360, 0x12, UnixNs(1)));
        s.record(&PacketObservation::new(&Thresholds::STUDIES, 6, 40, 0, 0x10, UnixNs(2)));
        let mut total = s;
        total.merge(&s);
        let text = render_table(&[Flow::new(&k, &total, None).with_interval(&s, 2.0)]);
        assert!(text.contains("192.0.2.1:8008") && text.contains("[2001:db8::9]:4000"), "{text}");
        assert!(text.contains("1/0/1") && text.contains("40/0/1400") && text.contains(" 720\n"), "{text}");
    }
}
