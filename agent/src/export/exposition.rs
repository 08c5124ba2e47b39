//! Writing metric families in the two text formats Prometheus reads: OpenMetrics 1.0
//! (what a Prometheus server asks for) and the classic text format 0.0.4 (what curl,
//! `promtool check metrics` and older scrapers get). They differ only in how a
//! counter's family is named (`x` + `x_total` samples, or `x_total` throughout), in
//! OpenMetrics' `# UNIT` and `# EOF` lines, and in the info type.

use std::fmt::Write;

/// Which text format to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    OpenMetrics,
    Prometheus,
}

impl Format {
    pub const OPENMETRICS_TYPE: &'static str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    pub const PROMETHEUS_TYPE: &'static str = "text/plain; version=0.0.4; charset=utf-8";

    /// The format an HTTP `Accept` header asks for: OpenMetrics when it is named.
    pub fn negotiate(accept: Option<&str>) -> Format {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Prometheus,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => Self::OPENMETRICS_TYPE,
            Format::Prometheus => Self::PROMETHEUS_TYPE,
        }
    }
}

/// The kind of a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
    /// A constant 1 whose labels carry the information (`peerscope_build_info`).
    Info,
}

/// One exposition being written. Every sample carries the writer's constant labels
/// (the interface and its network namespace) before its own.
pub struct Exposition {
    out: String,
    format: Format,
    constant: String,
    family: String,
    kind: Kind,
}

impl Exposition {
    pub fn new(format: Format, constant: &[(&str, &str)]) -> Self {
        Exposition { out: String::new(), format, constant: labels(constant), family: String::new(), kind: Kind::Gauge }
    }

    /// Starts a family. `name` is the family's full name without the `_total` of
    /// counters or the `_info` of info families; `unit` must be its last word.
    pub fn family(&mut self, name: &str, kind: Kind, unit: Option<&str>, help: &str) {
        debug_assert!(unit.is_none_or(|u| name.ends_with(u)), "{name} does not end in its unit");
        let (shown, ty) = match (self.format, kind) {
            (Format::Prometheus, Kind::Counter) => (format!("{name}_total"), "counter"),
            (Format::Prometheus, Kind::Info) => (format!("{name}_info"), "gauge"),
            (Format::OpenMetrics, Kind::Counter) => (name.to_string(), "counter"),
            (Format::OpenMetrics, Kind::Info) => (name.to_string(), "info"),
            (_, Kind::Gauge) => (name.to_string(), "gauge"),
            (_, Kind::Histogram) => (name.to_string(), "histogram"),
        };
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        match self.format {
            Format::Prometheus => {
                let _ = writeln!(self.out, "# HELP {shown} {help}\n# TYPE {shown} {ty}");
            }
            Format::OpenMetrics => {
                let _ = writeln!(self.out, "# TYPE {shown} {ty}");
                if let Some(u) = unit {
                    let _ = writeln!(self.out, "# UNIT {shown} {u}");
                }
                let _ = writeln!(self.out, "# HELP {shown} {help}");
            }
        }
        self.family = name.to_string();
        self.kind = kind;
    }

    /// One sample of the current family; counters and info families get their suffix.
    pub fn sample(&mut self, own: &[(&str, &str)], value: f64) {
        let suffix = match self.kind {
            Kind::Counter => "_total",
            Kind::Info => "_info",
            _ => "",
        };
        let name = format!("{}{suffix}", self.family);
        self.write_sample(&name, own, value);
    }

    /// A histogram's samples: cumulative `buckets` (upper bound, count), then sum and
    /// count.
    pub fn histogram(&mut self, own: &[(&str, &str)], buckets: &[(f64, u64)], sum: f64, count: u64) {
        let base = self.family.clone();
        for (le, n) in buckets.iter().copied().chain([(f64::INFINITY, count)]) {
            let le = number(le);
            let mut l: Vec<(&str, &str)> = own.to_vec();
            l.push(("le", &le));
            self.write_sample(&format!("{base}_bucket"), &l, n as f64);
        }
        self.write_sample(&format!("{base}_sum"), own, sum);
        self.write_sample(&format!("{base}_count"), own, count as f64);
    }

    fn write_sample(&mut self, name: &str, own: &[(&str, &str)], value: f64) {
        let own = labels(own);
        let sep = if self.constant.is_empty() || own.is_empty() { "" } else { "," };
        let _ = writeln!(self.out, "{name}{{{}{sep}{own}}} {}", self.constant, number(value));
    }

    /// The finished text.
    pub fn finish(mut self) -> String {
        if self.format == Format::OpenMetrics {
            self.out.push_str("# EOF\n");
        }
        self.out
    }
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let v = v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
        let _ = write!(s, "{k}=\"{v}\"");
    }
    s
}

/// A sample value as both formats spell it (`NaN`, `+Inf`; integers without a point).
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(format: Format) -> String {
        let mut e = Exposition::new(format, &[("iface", "eth0"), ("netns", "4026531840")]);
        e.family("peerscope_ip_bytes", Kind::Counter, Some("bytes"), "IP bytes");
        e.sample(&[("class", "data")], 2600.0);
        e.family("peerscope_parents", Kind::Gauge, None, "Parents");
        e.sample(&[], f64::NAN);
        e.family("peerscope_build", Kind::Info, None, "Build");
        e.sample(&[("version", "0.1.0")], 1.0);
        e.family("peerscope_peer_rate_bytes_per_second", Kind::Histogram, None, "Rates");
        e.histogram(&[("direction", "in")], &[(4000.0, 1)], 5000.5, 2);
        e.finish()
    }

    #[test]
    fn test_prometheus_text_names_counters_with_total() {
        let t = write(Format::Prometheus);
        assert!(
            t.contains("# HELP peerscope_ip_bytes_total IP bytes\n# TYPE peerscope_ip_bytes_total counter\n"),
            "{t}"
        );
        assert!(
            t.contains("peerscope_ip_bytes_total{iface=\"eth0\",netns=\"4026531840\",class=\"data\"} 2600\n"),
            "{t}"
        );
        assert!(t.contains("peerscope_parents{iface=\"eth0\",netns=\"4026531840\"} NaN\n"), "{t}");
        assert!(t.contains("# TYPE peerscope_build_info gauge\npeerscope_build_info{"), "{t}");
        assert!(t.contains("_bucket{iface=\"eth0\",netns=\"4026531840\",direction=\"in\",le=\"+Inf\"} 2\n"), "{t}");
        assert!(!t.contains("# EOF") && !t.contains("# UNIT"), "{t}");
    }

    #[test]
    fn test_openmetrics_names_families_without_total_and_ends_with_eof() {
        let t = write(Format::OpenMetrics);
        assert!(t.contains("# TYPE peerscope_ip_bytes counter\n# UNIT peerscope_ip_bytes bytes\n"), "{t}");
        assert!(t.contains("peerscope_ip_bytes_total{"), "{t}");
        assert!(t.contains("# TYPE peerscope_build info\n# HELP peerscope_build Build\npeerscope_build_info{"), "{t}");
        assert!(t.ends_with("# EOF\n"), "{t}");
    }

    #[test]
    fn test_accept_header_negotiation() {
        assert_eq!(Format::negotiate(None), Format::Prometheus);
        assert_eq!(Format::negotiate(Some("*/*")), Format::Prometheus);
        let prom = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prom)), Format::OpenMetrics);
    }

    #[test]
    fn test_label_values_are_escaped() {
        assert_eq!(labels(&[("a", "x\"y\\z\n")]), r#"a="x\"y\\z\n""#);
    }
}
