//! Offline analysis of pcap/pcapng files: read frames, parse them with the kernel's
//! parser after a link-layer step ([`link`]), classify every packet with the kernel's
//! classifier (`PacketObservation` + `FlowStats::record`), bucket them into windows
//! and feed the same [`Engine`] as the live path.
//!
//! Streaming: memory grows with the number of flows, not with the file size. A
//! damaged file is analysed up to the damage, which is reported; a file with nothing
//! to analyse (no IP packet, only link types peerscope does not read) is an error
//! that says what the file held.

pub mod bucket;
pub mod capture;
pub mod decode;
pub mod infer;
pub mod link;
#[cfg(any(test, feature = "test-support"))]
pub mod link_frames;
pub mod progress;
pub mod read;
#[cfg(any(test, feature = "test-support"))]
pub mod synth;

use std::fs::File;
use std::path::{Path, PathBuf};

use peerscope_abi::parse::Options;
use peerscope_abi::{PacketClass, PacketObservation, UnixNs};

use crate::control::{ControlLedger, ControlSummary};
use crate::engine::histogram::{HistogramSource, SizeHistogram};
use crate::engine::host::Direction;
use crate::engine::{Engine, EngineConfig, MonitoredHost, Report, WindowFlows};
use crate::schema::{ReportDocument, ReportSource};
use bucket::WindowBucketer;
use capture::{CaptureReader, Damage, FormatError};
use decode::decode;
use infer::{HostGuess, HostGuesser};
use progress::Progress;
pub use read::ReadStats;

/// Errors that stop an analysis before it starts.
#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    #[error("cannot open {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}")]
    Format {
        path: PathBuf,
        #[source]
        source: FormatError,
    },
    /// Nothing in the file can be analysed; `why` says what it held.
    #[error("{path}: {why}")]
    NoUsableInput { path: PathBuf, why: String },
}

/// The result of `analyze_file`.
#[derive(Debug)]
pub struct OfflineAnalysis {
    pub report: Report,
    /// Set when the host was inferred rather than given.
    pub host_guess: Option<HostGuess>,
    pub read: ReadStats,
    /// Where the file is damaged, if it is; everything before was analysed.
    pub damage: Option<Damage>,
    /// What the control packets' payloads taught (channels, trackers, learned peers).
    pub control: ControlSummary,
}

impl OfflineAnalysis {
    /// The report document of the analysis of `file` (the JSON of `analyze --json`).
    pub fn into_document(self, file: &Path) -> ReportDocument {
        let source = ReportSource::Capture {
            file: file.display().to_string(),
            read: Box::new(self.read),
            damage: self.damage,
            host_guess: self.host_guess,
        };
        ReportDocument::new(source, self.report, self.control)
    }
}

/// Options of an offline run.
#[derive(Clone, Debug, Default)]
pub struct OfflineOptions {
    pub config: EngineConfig,
    /// `None`: infer the host (a first pass over the file).
    pub host: Option<MonitoredHost>,
    pub progress: bool,
    /// Read only this many frames (`-c N`).
    pub max_frames: Option<u64>,
    /// Count tunnelled packets in their inner flows (`--decap`).
    pub decap: bool,
}

pub fn open(path: &Path) -> Result<(CaptureReader<File>, u64), OfflineError> {
    let f = File::open(path).map_err(|source| OfflineError::Open { path: path.to_owned(), source })?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let r = CaptureReader::new(f).map_err(|source| OfflineError::Format { path: path.to_owned(), source })?;
    Ok((r, size))
}

/// Infers X: the address present in the most flows (of the first `max_frames`). A
/// file with no IP packet is an error that says what it held.
pub fn infer_host(path: &Path, opts: Options, max_frames: Option<u64>) -> Result<HostGuess, OfflineError> {
    let (mut r, _) = open(path)?;
    let mut g = HostGuesser::default();
    let mut read = ReadStats::default();
    let damage = loop {
        if max_frames.is_some_and(|m| read.frames >= m) {
            break None;
        }
        match r.next_frame() {
            Ok(Some(f)) => {
                if let Some(p) = read.count(&decode(&f, opts)) {
                    g.add(&p.key);
                }
            }
            Ok(None) => break None,
            Err(d) => break Some(d),
        }
    };
    match read.unusable(damage.as_ref()) {
        Some(why) => Err(OfflineError::NoUsableInput { path: path.to_owned(), why }),
        None => Ok(g.guess().expect("an IP packet has an address")),
    }
}

/// Analyses a capture file.
pub fn analyze_file(path: &Path, opts: OfflineOptions) -> Result<OfflineAnalysis, OfflineError> {
    analyze_file_observed(path, opts, &mut |_, _| {})
}

/// Analyses a capture file; `observe` sees each window's per-flow deltas (and the
/// monitored host) before the engine does: the IPFIX export of `analyze --ipfix`.
pub fn analyze_file_observed(
    path: &Path,
    opts: OfflineOptions,
    observe: &mut dyn FnMut(&WindowFlows, &MonitoredHost),
) -> Result<OfflineAnalysis, OfflineError> {
    let parse_opts = Options { decap: opts.decap };
    let (host, host_guess) = match opts.host {
        Some(h) => (h, None),
        None => {
            let g = infer_host(path, parse_opts, opts.max_frames)?;
            (MonitoredHost::new([g.ip]), Some(g))
        }
    };
    let (mut reader, size) = open(path)?;
    let progress = Progress::new(opts.progress, size, "analysing");
    let thresholds = opts.config.thresholds;
    let mut bucketer = WindowBucketer::new(opts.config.window_ns);
    let mut sizes = SizeHistogram::default();
    let direction_of = host.clone();
    let mut engine = Engine::new(opts.config, host.clone());
    let mut read = ReadStats { file_size_bytes: size, ..Default::default() };
    let mut ledger = ControlLedger::default();
    let mut emit = |b: bucket::Bucket| match b {
        bucket::Bucket::Window(b) => {
            observe(&b.window, &host);
            engine.observe_window_steps(b.window, b.steps);
        }
        bucket::Bucket::Empty { start_ns, count } => engine.observe_empty_windows(start_ns, count),
    };
    let damage = loop {
        if opts.max_frames.is_some_and(|m| read.frames >= m) {
            break None;
        }
        let frame = match reader.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break None,
            Err(d) => break Some(d),
        };
        let decoded = decode(&frame, parse_opts);
        if let Some(p) = read.count(&decoded) {
            let o = PacketObservation::of(&thresholds, p, UnixNs(frame.ts_ns));
            // Control-class payloads feed the control ledger, as the kernel's
            // samples do live.
            if o.class == PacketClass::Control {
                if let Some(m) = decode::payload(frame.data, p)
                    .and_then(|pl| crate::control::decode_sample(&p.key, pl.bytes, p.payload_len as usize))
                {
                    ledger.observe(&p.key, &m);
                }
            }
            match direction_of.direction(&p.key) {
                Direction::Download { .. } => sizes.record(true, o.ip_len),
                Direction::Upload { .. } => sizes.record(false, o.ip_len),
                Direction::Unrelated => {}
            }
            bucketer.push(p.key, &o, &mut emit);
        }
        if read.frames.is_multiple_of(4096) {
            progress.set(reader.offset());
        }
    };
    if let Some(why) = read.unusable(damage.as_ref()) {
        return Err(OfflineError::NoUsableInput { path: path.to_owned(), why });
    }
    read.time_jumps = bucketer.jumps();
    bucketer.finish(&mut emit);
    engine.add_packet_sizes(&sizes, HistogramSource::Packets);
    progress.finish();
    read.bytes_read = reader.offset();
    let report = engine.finish();
    let (parents, children) = crate::control::ledger::ever_family(&report);
    let control = ledger.summary(&parents, &children);
    Ok(OfflineAnalysis { report, host_guess, read, damage, control })
}
