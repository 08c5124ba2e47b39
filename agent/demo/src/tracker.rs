//! The channel's tracker, on UDP and TCP (METHODS §8 step 4). A query is a gossip
//! message listing the querier; the reply lists up to 50 other hosts seen recently.
//! Hosts that stop asking (they left) drop out of the lists.

use std::{
    collections::HashMap,
    net::{Ipv4Addr, SocketAddrV4},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::net::{TcpListener, UdpSocket};

use super::{
    conn::{Conn, Kind},
    ctx::Ctx,
    proto::{self, TRACKER_PORT},
    rng::Rng,
};

/// A host not heard from for this long is no longer listed.
const FORGET_AFTER: Duration = Duration::from_secs(25);

#[derive(Default)]
struct Registry {
    seen: HashMap<Ipv4Addr, Instant>,
    rng: Option<Rng>,
}

impl Registry {
    /// Records the querier and picks up to 50 other live hosts at random.
    fn query(&mut self, from: Ipv4Addr) -> Vec<Ipv4Addr> {
        let now = Instant::now();
        self.seen.insert(from, now);
        self.seen.retain(|_, t| now.duration_since(*t) < FORGET_AFTER);
        let mut hosts: Vec<Ipv4Addr> = self.seen.keys().copied().filter(|h| *h != from).collect();
        hosts.sort();
        let rng = self.rng.get_or_insert_with(|| Rng::new(0x7ac4));
        rng.shuffle(&mut hosts);
        hosts.truncate(proto::MAX_TRACKER_HOSTS);
        hosts
    }
}

pub async fn serve(ctx: Ctx, ip: Ipv4Addr) -> anyhow::Result<()> {
    let reg = Arc::new(Mutex::new(Registry::default()));
    let udp = UdpSocket::bind(SocketAddrV4::new(ip, TRACKER_PORT)).await?;
    let tcp = TcpListener::bind(SocketAddrV4::new(ip, TRACKER_PORT)).await?;
    ctx.servers.listening();
    let mut stop = ctx.stop.clone();
    let mut buf = vec![0u8; 2048];
    loop {
        tokio::select! {
            _ = stop.changed() => return Ok(()),
            r = udp.recv_from(&mut buf) => {
                let Ok((n, from)) = r else { continue };
                let Some(querier) = query_sender(&buf[..n]) else { continue };
                let hosts = reg.lock().unwrap().query(querier);
                let _ = udp.send_to(&proto::tracker_reply(&hosts), from).await;
            }
            r = tcp.accept() => {
                let Ok((stream, _)) = r else { continue };
                let Ok(mut conn) = Conn::new(stream, &ctx.truth) else { continue };
                let reg = reg.clone();
                tokio::spawn(async move {
                    let q = tokio::time::timeout(Duration::from_secs(5), conn.recv()).await;
                    if let Ok(Ok(Some((Kind::Gossip, body)))) = q {
                        if let Some(querier) = query_sender(&body) {
                            let hosts = reg.lock().unwrap().query(querier);
                            let _ = conn.send(Kind::Gossip, &proto::tracker_reply(&hosts)).await;
                        }
                    }
                    conn.close().await;
                });
            }
        }
    }
}

fn query_sender(buf: &[u8]) -> Option<Ipv4Addr> {
    proto::parse_gossip(buf)?.first().copied()
}

/// Asks the tracker over UDP (a few tries) for hosts of the channel.
pub async fn query_udp(me: Ipv4Addr, tracker: SocketAddrV4) -> Option<Vec<Ipv4Addr>> {
    let sock = UdpSocket::bind(SocketAddrV4::new(me, 0)).await.ok()?;
    let mut buf = vec![0u8; 2048];
    for _ in 0..3 {
        sock.send_to(&proto::gossip(&[me]), tracker).await.ok()?;
        if let Ok(Ok((n, _))) = tokio::time::timeout(Duration::from_secs(1), sock.recv_from(&mut buf)).await {
            if let Some(h) = proto::parse_tracker_reply(&buf[..n]) {
                return Some(h);
            }
        }
    }
    None
}

/// The same over TCP (the client's refresh, and its fallback when UDP is blocked).
pub async fn query_tcp(ctx: &Ctx, me: Ipv4Addr, tracker: SocketAddrV4) -> Option<Vec<Ipv4Addr>> {
    let mut conn = Conn::connect(me, tracker, &ctx.truth).await.ok()?;
    conn.send(Kind::Gossip, &proto::gossip(&[me])).await.ok()?;
    let reply = tokio::time::timeout(Duration::from_secs(3), conn.recv()).await.ok().and_then(|r| r.ok().flatten());
    conn.close().await;
    match reply {
        Some((Kind::Gossip, body)) => proto::parse_tracker_reply(&body),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_registry_lists_others_up_to_fifty() {
        let mut r = Registry::default();
        for i in 0..70u8 {
            r.query(Ipv4Addr::new(203, 0, 113, i));
        }
        let me = Ipv4Addr::new(203, 0, 113, 5);
        let got = r.query(me);
        assert_eq!(got.len(), 50);
        assert!(!got.contains(&me));
    }
}
