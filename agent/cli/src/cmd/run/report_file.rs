//! The running agent's report for `peerscope report`: written at each window into
//! `/run/peerscope` (a tmpfs, that is memory), so bounded in size whatever the run's
//! length, and replaced atomically so a reader never sees half a file.

use std::io::Write;

use peerscope_abi::Counter;
use serde::Serialize;

use peerscope::{
    engine::report::Report,
    live::{
        pins::{write_private, PinDir},
        Measurement, Target,
    },
};

/// The most recent windows (and [H] samples) the file keeps: 2 hours of 20 s windows.
pub const MAX_WINDOWS: usize = 360;
/// The largest flows the file lists.
pub const MAX_FLOWS: usize = 1000;

/// What was left out of the file to bound it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Omitted {
    pub windows: usize,
    pub samples: usize,
    pub flows: usize,
}

/// Keeps the last [`MAX_WINDOWS`] windows and samples and the [`MAX_FLOWS`] largest
/// flows; every total in the report still covers the whole run.
pub fn bound(report: &mut Report) -> Omitted {
    let keep_last = |n: usize| n.saturating_sub(MAX_WINDOWS);
    let omitted = Omitted {
        windows: keep_last(report.windows.len()),
        samples: keep_last(report.samples.len()),
        flows: report.flows.len().saturating_sub(MAX_FLOWS),
    };
    report.windows.drain(..omitted.windows);
    report.samples.drain(..omitted.samples);
    if omitted.flows > 0 {
        report.flows.sort_by_key(|f| std::cmp::Reverse(f.bytes));
        report.flows.truncate(MAX_FLOWS);
    }
    omitted
}

/// What the full flow table kept out of every figure of the report, since the program
/// was loaded (the kernel's counters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Overflow {
    pub packets: u64,
    pub bytes: u64,
    pub flow_insert_failures: u64,
}

impl Overflow {
    fn of(counters: &[u64]) -> Self {
        let c = |k: Counter| counters.get(k as usize).copied().unwrap_or(0);
        Overflow {
            packets: c(Counter::OverflowPackets),
            bytes: c(Counter::OverflowBytes),
            flow_insert_failures: c(Counter::FlowInsertFailures),
        }
    }
}

/// The JSON file: the live report, with what bounding left out and the overflow.
#[derive(Serialize)]
struct ReportFile<'a> {
    #[serde(flatten)]
    live: &'a peerscope::live::LiveReport,
    omitted: Omitted,
    overflow: Overflow,
}

/// Writes the JSON and the text report of the measurement's state.
pub fn write(p: &PinDir, target: &Target, measure: &Measurement, counters: &[u64]) -> anyhow::Result<()> {
    let mut so_far = measure.snapshot();
    let omitted = bound(&mut so_far.report);
    let overflow = Overflow::of(counters);
    write_private(&p.report_file, &serde_json::to_vec(&ReportFile { live: &so_far, omitted, overflow })?)?;
    let mut text =
        format!("peerscope live report for {} (agent pid {})\n", target.describe(), std::process::id()).into_bytes();
    if overflow.packets > 0 {
        writeln!(
            text,
            "warning: the flow table was full: {} packets ({} bytes) of {} new flows are in no figure of this report",
            overflow.packets, overflow.bytes, overflow.flow_insert_failures
        )?;
    }
    so_far.write_text(&mut text)?;
    writeln!(text, "\nWindows so far:")?;
    if omitted.windows > 0 {
        writeln!(
            text,
            "({} earlier windows are left out of this file; their figures are in the totals above)",
            omitted.windows
        )?;
    }
    for w in &so_far.report.windows {
        peerscope::report::text::window_line(&mut text, w)?;
    }
    write_private(&p.report_text_file, &text)?;
    Ok(())
}
