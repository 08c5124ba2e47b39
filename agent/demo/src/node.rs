//! A peer's state, shared by its tasks (the main loop, the parent connections, the
//! children it serves): its chunk scheduler and parents, the hosts it knows, its
//! children.

use std::{
    collections::HashMap,
    net::Ipv4Addr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::sync::mpsc::UnboundedSender;

use super::{
    clock::now_unix_ns,
    ctx::Ctx,
    known::Known,
    rng::Rng,
    schedule::{Outcome, Scheduler},
};

/// A child that asked nothing for this long frees its slot.
pub const CHILD_IDLE: Duration = Duration::from_secs(5);
pub const GOSSIP_EVERY: Duration = Duration::from_secs(10);
/// Hosts a peer's gossip lists (its parents and children).
const NEIGHBOURS_LISTED: usize = 20;
/// Transfer rates from this many times the playback rate up count as fast enough:
/// a slower parent is asked in proportion to its rate.
const FAST_ENOUGH: f64 = 3.0;
/// A joining peer fetches from this many chunks (~6.5 s at 400 kbit/s) behind the
/// live edge, which its parents hold already: the start-up burst [H] §2 describes.
pub const START_BEHIND: u32 = 20;

#[derive(Clone, Copy, Debug)]
pub struct PeerCfg {
    pub ip: Ipv4Addr,
    pub accepts: bool,
    pub max_children: usize,
    pub is_source: bool,
    /// How many of its children may be others than [`State::favoured`].
    pub others_max: usize,
    /// Chunks behind the live edge it fetches the newest one ([`super::plan::Profile::fetch_lag`]).
    pub fetch_lag: u32,
    /// A host it knows from the start to hold the stream, asked before any other:
    /// a relay's source (the broadcaster seeds its relays; they need not find it
    /// among hundreds of hosts in peer lists).
    pub upstream: Option<Ipv4Addr>,
    /// Regular parents it downloads from at once ([`super::plan::Profile::parents`]).
    pub parents: usize,
}

#[derive(Debug)]
pub struct State {
    pub sched: Scheduler,
    pub known: Known,
    /// Each child and when it last asked.
    pub children: HashMap<Ipv4Addr, Instant>,
    /// The source's memory of which children accept connections.
    pub reachable: HashMap<Ipv4Addr, bool>,
    /// Children served first, up to [`PeerCfg::max_children`]; the others only up
    /// to [`PeerCfg::others_max`]. The source's are its relays
    /// ([`super::plan::Cast::relays`]); a relay's, the campus peers.
    pub favoured: Vec<Ipv4Addr>,
    pub rng: Rng,
}

pub struct Peer {
    pub ctx: Ctx,
    pub cfg: PeerCfg,
    pub st: Mutex<State>,
    pub chunk: Vec<u8>,
}

pub type Shared = Arc<Peer>;

impl Peer {
    /// A peer that starts playing [`START_BEHIND`] chunks behind the live edge.
    pub fn new(ctx: Ctx, cfg: PeerCfg) -> Self {
        let c = ctx.channel;
        let cap = FAST_ENOUGH * c.bitrate_bps as f64 / 8.0;
        let seed = u32::from(cfg.ip) as u64;
        let play_from = c.live_seq(now_unix_ns()).saturating_sub(START_BEHIND);
        let st = State {
            sched: Scheduler::new(play_from, cap, cfg.parents, Rng::new(seed ^ 0x5c4e)),
            known: Known::new(cfg.ip, cfg.upstream),
            children: HashMap::new(),
            reachable: HashMap::new(),
            favoured: Vec::new(),
            rng: Rng::new(seed),
        };
        Peer { chunk: vec![0x47; c.chunk_bytes], ctx, cfg, st: Mutex::new(st) }
    }

    /// What our gossip lists: parents and children.
    pub fn neighbours(&self) -> Vec<Ipv4Addr> {
        let st = self.st.lock().unwrap();
        st.sched.parents().chain(st.children.keys().copied()).take(NEIGHBOURS_LISTED).collect()
    }

    /// The newest chunk we hold (the source: the live one), 0 if none.
    pub fn newest(&self) -> u32 {
        if self.cfg.is_source {
            return self.ctx.channel.live_seq(now_unix_ns());
        }
        self.st.lock().unwrap().sched.have.iter().next_back().copied().unwrap_or(0)
    }

    /// The channel's live chunk now.
    fn live(&self) -> u32 {
        self.ctx.channel.live_seq(now_unix_ns())
    }

    /// The newest chunk we fetch now: [`PeerCfg::fetch_lag`] behind the live one.
    fn fetch_edge(&self) -> u32 {
        self.live().saturating_sub(self.cfg.fetch_lag)
    }

    /// Whether a parent whose newest chunk is `newest` holds, or will hold, a chunk
    /// we want ([`super::schedule::Scheduler::worth_asking`]).
    pub fn useful(&self, newest: u32) -> bool {
        self.st.lock().unwrap().sched.worth_asking(newest, self.fetch_edge())
    }

    /// The chunk a new connection to `parent` asks for first.
    pub fn first_request(&self, parent: Ipv4Addr, id: u64) -> u32 {
        let edge = self.fetch_edge();
        self.st.lock().unwrap().sched.first(parent, id, edge)
    }

    pub fn has(&self, seq: u32) -> bool {
        if self.cfg.is_source {
            return seq <= self.ctx.channel.live_seq(now_unix_ns());
        }
        self.st.lock().unwrap().sched.have.contains(&seq)
    }

    /// Whether `child` may download from us now (a slot is free or already its own).
    pub fn slot(&self, child: Ipv4Addr) -> bool {
        let now = Instant::now();
        let mut st = self.st.lock().unwrap();
        st.children.retain(|_, t| now.duration_since(*t) < CHILD_IDLE);
        let favoured = st.favoured.contains(&child);
        let others = st.children.keys().filter(|c| !st.favoured.contains(c)).count();
        let room = st.children.len() < self.cfg.max_children && (favoured || others < self.cfg.others_max);
        if st.children.contains_key(&child) || room {
            st.children.insert(child, now);
            true
        } else {
            false
        }
    }

    pub fn learn(&self, hosts: &[Ipv4Addr]) {
        self.st.lock().unwrap().known.learn(hosts);
    }

    /// Hands wanted chunks to idle parents.
    pub fn schedule(&self) {
        let (edge, live) = (self.fetch_edge(), self.live());
        self.st.lock().unwrap().sched.assign(edge, live, Instant::now());
    }

    /// A new connection to `parent` (regular or on `trial`), fed through `queue`; its id.
    pub fn add_parent(&self, parent: Ipv4Addr, queue: UnboundedSender<u32>, trial: bool) -> u64 {
        self.st.lock().unwrap().sched.add(parent, queue, trial, Instant::now())
    }

    pub fn remove_parent(&self, parent: Ipv4Addr, id: u64) {
        self.st.lock().unwrap().sched.remove(parent, id);
    }

    /// What connection `id` to `parent` got for `seq`; then more work is handed out.
    pub fn chunk_done(&self, parent: Ipv4Addr, id: u64, seq: u32, outcome: Outcome) {
        let live = self.live();
        self.st.lock().unwrap().sched.done(parent, id, seq, outcome, live, Instant::now());
        if outcome != Outcome::Failed {
            self.schedule();
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::watch;

    use super::*;
    use crate::{channel::Channel, truth::GroundTruth};

    /// A peer of a channel whose live chunk is `live`, half a chunk from the next.
    fn peer(max_children: usize, is_source: bool, live: u64) -> Peer {
        // 16 KiB at 400 kbit/s: 327.68 ms per chunk.
        let since = (live * 2 + 1) * 327_680_000 / 2;
        let channel = Channel { bitrate_bps: 400_000, chunk_bytes: 16384, start_unix_ns: now_unix_ns() - since };
        let (_tx, stop) = watch::channel(false);
        let ctx = Ctx { channel, truth: GroundTruth::default(), stop, servers: Default::default() };
        let ip = Ipv4Addr::new(198, 51, 100, 10);
        Peer::new(
            ctx,
            PeerCfg {
                ip,
                accepts: true,
                max_children,
                is_source,
                others_max: max_children,
                fetch_lag: 0,
                upstream: None,
                parents: 3,
            },
        )
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

    #[test]
    fn test_a_parent_is_asked_from_behind_the_live_edge_and_lists_as_a_neighbour() {
        let p = peer(1, false, 61);
        let parent = Ipv4Addr::new(203, 0, 113, 20);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let id = p.add_parent(parent, tx, false);
        p.schedule();
        assert_eq!(rx.try_recv(), Ok(61 - START_BEHIND));
        p.chunk_done(parent, id, 41, Outcome::Got { bytes: 16384, took: Duration::from_millis(10), newest: 61 });
        assert_eq!(rx.try_recv(), Ok(42), "the next one right away");
        assert!(p.has(41) && p.newest() == 41);
        assert_eq!(p.neighbours(), vec![parent]);
    }
}
