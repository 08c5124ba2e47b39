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
        report.flows.sort_by_key(|f| std::cmp::Reverse(f.total.classes.bytes));
        report.flows.truncate(MAX_FLOWS);
    }
    omitted
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
    let mut so_far = measure.snapshot();
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
