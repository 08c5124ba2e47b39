//! SVG plots (plotters, SVG backend only: no font or system library).

use std::io;
use std::path::Path;

use std::collections::BTreeSet;

use plotters::prelude::*;
/// The colour type of [`Series`], for callers outside this crate.
pub use plotters::style::RGBColor;

use crate::engine::Report;

/// One line of a chart. A NaN y is a gap: the line stops there. A point with no
/// neighbour on either side is drawn as a dot, so a single value stays visible.
pub struct Series<'a> {
    pub name: &'a str,
    pub points: Vec<(f64, f64)>,
    pub color: RGBColor,
}

fn err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// Says why a figure is not drawn, in `ABSENT.txt` beside the figures (no empty
/// chart is written), and removes an older copy of it.
pub fn absent(path: &Path, why: &str) -> io::Result<()> {
    let _ = std::fs::remove_file(path);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let list = path.with_file_name("ABSENT.txt");
    let mut text = std::fs::read_to_string(&list).unwrap_or_default();
    text.push_str(&format!("{name}: {why}\n"));
    std::fs::write(list, text)
}

/// A line chart with a legend (see [`Series`]); without a single finite point the
/// chart is not drawn and [`absent`] says so with `why_empty`.
pub fn line_chart(path: &Path, title: &str, x_label: &str, y_label: &str, series: &[Series<'_>]) -> io::Result<()> {
    chart(path, title, x_label, y_label, series, &[])
}

/// Consecutive runs of finite points.
fn runs(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for &(x, y) in points {
        if y.is_finite() {
            out.last_mut().expect("one run").push((x, y));
        } else if !out.last().expect("one run").is_empty() {
            out.push(Vec::new());
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// `vmarks`: x positions marked by dashed vertical lines (thresholds).
pub fn chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
    vmarks: &[f64],
) -> io::Result<()> {
    let finite: Vec<(f64, f64)> =
        series.iter().flat_map(|s| s.points.iter().copied()).filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
    if finite.is_empty() {
        return absent(path, &format!("{title}: no value to draw"));
    }
    let root = SVGBackend::new(path, (900, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (mut x0, mut x1, mut y1) = (f64::MAX, f64::MIN, 0.0f64);
    for &(x, y) in finite.iter() {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    for &m in vmarks {
        x1 = x1.max(m);
    }
    if x1 <= x0 {
        (x0, x1) = (x0 - 0.5, x0 + 0.5);
    }
    if y1 <= 0.0 {
        y1 = 1.0;
    }
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, 0.0..y1 * 1.05)
        .map_err(err)?;
    chart.configure_mesh().x_desc(x_label).y_desc(y_label).draw().map_err(err)?;
    for &m in vmarks {
        let dashes = (0..40).map(|k| {
            let (a, b) = (y1 * 1.05 * k as f64 / 40.0, y1 * 1.05 * (k as f64 + 0.5) / 40.0);
            PathElement::new(vec![(m, a), (m, b)], BLACK.mix(0.6).stroke_width(1))
        });
        chart.draw_series(dashes).map_err(err)?;
    }
    for s in series {
        let c = s.color;
        let mut labelled = false;
        for run in runs(&s.points) {
            let drawn = if run.len() == 1 {
                chart.draw_series(run.iter().map(|&p| Circle::new(p, 3, c.filled()))).map_err(err)?
            } else {
                chart.draw_series(LineSeries::new(run.iter().copied(), c.stroke_width(2))).map_err(err)?
            };
            if !labelled {
                drawn
                    .label(s.name)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
                labelled = true;
            }
        }
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(err)?;
    root.present().map_err(err)
}

/// Per-window values as steps: each value held over its window [start, start +
/// len), a NaN gap where a value is missing or windows are not adjacent.
pub fn steps<T>(items: &[T], span: impl Fn(&T) -> (f64, f64), value: impl Fn(&T) -> Option<f64>) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut last_end: Option<f64> = None;
    for it in items {
        let (a, b) = span(it);
        match value(it) {
            Some(v) => {
                if last_end.is_some_and(|e| (e - a).abs() > 1e-9) {
                    out.push((a, f64::NAN));
                }
                out.push((a, v));
                out.push((b, v));
                last_end = Some(b);
            }
            None => {
                out.push((a, f64::NAN));
                last_end = None;
            }
        }
    }
    out
}

/// An empirical "fraction at least x" as the step function it is: points in
/// ascending x, each value holding up to its x and dropping there to the next one's.
pub fn ccdf_steps(points: impl IntoIterator<Item = (f64, f64)>) -> Vec<(f64, f64)> {
    let points: Vec<(f64, f64)> = points.into_iter().collect();
    let mut out = Vec::with_capacity(points.len() * 2);
    for (i, &(x, y)) in points.iter().enumerate() {
        out.push((x, y));
        if let Some(&(_, next)) = points.get(i + 1) {
            out.push((x, next));
        }
    }
    out
}

/// Marks of the partial (shorter than their period) windows or samples.
pub fn partial_marks<T>(items: &[T], span: impl Fn(&T) -> (f64, f64), partial: impl Fn(&T) -> bool) -> Series<'static> {
    let mut points = Vec::new();
    for it in items.iter().filter(|i| partial(i)) {
        let (a, b) = span(it);
        points.push((a, 0.0));
        points.push((b, 0.0));
        points.push((b, f64::NAN));
    }
    Series { name: "partial window (observed length)", points, color: RGBColor(150, 150, 150) }
}

/// The time axis convention of every time chart.
pub const TIME_AXIS: &str = "time since the first window's start (s); a value is held over its window";

pub const BLUE_: RGBColor = RGBColor(31, 119, 180);
pub const ORANGE: RGBColor = RGBColor(255, 127, 14);
pub const GREEN_: RGBColor = RGBColor(44, 160, 44);
pub const RED_: RGBColor = RGBColor(214, 39, 40);

/// Writes rates.svg, video_rates.svg, parents_children.svg, stability.svg, cost.svg,
/// top_peer_share.svg, hosts_contacted.svg, video_peers.svg, session_ccdf.svg,
/// session_scatter.svg and packet_sizes.svg into `dir`; a figure
/// that cannot be drawn is listed with the reason in `ABSENT.txt` instead.
pub fn write_dir(dir: &Path, r: &Report) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let _ = std::fs::remove_file(dir.join("ABSENT.txt"));
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

/// One step per window ([M]): rates, parents and children, stability, cost.
fn window_charts(dir: &Path, r: &Report) -> io::Result<()> {
    let t = since_start(r);
    let w = &r.windows;
    // An entry of `count` empty windows holds its values over all of them.
    let span = |x: &crate::engine::WindowSummary| (t(x.start_unix_ns), t(x.end_unix_ns()));
    let partial = || partial_marks(w, span, |x| x.partial);
    chart(
        &dir.join("rates.svg"),
        "Upload and download rate of X per window [M] §III-C",
        TIME_AXIS,
        "kbit/s",
        &[
            Series { name: "download", points: steps(w, span, |x| Some(kbps(x.down_bytes_per_s))), color: BLUE_ },
            Series { name: "upload", points: steps(w, span, |x| Some(kbps(x.up_bytes_per_s))), color: ORANGE },
            partial(),
        ],
        &[],
    )?;
    chart(
        &dir.join("parents_children.svg"),
        "Parents and children of X per window [M] §III-D",
        TIME_AXIS,
        "hosts",
        &[
            Series { name: "parents", points: steps(w, span, |x| Some(x.parent_count as f64)), color: BLUE_ },
            Series { name: "children", points: steps(w, span, |x| Some(x.child_count as f64)), color: ORANGE },
            partial(),
        ],
        &[],
    )?;
    chart(
        &dir.join("stability.svg"),
        "Stability of the parent set S_n, X_n [M] §III-G",
        TIME_AXIS,
        "",
        &[
            Series { name: "S_n", points: steps(w, span, |x| x.stability.s_n), color: GREEN_ },
            Series { name: "X_n", points: steps(w, span, |x| x.stability.x_n), color: RED_ },
            partial(),
        ],
        &[],
    )?;
    // [H] Fig. 5: the largest single peer's share of X's download (upload) per window.
    let top_share = |down: bool| {
        move |x: &crate::engine::WindowSummary| {
            let b = |p: &crate::engine::rates::PairRate| if down { p.down_bytes } else { p.up_bytes };
            let total: u64 = x.pairs.iter().map(b).sum();
            (total > 0).then(|| x.pairs.iter().map(b).max().unwrap_or(0) as f64 / total as f64)
        }
    };
    chart(
        &dir.join("top_peer_share.svg"),
        "Top peer's share of X's traffic per window [H] Fig. 5 (gaps: no traffic that way)",
        TIME_AXIS,
        "share of the window's bytes",
        &[
            Series { name: "download", points: steps(w, span, top_share(true)), color: BLUE_ },
            Series { name: "upload", points: steps(w, span, top_share(false)), color: ORANGE },
            partial(),
        ],
        &[],
    )?;
    // [M] Fig. 6: hosts communicated with so far, and those of them that became
    // parents or children.
    let (mut seen, mut parents, mut children) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let mut counts = Vec::with_capacity(w.len());
    for x in w {
        seen.extend(x.pairs.iter().map(|p| p.peer));
        parents.extend(x.parents.iter().map(|p| p.peer));
        children.extend(x.children.iter().map(|p| p.peer));
        counts.push((seen.len(), parents.len(), children.len()));
    }
    let cum = |f: fn(&(usize, usize, usize)) -> usize| {
        steps(&w.iter().zip(&counts).collect::<Vec<_>>(), |p| span(p.0), |p| Some(f(p.1) as f64))
    };
    chart(
        &dir.join("hosts_contacted.svg"),
        "Hosts communicated with, and those that became parents or children [M] Fig. 6",
        TIME_AXIS,
        "hosts so far",
        &[
            Series { name: "hosts communicated with", points: cum(|c| c.0), color: GREEN_ },
            Series { name: "became parents", points: cum(|c| c.1), color: BLUE_ },
            Series { name: "became children", points: cum(|c| c.2), color: ORANGE },
        ],
        &[],
    )?;
    if r.config.geolocation.is_none() {
        return absent(&dir.join("cost.svg"), "no geolocation (--geo): distances and costs are unknown");
    }
    chart(
        &dir.join("cost.svg"),
        "Cost of download and upload [M] §III-F (gaps: no parent/child located)",
        TIME_AXIS,
        "miles per byte",
        &[
            Series { name: "download", points: steps(w, span, |x| x.cost.download_miles_per_byte), color: BLUE_ },
            Series { name: "upload", points: steps(w, span, |x| x.cost.upload_miles_per_byte), color: ORANGE },
            partial(),
        ],
        &[],
    )
}

/// One step per [H] sample: video rates, video peers.
fn sample_charts(dir: &Path, r: &Report) -> io::Result<()> {
    let t = since_start(r);
    let s = &r.samples;
    let span = |x: &crate::engine::SampleSummary| (t(x.start_unix_ns), t(x.end_unix_ns()));
    let partial = || partial_marks(s, span, |x| x.partial);
    chart(
        &dir.join("video_rates.svg"),
        "Video upload and download rate per sample [H] Fig. 6 (large packets in video sessions)",
        TIME_AXIS,
        "kbit/s",
        &[
            Series {
                name: "video download",
                points: steps(s, span, |x| Some(kbps(x.rates.video_down_bytes_per_s))),
                color: BLUE_,
            },
            Series {
                name: "video upload",
                points: steps(s, span, |x| Some(kbps(x.rates.video_up_bytes_per_s))),
                color: ORANGE,
            },
            partial(),
        ],
        &[],
    )?;
    chart(
        &dir.join("video_peers.svg"),
        "Active and changed video peers per sample [H] Fig. 7",
        TIME_AXIS,
        "peers",
        &[
            Series {
                name: "video peers",
                points: steps(s, span, |x| Some(x.video_peers.video_peers as f64)),
                color: BLUE_,
            },
            Series {
                name: "changed video peers",
                points: steps(s, span, |x| Some(x.video_peers.changed as f64)),
                color: RED_,
            },
            partial(),
        ],
        &[],
    )
}

/// The distributions: session durations, packet sizes.
fn distribution_charts(dir: &Path, r: &Report) -> io::Result<()> {
    let se = &r.sessions;
    chart(
        &dir.join("session_ccdf.svg"),
        "Session duration CCDF [H] §4.1 (steps: the fraction drops at each duration)",
        "duration (s)",
        "fraction lasting at least",
        &[
            Series {
                name: "video sessions",
                points: ccdf_steps(se.video_duration_ccdf.iter().map(|p| (p.duration_s, p.fraction_at_least))),
                color: BLUE_,
            },
            Series {
                name: "signaling sessions",
                points: ccdf_steps(se.signaling_duration_ccdf.iter().map(|p| (p.duration_s, p.fraction_at_least))),
                color: ORANGE,
            },
        ],
        &[],
    )?;
    // [H] Fig. 3: each session a dot (NaN between points: no line).
    let dots = |video: bool| {
        se.points
            .iter()
            .filter(|p| p.video == video)
            .flat_map(|p| [(p.duration_s, p.mean_ip_len_bytes), (p.duration_s, f64::NAN)])
            .collect()
    };
    chart(
        &dir.join("session_scatter.svg"),
        "Session duration vs mean packet size [H] Fig. 3",
        "session duration (s)",
        "mean IP length (bytes)",
        &[
            Series { name: "video sessions", points: dots(true), color: BLUE_ },
            Series { name: "signaling sessions", points: dots(false), color: ORANGE },
        ],
        &[],
    )?;
    packet_sizes(dir, r)
}

/// [M] Fig. 1: the CDF of IP lengths per direction, from the 8-byte histogram, with
/// the class thresholds marked (data from 1024 B, large above 1200 B by default).
fn packet_sizes(dir: &Path, r: &Report) -> io::Result<()> {
    let path = dir.join("packet_sizes.svg");
    let Some(d) = &r.sizes.distribution else {
        return absent(&path, "no packet-size histogram (live reports do not count one yet)");
    };
    let cdf = |s: &crate::engine::histogram::DirectionSizes| -> Vec<(f64, f64)> {
        // A step at each bin's upper edge: the fraction of packets shorter than it.
        let mut pts = vec![(0.0, 0.0)];
        for (i, c) in s.cdf.iter().enumerate() {
            let Some(c) = c else { continue };
            let edge = if i + 1 == s.bins.len() {
                d.tail_from_ip_len_bytes + d.bin_bytes
            } else {
                (i as u32 + 1) * d.bin_bytes
            };
            let prev = pts.last().map_or(0.0, |p| p.1);
            pts.push((edge as f64, prev));
            pts.push((edge as f64, *c));
        }
        pts
    };
    let c = &r.config;
    let title = format!(
        "Packet size CDF per direction [M] Fig. 1 (8-byte bins; last bin ≥ {} B; dashed: data ≥ {} B, large > {} B)",
        d.tail_from_ip_len_bytes, c.data_min_ip_len_bytes, c.large_above_ip_len_bytes
    );
    let marks = [c.data_min_ip_len_bytes as f64, c.large_above_ip_len_bytes as f64 + 1.0];
    chart(
        &path,
        &title,
        "IP length (bytes)",
        "cumulative fraction of packets",
        &[
            Series { name: "download (peer → X)", points: cdf(&d.download), color: BLUE_ },
            Series { name: "upload (X → peer)", points: cdf(&d.upload), color: ORANGE },
        ],
        &marks,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::scenario::rates;
    use crate::testing::*;

    /// Windows [0,20) = 2, [20,40) = 3, then [60,80) = 5 after a missing window: a
    /// step held over each window, a gap (NaN) between 40 and 60, no ramp.
    #[test]
    fn test_steps_hold_each_window_and_leave_gaps() {
        let w = [(0.0, 20.0, 2.0), (20.0, 40.0, 3.0), (60.0, 80.0, 5.0)];
        let p = steps(&w, |x| (x.0, x.1), |x| Some(x.2));
        let finite: Vec<_> = p.iter().filter(|q| q.1.is_finite()).copied().collect();
        assert_eq!(finite, vec![(0.0, 2.0), (20.0, 2.0), (20.0, 3.0), (40.0, 3.0), (60.0, 5.0), (80.0, 5.0)]);
        assert_eq!(runs(&p).len(), 2, "the gap splits the line");
        assert_eq!(runs(&[(1.0, 1.0), (2.0, f64::NAN), (3.0, 2.0)]), vec![vec![(1.0, 1.0)], vec![(3.0, 2.0)]]);
    }

    /// Durations 5, 10, 30 s: 3/3 last at least 5 s, 2/3 at least 10 s (so 2/3 just
    /// after 5 s), 1/3 at least 30 s: vertical drops at each duration, no ramp.
    #[test]
    fn test_ccdf_is_drawn_as_steps() {
        let p = ccdf_steps([(5.0, 1.0), (10.0, 2.0 / 3.0), (30.0, 1.0 / 3.0)]);
        assert_eq!(p, vec![(5.0, 1.0), (5.0, 2.0 / 3.0), (10.0, 2.0 / 3.0), (10.0, 1.0 / 3.0), (30.0, 1.0 / 3.0)]);
        assert!(ccdf_steps([]).is_empty());
    }

    /// See [`rates`] (Δ = 20 s), no geolocation: cost.svg is not written and
    /// ABSENT.txt says why; the packet-size figure is the per-direction CDF with the
    /// thresholds marked; the rates figure states the time axis.
    #[test]
    fn test_figures_without_geolocation() {
        let r = analyze(&rates(), window_config(20)).report;
        let dir = temp_path("plots");
        write_dir(&dir, &r).unwrap();
        assert!(!dir.join("cost.svg").exists());
        let absent = std::fs::read_to_string(dir.join("ABSENT.txt")).unwrap();
        assert!(absent.contains("cost.svg: no geolocation"), "{absent}");
        // UDP only: no session to draw in [H] Fig. 3.
        assert!(absent.contains("session_scatter.svg") && !dir.join("session_scatter.svg").exists(), "{absent}");
        let sizes = std::fs::read_to_string(dir.join("packet_sizes.svg")).unwrap();
        assert!(sizes.contains("Fig. 1") && sizes.contains("upload (X"), "per direction");
        let rates_svg = std::fs::read_to_string(dir.join("rates.svg")).unwrap();
        assert!(rates_svg.contains("a value is held over its window"));
        for f in ["top_peer_share.svg", "hosts_contacted.svg"] {
            assert!(std::fs::read_to_string(dir.join(f)).unwrap().contains("<polyline"), "{f}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
