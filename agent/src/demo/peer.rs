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
    conn::{Conn, Kind},
    http, now_unix_ns,
    plan::{self, Rng},
    proto::{self, TCP_PORT, TRACKER_PORT, UDP_PORT},
    stopped, tracker, Ctx,
};

/// Download connections kept open: [M] saw 3–5 parents at a time.
const PARENT_CONNS: usize = 5;
/// Chunks behind the live edge a peer still fetches (about 10 s at 400 kbit/s).
const WINDOW: u32 = 30;
/// A child that asked nothing for this long frees its slot.
const CHILD_IDLE: Duration = Duration::from_secs(5);
const TRACKER_REFRESH: Duration = Duration::from_secs(10);
const GOSSIP_EVERY: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug)]
pub struct PeerCfg {
    pub ip: Ipv4Addr,
    pub accepts: bool,
    pub max_children: usize,
    pub is_source: bool,
}

#[derive(Default)]
struct State {
    have: BTreeSet<u32>,
    inflight: BTreeSet<u32>,
    /// Hosts heard of (tracker, gossip), and those that answered our gossip.
    known: BTreeSet<Ipv4Addr>,
    responders: BTreeSet<Ipv4Addr>,
    contacted: BTreeSet<Ipv4Addr>,
    parents: BTreeSet<Ipv4Addr>,
    /// Hosts that refused us or could not be reached, until when to leave them be.
    avoid: HashMap<Ipv4Addr, Instant>,
    children: HashMap<Ipv4Addr, Instant>,
    play_from: u32,
}

struct Peer {
    ctx: Ctx,
    cfg: PeerCfg,
    st: Mutex<State>,
    chunk: Vec<u8>,
}

type Shared = Arc<Peer>;

impl Peer {
    fn neighbours(&self) -> Vec<Ipv4Addr> {
        let st = self.st.lock().unwrap();
        st.parents.iter().chain(st.children.keys()).copied().take(20).collect()
    }

    fn has(&self, seq: u32) -> bool {
        if self.cfg.is_source {
            return seq <= self.ctx.channel.live_seq(now_unix_ns());
        }
        self.st.lock().unwrap().have.contains(&seq)
    }

    /// The oldest chunk still worth fetching that nobody is fetching yet.
    fn next_wanted(&self) -> Option<u32> {
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
    fn slot(&self, child: Ipv4Addr) -> bool {
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

    fn learn(&self, hosts: &[Ipv4Addr]) {
        let mut st = self.st.lock().unwrap();
        st.known.extend(hosts.iter().copied().filter(|h| *h != self.cfg.ip));
    }
}

pub async fn run(ctx: Ctx, cfg: PeerCfg, mut stop: watch::Receiver<bool>) {
    let peer = Arc::new(Peer { chunk: vec![0x47; ctx.channel.chunk_bytes], ctx, cfg, st: Mutex::new(State::default()) });
    peer.st.lock().unwrap().play_from = peer.ctx.channel.live_seq(now_unix_ns()).saturating_sub(2);
    let mut tasks = JoinSet::new();
    let Ok(udp) = UdpSocket::bind(SocketAddrV4::new(cfg.ip, UDP_PORT)).await else { return };
    let udp = Arc::new(udp);
    tasks.spawn(udp_loop(peer.clone(), udp.clone(), stop.clone()));
    if cfg.accepts {
        if let Ok(l) = TcpListener::bind(SocketAddrV4::new(cfg.ip, TCP_PORT)).await {
            tasks.spawn(accept_loop(peer.clone(), l, stop.clone()));
        }
    }
    let trackers = if cfg.is_source { None } else { bootstrap(&peer).await };
    // The source (and a peer whose bootstrap failed) knows the tracker already.
    let known = Some(SocketAddrV4::new(plan::TRACKER, TRACKER_PORT));
    let (udp_t, tcp_t) = trackers.unwrap_or((known, known));
    let mut rng = Rng::new(u32::from(cfg.ip) as u64);
    let mut next_refresh = Instant::now();
    let mut first = true;
    loop {
        if Instant::now() >= next_refresh {
            next_refresh = Instant::now() + TRACKER_REFRESH;
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
            if let Some(parent) = pick_parent(&peer, &mut rng) {
                tasks.spawn(download(peer.clone(), parent, stop.clone()));
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

/// A host to download from: one that answered our gossip if possible.
fn pick_parent(peer: &Shared, rng: &mut Rng) -> Option<Ipv4Addr> {
    let now = Instant::now();
    let mut st = peer.st.lock().unwrap();
    if st.parents.len() >= PARENT_CONNS {
        return None;
    }
    st.avoid.retain(|_, t| *t > now);
    let free = |h: &&Ipv4Addr| !st.parents.contains(h) && !st.avoid.contains_key(h) && **h != peer.cfg.ip;
    let mut pool: Vec<Ipv4Addr> = st.responders.iter().filter(free).copied().collect();
    if pool.is_empty() {
        pool = st.known.iter().filter(free).copied().collect();
    }
    let h = *pool.get(rng.below(pool.len()))?;
    st.parents.insert(h);
    Some(h)
}

fn avoid(peer: &Shared, h: Ipv4Addr, secs: u64) {
    peer.st.lock().unwrap().avoid.insert(h, Instant::now() + Duration::from_secs(secs));
}

/// One parent connection: gossip, then pull chunks one at a time until the parent
/// refuses, lags too long, leaves, or we stop.
async fn download(peer: Shared, parent: Ipv4Addr, stop: watch::Receiver<bool>) {
    let me = peer.cfg.ip;
    let conn = Conn::connect(me, SocketAddrV4::new(parent, TCP_PORT), &peer.ctx.truth).await;
    if let Ok(mut conn) = conn {
        pull(&peer, &mut conn, &stop).await;
        conn.close().await;
    } else {
        avoid(&peer, parent, 20);
    }
    peer.st.lock().unwrap().parents.remove(&parent);
}

async fn pull(peer: &Shared, conn: &mut Conn, stop: &watch::Receiver<bool>) {
    let parent = conn.remote;
    let mut last_gossip = Instant::now() - GOSSIP_EVERY;
    let mut lagging = 0;
    // Slow parents ask less often, so fast ones end up delivering most chunks.
    let mut response = Duration::from_millis(50);
    while !*stop.borrow() {
        if last_gossip.elapsed() >= GOSSIP_EVERY {
            last_gossip = Instant::now();
            if conn.send(Kind::Gossip, &proto::gossip(&peer.neighbours())).await.is_err() {
                return;
            }
            match timeout(Duration::from_secs(3), conn.recv()).await {
                Ok(Ok(Some((Kind::Gossip, body)))) => peer.learn(&proto::parse_gossip(&body).unwrap_or_default()),
                _ => return,
            }
        }
        let Some(seq) = peer.next_wanted() else {
            sleep((response * 4).clamp(Duration::from_millis(100), Duration::from_secs(2))).await;
            continue;
        };
        let asked = Instant::now();
        let reply = match conn.send(Kind::Request, &seq.to_be_bytes()).await {
            Ok(()) => timeout(Duration::from_secs(5), conn.recv()).await.ok().and_then(|r| r.ok().flatten()),
            Err(_) => None,
        };
        let outcome = {
            let mut st = peer.st.lock().unwrap();
            st.inflight.remove(&seq);
            match reply {
                Some((Kind::Chunk, body)) if body.len() >= 4 => {
                    st.have.insert(seq);
                    Outcome::Got
                }
                Some((Kind::Miss, body)) if body.get(4) == Some(&0) => Outcome::NotYet,
                Some((Kind::Miss, _)) => {
                    // No upload slot for us: look elsewhere for a while.
                    st.avoid.insert(parent, Instant::now() + Duration::from_secs(15));
                    Outcome::Refused
                }
                _ => Outcome::Refused,
            }
        };
        match outcome {
            Outcome::Got => {
                lagging = 0;
                response = (response * 3 + asked.elapsed()) / 4;
                // No parent may carry the whole stream: spreading chunks over
                // several parents at once is what [M] saw (3–5 parents).
                sleep(peer.ctx.channel.chunk_interval() * 3 / 2).await;
            }
            Outcome::NotYet => {
                lagging += 1;
                if lagging > 20 {
                    avoid(peer, parent, 10);
                    return;
                }
                sleep(Duration::from_millis(300)).await;
            }
            Outcome::Refused => return,
        }
    }
}

enum Outcome {
    Got,
    NotYet,
    Refused,
}

async fn accept_loop(peer: Shared, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    let mut children = JoinSet::new();
    loop {
        let stream = tokio::select! {
            _ = stopped(&mut stop) => break,
            r = listener.accept() => match r { Ok((s, _)) => s, Err(_) => break },
        };
        if let Ok(conn) = Conn::new(stream, &peer.ctx.truth) {
            children.spawn(serve(peer.clone(), conn, stop.clone()));
        }
        while children.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = timeout(Duration::from_secs(6), async { while children.join_next().await.is_some() {} }).await;
}

/// Answers one child: gossip with gossip, a request with the chunk, or a miss
/// (reason 0: not here yet; 1: no upload slot).
async fn serve(peer: Shared, mut conn: Conn, mut stop: watch::Receiver<bool>) {
    let child = conn.remote;
    loop {
        let frame = tokio::select! {
            // The child closes first at the end; this only bounds a silent one.
            _ = async { stopped(&mut stop).await; sleep(Duration::from_secs(3)).await } => break,
            r = timeout(Duration::from_secs(20), conn.recv()) => match r { Ok(Ok(Some(f))) => f, _ => break },
        };
        let ok = match frame {
            (Kind::Gossip, _) => conn.send(Kind::Gossip, &proto::gossip(&peer.neighbours())).await,
            (Kind::Request, body) if body.len() >= 4 => {
                let seq = u32::from_be_bytes(body[..4].try_into().unwrap());
                let mut out = seq.to_be_bytes().to_vec();
                if !peer.slot(child) {
                    out.push(1);
                    conn.send(Kind::Miss, &out).await
                } else if peer.has(seq) {
                    out.extend_from_slice(&peer.chunk);
                    conn.send(Kind::Chunk, &out).await
                } else {
                    out.push(0);
                    conn.send(Kind::Miss, &out).await
                }
            }
            _ => break,
        };
        if ok.is_err() {
            break;
        }
    }
    peer.st.lock().unwrap().children.remove(&child);
    conn.close().await;
}
