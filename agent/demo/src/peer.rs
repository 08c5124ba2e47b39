//! A peer of the swarm (METHODS §8 steps 1–6): bootstrap over HTTP, ask the tracker,
//! gossip over UDP with the hosts it lists, then open TCP connections to those that
//! answered, keep gossiping over TCP, and pull the channel's chunks from a few
//! parents at once while serving its own children. The source is a peer that has
//! every chunk as soon as it is produced and downloads nothing.
//!
//! Upload capacity shows twice: the tbf on the peer's interface, and how many
//! children it accepts; a NATed peer accepts no connection and so uploads nothing.

use std::{
    collections::{BTreeSet, HashMap},
    net::{Ipv4Addr, SocketAddrV4},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::{
    net::{TcpListener, UdpSocket},
    sync::watch,
    task::JoinSet,
    time::{sleep, timeout},
};

use super::{
    exchange, http, now_unix_ns,
    plan::{self, Rng},
    proto::{self, TCP_PORT, TRACKER_PORT, UDP_PORT},
    stopped, tracker, Ctx,
};

/// Download connections kept open: [M] saw 3–5 parents at a time.
pub(super) const PARENT_CONNS: usize = 5;
/// Chunks behind the live edge a peer still fetches (about 10 s at 400 kbit/s).
const WINDOW: u32 = 30;
/// A child that asked nothing for this long frees its slot.
pub(super) const CHILD_IDLE: Duration = Duration::from_secs(5);
const TRACKER_REFRESH: Duration = Duration::from_secs(10);
const STARVING_REFRESH: Duration = Duration::from_secs(2);
pub(super) const GOSSIP_EVERY: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug)]
pub struct PeerCfg {
    pub ip: Ipv4Addr,
    pub accepts: bool,
    pub max_children: usize,
    pub is_source: bool,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) have: BTreeSet<u32>,
    pub(super) inflight: BTreeSet<u32>,
    /// Hosts heard of (tracker, gossip), and those that answered our gossip.
    pub(super) known: BTreeSet<Ipv4Addr>,
    pub(super) responders: BTreeSet<Ipv4Addr>,
    pub(super) contacted: BTreeSet<Ipv4Addr>,
    pub(super) parents: BTreeSet<Ipv4Addr>,
    /// Hosts that refused us or could not be reached, until when to leave them be.
    pub(super) avoid: HashMap<Ipv4Addr, Instant>,
    pub(super) children: HashMap<Ipv4Addr, Instant>,
    pub(super) play_from: u32,
}

pub(super) struct Peer {
    pub(super) ctx: Ctx,
    pub(super) cfg: PeerCfg,
    pub(super) st: Mutex<State>,
    pub(super) chunk: Vec<u8>,
}

pub(super) type Shared = Arc<Peer>;

impl Peer {
    pub(super) fn neighbours(&self) -> Vec<Ipv4Addr> {
        let st = self.st.lock().unwrap();
        st.parents.iter().chain(st.children.keys()).copied().take(20).collect()
    }

    pub(super) fn has(&self, seq: u32) -> bool {
        if self.cfg.is_source {
            return seq <= self.ctx.channel.live_seq(now_unix_ns());
        }
        self.st.lock().unwrap().have.contains(&seq)
    }

    /// The oldest chunk still worth fetching that nobody is fetching yet.
    pub(super) fn next_wanted(&self) -> Option<u32> {
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
    pub(super) fn slot(&self, child: Ipv4Addr) -> bool {
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

    pub(super) fn learn(&self, hosts: &[Ipv4Addr]) {
        let mut st = self.st.lock().unwrap();
        st.known.extend(hosts.iter().copied().filter(|h| *h != self.cfg.ip));
    }
}

pub async fn run(ctx: Ctx, cfg: PeerCfg, mut stop: watch::Receiver<bool>) {
    let peer =
        Arc::new(Peer { chunk: vec![0x47; ctx.channel.chunk_bytes], ctx, cfg, st: Mutex::new(State::default()) });
    peer.st.lock().unwrap().play_from = peer.ctx.channel.live_seq(now_unix_ns()).saturating_sub(2);
    let mut tasks = JoinSet::new();
    let Ok(udp) = UdpSocket::bind(SocketAddrV4::new(cfg.ip, UDP_PORT)).await else { return };
    let udp = Arc::new(udp);
    tasks.spawn(udp_loop(peer.clone(), udp.clone(), stop.clone()));
    if cfg.accepts {
        if let Ok(l) = TcpListener::bind(SocketAddrV4::new(cfg.ip, TCP_PORT)).await {
            tasks.spawn(exchange::accept_loop(peer.clone(), l, stop.clone()));
            if cfg.is_source {
                peer.ctx.servers.listening();
            }
        }
    }
    let trackers = if cfg.is_source { None } else { bootstrap(&peer).await };
    // The source (and a peer whose bootstrap failed) knows the tracker already.
    let known = Some(SocketAddrV4::new(plan::TRACKER, TRACKER_PORT));
    let (udp_t, tcp_t) = trackers.unwrap_or((known, known));
    let mut rng = Rng::new(u32::from(cfg.ip) as u64);
    let mut next_refresh = Instant::now();
    let mut last_query = Instant::now();
    let mut first = true;
    loop {
        // A peer without a parent (the first of a channel, or one whose list held
        // only hosts that cannot serve) asks again soon instead of at the next refresh.
        let starving =
            !cfg.is_source && peer.st.lock().unwrap().parents.is_empty() && last_query.elapsed() >= STARVING_REFRESH;
        if Instant::now() >= next_refresh || (!first && starving) {
            next_refresh = Instant::now() + TRACKER_REFRESH;
            last_query = Instant::now();
            // Join over UDP; refresh over TCP (and fall back to it).
            let mut hosts = None;
            if first {
                if let Some(t) = udp_t {
                    hosts = tracker::query_udp(cfg.ip, t).await;
                }
            }
            if hosts.is_none() {
                if let Some(t) = tcp_t {
                    hosts = tracker::query_tcp(&peer.ctx, cfg.ip, t).await;
                }
            }
            first = false;
            if let Some(h) = hosts {
                peer.learn(&h);
                gossip_udp(&peer, &udp, &h).await;
            }
        }
        if !cfg.is_source {
            if let Some(parent) = exchange::pick_parent(&peer, &mut rng) {
                tasks.spawn(exchange::download(peer.clone(), parent, stop.clone()));
            }
        }
        tokio::select! {
            _ = stopped(&mut stop) => break,
            _ = sleep(Duration::from_millis(500)) => {}
        }
        while tasks.try_join_next().is_some() {}
    }
    // Connections end in order (bounded by their own timeouts).
    let _ = timeout(Duration::from_secs(8), async { while tasks.join_next().await.is_some() {} }).await;
}

/// Update check and channel list; returns the channel's trackers (UDP, TCP).
async fn bootstrap(peer: &Shared) -> Option<proto::Trackers> {
    let me = peer.cfg.ip;
    let _ = http::get(&peer.ctx, me, "update.pplive.com", "/update/pplive/update.inf").await;
    for _ in 0..3 {
        if let Some((200, xml)) = http::get(&peer.ctx, me, "list.pplive.com", "/web/xml/all.xml").await {
            return proto::trackers_from_list(&xml);
        }
        sleep(Duration::from_millis(500)).await;
    }
    None
}

/// Sends our gossip to each listed host (METHODS §8 step 5).
async fn gossip_udp(peer: &Shared, udp: &UdpSocket, hosts: &[Ipv4Addr]) {
    let msg = proto::gossip(&peer.neighbours());
    for h in hosts {
        peer.st.lock().unwrap().contacted.insert(*h);
        let _ = udp.send_to(&msg, SocketAddrV4::new(*h, UDP_PORT)).await;
    }
}

/// Answers gossip; a NATed peer only hears answers from hosts it contacted, and
/// answers no one.
async fn udp_loop(peer: Shared, udp: Arc<UdpSocket>, mut stop: watch::Receiver<bool>) {
    let mut buf = vec![0u8; 4096];
    loop {
        let (n, from) = tokio::select! {
            _ = stopped(&mut stop) => return,
            r = udp.recv_from(&mut buf) => match r { Ok(x) => x, Err(_) => return },
        };
        let std::net::SocketAddr::V4(from) = from else { continue };
        let Some(hosts) = proto::parse_gossip(&buf[..n]) else { continue };
        let src = *from.ip();
        if !peer.cfg.accepts && !peer.st.lock().unwrap().contacted.contains(&src) {
            continue;
        }
        peer.learn(&hosts);
        let contacted = {
            let mut st = peer.st.lock().unwrap();
            st.responders.insert(src);
            st.known.insert(src);
            st.contacted.contains(&src)
        };
        // Answer a query, not an answer (else two peers would echo forever).
        if peer.cfg.accepts && !contacted {
            let _ = udp.send_to(&proto::gossip(&peer.neighbours()), from).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{truth::GroundTruth, Channel};

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
