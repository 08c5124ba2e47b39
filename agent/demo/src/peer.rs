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
    clock::now_unix_ns,
    ctx::{stopped, Ctx},
    exchange, http,
    node::{Peer, PeerCfg, Shared, State},
    plan,
    proto::{self, TCP_PORT, TRACKER_PORT, UDP_PORT},
    rng::Rng,
    tracker,
};

const TRACKER_REFRESH: Duration = Duration::from_secs(10);
const STARVING_REFRESH: Duration = Duration::from_secs(2);

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
