//! The demo's own figures, written beside `report.json`: the monitored host's
//! rates (measured, and the ground truth), and its parents and children per window,
//! in the style of every other figure (`peerscope::report::svg`: steps per window,
//! the time axis at the window's start, partial windows marked).

use std::io;
use std::net::Ipv4Addr;
use std::path::Path;

use peerscope::engine::WindowSummary;
use peerscope::report::svg::{chart, partial_marks, steps, RGBColor, Series, BLUE_, ORANGE, RED_, TIME_AXIS};
use peerscope::schema::DemoRecord;

use super::truth::Truth;

/// Writes `truth_rates.svg` and `truth_peers.svg` into `dir` for a finished run.
pub fn write_plots(dir: &Path, r: &DemoRecord, truth: &Truth) -> io::Result<()> {
    let t0 = r.windows.first().map_or(0, |w| w.start_unix_ns);
    let at = |ns: u64| (ns.saturating_sub(t0)) as f64 / 1e9;
    let w = &r.windows;
    let span = |x: &WindowSummary| (at(x.start_unix_ns), at(x.end_unix_ns()));
    // The wind-down's window is shorter: marked, not hidden.
    let longest = w.iter().map(|x| x.len_ns).max().unwrap_or(0);
    let partial = || partial_marks(w, span, |x| x.len_ns < longest);
    let kbps =
        |bytes: u64, x: &WindowSummary| (x.len_ns > 0).then(|| bytes as f64 * 8.0 / (x.len_ns as f64 / 1e9) / 1e3);
    let me = match r.monitored {
        std::net::IpAddr::V4(v4) => v4,
        std::net::IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    };
    let truth_in = |x: &WindowSummary, up: bool| {
        let (lo, hi) = (x.start_unix_ns / 1_000_000_000, (x.start_unix_ns + x.len_ns) / 1_000_000_000);
        truth_bytes(truth, me, up, lo, hi)
    };
    let light = |c: RGBColor| {
        RGBColor(((c.0 as u16 + 255) / 2) as u8, ((c.1 as u16 + 255) / 2) as u8, ((c.2 as u16 + 255) / 2) as u8)
    };
    let title = format!("{} ({:?}): rate per window", r.monitored, r.profile);
    chart(
        &dir.join("truth_rates.svg"),
        &title,
        TIME_AXIS,
        "kbit/s (IP bytes; truth: TCP payload)",
        &[
            Series {
                name: "up, measured",
                points: steps(w, span, |x| kbps(x.pairs.iter().map(|p| p.up_bytes).sum(), x)),
                color: RED_,
            },
            Series {
                name: "down, measured",
                points: steps(w, span, |x| kbps(x.pairs.iter().map(|p| p.down_bytes).sum(), x)),
                color: BLUE_,
            },
            Series {
                name: "up, ground truth",
                points: steps(w, span, |x| kbps(truth_in(x, true), x)),
                color: light(RED_),
            },
            Series {
                name: "down, ground truth",
                points: steps(w, span, |x| kbps(truth_in(x, false), x)),
                color: light(BLUE_),
            },
            partial(),
        ],
        &[],
    )?;
    chart(
        &dir.join("truth_peers.svg"),
        "parents and children per window (> 4 KB/s)",
        TIME_AXIS,
        "hosts",
        &[
            Series { name: "children", points: steps(w, span, |x| Some(x.children.len() as f64)), color: ORANGE },
            Series { name: "parents", points: steps(w, span, |x| Some(x.parents.len() as f64)), color: BLUE_ },
            partial(),
        ],
        &[],
    )
}

/// Ground-truth bytes sent by (`up`) or to `me` in Unix seconds `[lo, hi)`.
fn truth_bytes(t: &Truth, me: Ipv4Addr, up: bool, lo: u64, hi: u64) -> u64 {
    t.bytes
        .iter()
        .filter(|((s, d, sec), _)| (lo..hi).contains(sec) && if up { *s == me } else { *d == me })
        .map(|(_, b)| b)
        .sum()
}
