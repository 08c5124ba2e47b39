//! Programs left attached and pinned: listing them (`peerscope status`) and removing
//! them (`peerscope detach`).

use std::{fs, path::Path, time::Duration};

use aya::programs::links::PinnedLink;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    error::LiveError,
    hook::IngressHook,
    maps::FlowMaps,
    netns::{self, NetNs, Target},
    pins::{self, Foreign, PinDir, BPFFS, EGRESS_LINK, INGRESS_LINK},
};

/// What is pinned for one attachment.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Status {
    pub iface: String,
    /// The bpffs directory holding its pins.
    pub pin_dir: String,
    /// Both programs' links are pinned and still have their interface (the program
    /// keeps counting without an agent).
    pub attached: bool,
    /// The agent currently holding the interface, if one runs.
    pub agent_pid: Option<i32>,
    /// Flows in the kernel table and its capacity in flows; `null` when the maps
    /// cannot be read.
    pub flows_in_table: Option<usize>,
    pub table_capacity: Option<u32>,
    /// The interface's index in its network namespace.
    pub ifindex: u32,
    /// The network namespace: `net:[INODE]` as `ls -l /proc/PID/ns/net` shows it, its
    /// inode and cookie, and its `ip netns` name when it has one.
    pub netns: Option<String>,
    pub netns_inode: Option<u64>,
    pub netns_cookie: u64,
    pub netns_name: Option<String>,
    /// The attachment is in the network namespace `status` was run in.
    pub in_this_netns: bool,
    /// The links are pinned but the interface is gone (the kernel detached the program).
    pub interface_gone: bool,
    /// The hook ingress is counted on (`xdp`, `xdp-generic`, `tcx`), and why the agent
    /// chose it; `null` when its record does not say.
    pub ingress_hook: Option<IngressHook>,
    pub hook_why: Option<String>,
    /// Entries of the pin directory that peerscope did not create (left alone).
    pub foreign: Vec<Foreign>,
}

/// Every attachment with pins under bpffs, in any network namespace.
pub fn status() -> Vec<Status> {
    let here = NetNs::current().ok();
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(Path::new(BPFFS).join("peerscope")) else { return out };
    for e in entries.flatten() {
        let id = e.file_name().to_string_lossy().into_owned();
        let Some((cookie, ifindex)) = netns::parse_id(&id) else { continue };
        let p = PinDir::for_id(&id);
        let record = p.record();
        let (ingress_hook, hook_why) = record.as_ref().map_or((None, None), |r| (r.ingress, r.hook_why.clone()));
        let target = record.map(|r| r.target);
        let in_here = here.is_some_and(|ns| ns.cookie == cookie);
        // In our own namespace the interface's current name is known (it may have been
        // renamed); elsewhere, the name it had when the agent attached.
        let iface = match (in_here, &target) {
            (true, _) => netns::if_name(ifindex).or_else(|| target.as_ref().map(|t| t.iface.clone())),
            (false, Some(t)) => Some(t.iface.clone()),
            (false, None) => None,
        }
        .unwrap_or_else(|| format!("ifindex {ifindex}"));
        let links_pinned = p.map(INGRESS_LINK).exists() && p.map(EGRESS_LINK).exists();
        let alive = links_pinned && p.links_alive();
        let maps = target.as_ref().and_then(|t| FlowMaps::open_pinned(&p, t).ok());
        out.push(Status {
            pin_dir: p.dir.display().to_string(),
            attached: alive,
            agent_pid: p.live_owner(),
            flows_in_table: maps.as_ref().and_then(|m| m.snapshot().ok()).map(|s| s.flows.len()),
            table_capacity: maps.as_ref().map(|m| m.capacity()),
            iface,
            ifindex,
            netns: target.as_ref().map(|t| t.netns.label()),
            netns_inode: target.as_ref().map(|t| t.netns.inode),
            netns_cookie: cookie,
            netns_name: target.as_ref().and_then(|t| t.netns.ip_netns_name()),
            in_this_netns: in_here,
            interface_gone: links_pinned && !alive,
            ingress_hook,
            hook_why,
            foreign: p.survey().1,
        });
    }
    out.sort_by(|a, b| (!a.in_this_netns, &a.iface, &a.pin_dir).cmp(&(!b.in_this_netns, &b.iface, &b.pin_dir)));
    out
}

/// What `detach` did.
#[derive(Debug, Default)]
pub struct Detached {
    /// Something of ours was attached or pinned there.
    pub found: bool,
    /// Entries of the pin directory that are not ours, left in place.
    pub foreign: Vec<Foreign>,
}

/// Detaches the program from `target` and removes its pins and run files. A running
/// agent is asked to stop first (SIGTERM) and given a few seconds.
pub fn detach(target: &Target) -> Result<Detached, LiveError> {
    let p = PinDir::for_target(target);
    if !p.exists() {
        let found = p.record().is_some();
        p.remove_run_files();
        return Ok(Detached { found, foreign: Vec::new() });
    }
    if let Some(pid) = p.live_owner() {
        // SAFETY: sending a signal to a pid.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        for _ in 0..50 {
            if p.live_owner().is_none() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if let Some(pid) = p.live_owner() {
            return Err(LiveError::AlreadyRunning { target: target.describe(), iface: target.iface.clone(), pid });
        }
    }
    // Only links that are ours: `remove` checks every entry before unlinking it.
    let (ours, _) = p.survey();
    for name in [INGRESS_LINK, EGRESS_LINK] {
        if ours.contains(&p.map(name)) {
            if let Ok(link) = PinnedLink::from_pin(p.map(name)) {
                let _ = link.unpin();
            }
        }
    }
    let foreign = p.remove();
    Ok(Detached { found: true, foreign })
}

/// Entries directly under `/sys/fs/bpf/peerscope` that are no attachment of ours.
pub fn foreign_entries() -> Vec<Foreign> {
    pins::foreign_entries()
}
