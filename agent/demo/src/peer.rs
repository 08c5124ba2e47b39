//! A peer of the swarm (METHODS §8 steps 1–6): bootstrap over HTTP, ask the tracker,
//! gossip over UDP with the hosts it lists, then open TCP connections to those that
//! answered, keep gossiping over TCP, and pull the channel's chunks from a few
//! parents at once while serving its own children. The source is a peer that has
//! every chunk as soon as it is produced and downloads nothing.
//!
//! Upload capacity shows twice: the tbf on the peer's interface, and how many
//! children it accepts; a NATed peer accepts no connection and so uploads nothing.

use std::{
    net::{Ipv4Addr, SocketAddrV4},
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::{
    net::{TcpListener, UdpSocket},
    sync::watch,
    task::JoinSet,
    time::{sleep, timeout},
};

use super::{
    ctx::{stopped, Ctx},
    exchange, http,
    node::{Peer, PeerCfg, Shared, State},
    plan,
    proto::{self, TCP_PORT, TRACKER_PORT, UDP_PORT},
    tracker,
};

const TRACKER_REFRESH: Duration = Duration::from_secs(10);
const STARVING_REFRESH: Duration = Duration::from_secs(2);
const TICK: Duration = Duration::from_millis(250);
/// Hosts heard of that we gossip to each second, beyond each tracker reply's.
const GOSSIP_NEW_PER_S: usize = 25;
/// Connections tried per tick while short of parents (most hosts play nothing).
const PARENT_TRIES: usize = 8;
/// A review of the parent on trial every 4–6 s.
const REVIEW_S: (f64, f64) = (4.0, 6.0);
/// A parent dropped at a review is not picked again for this long.
const DROPPED_FOR: Duration = Duration::from_secs(4);

/// One peer (or the source) until `stop`, serving `favoured` children first.
pub async fn run(ctx: Ctx, cfg: PeerCfg, favoured: Vec<Ipv4Addr>, mut stop: watch::Receiver<bool>) {
    let peer: Shared = Arc::new(Peer::new(ctx, cfg));
    peer.st.lock().unwrap().favoured = favoured;
    let mut tasks = JoinSet::new();
    let Ok(udp) = UdpSocket::bind(SocketAddrV4::new(cfg.ip, UDP_PORT)).await else { return };
    let udp = Arc::new(udp);
    tasks.spawn(udp_loop(peer.clone(), udp.clone(), stop.clone()));
    // The source counts as up once it listens and the tracker lists it: a peer that
    // joins before is told of nobody, and by the time it asks again the early
    // joiners hold the source's few slots.
    let mut announce = false;
    if cfg.accepts {
        if let Ok(l) = TcpListener::bind(SocketAddrV4::new(cfg.ip, TCP_PORT)).await {
            tasks.spawn(exchange::accept_loop(peer.clone(), l, stop.clone()));
            announce = cfg.is_source;
        }
    }
    let trackers = if cfg.is_source { None } else { bootstrap(&peer).await };
    // The source (and a peer whose bootstrap failed) knows the tracker already.
    let known = Some(SocketAddrV4::new(plan::TRACKER, TRACKER_PORT));
    let trackers = trackers.unwrap_or((known, known));
    if !cfg.is_source {
        tasks.spawn(schedule_loop(peer.clone(), stop.clone()));
    }
    let mut due = Due::new(Instant::now());
    loop {
        refresh(&peer, &udp, trackers, &mut due).await;
        if std::mem::take(&mut announce) {
            peer.ctx.servers.listening();
        }
        if !cfg.is_source {
            manage(&peer, &udp, &mut due, &mut tasks, &stop).await;
        }
        tokio::select! {
            _ = stopped(&mut stop) => break,
            _ = sleep(TICK) => {}
        }
        while tasks.try_join_next().is_some() {}
    }
    // Connections end in order (bounded by their own timeouts).
    let _ = timeout(Duration::from_secs(8), async { while tasks.join_next().await.is_some() {} }).await;
}

/// When the main loop does what next.
struct Due {
    first_query: bool,
    refresh: Instant,
    last_query: Instant,
    gossip: Instant,
    review: Instant,
}

impl Due {
    fn new(now: Instant) -> Self {
        let review = now + Duration::from_secs_f64(REVIEW_S.1);
        Due { first_query: true, refresh: now, last_query: now, gossip: now, review }
    }
}

/// Asks the tracker every [`TRACKER_REFRESH`] (sooner when we have no parent): over
/// UDP to join, over TCP to refresh (and when UDP fails); gossips to every host of
/// the reply (METHODS §8 steps 4–5).
async fn refresh(peer: &Shared, udp: &UdpSocket, (udp_t, tcp_t): proto::Trackers, due: &mut Due) {
    let starving = !peer.cfg.is_source
        && peer.st.lock().unwrap().sched.parents().next().is_none()
        && due.last_query.elapsed() >= STARVING_REFRESH;
    if Instant::now() < due.refresh && (due.first_query || !starving) {
        return;
    }
    due.refresh = Instant::now() + TRACKER_REFRESH;
    due.last_query = Instant::now();
    let me = peer.cfg.ip;
    let mut hosts = None;
    if due.first_query {
        if let Some(t) = udp_t {
            hosts = tracker::query_udp(me, t).await;
        }
    }
    if hosts.is_none() {
        if let Some(t) = tcp_t {
            hosts = tracker::query_tcp(&peer.ctx, me, t).await;
        }
    }
    due.first_query = false;
    if let Some(h) = hosts {
        peer.learn(&h);
        gossip_udp(peer, udp, &h).await;
    }
}

/// A peer's upkeep each tick: gossip to newly heard hosts, a TCP exchange with one
/// that answered, the review of its parents, and new parents up to
/// its target.
async fn manage(peer: &Shared, udp: &UdpSocket, due: &mut Due, tasks: &mut JoinSet<()>, stop: &watch::Receiver<bool>) {
    let now = Instant::now();
    if now >= due.gossip {
        due.gossip = now + Duration::from_secs(1);
        let (fresh, probe) = {
            let mut st = peer.st.lock().unwrap();
            (st.known.to_gossip(GOSSIP_NEW_PER_S), st.known.to_probe())
        };
        gossip_udp(peer, udp, &fresh).await;
        if let Some(h) = probe {
            tasks.spawn(exchange::probe(peer.clone(), h));
        }
    }
    let mut st = peer.st.lock().unwrap();
    if now >= due.review {
        due.review = now + Duration::from_secs_f64(REVIEW_S.0 + st.rng.unit() * (REVIEW_S.1 - REVIEW_S.0));
        for gone in st.sched.review(now) {
            st.sched.drop_parent(gone);
            st.known.avoid(gone, DROPPED_FOR);
        }
    }
    let State { sched, known, rng, .. } = &mut *st;
    // Regular places first (at once, when joining), then the one on trial.
    let regular = PARENT_TRIES.min(sched.target().saturating_sub(sched.regulars()));
    let wanted = regular + (regular == 0 && !sched.has_trial()) as usize;
    for _ in 0..wanted {
        let Some(parent) = known.pick_parent(rng, |h| sched.is_parent(h)) else { break };
        // Tried once per tick: a host that fails is avoided by its download task.
        known.avoid(parent, TICK);
        tasks.spawn(exchange::download(peer.clone(), parent, regular == 0, stop.clone()));
    }
}

/// Hands out chunks as the live edge moves (parent connections also ask for more
/// as each chunk arrives).
async fn schedule_loop(peer: Shared, mut stop: watch::Receiver<bool>) {
    loop {
        peer.schedule();
        tokio::select! {
            _ = stopped(&mut stop) => return,
            _ = sleep(Duration::from_millis(100)) => {}
        }
    }
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
    if hosts.is_empty() {
        return;
    }
    let msg = proto::gossip(&peer.neighbours());
    for h in hosts {
        peer.st.lock().unwrap().known.contacted(*h);
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
        let contacted = {
            let mut st = peer.st.lock().unwrap();
            let contacted = st.known.was_contacted(src);
            if !peer.cfg.accepts && !contacted {
                continue;
            }
            // The sender is named too: it is in the channel, and says so; one that
            // asks unasked is playing and looking for partners.
            st.known.learn(&hosts);
            if contacted {
                st.known.learn(&[src]);
            } else {
                st.known.queried_by(src);
            }
            st.known.responded(src);
            contacted
        };
        // Answer a query, not an answer (else two peers would echo forever).
        if peer.cfg.accepts && !contacted {
            let _ = udp.send_to(&proto::gossip(&peer.neighbours()), from).await;
        }
    }
}
