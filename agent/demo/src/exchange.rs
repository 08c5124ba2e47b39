//! The TCP side of a peer (METHODS §8 steps 5–6). As a child: parent connections
//! that gossip, then ask for whatever chunk the scheduler hands them, each renewed
//! at the end of a heavy-tailed lifetime ([H] §4.1: video sessions of ~20 s median,
//! a few much longer), and short gossip-only connections to hosts that answered our
//! UDP gossip. As a parent: answering children within its upload slots.

use std::{
    net::{Ipv4Addr, SocketAddrV4},
    time::{Duration, Instant},
};

use tokio::{
    net::TcpListener,
    sync::{mpsc, watch},
    task::JoinSet,
    time::{sleep, sleep_until, timeout},
};

use super::{
    conn::{Conn, Kind, MissReason},
    ctx::stopped,
    node::{Shared, GOSSIP_EVERY},
    proto::{self, TCP_PORT},
    rng::Rng,
    schedule::Outcome,
};

/// Median and shape of a parent connection's lifetime.
const SESSION_MEDIAN_S: f64 = 60.0;
const SESSION_SIGMA: f64 = 1.5;

/// Why a parent is no longer one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// Its lifetime is over: connect again.
    Renew,
    /// The scheduler dropped it.
    Dropped,
    Stop,
    Unreachable,
    NoSlot,
    Idle,
    /// Its newest chunk is older than any we want.
    Behind,
    /// Closed, reset or silent.
    Gone,
}

/// Downloads from `parent` (a regular parent or one on `trial`) until it is dropped,
/// refuses, lags, leaves, or we stop; connections are renewed when their lifetime
/// ends.
pub async fn download(peer: Shared, parent: Ipv4Addr, trial: bool, stop: watch::Receiver<bool>) {
    let (tx, mut queue) = mpsc::unbounded_channel();
    let id = peer.add_parent(parent, tx, trial);
    let mut rng = Rng::new((u32::from(peer.cfg.ip) as u64) << 32 | u32::from(parent) as u64 ^ id);
    let end = loop {
        let Ok(mut conn) = Conn::connect(peer.cfg.ip, SocketAddrV4::new(parent, TCP_PORT), &peer.ctx.truth).await
        else {
            break End::Unreachable;
        };
        let life = Duration::from_secs_f64(rng.log_normal(SESSION_MEDIAN_S, SESSION_SIGMA).clamp(2.0, 3600.0));
        let end = pull(&peer, id, &mut conn, &mut queue, Instant::now() + life, &stop).await;
        conn.close().await;
        if end != End::Renew {
            break end;
        }
    };
    peer.remove_parent(parent, id);
    let mut st = peer.st.lock().unwrap();
    match end {
        End::Idle => st.known.idle(parent),
        // A host that just joined may not listen yet; slots free up as peers come and go.
        End::Unreachable | End::NoSlot | End::Behind | End::Gone => st.known.avoid(parent, Duration::from_secs(4)),
        End::Dropped | End::Stop | End::Renew => {}
    }
}

/// One parent connection: gossip, then the chunks the scheduler sends through
/// `queue`, until `renew_at` passes between two chunks.
async fn pull(
    peer: &Shared,
    id: u64,
    conn: &mut Conn,
    queue: &mut mpsc::UnboundedReceiver<u32>,
    renew_at: Instant,
    stop: &watch::Receiver<bool>,
) -> End {
    let parent = conn.remote;
    let mut stop = stop.clone();
    let mut last_gossip = Instant::now() - GOSSIP_EVERY;
    // A new connection asks at once: a host that plays nothing says so.
    let mut next = None;
    loop {
        if last_gossip.elapsed() >= GOSSIP_EVERY {
            last_gossip = Instant::now();
            if !gossip(peer, conn).await {
                return End::Gone;
            }
            if next.is_none() && !asked_before(queue, &mut next) {
                next = Some(peer.first_request(parent, id));
            }
        }
        let seq = match next.take() {
            Some(s) => s,
            None => tokio::select! {
                _ = stopped(&mut stop) => return End::Stop,
                _ = sleep_until(renew_at.into()) => return End::Renew,
                s = queue.recv() => match s { Some(s) => s, None => return End::Dropped },
            },
        };
        let asked = Instant::now();
        let reply = match conn.send(Kind::Request, &seq.to_be_bytes()).await {
            Ok(()) => timeout(Duration::from_secs(5), conn.recv()).await.ok().and_then(|r| r.ok().flatten()),
            Err(_) => None,
        };
        let (outcome, end) = match reply {
            Some((Kind::Chunk, body)) if body.len() >= 8 => {
                let newest = u32::from_be_bytes(body[4..8].try_into().unwrap());
                (Outcome::Got { bytes: body.len() - 8, took: asked.elapsed(), newest }, None)
            }
            Some((Kind::Miss, body)) => match MissReason::parse(&body) {
                Some((MissReason::NotYet, newest)) => {
                    (Outcome::NotYet { newest }, (!peer.useful(newest)).then_some(End::Behind))
                }
                Some((MissReason::NoSlot, _)) => (Outcome::Failed, Some(End::NoSlot)),
                Some((MissReason::Idle, _)) => (Outcome::Failed, Some(End::Idle)),
                None => (Outcome::Failed, Some(End::Gone)),
            },
            _ => (Outcome::Failed, Some(End::Gone)),
        };
        peer.chunk_done(parent, id, seq, outcome);
        if let Some(end) = end {
            return end;
        }
    }
}

/// Takes a chunk the scheduler queued already, if any, into `next`.
fn asked_before(queue: &mut mpsc::UnboundedReceiver<u32>, next: &mut Option<u32>) -> bool {
    *next = queue.try_recv().ok();
    next.is_some()
}

/// Gossip over TCP: ours, then theirs; false if the connection failed.
async fn gossip(peer: &Shared, conn: &mut Conn) -> bool {
    if conn.send(Kind::Gossip, &proto::gossip(&peer.neighbours())).await.is_err() {
        return false;
    }
    match timeout(Duration::from_secs(3), conn.recv()).await {
        Ok(Ok(Some((Kind::Gossip, body)))) => {
            peer.learn(&proto::parse_gossip(&body).unwrap_or_default());
            peer.learn(&[conn.remote]);
            true
        }
        _ => false,
    }
}

/// A short TCP connection that only exchanges gossip: a signaling session ([H] §4.1).
pub async fn probe(peer: Shared, host: Ipv4Addr) {
    let Ok(mut conn) = Conn::connect(peer.cfg.ip, SocketAddrV4::new(host, TCP_PORT), &peer.ctx.truth).await else {
        return;
    };
    gossip(&peer, &mut conn).await;
    conn.close().await;
}

pub async fn accept_loop(peer: Shared, listener: TcpListener, mut stop: watch::Receiver<bool>) {
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

/// Whether `child` may be served: by anyone; by the source, when it has no relays
/// (which its slots hold for them), only if it accepts connections itself (checked
/// once, by connecting back), so that what the source sends is passed on — a NATed
/// child of the source would be a dead end for the whole swarm.
async fn passes_on(peer: &Shared, child: Ipv4Addr) -> bool {
    if !peer.cfg.is_source {
        return true;
    }
    {
        let st = peer.st.lock().unwrap();
        if !st.favoured.is_empty() {
            return true;
        }
        if let Some(known) = st.reachable.get(&child) {
            return *known;
        }
    }
    let back = Conn::connect(peer.cfg.ip, SocketAddrV4::new(child, TCP_PORT), &peer.ctx.truth).await;
    let ok = back.is_ok();
    if let Ok(c) = back {
        c.close().await;
    }
    peer.st.lock().unwrap().reachable.insert(child, ok);
    ok
}

/// Answers one child: gossip with gossip, a request with the chunk, or a miss (not
/// here yet; no upload slot).
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
                if !passes_on(&peer, child).await || !peer.slot(child) {
                    conn.send(Kind::Miss, &MissReason::NoSlot.body(seq, peer.newest())).await
                } else if peer.has(seq) {
                    let mut out = seq.to_be_bytes().to_vec();
                    out.extend_from_slice(&peer.newest().to_be_bytes());
                    out.extend_from_slice(&peer.chunk);
                    conn.send(Kind::Chunk, &out).await
                } else {
                    conn.send(Kind::Miss, &MissReason::NotYet.body(seq, peer.newest())).await
                }
            }
            _ => break,
        };
        if ok.is_err() {
            break;
        }
    }
    conn.close().await;
}
