//! The gossip-only hosts: idle peers of the channel, so that a peer contacts far
//! more hosts than it exchanges video with ([M] §IV-A: ~1% of the hosts contacted
//! became parents, ~2% children). They register with the tracker, answer gossip over
//! UDP and TCP with hosts they heard of, and refuse every chunk request: they play
//! nothing.
//!
//! Hundreds of hosts cost one namespace and one task: their prefixes are local
//! addresses of the crowd's namespace ([`super::topology::Hub::crowd`]); one UDP
//! socket learns each datagram's destination (`IP_PKTINFO`) and answers from it, and
//! one TCP listener's connections carry the address they were made to.

use std::{
    collections::HashSet,
    io,
    net::{Ipv4Addr, SocketAddrV4},
    os::fd::AsRawFd,
    sync::{Arc, Mutex},
    time::Duration,
};

use nix::sys::socket::{
    recvmsg, sendmsg, setsockopt, sockopt::Ipv4PacketInfo, ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn,
};
use tokio::{
    io::Interest,
    net::{TcpListener, UdpSocket},
    task::JoinSet,
    time::{interval, timeout},
};

use super::{
    conn::{Conn, Kind, MissReason},
    ctx::{stopped, Ctx},
    plan,
    proto::{self, TCP_PORT, TRACKER_PORT, UDP_PORT},
    rng::Rng,
};

/// Each host asks the tracker again this often (it forgets hosts after 25 s).
const REGISTER_EVERY: Duration = Duration::from_secs(15);
const TICK: Duration = Duration::from_millis(100);
/// Hosts a gossip answer lists, and how many a host remembers.
const LISTED: usize = 4;
const HEARD_MAX: usize = 4096;

/// Hosts heard of from the tracker, for gossip answers.
struct Heard {
    hosts: Vec<Ipv4Addr>,
    seen: HashSet<Ipv4Addr>,
    rng: Rng,
}

impl Heard {
    fn learn(&mut self, hosts: &[Ipv4Addr]) {
        for h in hosts {
            if self.hosts.len() < HEARD_MAX && self.seen.insert(*h) {
                self.hosts.push(*h);
            }
        }
    }

    /// Up to [`LISTED`] hosts at random, neither `me` nor `asker`.
    fn sample(&mut self, me: Ipv4Addr, asker: Ipv4Addr) -> Vec<Ipv4Addr> {
        let mut out = Vec::new();
        for _ in 0..LISTED * 2 {
            if out.len() == LISTED || self.hosts.is_empty() {
                break;
            }
            let h = self.hosts[self.rng.below(self.hosts.len())];
            if h != me && h != asker && !out.contains(&h) {
                out.push(h);
            }
        }
        out
    }
}

pub async fn serve(ctx: Ctx, addrs: Vec<Ipv4Addr>) -> anyhow::Result<()> {
    let udp = bind_udp()?;
    let tcp = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, TCP_PORT)).await?;
    let heard = Arc::new(Mutex::new(Heard { hosts: Vec::new(), seen: HashSet::new(), rng: Rng::new(0xc0d) }));
    let tracker = SocketAddrV4::new(plan::TRACKER, TRACKER_PORT);
    // Registered before the peers ask, so their first lists already hold the crowd.
    for a in &addrs {
        let _ = send_from(&udp, *a, tracker, &proto::gossip(&[*a])).await;
    }
    ctx.servers.listening();
    let per_tick = (addrs.len() as f64 * TICK.as_secs_f64() / REGISTER_EVERY.as_secs_f64()).ceil() as usize;
    let (mut next, mut tick) = (0, interval(TICK));
    let mut stop = ctx.stop.clone();
    let mut conns = JoinSet::new();
    let mut buf = vec![0u8; 4096];
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => break,
            _ = tick.tick() => {
                for _ in 0..per_tick.min(addrs.len()) {
                    let a = addrs[next % addrs.len()];
                    next += 1;
                    let _ = send_from(&udp, a, tracker, &proto::gossip(&[a])).await;
                }
            }
            r = udp.async_io(Interest::READABLE, || recv_to(&udp, &mut buf)) => {
                let Ok((n, from, to)) = r else { continue };
                if let Some(reply) = answer_udp(&heard, &buf[..n], from, to) {
                    let _ = send_from(&udp, to, from, &reply).await;
                }
            }
            r = tcp.accept() => {
                let Ok((stream, _)) = r else { continue };
                let Ok(conn) = Conn::new(stream, &ctx.truth) else { continue };
                conns.spawn(answer_tcp(conn, heard.clone()));
            }
        }
        while conns.try_join_next().is_some() {}
    }
    drop(tcp);
    let _ = timeout(Duration::from_secs(5), async { while conns.join_next().await.is_some() {} }).await;
    Ok(())
}

/// A tracker reply teaches hosts; gossip gets gossip back, from the address it was
/// sent to.
fn answer_udp(heard: &Mutex<Heard>, msg: &[u8], from: SocketAddrV4, to: Ipv4Addr) -> Option<Vec<u8>> {
    let mut h = heard.lock().unwrap();
    if *from.ip() == plan::TRACKER {
        h.learn(&proto::parse_tracker_reply(msg)?);
        return None;
    }
    proto::parse_gossip(msg)?;
    Some(proto::gossip(&h.sample(to, *from.ip())))
}

/// One TCP connection to a gossip-only host: gossip answered, chunks refused, until
/// the other side closes or is silent for 10 s.
async fn answer_tcp(mut conn: Conn, heard: Arc<Mutex<Heard>>) {
    while let Ok(Ok(Some(frame))) = timeout(Duration::from_secs(10), conn.recv()).await {
        let sent = match frame {
            (Kind::Gossip, _) => {
                let hosts = heard.lock().unwrap().sample(conn.local, conn.remote);
                conn.send(Kind::Gossip, &proto::gossip(&hosts)).await
            }
            (Kind::Request, body) if body.len() >= 4 => {
                let seq = u32::from_be_bytes(body[..4].try_into().unwrap());
                conn.send(Kind::Miss, &MissReason::Idle.body(seq, 0)).await
            }
            _ => break,
        };
        if sent.is_err() {
            break;
        }
    }
    conn.close().await;
}

/// A UDP socket on every local address that reports each datagram's destination.
fn bind_udp() -> anyhow::Result<UdpSocket> {
    let std = std::net::UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, UDP_PORT))?;
    setsockopt(&std, Ipv4PacketInfo, &true)?;
    std.set_nonblocking(true)?;
    Ok(UdpSocket::from_std(std)?)
}

/// One datagram: its length, sender and the local address it was sent to.
fn recv_to(udp: &UdpSocket, buf: &mut [u8]) -> io::Result<(usize, SocketAddrV4, Ipv4Addr)> {
    let mut cmsg = nix::cmsg_space!(libc::in_pktinfo);
    let mut iov = [io::IoSliceMut::new(buf)];
    let msg = recvmsg::<SockaddrIn>(udp.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::MSG_DONTWAIT)?;
    let from = msg.address.map(SocketAddrV4::from).ok_or(io::ErrorKind::InvalidData)?;
    let to = msg.cmsgs()?.find_map(|c| match c {
        ControlMessageOwned::Ipv4PacketInfo(i) => Some(Ipv4Addr::from(u32::from_be(i.ipi_addr.s_addr))),
        _ => None,
    });
    Ok((msg.bytes, from, to.ok_or(io::ErrorKind::InvalidData)?))
}

/// Sends `msg` to `to` from the local address `from`.
async fn send_from(udp: &UdpSocket, from: Ipv4Addr, to: SocketAddrV4, msg: &[u8]) -> io::Result<usize> {
    // SAFETY: in_pktinfo is plain old data; all zeroes is a valid value.
    let mut info: libc::in_pktinfo = unsafe { std::mem::zeroed() };
    info.ipi_spec_dst.s_addr = u32::from(from).to_be();
    let dest = SockaddrIn::from(to);
    udp.async_io(Interest::WRITABLE, || {
        let iov = [io::IoSlice::new(msg)];
        let sent = sendmsg(
            udp.as_raw_fd(),
            &iov,
            &[ControlMessage::Ipv4PacketInfo(&info)],
            MsgFlags::MSG_DONTWAIT,
            Some(&dest),
        )?;
        Ok(sent)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_gossip_answers_list_heard_hosts_but_not_the_asker() {
        let heard = Mutex::new(Heard { hosts: Vec::new(), seen: HashSet::new(), rng: Rng::new(1) });
        let (me, asker) = (Ipv4Addr::new(203, 0, 113, 50), Ipv4Addr::new(198, 51, 100, 10));
        let tracker = SocketAddrV4::new(plan::TRACKER, TRACKER_PORT);
        let listed: Vec<Ipv4Addr> = (20..40).map(|h| Ipv4Addr::new(192, 0, 2, h)).chain([me, asker]).collect();
        assert_eq!(answer_udp(&heard, &proto::tracker_reply(&listed), tracker, me), None, "a reply teaches");
        let reply = answer_udp(&heard, &proto::gossip(&[asker]), SocketAddrV4::new(asker, UDP_PORT), me).unwrap();
        let hosts = proto::parse_gossip(&reply).unwrap();
        assert_eq!(hosts.len(), LISTED);
        assert!(!hosts.contains(&me) && !hosts.contains(&asker), "{hosts:?}");
        let other = SocketAddrV4::new(asker, UDP_PORT);
        assert_eq!(answer_udp(&heard, b"not gossip", other, me), None);
    }

    #[tokio::test]
    async fn test_a_datagram_is_answered_from_the_address_it_was_sent_to() {
        // Loopback holds all of 127/8, as the crowd's namespace holds its prefixes.
        let udp = {
            let std = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
            setsockopt(&std, Ipv4PacketInfo, &true).unwrap();
            std.set_nonblocking(true).unwrap();
            UdpSocket::from_std(std).unwrap()
        };
        let port = udp.local_addr().unwrap().port();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.send_to(b"hi", ("127.0.0.7", port)).await.unwrap();
        let mut buf = [0u8; 16];
        let (n, from, to) = udp.async_io(Interest::READABLE, || recv_to(&udp, &mut buf)).await.unwrap();
        assert_eq!((&buf[..n], to), (&b"hi"[..], Ipv4Addr::new(127, 0, 0, 7)));
        send_from(&udp, to, from, b"yo").await.unwrap();
        let (n, src) = client.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], src.ip()), (&b"yo"[..], std::net::IpAddr::from([127, 0, 0, 7])));
    }
}
