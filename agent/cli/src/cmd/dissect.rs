//! `peerscope dissect FILE`: every PPLive control message of a capture, decoded like
//! `tshark -V` (a tree with byte offsets) or as JSON lines; TCP streams are
//! reassembled so a message spanning segments is decoded whole.

use std::{io::Write, process::ExitCode};

use anyhow::Context;
use peerscope_abi::{FlowKey, TcpFlags};

use crate::cli::DissectArgs;
use peerscope::{
    control::{self, filter::Filter, reassembly::Reassembler, ControlMessage},
    offline::{self, decode::decode_with_payload, decode::Decoded},
    schema::ControlMessageDocument,
    view::endpoint,
};

use super::analyze::EXIT_DAMAGED;

pub fn run(args: DissectArgs) -> anyhow::Result<ExitCode> {
    let filter = args.filter.as_deref().map(Filter::parse).transpose()?;
    let (mut reader, _) = offline::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?;
    let mut reasm = Reassembler::default();
    let mut out = std::io::stdout().lock();
    let (mut frame_no, mut shown) = (0u64, 0u64);
    let damage = loop {
        let frame = match reader.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break None,
            Err(d) => break Some(d),
        };
        frame_no += 1;
        let (Decoded::Ip(ip), Some(p)) = decode_with_payload(frame.linktype, frame.data) else { continue };
        if p.bytes.is_empty() {
            continue;
        }
        let (msg, reassembled) = match p.tcp_seq {
            None => (control::decode(&ip.key, p.bytes), None),
            Some(seq) => {
                let pending = reasm.push(&ip.key, seq, ip.tcp_flags as u32 & TcpFlags::SYN != 0, p.bytes);
                let len = pending.len();
                if http_incomplete(pending) {
                    continue;
                }
                match control::decode(&ip.key, pending) {
                    Some(m) if m.tree.is_some() => {
                        reasm.consume(&ip.key);
                        (Some(m), (len > p.bytes.len()).then_some(len))
                    }
                    // Keep waiting only for what starts like a message.
                    m => {
                        if m.is_none() && !looks_like_start(pending) {
                            reasm.consume(&ip.key);
                        }
                        (m.filter(|_| len == p.bytes.len()), None)
                    }
                }
            }
        };
        let Some(msg) = msg else { continue };
        if let Some(f) = &filter {
            if !msg.tree.as_ref().is_some_and(|t| f.matches(t)) {
                continue;
            }
        }
        shown += 1;
        let wrote = if args.json {
            json(&mut out, frame_no, frame.ts_ns, &ip.key, &msg, reassembled)
        } else {
            text(&mut out, frame_no, frame.ts_ns, &ip.key, &msg, reassembled)
        };
        if let Err(e) = wrote {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(ExitCode::SUCCESS);
            }
            return Err(e.into());
        }
    };
    out.flush()?;
    drop(out);
    eprintln!("peerscope: {shown} control messages in {frame_no} frames");
    if let Some(d) = damage {
        eprintln!("peerscope: {}: damaged capture, {d}; the frames before it were dissected", args.file.display());
        return Ok(ExitCode::from(EXIT_DAMAGED));
    }
    Ok(ExitCode::SUCCESS)
}

/// An HTTP message whose headers or `Content-Length` body have not all arrived.
fn http_incomplete(b: &[u8]) -> bool {
    if !(b.starts_with(b"GET ") || b.starts_with(b"HTTP/")) {
        return false;
    }
    let Some(end) = b.windows(4).position(|w| w == b"\r\n\r\n") else { return true };
    match peerscope_dissector::v2005::http::HttpMessage::parse(b).ok().and_then(|m| m.content_length()) {
        Some(n) => b.len() - (end + 4) < n as usize,
        None => false,
    }
}

/// Bootstrap HTTP and the channel list arrive over several segments.
fn looks_like_start(b: &[u8]) -> bool {
    b.starts_with(b"GET ") || b.starts_with(b"HTTP/") || b.starts_with(b"<?xml") || b.starts_with(b"<root")
}

fn proto(key: &FlowKey) -> &'static str {
    if key.proto == 6 {
        "TCP"
    } else {
        "UDP"
    }
}

fn text(
    o: &mut impl Write,
    n: u64,
    ts: u64,
    key: &FlowKey,
    m: &ControlMessage,
    reassembled: Option<usize>,
) -> std::io::Result<()> {
    let rule = m.identification.rule.map(|r| r.name()).unwrap_or("no DPI rule");
    writeln!(
        o,
        "Frame {n} ({}.{:09}): {} -> {} {}, {:?} [{rule}]{}",
        ts / 1_000_000_000,
        ts % 1_000_000_000,
        endpoint(key.src_ip(), key.src_port),
        endpoint(key.dst_ip(), key.dst_port),
        proto(key),
        m.identification.app,
        reassembled.map(|l| format!(" (reassembled, {l} bytes)")).unwrap_or_default()
    )?;
    match &m.tree {
        Some(t) => write!(o, "{t}")?,
        None => writeln!(o, "    (no known layout fits; identified by its DPI rule only)")?,
    }
    writeln!(o)
}

fn json(
    o: &mut impl Write,
    n: u64,
    ts: u64,
    key: &FlowKey,
    m: &ControlMessage,
    reassembled: Option<usize>,
) -> std::io::Result<()> {
    serde_json::to_writer(&mut *o, &ControlMessageDocument::new(n, ts, key, m, reassembled))?;
    writeln!(o)
}
