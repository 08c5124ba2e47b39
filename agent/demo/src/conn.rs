//! A TCP connection between two hosts of the swarm that records every byte it writes
//! in the ground truth, and frames peer messages the way PPLive's TCP traffic looks
//! to the public DPI rules (METHODS §10): a big-endian length prefix, then
//! `21 00 KIND 00 98 ab 01 02`, then the body.

use std::{
    io,
    net::{Ipv4Addr, SocketAddr, SocketAddrV4},
    os::fd::AsRawFd,
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
    time::timeout,
};

use super::truth::{bytes_retransmitted, GroundTruth};

/// What a peer frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A 2005 gossip message (channel ID, neighbours).
    Gossip = 1,
    /// Asks for one chunk: sequence number (u32 BE).
    Request = 2,
    /// One chunk: sequence number, the sender's newest chunk (u32 BE each), then
    /// the video bytes.
    Chunk = 3,
    /// The chunk is not available ([`MissReason`]).
    Miss = 4,
}

/// Why a chunk request got no chunk (the byte after the sequence number of a Miss).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissReason {
    /// The parent has not received it yet.
    NotYet = 0,
    /// No upload slot for this child.
    NoSlot = 1,
    /// The host plays nothing (a gossip-only host).
    Idle = 2,
}

impl MissReason {
    pub fn from_u8(b: u8) -> Option<MissReason> {
        [MissReason::NotYet, MissReason::NoSlot, MissReason::Idle].into_iter().find(|r| *r as u8 == b)
    }

    /// A Miss body: the sequence number asked for, the reason, and the newest chunk
    /// the sender holds (0 if none): a one-number buffer map.
    pub fn body(self, seq: u32, newest: u32) -> Vec<u8> {
        let mut out = seq.to_be_bytes().to_vec();
        out.push(self as u8);
        out.extend_from_slice(&newest.to_be_bytes());
        out
    }

    /// The reason and the sender's newest chunk of a Miss body.
    pub fn parse(body: &[u8]) -> Option<(MissReason, u32)> {
        let reason = MissReason::from_u8(*body.get(4)?)?;
        let newest = u32::from_be_bytes(body.get(5..9)?.try_into().ok()?);
        Some((reason, newest))
    }
}

impl Kind {
    fn from_u8(b: u8) -> Option<Kind> {
        [Kind::Gossip, Kind::Request, Kind::Chunk, Kind::Miss].into_iter().find(|k| *k as u8 == b)
    }
}

const FRAME_HEADER: usize = 8;
const MAX_FRAME: usize = 1 << 20;
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The bytes of one peer frame.
pub fn frame(kind: Kind, body: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(4 + FRAME_HEADER + body.len());
    buf.extend_from_slice(&((FRAME_HEADER + body.len()) as u32).to_be_bytes());
    buf.extend_from_slice(&[0x21, 0x00, kind as u8, 0x00, 0x98, 0xab, 0x01, 0x02]);
    buf.extend_from_slice(body);
    buf
}

pub struct Conn {
    stream: TcpStream,
    pub local: Ipv4Addr,
    pub remote: Ipv4Addr,
    truth: GroundTruth,
}

fn v4(a: SocketAddr) -> Ipv4Addr {
    match a {
        SocketAddr::V4(a) => *a.ip(),
        SocketAddr::V6(a) => a.ip().to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED),
    }
}

impl Conn {
    pub async fn connect(local: Ipv4Addr, to: SocketAddrV4, truth: &GroundTruth) -> io::Result<Conn> {
        let sock = TcpSocket::new_v4()?;
        sock.bind(SocketAddr::new(local.into(), 0))?;
        let stream = timeout(CONNECT_TIMEOUT, sock.connect(to.into()))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        Conn::new(stream, truth)
    }

    pub fn new(stream: TcpStream, truth: &GroundTruth) -> io::Result<Conn> {
        stream.set_nodelay(true)?;
        Ok(Conn { local: v4(stream.local_addr()?), remote: v4(stream.peer_addr()?), stream, truth: truth.clone() })
    }

    /// Writes raw bytes (HTTP) and records them.
    pub async fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.truth.sent(self.local, self.remote, bytes.len());
        Ok(())
    }

    pub async fn send(&mut self, kind: Kind, body: &[u8]) -> io::Result<()> {
        self.write_raw(&frame(kind, body)).await
    }

    /// The next frame, or None when the other side closed cleanly.
    pub async fn recv(&mut self) -> io::Result<Option<(Kind, Vec<u8>)>> {
        let mut len = [0u8; 4];
        match self.stream.read_exact(&mut len).await {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let len = u32::from_be_bytes(len) as usize;
        if !(FRAME_HEADER..=MAX_FRAME).contains(&len) {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "bad frame length"));
        }
        let mut buf = vec![0u8; len];
        self.stream.read_exact(&mut buf).await?;
        let kind =
            Kind::from_u8(buf[2]).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unknown frame kind"))?;
        buf.drain(..FRAME_HEADER);
        Ok(Some((kind, buf)))
    }

    /// Reads whatever arrives (HTTP) into `buf`; 0 at end of stream.
    pub async fn read_some(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        let mut tmp = [0u8; 16 * 1024];
        let n = self.stream.read(&mut tmp).await?;
        buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    /// Ends the connection in order: no more writes, then wait (briefly) for the other
    /// side to finish, so nothing written is lost to a reset.
    pub async fn close(mut self) {
        let _ = self.stream.shutdown().await;
        let mut sink = [0u8; 4096];
        let _ = timeout(Duration::from_secs(2), async {
            while let Ok(n) = self.stream.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let r = bytes_retransmitted(self.stream.as_raw_fd());
        self.truth.retransmitted(self.local, self.remote, r);
    }
}

#[cfg(test)]
mod tests {
    use peerscope_dissector::{identify, App, Transport};

    use super::*;

    #[test]
    fn test_frames_look_like_pplive_to_the_dpi_rules() {
        for (kind, body) in [(Kind::Request, 7u32.to_be_bytes().to_vec()), (Kind::Chunk, vec![0x47; 1400])] {
            let f = frame(kind, &body);
            assert_eq!(u32::from_be_bytes(f[..4].try_into().unwrap()) as usize, f.len() - 4);
            assert_eq!(identify(Transport::Tcp, 40000, 8008, &f).app, App::PpLive, "{kind:?}");
        }
    }

    #[test]
    fn test_miss_bodies_round_trip() {
        let b = MissReason::NotYet.body(7, 12);
        assert_eq!(MissReason::parse(&b), Some((MissReason::NotYet, 12)));
        assert_eq!(MissReason::parse(&b[..5]), None, "too short");
        let mut bad = MissReason::Idle.body(1, 0);
        bad[4] = 9;
        assert_eq!(MissReason::parse(&bad), None);
    }
}
