//! The TCP side of a peer (METHODS §8 steps 5–6): as a child, a few parent
//! connections that gossip and pull chunks one at a time; as a parent, answering
//! children's gossip and requests within its upload slots.

use std::{
    net::{Ipv4Addr, SocketAddrV4},
    time::{Duration, Instant},
};

use tokio::{
    net::TcpListener,
    sync::watch,
    task::JoinSet,
    time::{sleep, timeout},
};

use super::{
    conn::{Conn, Kind},
    ctx::stopped,
    node::{Shared, GOSSIP_EVERY, PARENT_CONNS},
    proto::{self, TCP_PORT},
    rng::Rng,
};

/// A host to download from: one that answered our gossip if possible.
pub fn pick_parent(peer: &Shared, rng: &mut Rng) -> Option<Ipv4Addr> {
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
pub async fn download(peer: Shared, parent: Ipv4Addr, stop: watch::Receiver<bool>) {
    let me = peer.cfg.ip;
    let conn = Conn::connect(me, SocketAddrV4::new(parent, TCP_PORT), &peer.ctx.truth).await;
    if let Ok(mut conn) = conn {
        pull(&peer, &mut conn, &stop).await;
        conn.close().await;
    } else {
        // Short: a host that just joined may not listen yet, and a NATed peer has
        // no one else to ask.
        avoid(&peer, parent, 4);
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
                    // No upload slot for us: look elsewhere for a while (briefly: slots
                    // free up as peers come and go, and a NATed peer can only ask).
                    st.avoid.insert(parent, Instant::now() + Duration::from_secs(4));
                    Outcome::Refused
                }
                _ => Outcome::Refused,
            }
        };
        match outcome {
            Outcome::Got => {
                lagging = 0;
                response = (response * 3 + asked.elapsed()) / 4;
                // With n parents each rests (n-1)/2 chunk intervals: together they
                // still fetch 2n/(n+1) ≥ 1 chunk per interval, but none carries the
                // whole stream ([M] saw 3–5 parents at once).
                let others = peer.st.lock().unwrap().parents.len().saturating_sub(1) as u32;
                sleep(peer.ctx.channel.chunk_interval() * others / 2).await;
            }
            Outcome::NotYet => {
                lagging += 1;
                if lagging > 20 {
                    avoid(peer, parent, 4);
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
