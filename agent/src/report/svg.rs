//! SVG plots (plotters, SVG backend only: no font or system library).

use std::io;
use std::path::Path;

use plotters::prelude::*;

use crate::engine::Report;

/// One line of a chart.
pub struct Series<'a> {
    pub name: &'a str,
    pub points: Vec<(f64, f64)>,
    pub color: RGBColor,
}

fn err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// A line chart with a legend; empty series are drawn as an empty frame.
pub fn line_chart(path: &Path, title: &str, x_label: &str, y_label: &str, series: &[Series<'_>]) -> io::Result<()> {
    let root = SVGBackend::new(path, (900, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let pts = series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y1) = (f64::MAX, f64::MIN, 0.0f64);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        (x0, x1) = (0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= 0.0 {
        y1 = 1.0;
    }
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, 0.0..y1 * 1.05)
        .map_err(err)?;
    chart.configure_mesh().x_desc(x_label).y_desc(y_label).draw().map_err(err)?;
    for s in series {
        let c = s.color;
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), c.stroke_width(2)))
            .map_err(err)?
            .label(s.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(err)?;
    root.present().map_err(err)
}

const BLUE_: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const GREEN_: RGBColor = RGBColor(44, 160, 44);
const RED_: RGBColor = RGBColor(214, 39, 40);

/// Writes rates.svg, video_rates.svg, parents_children.svg, stability.svg, cost.svg,
/// video_peers.svg, session_ccdf.svg and packet_sizes.svg into `dir`.
pub fn write_dir(dir: &Path, r: &Report) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    window_charts(dir, r)?;
    sample_charts(dir, r)?;
    distribution_charts(dir, r)
}

/// Seconds since the start of the report, for the x axis.
fn since_start(r: &Report) -> impl Fn(u64) -> f64 {
    let t0 = r.capture.start_unix_ns;
    move |ns: u64| ns.saturating_sub(t0) as f64 / 1e9
}

fn kbps(bytes_per_s: f64) -> f64 {
    bytes_per_s * 8.0 / 1000.0
}

/// One point per window ([M]): rates, parents and children, stability, cost.
fn window_charts(dir: &Path, r: &Report) -> io::Result<()> {
    let t = since_start(r);
    let w = &r.windows;
    line_chart(
        &dir.join("rates.svg"),
        "Upload and download rate of X per window [M] §III-C",
        "time (s)",
        "kbit/s",
        &[
            Series {
                name: "download",
                points: w.iter().map(|x| (t(x.start_unix_ns), kbps(x.down_bytes_per_s))).collect(),
                color: BLUE_,
            },
            Series {
                name: "upload",
                points: w.iter().map(|x| (t(x.start_unix_ns), kbps(x.up_bytes_per_s))).collect(),
                color: ORANGE,
            },
        ],
    )?;
    line_chart(
        &dir.join("parents_children.svg"),
        "Parents and children of X per window [M] §III-D",
        "time (s)",
        "hosts",
        &[
            Series {
                name: "parents",
                points: w.iter().map(|x| (t(x.start_unix_ns), x.parent_count as f64)).collect(),
                color: BLUE_,
            },
            Series {
                name: "children",
                points: w.iter().map(|x| (t(x.start_unix_ns), x.child_count as f64)).collect(),
                color: ORANGE,
            },
        ],
    )?;
    line_chart(
        &dir.join("stability.svg"),
        "Stability of the parent set S_n, X_n [M] §III-G",
        "time (s)",
        "",
        &[
            Series {
                name: "S_n",
                points: w.iter().filter_map(|x| Some((t(x.start_unix_ns), x.stability.s_n?))).collect(),
                color: GREEN_,
            },
            Series {
                name: "X_n",
                points: w.iter().filter_map(|x| Some((t(x.start_unix_ns), x.stability.x_n?))).collect(),
                color: RED_,
            },
        ],
    )?;
    line_chart(
        &dir.join("cost.svg"),
        "Cost of download and upload [M] §III-F",
        "time (s)",
        "miles per byte",
        &[
            Series {
                name: "download",
                points: w.iter().filter_map(|x| Some((t(x.start_unix_ns), x.cost.download_miles_per_byte?))).collect(),
                color: BLUE_,
            },
            Series {
                name: "upload",
                points: w.iter().filter_map(|x| Some((t(x.start_unix_ns), x.cost.upload_miles_per_byte?))).collect(),
                color: ORANGE,
            },
        ],
    )
}

/// One point per [H] sample: video rates, video peers.
fn sample_charts(dir: &Path, r: &Report) -> io::Result<()> {
    let t = since_start(r);
    let s = &r.samples;
    line_chart(
        &dir.join("video_rates.svg"),
        "Video upload and download rate per sample [H] Fig. 6",
        "time (s)",
        "kbit/s",
        &[
            Series {
                name: "video download",
                points: s.iter().map(|x| (t(x.start_unix_ns), kbps(x.rates.video_down_bytes_per_s))).collect(),
                color: BLUE_,
            },
            Series {
                name: "video upload",
                points: s.iter().map(|x| (t(x.start_unix_ns), kbps(x.rates.video_up_bytes_per_s))).collect(),
                color: ORANGE,
            },
        ],
    )?;
    line_chart(
        &dir.join("video_peers.svg"),
        "Active and changed video peers per sample [H] Fig. 7",
        "time (s)",
        "peers",
        &[
            Series {
                name: "video peers",
                points: s.iter().map(|x| (t(x.start_unix_ns), x.video_peers.video_peers as f64)).collect(),
                color: BLUE_,
            },
            Series {
                name: "changed video peers",
                points: s.iter().map(|x| (t(x.start_unix_ns), x.video_peers.changed as f64)).collect(),
                color: RED_,
            },
        ],
    )
}

/// The distributions: session durations, packet sizes.
fn distribution_charts(dir: &Path, r: &Report) -> io::Result<()> {
    let se = &r.sessions;
    line_chart(
        &dir.join("session_ccdf.svg"),
        "Session duration CCDF [H] §4.1",
        "duration (s)",
        "fraction lasting at least",
        &[
            Series {
                name: "video sessions",
                points: se.video_duration_ccdf.iter().map(|p| (p.duration_s, p.fraction_at_least)).collect(),
                color: BLUE_,
            },
            Series {
                name: "signaling sessions",
                points: se.signaling_duration_ccdf.iter().map(|p| (p.duration_s, p.fraction_at_least)).collect(),
                color: ORANGE,
            },
        ],
    )?;
    // The size CDF has one step per class, placed at the class's mean IP length.
    let mut steps: Vec<(f64, f64)> = Vec::new();
    let mut below = 0.0;
    for b in &r.sizes.cdf {
        if let (Some(x), Some(c)) = (b.mean_ip_len_bytes, b.cumulative_packet_fraction) {
            steps.push((x, below));
            steps.push((x, c));
            below = c;
        }
    }
    line_chart(
        &dir.join("packet_sizes.svg"),
        "Packet size CDF by class (ack, control, data, large) [M] §II-D",
        "mean IP length of the class (bytes)",
        "cumulative fraction of packets",
        &[Series { name: "packets", points: steps, color: BLUE_ }],
    )
}
