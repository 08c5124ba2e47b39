//! `peerscope flows`: reads the pinned maps of a running agent.

use std::process::ExitCode;

use peerscope::{
    engine::MonitoredHost,
    live::{caps, clock, clock::KernelClock, host::interface_addrs, pins::PinDir, FlowMaps, LiveError},
    schema::{flows::FlowsTag, Flow, FlowsDocument, KernelCounters, SchemaVersion},
    view::render_table,
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
    // The monitored host is the interface's own addresses, as `run` takes them.
    let host = MonitoredHost::new(interface_addrs(&args.iface));
    let flows: Vec<Flow> = flows.iter().map(|(k, s)| Flow::new(k, &clock.stats_to_unix(s), Some(&host))).collect();
    if args.json {
        let counters: Vec<u64> = peerscope_abi::Counter::ALL.iter().map(|c| snap.counter(*c)).collect();
        let out = FlowsDocument {
            schema_version: SchemaVersion,
            document: FlowsTag,
            iface: args.iface.clone(),
            time_unix_ns: clock::unix_now_ns(),
            flows_in_table: snap.flows.len(),
            table_capacity: maps.capacity(),
            flows,
            counters: KernelCounters::new(&counters),
        };
        println!("{}", serde_json::to_string(&out)?);
    } else {
        println!("{} flows in the kernel table of {}", snap.flows.len(), args.iface);
        print!("{}", render_table(&flows));
    }
    Ok(ExitCode::SUCCESS)
}
