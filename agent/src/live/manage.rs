//! Programs left attached and pinned: listing them (`peerscope status`) and removing
//! them (`peerscope detach`).

use std::{fs, path::Path, time::Duration};

use aya::programs::links::PinnedLink;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    attach::{EGRESS_LINK, INGRESS_LINK},
    error::LiveError,
    maps::FlowMaps,
    pins::{PinDir, BPFFS},
};

/// What is pinned for one interface.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Status {
    pub iface: String,
    /// The bpffs directory holding its pins.
    pub pin_dir: String,
    /// Both programs' links are pinned (the program keeps counting without an agent).
    pub attached: bool,
    /// The agent currently holding the interface, if one runs.
    pub agent_pid: Option<i32>,
    /// Flows in the kernel table and its capacity in flows; `null` when the maps
    /// cannot be read.
    pub flows_in_table: Option<usize>,
    pub table_capacity: Option<u32>,
}

/// Every interface with pins under bpffs.
pub fn status() -> Vec<Status> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(Path::new(BPFFS).join("peerscope")) else { return out };
    for e in entries.flatten() {
        let iface = e.file_name().to_string_lossy().into_owned();
        let p = PinDir::for_iface(&iface);
        let maps = FlowMaps::open_pinned(&p).ok();
        out.push(Status {
            pin_dir: p.dir.display().to_string(),
            attached: p.map(INGRESS_LINK).exists() && p.map(EGRESS_LINK).exists(),
            agent_pid: p.live_owner(),
            flows_in_table: maps.as_ref().and_then(|m| m.snapshot().ok()).map(|s| s.flows.len()),
            table_capacity: maps.as_ref().map(|m| m.capacity()),
            iface,
        });
    }
    out.sort_by(|a, b| a.iface.cmp(&b.iface));
    out
}

/// Detaches the program from `iface` and removes its pins. A running agent is asked
/// to stop first (SIGTERM) and given a few seconds.
pub fn detach(iface: &str) -> Result<bool, LiveError> {
    let p = PinDir::for_iface(iface);
    if !p.exists() {
        return Ok(false);
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
            return Err(LiveError::AlreadyRunning { iface: iface.to_string(), pid });
        }
    }
    for name in [INGRESS_LINK, EGRESS_LINK] {
        if let Ok(link) = PinnedLink::from_pin(p.map(name)) {
            let _ = link.unpin();
        }
    }
    p.remove();
    Ok(true)
}
