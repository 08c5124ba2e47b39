//! A peer's state, shared by its tasks (the main loop, the parent connections, the
//! children it serves): the chunks it has and is fetching, the hosts it knows, its
//! parents and children.

use std::{
    collections::{BTreeSet, HashMap},
    net::Ipv4Addr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use super::{clock::now_unix_ns, ctx::Ctx};

/// Download connections kept open: [M] saw 3–5 parents at a time.
pub const PARENT_CONNS: usize = 5;
/// Chunks behind the live edge a peer still fetches (about 10 s at 400 kbit/s).
const WINDOW: u32 = 30;
/// A child that asked nothing for this long frees its slot.
pub const CHILD_IDLE: Duration = Duration::from_secs(5);
pub const GOSSIP_EVERY: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug)]
pub struct PeerCfg {
    pub ip: Ipv4Addr,
    pub accepts: bool,
    pub max_children: usize,
    pub is_source: bool,
}

#[derive(Default)]
pub struct State {
    pub have: BTreeSet<u32>,
    pub inflight: BTreeSet<u32>,
    /// Hosts heard of (tracker, gossip), and those that answered our gossip.
    pub known: BTreeSet<Ipv4Addr>,
    pub responders: BTreeSet<Ipv4Addr>,
    pub contacted: BTreeSet<Ipv4Addr>,
    pub parents: BTreeSet<Ipv4Addr>,
    /// Hosts that refused us or could not be reached, until when to leave them be.
    pub avoid: HashMap<Ipv4Addr, Instant>,
    pub children: HashMap<Ipv4Addr, Instant>,
    pub play_from: u32,
}

pub struct Peer {
    pub ctx: Ctx,
    pub cfg: PeerCfg,
    pub st: Mutex<State>,
    pub chunk: Vec<u8>,
}

pub type Shared = Arc<Peer>;

impl Peer {
    pub fn neighbours(&self) -> Vec<Ipv4Addr> {
        let st = self.st.lock().unwrap();
        st.parents.iter().chain(st.children.keys()).copied().take(20).collect()
    }

    pub fn has(&self, seq: u32) -> bool {
        if self.cfg.is_source {
            return seq <= self.ctx.channel.live_seq(now_unix_ns());
        }
        self.st.lock().unwrap().have.contains(&seq)
    }

    /// The oldest chunk still worth fetching that nobody is fetching yet.
    pub fn next_wanted(&self) -> Option<u32> {
        let live = self.ctx.channel.live_seq(now_unix_ns());
        let mut st = self.st.lock().unwrap();
        let lo = st.play_from.max(live.saturating_sub(WINDOW));
        let seq = (lo..=live).find(|s| !st.have.contains(s) && !st.inflight.contains(s))?;
        st.inflight.insert(seq);
        let stale = live.saturating_sub(2 * WINDOW);
        st.have = st.have.split_off(&stale);
        Some(seq)
    }

    /// Whether `child` may download from us now (a slot is free or already its own).
    pub fn slot(&self, child: Ipv4Addr) -> bool {
        let now = Instant::now();
        let mut st = self.st.lock().unwrap();
        st.children.retain(|_, t| now.duration_since(*t) < CHILD_IDLE);
        if st.children.contains_key(&child) || st.children.len() < self.cfg.max_children {
            st.children.insert(child, now);
            true
        } else {
            false
        }
    }

    pub fn learn(&self, hosts: &[Ipv4Addr]) {
        let mut st = self.st.lock().unwrap();
        st.known.extend(hosts.iter().copied().filter(|h| *h != self.cfg.ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::watch;

    use crate::{channel::Channel, truth::GroundTruth};

    /// A peer of a channel whose live chunk is `live`, half a chunk from the next.
    fn peer(max_children: usize, is_source: bool, live: u64) -> Peer {
        // 16 KiB at 400 kbit/s: 327.68 ms per chunk.
        let since = (live * 2 + 1) * 327_680_000 / 2;
        let channel = Channel { bitrate_bps: 400_000, chunk_bytes: 16384, start_unix_ns: now_unix_ns() - since };
        let (_tx, stop) = watch::channel(false);
        Peer {
            ctx: Ctx { channel, truth: GroundTruth::default(), stop, servers: Default::default() },
            cfg: PeerCfg { ip: Ipv4Addr::new(198, 51, 100, 10), accepts: true, max_children, is_source },
            st: Mutex::new(State::default()),
            chunk: Vec::new(),
        }
    }

    #[test]
    fn test_next_wanted_is_oldest_missing_within_the_window() {
        // The window reaches back 30 chunks from the live one.
        let p = peer(1, false, 61);
        p.st.lock().unwrap().have.insert(31);
        assert_eq!(p.next_wanted(), Some(32));
        assert_eq!(p.next_wanted(), Some(33), "32 is in flight");
        p.st.lock().unwrap().play_from = 60;
        assert_eq!(p.next_wanted(), Some(60));
        assert_eq!(p.next_wanted(), Some(61));
        assert_eq!(p.next_wanted(), None, "nothing newer exists yet");
    }

    #[test]
    fn test_upload_slots_and_the_source_has_every_produced_chunk() {
        let p = peer(1, false, 3);
        let (a, b) = (Ipv4Addr::new(203, 0, 113, 20), Ipv4Addr::new(203, 0, 113, 21));
        assert!(p.slot(a));
        assert!(p.slot(a), "a child keeps its slot");
        assert!(!p.slot(b), "one slot only");
        assert!(!p.has(0));
        let s = peer(4, true, 3);
        assert!(s.has(0) && s.has(3) && !s.has(100));
    }
}
