//! What `run` prints each interval: a table for people, or one JSON object per line.

use std::io::Write;

use peerscope_abi::{Counter, FlowStats, UnixNs};

use peerscope::{
    engine::WindowSummary,
    live::{table::Poll, FlowDelta},
    view::{FlowRow, PerClass},
};

use crate::{cli::RunArgs, human};

/// One interval's reading, as the outputs need it.
pub struct Interval<'a> {
    pub n: u64,
    pub now: u64,
    /// Intervals that passed without a poll before this one (the previous ran late).
    pub missed: u64,
    pub poll: &'a Poll,
    pub counters: &'a [u64],
    pub samples: usize,
    pub decoded: usize,
}

impl Interval<'_> {
    /// The busiest flows first, at most `top`, and the interval's totals.
    fn rows(&self, args: &RunArgs) -> (Vec<FlowRow>, FlowStats<UnixNs>) {
        let mut deltas: Vec<&FlowDelta> = self.poll.deltas.iter().collect();
        deltas.sort_by(|a, b| b.delta.total_bytes().cmp(&a.delta.total_bytes()).then(a.key.cmp(&b.key)));
        let mut total = FlowStats::default();
        for d in &deltas {
            total.merge(&d.delta);
        }
        let secs = args.interval * (1 + self.missed) as f64;
        let rows = deltas.iter().take(args.top).map(|d| FlowRow::new(&d.key, Some(&d.delta), &d.total, secs)).collect();
        (rows, total)
    }

    fn counter(&self, c: Counter) -> u64 {
        self.counters.get(c as usize).copied().unwrap_or(0)
    }
}

pub fn json(o: &mut impl Write, args: &RunArgs, i: &Interval, window: Option<&WindowSummary>) -> anyhow::Result<()> {
    let (rows, total) = i.rows(args);
    let counters: serde_json::Map<String, serde_json::Value> =
        Counter::ALL.iter().map(|c| (c.name().to_string(), i.counter(*c).into())).collect();
    let doc = serde_json::json!({
        "interval": i.n,
        "time_unix_ns": i.now,
        "interval_secs": args.interval,
        "iface": args.iface,
        "active_flows": i.poll.deltas.len(),
        "flows_in_table": i.poll.flows_in_table,
        "flows_reaped": i.poll.reaped,
        "packets": PerClass::from(total.packets),
        "bytes": PerClass::from(total.bytes),
        "flows": rows,
        "counters": counters,
        "control_samples": i.samples,
        "control_messages": i.decoded,
        "window": window,
    });
    writeln!(o, "{}", serde_json::to_string(&doc)?)?;
    Ok(())
}

pub fn table(o: &mut impl Write, args: &RunArgs, i: &Interval, window: Option<&WindowSummary>) -> anyhow::Result<()> {
    let (rows, total) = i.rows(args);
    writeln!(
        o,
        "-- interval {}: {} active flows, {} in table, {} packets, {} ({} overflow, {} truncated, {} non-IP){}",
        i.n,
        i.poll.deltas.len(),
        i.poll.flows_in_table,
        total.total_packets(),
        human::bytes(total.total_bytes()),
        i.counter(Counter::OverflowPackets),
        i.counter(Counter::Truncated),
        i.counter(Counter::NonIp),
        if i.missed > 0 { format!("; {} intervals late", i.missed) } else { String::new() }
    )?;
    write!(o, "{}", human::flow_table(&rows, true))?;
    if let Some(s) = window {
        peerscope::report::text::window_line(o, s)?;
    }
    Ok(())
}
