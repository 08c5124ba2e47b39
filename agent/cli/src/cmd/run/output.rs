//! What `run` prints each interval: a table for people, or one JSON object per line.

use std::io::Write;

use peerscope_abi::{Counter, FlowStats, UnixNs};

use peerscope::{
    engine::MonitoredHost,
    live::{baseline::WindowNotes, FlowDelta},
    schema::{interval::IntervalTag, Flow, IntervalDocument, KernelCounters, SchemaVersion},
};

use super::agent::Polled;
use crate::{cli::RunArgs, human};

/// One interval's reading, as the outputs need it.
pub struct Interval<'a> {
    pub n: u64,
    pub now: u64,
    /// Intervals that passed without a poll before this one (the previous ran late).
    pub missed: u64,
    pub polled: &'a Polled,
    pub counters: &'a [u64],
    /// The monitored host (the flows' direction).
    pub host: &'a MonitoredHost,
    /// The window's nominal length (`--window`).
    pub window_ns: u64,
}

impl Interval<'_> {
    /// The busiest flows first, at most `top`, and the interval's totals.
    fn rows(&self, args: &RunArgs) -> (Vec<Flow>, FlowStats<UnixNs>) {
        let mut deltas: Vec<&FlowDelta> = self.polled.poll.deltas.iter().collect();
        deltas.sort_by(|a, b| b.delta.total_bytes().cmp(&a.delta.total_bytes()).then(a.key.cmp(&b.key)));
        let mut total = FlowStats::default();
        for d in &deltas {
            total.merge(&d.delta);
        }
        let secs = args.interval * (1 + self.missed) as f64;
        let rows = deltas
            .iter()
            .take(args.top)
            .map(|d| Flow::new(&d.key, &d.total, Some(self.host)).with_interval(&d.delta, secs))
            .collect();
        (rows, total)
    }

    fn counter(&self, c: Counter) -> u64 {
        self.counters.get(c as usize).copied().unwrap_or(0)
    }
}

pub fn json(o: &mut impl Write, args: &RunArgs, i: &Interval) -> anyhow::Result<()> {
    let (flows, total) = i.rows(args);
    let poll = &i.polled.poll;
    let doc = IntervalDocument {
        schema_version: SchemaVersion,
        document: IntervalTag,
        iface: args.iface.clone(),
        index: i.n,
        time_unix_ns: i.now,
        interval_s: args.interval,
        active_flows: poll.deltas.len(),
        flows_in_table: poll.flows_in_table,
        flows_reaped: poll.reaped,
        traffic: (&total).into(),
        flows,
        counters: KernelCounters::new(i.counters),
        control_samples: i.polled.samples,
        control_messages: i.polled.decoded,
        window: i.polled.window.as_ref().map(|(w, _)| w.clone()),
        window_conditions: i.polled.window.as_ref().map(|(_, n)| n.conditions(i.window_ns)),
    };
    writeln!(o, "{}", serde_json::to_string(&doc)?)?;
    Ok(())
}

pub fn table(o: &mut impl Write, args: &RunArgs, i: &Interval) -> anyhow::Result<()> {
    let (rows, total) = i.rows(args);
    let poll = &i.polled.poll;
    writeln!(
        o,
        "-- interval {}: {} active flows, {} in table, {} packets, {} ({} overflow, {} truncated, {} non-IP){}",
        i.n,
        poll.deltas.len(),
        poll.flows_in_table,
        total.total_packets(),
        human::bytes(total.total_bytes()),
        i.counter(Counter::OverflowPackets),
        i.counter(Counter::Truncated),
        i.counter(Counter::NonIp),
        if i.missed > 0 { format!("; {} intervals late", i.missed) } else { String::new() }
    )?;
    write!(o, "{}", human::flow_table(&rows, true))?;
    if let Some((w, notes)) = &i.polled.window {
        peerscope::report::text::window_line(o, w)?;
        for warning in window_warnings(notes, args) {
            writeln!(o, "   {warning}")?;
        }
    }
    Ok(())
}

/// What a window's figures do not show by themselves.
pub fn window_warnings(n: &WindowNotes, args: &RunArgs) -> Vec<String> {
    let mut out = Vec::new();
    if n.overflow_packets > 0 {
        out.push(format!(
            "warning: the flow table was full: {} packets ({}) of {} new flows are in none of these figures (raise --max-flows {} or lower --idle-timeout)",
            n.overflow_packets,
            human::bytes(n.overflow_bytes),
            n.flow_insert_failures,
            args.max_flows
        ));
    }
    if n.missed_polls > 0 {
        out.push(format!("note: {} polls ran late in this window; its length is the real one", n.missed_polls));
    }
    if n.has(WindowNotes::AFTER_RESTART) {
        out.push("note: this window began under an earlier agent; nothing in it is counted twice".into());
    }
    if n.has(WindowNotes::INTERFACE_GONE) {
        out.push(format!("note: {} was gone for part of this window", args.iface));
    }
    out
}
