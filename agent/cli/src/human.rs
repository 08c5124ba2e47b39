//! What people read: byte counts and rates in SI units, and flow tables whose columns
//! fit whatever they hold (IPv6 endpoints included).

use comfy_table::{presets, CellAlignment, ContentArrangement, Table};
use peerscope::{schema::Flow, view::endpoint};

/// `730 B`, `1.46 kB`, `12.3 MB`: three significant digits, SI prefixes.
pub fn bytes(n: u64) -> String {
    si(n as f64, "B")
}

/// A byte rate as network people read it: `5.84 Mbit/s`.
pub fn bit_rate(bytes_per_s: f64) -> String {
    si(bytes_per_s * 8.0, "bit/s")
}

fn si(v: f64, unit: &str) -> String {
    const PREFIXES: [&str; 7] = ["", "k", "M", "G", "T", "P", "E"];
    if !v.is_finite() {
        return format!("? {unit}");
    }
    let mut v = v.max(0.0);
    let mut i = 0;
    while v >= 999.5 && i + 1 < PREFIXES.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        return format!("{} {unit}", v.round() as u64);
    }
    let digits = if v >= 99.95 {
        0
    } else if v >= 9.995 {
        1
    } else {
        2
    };
    format!("{v:.digits$} {}{unit}", PREFIXES[i])
}

/// The flows as a table: per-class packets and bytes, and the rate when it is known.
pub fn flow_table(rows: &[Flow], with_rate: bool) -> String {
    let mut t = Table::new();
    t.load_style(presets::NOTHING).set_content_arrangement(ContentArrangement::Disabled);
    let mut header = vec!["proto", "source", "destination", "pkts ack/ctl/data", "bytes ack/ctl/data", "bytes"];
    if with_rate {
        header.push("rate");
    }
    t.set_header(header);
    for r in rows {
        let c = &r.interval.as_ref().unwrap_or(&r.total).classes;
        let mut row = vec![
            r.key.protocol.clone(),
            endpoint(r.key.src_ip, r.key.src_port),
            endpoint(r.key.dst_ip, r.key.dst_port),
            format!("{}/{}/{}", c.ack_packets, c.control_packets, c.data_packets),
            format!("{}/{}/{}", bytes(c.ack_bytes), bytes(c.control_bytes), bytes(c.data_bytes)),
            bytes(c.bytes),
        ];
        if with_rate {
            row.push(bit_rate(r.interval_bytes_per_s.unwrap_or(0.0)));
        }
        t.add_row(row);
    }
    for i in 3..t.column_count() {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut s = t.lines().map(|l| l.trim_end().to_string()).collect::<Vec<_>>().join("\n");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::{FlowKey, FlowStats, PacketObservation, Thresholds, UnixNs};

    #[test]
    fn test_si_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(730), "730 B");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1000), "1.00 kB");
        assert_eq!(bytes(730_000), "730 kB");
        assert_eq!(bytes(1_460_000), "1.46 MB");
        assert_eq!(bytes(12_345_678), "12.3 MB");
        assert_eq!(bit_rate(2_500_000.0), "20.0 Mbit/s");
        assert_eq!(bit_rate(0.0), "0 bit/s");
    }

    #[test]
    fn test_ipv6_rows_keep_the_columns_aligned() {
        let t = Thresholds::STUDIES;
        let mut s = FlowStats::default();
        s.record(&PacketObservation::new(&t, 17, 1300, 1252, 0, UnixNs(1)));
        let v6 = FlowKey::new(
            17,
            "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1".parse().unwrap(),
            40_000,
            "2001:db8:aaaa:bbbb:cccc:dddd:eeee:2".parse().unwrap(),
            4004,
        );
        let v4 = FlowKey::new(17, "192.0.2.1".parse().unwrap(), 1, "192.0.2.2".parse().unwrap(), 2);
        let rows = [Flow::new(&v6, &s, None).with_interval(&s, 1.0), Flow::new(&v4, &s, None).with_interval(&s, 1.0)];
        let text = flow_table(&rows, true);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        // The destination column starts at the same place on every line.
        let col = lines[0].find("destination").unwrap();
        assert_eq!(&lines[1][col..col + 4], "[200", "{text}");
        assert_eq!(&lines[2][col..col + 9], "192.0.2.2", "{text}");
        assert!(text.contains("10.4 kbit/s"), "{text}");
    }
}
