//! The channel's source: a peer (same protocol, same code) that holds every chunk as
//! soon as the broadcast produces it and downloads nothing. It feeds only a few
//! peers, through a modest uplink; the swarm carries the stream from there.

use super::{node::PeerCfg, plan};

pub const UPLOAD_BPS: u64 = 2_000_000;
pub const MAX_CHILDREN: usize = 4;

pub fn cfg() -> PeerCfg {
    PeerCfg { ip: plan::SOURCE, accepts: true, max_children: MAX_CHILDREN, is_source: true, fetch_lag: 0 }
}
