//! `peerscope dissect FILE`: every PPLive control message of a capture (and
//! every SOPCast and PPStream identification), like `tshark -2 -V` with the
//! peerscope plugin: a tree with byte offsets, or JSON lines. Messages are
//! shown whatever their state (malformed, cut short, ambiguous) with their
//! expert notes; a closing summary counts control, malformed and unknown
//! payloads. TCP streams are reassembled, so a message spanning segments is
//! decoded whole.

use std::{collections::HashMap, io::Write, process::ExitCode};

use anyhow::Context;
use peerscope_dissector::{
    attributed_tree, ei, filter::Filter, App, Attribution, Identification, Note, Strength, Transport, Tree,
};

use crate::cli::DissectArgs;
use peerscope::{
    control::capture::{attribute_flows, pair, read_messages, FlowPair, Message, ReadOptions},
    exit, offline,
    schema::{ControlMessageDocument, DissectSummaryDocument},
    view::endpoint,
};
use peerscope_abi::{parse::Options, Tunnel};

/// The closing summary (the `dissect_summary` document).
type Summary = DissectSummaryDocument;

/// A `--decode-as` entry: the transport and port it names.
fn decode_as(s: &str) -> anyhow::Result<(Transport, u16)> {
    let bad = || anyhow::anyhow!("bad --decode-as {s:?}: expected udp.port==PORT or tcp.port==PORT[,pplive]");
    let (table, rest) = s.split_once("==").ok_or_else(bad)?;
    let (port, proto) = rest.split_once(',').unwrap_or((rest, "pplive"));
    if !matches!(proto.trim(), "pplive" | "pptv") {
        anyhow::bail!("--decode-as {s:?}: peerscope decodes ports as pplive (or pptv) only");
    }
    let t = match table.trim() {
        "udp.port" => Transport::Udp,
        "tcp.port" => Transport::Tcp,
        _ => return Err(bad()),
    };
    Ok((t, port.trim().parse().map_err(|_| bad())?))
}

/// Flow attributions: the file's own, overridden by `--decode-as` ports.
struct Attributions {
    flows: HashMap<FlowPair, Attribution>,
    ports: Vec<(Transport, u16)>,
}

impl Attributions {
    fn of(&self, m: &Message) -> Attribution {
        let chosen = |p: u16| self.ports.contains(&(m.transport, p));
        if chosen(m.key.src_port) || chosen(m.key.dst_port) {
            return Attribution::DecodeAs;
        }
        self.flows.get(&pair(&m.key)).copied().unwrap_or(Attribution::Unknown)
    }
}

pub fn run(args: DissectArgs) -> anyhow::Result<ExitCode> {
    let filter = args.filter.as_deref().map(Filter::parse).transpose()?;
    let ports = args.decode_as.iter().map(|d| decode_as(d)).collect::<anyhow::Result<Vec<_>>>()?;
    let input = crate::input::resolve(&args.input)?;
    let opts = ReadOptions { parse: Options { decap: args.decap }, max_frames: args.input.count };
    let open = |e| anyhow::Error::new(e).context(format!("reading {}", input.shown()));
    let flows = Attributions { flows: attribute_flows(input.path(), opts).map_err(open)?, ports };
    let mut out = std::io::stdout().lock();
    let mut summary = Summary::default();
    let mut write_err = None;
    let (counts, damage) = read_messages(input.path(), opts, |m| {
        if write_err.is_some() {
            return;
        }
        summary.messages += 1;
        let Some(tree) = shown(&m, &flows, &mut summary) else { return };
        if filter.as_ref().is_some_and(|f| !f.matches(&tree)) {
            return;
        }
        summary.shown_messages += 1;
        let wrote = if args.json { json(&mut out, &m, &tree, &flows) } else { text(&mut out, &m, &tree, &flows) };
        if let Err(e) = wrote {
            write_err = Some(e);
        }
    })
    .map_err(open)?;
    if let Some(e) = write_err {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Ok(ExitCode::SUCCESS);
        }
        return Err(e.into());
    }
    if let Some(why) = counts.read.unusable(damage.as_ref()) {
        return Err(offline::OfflineError::NoUsableInput { path: input.shown().into(), why }.into());
    }
    summary.frames = counts.read.frames;
    summary.frames_with_payload = counts.with_payload;
    write_summary(&mut out, &summary, args.json).context("writing the summary")?;
    out.flush()?;
    if counts.read.unsupported_link_frames > 0 {
        eprintln!("peerscope: warning: {} skipped: not a link type peerscope reads", counts.read.unsupported_summary());
    }
    if let Some(d) = damage {
        eprintln!("peerscope: {}: damaged capture, {d}; the frames before it were dissected", input.shown());
        return Ok(ExitCode::from(exit::DAMAGED));
    }
    Ok(ExitCode::SUCCESS)
}

/// The tree shown for a message, counted in the summary; `None` for a
/// message of an unattributed flow.
fn shown(m: &Message, flows: &Attributions, s: &mut Summary) -> Option<Tree> {
    let attribution = flows.of(m);
    let Some(mut tree) = attributed_tree(&m.bytes, m.transport, m.full_len, &m.identification, &attribution) else {
        s.unknown_messages += 1;
        s.unconfirmed_messages += u64::from(m.identification.rule.is_some_and(|r| r.strength() == Strength::Weak));
        return None;
    };
    if m.cut_short {
        let why = format!("the stream ended after {} bytes, before the message did", m.bytes.len());
        tree.notes.insert(0, Note::new(&ei::STREAM_ENDED, m.bytes.len(), 0, why));
    }
    match attribution.app() {
        Some(App::SopCast) => s.sopcast_messages += 1,
        Some(App::PpStream) => s.ppstream_messages += 1,
        _ => {
            s.control_messages += 1;
            s.malformed_messages += u64::from(tree.is_malformed());
        }
    }
    Some(tree)
}

/// The transport, and the tunnel that carried it (`--decap`): "UDP in gre".
fn proto(m: &Message) -> String {
    let t = match m.transport {
        Transport::Tcp => "TCP",
        Transport::Udp => "UDP",
    };
    match Tunnel::from_u8(m.key.tunnel) {
        Some(tunnel) => format!("{t} in {}", tunnel.name()),
        None => t.to_string(),
    }
}

fn rule_summary(id: &Identification, attribution: &Attribution) -> String {
    let flow = match attribution {
        Attribution::App { rule, .. } if Some(*rule) != id.rule => format!(", flow attributed by {}", rule.name()),
        _ => String::new(),
    };
    match id.rule {
        Some(r) => {
            let strength = if r.strength() == Strength::Strong { "strong" } else { "weak" };
            format!("[rule {} ({strength}){flow}]", r.name())
        }
        None => format!("[no rule of its own{flow}]"),
    }
}

fn reassembly(m: &Message) -> String {
    match (m.transport, m.segments) {
        (Transport::Tcp, n) if n > 1 => format!(" (reassembled from {n} segments, {} bytes)", m.bytes.len()),
        _ if m.bytes.len() < m.full_len => format!(" (captured {} of {} bytes)", m.bytes.len(), m.full_len),
        _ => String::new(),
    }
}

fn text(o: &mut impl Write, m: &Message, tree: &Tree, flows: &Attributions) -> std::io::Result<()> {
    let attribution = flows.of(m);
    let app = attribution.app().map_or("unknown", App::name);
    writeln!(
        o,
        "Frame {} ({}.{:09}): {} -> {} {}, {app} {}{}",
        m.frame,
        m.ts_ns / 1_000_000_000,
        m.ts_ns % 1_000_000_000,
        endpoint(m.key.src_ip(), m.key.src_port),
        endpoint(m.key.dst_ip(), m.key.dst_port),
        proto(m),
        rule_summary(&m.identification, &attribution),
        reassembly(m)
    )?;
    if let Some(r) = m.identification.rule {
        writeln!(o, "    Evidence: {} ({})", m.identification.evidence_text(&m.bytes), r.description())?;
    }
    write!(o, "{tree}")?;
    writeln!(o)
}

fn json(o: &mut impl Write, m: &Message, tree: &Tree, flows: &Attributions) -> std::io::Result<()> {
    serde_json::to_writer(&mut *o, &ControlMessageDocument::new(m, tree, &flows.of(m)))?;
    writeln!(o)
}

fn write_summary(o: &mut impl Write, s: &Summary, json: bool) -> std::io::Result<()> {
    if json {
        serde_json::to_writer(&mut *o, s)?;
        return writeln!(o);
    }
    writeln!(
        o,
        "Summary: {} frames, {} with a payload, {} messages: {} PPLive/PPTV control ({} malformed), {} SOPCast, \
         {} PPStream, {} unknown ({} matched only a weak rule, never corroborated); {} shown",
        s.frames,
        s.frames_with_payload,
        s.messages,
        s.control_messages,
        s.malformed_messages,
        s.sopcast_messages,
        s.ppstream_messages,
        s.unknown_messages,
        s.unconfirmed_messages,
        s.shown_messages
    )
}
