//! The channel's source: a peer (same protocol, same code) that holds every chunk as
//! soon as the broadcast produces it and downloads nothing. It feeds only a few
//! peers, through a modest uplink; the swarm carries the stream from there.

use super::{node::PeerCfg, plan};

pub const UPLOAD_BPS: u64 = 3_000_000;
pub const MAX_CHILDREN: usize = plan::RELAYS;

/// The source; with `relays`, it serves them only.
pub fn cfg(relays: bool) -> PeerCfg {
    let others_max = if relays { 0 } else { MAX_CHILDREN };
    PeerCfg {
        ip: plan::SOURCE,
        accepts: true,
        max_children: MAX_CHILDREN,
        is_source: true,
        others_max,
        fetch_lag: 0,
        upstream: None,
        parents: 0,
    }
}
