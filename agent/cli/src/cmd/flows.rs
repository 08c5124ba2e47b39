//! `peerscope flows`: reads the pinned maps of a running agent, twice (`--interval`
//! apart) so that the rate column is a real rate.

use std::{collections::HashMap, io::Write, process::ExitCode, time::Instant};

use peerscope_abi::{Counter, FlowKey, FlowStats, KernelNs};

use peerscope::{
    engine::MonitoredHost,
    live::{caps, clock, clock::KernelClock, host::interface_addrs, netns, pins::PinDir, FlowMaps, LiveError, Target},
    schema::{flows::FlowsTag, Flow, FlowsDocument, KernelCounters, SchemaVersion},
};

use super::UsageError;
use crate::{cli::FlowsArgs, human};

pub fn flows(args: FlowsArgs) -> anyhow::Result<ExitCode> {
    if !(args.interval.is_finite() && args.interval >= 0.0) {
        return Err(UsageError(format!(
            "--interval: must be 0 or a positive number of seconds, not {}",
            args.interval
        ))
        .into());
    }
    let target = Target::resolve(&args.target.iface, args.target.netns.as_deref())?;
    let missing = caps::missing_for_read(caps::effective());
    if !missing.is_empty() {
        return Err(LiveError::MissingPrivileges { action: "reading pinned maps", missing: missing.join(", ") }.into());
    }
    let maps = FlowMaps::open_pinned(&PinDir::for_target(&target), &target)?;
    let first = maps.snapshot()?;
    let t0 = Instant::now();
    let mut rate_secs = 0.0;
    let (snap, rates) = if args.interval > 0.0 {
        std::thread::sleep(std::time::Duration::from_secs_f64(args.interval));
        let second = maps.snapshot()?;
        rate_secs = t0.elapsed().as_secs_f64();
        let rates = rates_between(&first.flows, &second.flows, rate_secs);
        (second, Some(rates))
    } else {
        (first, None)
    };
    let clock = KernelClock::new();
    let mut flows: Vec<_> = snap.flows.iter().collect();
    let rate_of = |k: &FlowKey| rates.as_ref().and_then(|r| r.get(k)).copied().unwrap_or(0.0);
    // The busiest now first when there is a rate, else the largest.
    flows.sort_by(|a, b| {
        rate_of(b.0).total_cmp(&rate_of(a.0)).then(b.1.total_bytes().cmp(&a.1.total_bytes())).then(a.0.cmp(b.0))
    });
    if args.top > 0 {
        flows.truncate(args.top);
    }
    // The monitored host is the interface's own addresses, as `run` takes them.
    let iface = target.iface.clone();
    let host = MonitoredHost::new(netns::within(args.target.netns.as_deref(), move || interface_addrs(&iface))?);
    let flows: Vec<Flow> = flows
        .iter()
        .map(|(k, s)| {
            let mut f = Flow::new(k, &clock.stats_to_unix(s), Some(&host));
            f.interval_bytes_per_s = rates.as_ref().map(|_| (rate_of(k) * 10.0).round() / 10.0);
            f
        })
        .collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        let counters: Vec<u64> = Counter::ALL.iter().map(|c| snap.counter(*c)).collect();
        let doc = FlowsDocument {
            schema_version: SchemaVersion,
            document: FlowsTag,
            iface: target.iface.clone(),
            ifindex: target.ifindex,
            netns_cookie: target.netns.cookie,
            time_unix_ns: clock::unix_now_ns(),
            rate_over_s: rates.as_ref().map(|_| rate_secs),
            flows_in_table: snap.flows.len(),
            table_capacity: maps.capacity(),
            flows,
            counters: KernelCounters::new(&counters),
        };
        writeln!(out, "{}", serde_json::to_string(&doc)?)?;
    } else {
        writeln!(
            out,
            "{} flows in the kernel table of {} ({} at most){}",
            snap.flows.len(),
            target.describe(),
            maps.capacity(),
            match &rates {
                Some(_) => format!("; rates over {rate_secs:.1} s"),
                None => String::new(),
            }
        )?;
        let overflow = snap.counter(Counter::OverflowPackets);
        if overflow > 0 {
            writeln!(
                out,
                "warning: the table was full: {overflow} packets ({}) of {} new flows are in no flow below",
                human::bytes(snap.counter(Counter::OverflowBytes)),
                snap.counter(Counter::FlowInsertFailures)
            )?;
        }
        write!(out, "{}", human::flow_table(&flows, rates.is_some()))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Bytes per second of each flow between two readings; a flow whose slot was reused
/// meanwhile (counts went down) counts from zero.
fn rates_between(
    first: &HashMap<FlowKey, FlowStats<KernelNs>>,
    second: &HashMap<FlowKey, FlowStats<KernelNs>>,
    secs: f64,
) -> HashMap<FlowKey, f64> {
    second
        .iter()
        .map(|(k, s)| {
            let before = first.get(k).copied().unwrap_or_default();
            let bytes = s.since(&before).total_bytes();
            (*k, if secs > 0.0 { bytes as f64 / secs } else { 0.0 })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::{flow::ipv4, KernelNs, PacketObservation, Thresholds};

    #[test]
    fn test_rates_come_from_the_difference_of_two_readings() {
        let k = FlowKey::new(17, ipv4(192, 0, 2, 1), 1, ipv4(192, 0, 2, 2), 2);
        let new = FlowKey::new(17, ipv4(192, 0, 2, 1), 3, ipv4(192, 0, 2, 2), 4);
        let mut a = FlowStats::default();
        a.record(&PacketObservation::new(&Thresholds::STUDIES, 17, 1000, 972, 0, KernelNs(1)));
        let mut b = a;
        b.record(&PacketObservation::new(&Thresholds::STUDIES, 17, 1000, 972, 0, KernelNs(2)));
        b.record(&PacketObservation::new(&Thresholds::STUDIES, 17, 1000, 972, 0, KernelNs(3)));
        let first = HashMap::from([(k, a)]);
        let second = HashMap::from([(k, b), (new, a)]);
        let r = rates_between(&first, &second, 2.0);
        assert_eq!(r[&k], 1000.0, "2000 bytes in 2 s");
        assert_eq!(r[&new], 500.0, "a flow new in the second reading counts from zero");
    }
}
