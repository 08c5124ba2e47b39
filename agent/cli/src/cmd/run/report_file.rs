//! The running agent's report document for `peerscope report`: written at each window
//! into `/run/peerscope` (a tmpfs, that is memory), so bounded in size whatever the
//! run's length, and replaced atomically so a reader never sees half a file.

use peerscope_abi::Counter;

use peerscope::{
    engine::report::Report,
    live::{
        pins::{write_private, PinDir},
        Measurement, Target,
    },
    schema::{Omitted, Overflow, ReportSource},
};

/// The most recent windows (and [H] samples) the file keeps: 2 hours of 20 s windows.
pub const MAX_WINDOWS: usize = 360;
/// The largest flows the file lists.
pub const MAX_FLOWS: usize = 1000;

/// Keeps the last [`MAX_WINDOWS`] windows and samples and the [`MAX_FLOWS`] largest
/// flows; every total in the report still covers the whole run. What is omitted
/// counts what the engine no longer held too (`--history`, retired flows).
pub fn bound(report: &mut Report) -> Omitted {
    let drop_first = |n: usize| n.saturating_sub(MAX_WINDOWS);
    report.windows.drain(..drop_first(report.windows.len()));
    report.samples.drain(..drop_first(report.samples.len()));
    if report.flows.len() > MAX_FLOWS {
        report.flows.sort_by_key(|f| std::cmp::Reverse(f.total.classes.bytes));
        report.flows.truncate(MAX_FLOWS);
    }
    let c = &report.capture;
    // An entry may stand for a run of empty windows or samples.
    let windows: u64 = report.windows.iter().map(|w| w.count).sum();
    let samples: u64 = report.samples.iter().map(|s| s.count).sum();
    Omitted {
        windows: c.windows.saturating_sub(windows as usize),
        samples: c.samples.saturating_sub(samples as usize),
        flows: (c.flows as usize).saturating_sub(report.flows.len()),
    }
}

/// What the full flow table kept out of every figure, from the kernel's counters.
fn overflow_of(counters: &[u64]) -> Overflow {
    let c = |k: Counter| counters.get(k as usize).copied().unwrap_or(0);
    Overflow {
        packets: c(Counter::OverflowPackets),
        bytes: c(Counter::OverflowBytes),
        flow_insert_failures: c(Counter::FlowInsertFailures),
    }
}

/// Writes the report document of the measurement's state (`peerscope report` renders
/// its text from it).
pub fn write(p: &PinDir, target: &Target, measure: &Measurement, counters: &[u64], now: u64) -> anyhow::Result<()> {
    let mut so_far = measure.snapshot(Some(MAX_FLOWS));
    let omitted = bound(&mut so_far.report);
    let source = ReportSource::Live {
        iface: target.iface.clone(),
        ifindex: target.ifindex,
        netns_cookie: target.netns.cookie,
        agent_pid: std::process::id(),
        written_unix_ns: now,
        omitted,
        overflow: overflow_of(counters),
    };
    write_private(&p.report_file, &serde_json::to_vec(&so_far.into_document(source))?)?;
    Ok(())
}
