//! SVG line charts of the demo's windows, written beside `report.json`: the
//! monitored host's rates (measured, and the ground truth), and its parents and
//! children per window. Plain SVG text, no dependency.

use std::{fmt::Write as _, net::Ipv4Addr};

use peerscope::{engine::WindowSummary, schema::DemoRecord};

use super::truth::Truth;

pub struct Series {
    pub label: String,
    pub color: &'static str,
    pub points: Vec<(f64, f64)>,
}

const W: f64 = 720.0;
const H: f64 = 360.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;

/// A chart of `series` with axes from 0 to the largest value.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series]) -> String {
    let all = series.iter().flat_map(|s| s.points.iter());
    let x_max = all.clone().map(|p| p.0).fold(1e-9, f64::max);
    let y_max = 4.0 * nice_ceil(all.map(|p| p.1).fold(1e-9, f64::max) / 4.0);
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let sx = |x: f64| LEFT + x / x_max * pw;
    let sy = |y: f64| TOP + ph - y / y_max * ph;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(s, r#"<text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>"#, W / 2.0, esc(title));
    let _ = writeln!(s, r#"<line x1="{LEFT}" y1="{}" x2="{}" y2="{}" stroke="black"/>"#, TOP + ph, LEFT + pw, TOP + ph);
    let _ = writeln!(s, r#"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{}" stroke="black"/>"#, TOP + ph);
    for i in 0..=4 {
        let (xv, yv) = (x_max * i as f64 / 4.0, y_max * i as f64 / 4.0);
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            sx(xv),
            TOP + ph + 16.0,
            tick(xv)
        );
        let _ =
            writeln!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#, LEFT - 6.0, sy(yv) + 4.0, tick(yv));
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{0:.1}" x2="{1:.1}" y2="{0:.1}" stroke="#ddd"/>"##,
            sy(yv),
            LEFT + pw
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        LEFT + pw / 2.0,
        H - 12.0,
        esc(x_label)
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(16,{:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        TOP + ph / 2.0,
        esc(y_label)
    );
    for (i, ser) in series.iter().enumerate() {
        let pts: Vec<String> = ser.points.iter().map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y))).collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
            ser.color,
            pts.join(" ")
        );
        let ly = TOP + 14.0 + 18.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{0:.1}" y1="{ly:.1}" x2="{1:.1}" y2="{ly:.1}" stroke="{2}" stroke-width="2"/>"#,
            LEFT + pw + 12.0,
            LEFT + pw + 32.0,
            ser.color
        );
        let _ = writeln!(s, r#"<text x="{:.1}" y="{:.1}">{}</text>"#, LEFT + pw + 38.0, ly + 4.0, esc(&ser.label));
    }
    s.push_str("</svg>\n");
    s
}

/// The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `v`, so the
/// axis ticks fall on round numbers.
fn nice_ceil(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * p).find(|x| *x >= v).unwrap_or(10.0 * p)
}

fn tick(v: f64) -> String {
    if (v - v.round()).abs() < 1e-6 || v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn esc(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `truth_rates.svg` and `truth_peers.svg` for a finished run, as (file name, SVG).
pub fn plots(r: &DemoRecord, truth: &Truth) -> Vec<(&'static str, String)> {
    let t0 = r.windows.first().map_or(0, |w| w.start_unix_ns);
    let at = |ns: u64| (ns.saturating_sub(t0)) as f64 / 1e9;
    // The short window of the wind-down would read as a collapse of the rates.
    let longest = r.windows.iter().map(|w| w.len_ns).max().unwrap_or(0);
    let series = |label: &str, color, f: &dyn Fn(&WindowSummary) -> f64| Series {
        label: label.to_string(),
        color,
        points: r
            .windows
            .iter()
            .filter(|w| w.len_ns > 0 && w.len_ns * 2 >= longest)
            .map(|w| (at(w.start_unix_ns + w.len_ns), f(w)))
            .collect(),
    };
    let kbps = |bytes: u64, w: &WindowSummary| bytes as f64 * 8.0 / (w.len_ns as f64 / 1e9) / 1e3;
    let me = match r.monitored {
        std::net::IpAddr::V4(v4) => v4,
        std::net::IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    };
    let truth_in = |w: &WindowSummary, up: bool| {
        let (lo, hi) = (w.start_unix_ns / 1_000_000_000, (w.start_unix_ns + w.len_ns) / 1_000_000_000);
        truth_bytes(truth, me, up, lo, hi)
    };
    let rates = [
        series("up, measured", "#d62728", &|w| kbps(w.pairs.iter().map(|p| p.up_bytes).sum(), w)),
        series("down, measured", "#1f77b4", &|w| kbps(w.pairs.iter().map(|p| p.down_bytes).sum(), w)),
        series("up, ground truth", "#ff9896", &|w| kbps(truth_in(w, true), w)),
        series("down, ground truth", "#aec7e8", &|w| kbps(truth_in(w, false), w)),
    ];
    let peers = [
        series("children", "#d62728", &|w| w.children.len() as f64),
        series("parents", "#1f77b4", &|w| w.parents.len() as f64),
    ];
    let title = format!("{} ({:?}): rate per window", r.monitored, r.profile);
    vec![
        ("truth_rates.svg", line_chart(&title, "seconds", "kbit/s (IP bytes; truth: TCP payload)", &rates)),
        ("truth_peers.svg", line_chart("parents and children per window (> 4 KB/s)", "seconds", "hosts", &peers)),
    ]
}

/// Ground-truth bytes sent by (`up`) or to `me` in Unix seconds `[lo, hi)`.
fn truth_bytes(t: &Truth, me: Ipv4Addr, up: bool, lo: u64, hi: u64) -> u64 {
    t.bytes
        .iter()
        .filter(|((s, d, sec), _)| (lo..hi).contains(sec) && if up { *s == me } else { *d == me })
        .map(|(_, b)| b)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_line_chart_draws_each_series() {
        let s = [
            Series { label: "up".into(), color: "red", points: vec![(10.0, 5.0), (20.0, 7.0)] },
            Series { label: "a<b".into(), color: "blue", points: vec![(10.0, 1.0)] },
        ];
        let svg = line_chart("t", "x", "y", &s);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("a&lt;b"));
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn test_nice_ceil() {
        assert_eq!(nice_ceil(3.7), 5.0);
        assert_eq!(nice_ceil(1043.0), 2000.0);
        assert_eq!(nice_ceil(4.0), 5.0);
        assert_eq!(nice_ceil(0.3), 0.5);
    }

    #[test]
    fn test_truth_bytes_by_direction_and_second() {
        let g = super::super::truth::GroundTruth::default();
        let (me, x) = (Ipv4Addr::new(198, 51, 100, 10), Ipv4Addr::new(203, 0, 113, 20));
        g.sent(me, x, 10);
        g.sent(x, me, 3);
        let t = g.snapshot();
        let now = super::super::now_unix_secs();
        assert_eq!(truth_bytes(&t, me, true, now - 5, now + 5), 10);
        assert_eq!(truth_bytes(&t, me, false, now - 5, now + 5), 3);
        assert_eq!(truth_bytes(&t, me, true, 0, 1), 0);
    }
}
