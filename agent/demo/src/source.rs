//! The channel's source: a peer (same protocol, same code) that holds every chunk as
//! soon as the broadcast produces it and downloads nothing. It feeds only a few
//! peers, through a modest uplink; the swarm carries the stream from there.

use std::net::Ipv4Addr;

use super::peer::PeerCfg;

/// Hosted in Asia, as PPLive's sources were.
pub const ADDR: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);
pub const UPLOAD_BPS: u64 = 2_000_000;
pub const MAX_CHILDREN: usize = 4;

pub fn cfg() -> PeerCfg {
    PeerCfg { ip: ADDR, accepts: true, max_children: MAX_CHILDREN, is_source: true }
}
