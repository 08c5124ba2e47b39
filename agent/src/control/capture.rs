//! The messages of a capture file, identified and attributed: every UDP
//! datagram, and every TCP message reassembled from its segments, with the
//! identification of its own bytes and the attribution of its flow.
//!
//! Attribution needs the whole flow (a weak rule waits for the flow's second
//! payload), so a capture is read twice: [`attribute_flows`] settles every
//! flow, then [`read_messages`] hands each message over with its flow's final
//! attribution, as tshark's two-pass mode (`-2`) does.

use std::{collections::HashMap, net::IpAddr, path::Path};

use peerscope_abi::{FlowKey, TcpFlags};
use peerscope_dissector::{identify_cut, Attribution, FlowEvidence, Identification, Transport};

use peerscope_abi::parse::Options;

use crate::offline::{self, capture::Damage, decode, OfflineError, ReadStats};

use super::message::transport;
use super::tcp::{Segment, TcpMessage, TcpStreams};

/// One message of a capture.
#[derive(Debug, Clone)]
pub struct Message {
    /// The frame that carried it (for TCP, the one whose segment completed it).
    pub frame: u64,
    pub ts_ns: u64,
    /// Its direction.
    pub key: FlowKey,
    pub transport: Transport,
    /// The bytes captured: the whole TCP message, or the datagram as far as
    /// the capture kept it.
    pub bytes: Vec<u8>,
    /// Its length on the wire (more than `bytes` when a capture cut it).
    pub full_len: usize,
    /// TCP segments it was reassembled from (1 for a datagram).
    pub segments: u32,
    /// The TCP stream ended before the message did.
    pub cut_short: bool,
    /// What its own bytes matched.
    pub identification: Identification,
}

/// What reading a capture saw, besides its messages.
#[derive(Debug, Clone, Default)]
pub struct FrameCounts {
    /// What the frame parser made of every frame read.
    pub read: ReadStats,
    /// IP frames with a UDP or TCP payload.
    pub with_payload: u64,
}

/// How a capture is read: the frame parser's options (`--decap`) and at most how
/// many frames (`-c N`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    pub parse: Options,
    pub max_frames: Option<u64>,
}

/// Both directions of a flow, one key.
pub type FlowPair = (u8, (IpAddr, u16), (IpAddr, u16));

pub fn pair(key: &FlowKey) -> FlowPair {
    let (a, b) = ((key.src_ip(), key.src_port), (key.dst_ip(), key.dst_port));
    (key.proto, a.min(b), a.max(b))
}

fn message(frame: u64, ts_ns: u64, key: FlowKey, t: Transport, bytes: Vec<u8>, full_len: usize) -> Message {
    let identification = identify_cut(t, key.src_port, key.dst_port, &bytes, full_len);
    Message { frame, ts_ns, key, transport: t, bytes, full_len, segments: 1, cut_short: false, identification }
}

fn from_tcp(key: FlowKey, ts_ns: u64, m: TcpMessage) -> Message {
    let len = m.bytes.len();
    let mut msg = message(m.frame, ts_ns, key, Transport::Tcp, m.bytes, len);
    msg.segments = m.segments;
    msg.cut_short = m.cut_short;
    msg
}

/// Reads `path`, handing every message to `each` in capture order; returns
/// the frame counts and the damage that stopped the reading, if any.
pub fn read_messages(
    path: &Path,
    opts: ReadOptions,
    mut each: impl FnMut(Message),
) -> Result<(FrameCounts, Option<Damage>), OfflineError> {
    let (mut reader, _) = offline::open(path)?;
    let mut tcp = TcpStreams::default();
    let mut counts = FrameCounts::default();
    let mut last_ts: HashMap<FlowKey, u64> = HashMap::new();
    let mut out = Vec::new();
    let damage = loop {
        if opts.max_frames.is_some_and(|m| counts.read.frames >= m) {
            break None;
        }
        let frame = match reader.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break None,
            Err(d) => break Some(d),
        };
        let decoded = decode::decode(&frame, opts.parse);
        let Some(ip) = counts.read.count(&decoded).copied() else { continue };
        let Some(p) = decode::payload(frame.data, &ip) else { continue };
        let frame_no = counts.read.frames;
        let Some(t) = transport(&ip.key) else { continue };
        let control_flags = u16::from(ip.tcp_flags) & TcpFlags::KEPT != 0;
        if ip.payload_len == 0 && !(t == Transport::Tcp && control_flags) {
            continue;
        }
        if ip.payload_len > 0 {
            counts.with_payload += 1;
        }
        match (t, p.tcp_seq) {
            (Transport::Tcp, Some(seq)) => {
                let flags = u16::from(ip.tcp_flags);
                let seg = Segment {
                    seq,
                    syn: flags & TcpFlags::SYN != 0,
                    end: flags & (TcpFlags::FIN | TcpFlags::RST) != 0,
                    data: p.bytes,
                    frame: frame_no,
                };
                last_ts.insert(ip.key, frame.ts_ns);
                tcp.push(&ip.key, seg, &mut out);
                for m in out.drain(..) {
                    each(from_tcp(ip.key, frame.ts_ns, m));
                }
            }
            _ => each(message(frame_no, frame.ts_ns, ip.key, t, p.bytes.to_vec(), ip.payload_len as usize)),
        }
    };
    let mut rest = Vec::new();
    tcp.finish(&mut rest);
    for (key, m) in rest {
        let ts = last_ts.get(&key).copied().unwrap_or(0);
        each(from_tcp(key, ts, m));
    }
    Ok((counts, damage))
}

/// Every flow of `path` with its final attribution (unattributed flows are
/// left out).
pub fn attribute_flows(path: &Path, opts: ReadOptions) -> Result<HashMap<FlowPair, Attribution>, OfflineError> {
    let mut flows: HashMap<FlowPair, FlowEvidence> = HashMap::new();
    read_messages(path, opts, |m| {
        flows.entry(pair(&m.key)).or_default().observe(&m.identification, &m.bytes);
    })?;
    Ok(flows
        .into_iter()
        .filter_map(|(k, f)| {
            let a = f.attribution();
            a.app().map(|_| (k, a))
        })
        .collect())
}
