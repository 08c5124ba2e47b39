//! `peerscope flows`: reads the pinned maps of a running agent.

use std::process::ExitCode;

use peerscope_abi::Counter;

use peerscope::{
    live::{caps, clock::KernelClock, pins::PinDir, FlowMaps, LiveError},
    view::{render_table, FlowRow},
};

use crate::cli::FlowsArgs;

pub fn flows(args: FlowsArgs) -> anyhow::Result<ExitCode> {
    peerscope::live::attach::if_index(&args.iface)?;
    let missing = caps::missing_for_read(caps::effective());
    if !missing.is_empty() {
        return Err(LiveError::MissingPrivileges { action: "reading pinned maps", missing: missing.join(", ") }.into());
    }
    let maps = FlowMaps::open_pinned(&PinDir::for_iface(&args.iface))?;
    let snap = maps.snapshot()?;
    let clock = KernelClock::new();
    let mut flows: Vec<_> = snap.flows.iter().collect();
    flows.sort_by(|a, b| b.1.total_bytes().cmp(&a.1.total_bytes()).then(a.0.cmp(b.0)));
    if args.top > 0 {
        flows.truncate(args.top);
    }
    let rows: Vec<FlowRow> = flows
        .iter()
        .map(|(k, s)| {
            let mut s = **s;
            s.first_seen_ns = clock.to_unix_ns(s.first_seen_ns);
            s.last_seen_ns = clock.to_unix_ns(s.last_seen_ns);
            FlowRow::new(k, None, &s, 0.0)
        })
        .collect();
    if args.json {
        let counters: serde_json::Map<String, serde_json::Value> =
            Counter::ALL.iter().map(|c| (c.name().to_string(), snap.counter(*c).into())).collect();
        let out = serde_json::json!({
            "iface": args.iface,
            "flows_in_table": snap.flows.len(),
            "flows": rows,
            "counters": counters,
        });
        println!("{}", serde_json::to_string(&out)?);
    } else {
        println!("{} flows in the kernel table of {}", snap.flows.len(), args.iface);
        print!("{}", render_table(&rows));
    }
    Ok(ExitCode::SUCCESS)
}
