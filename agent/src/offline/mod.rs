//! Offline analysis of pcap/pcapng files: read frames, classify every packet with
//! the kernel's classifier (`PacketObservation::new` + `FlowStats::record`), bucket
//! them into windows and feed the same [`Engine`] as the live path.
//!
//! Streaming: memory grows with the number of flows, not with the file size. A
//! damaged file is analysed up to the damage, which is reported.

pub mod bucket;
pub mod capture;
pub mod decode;
pub mod infer;
pub mod progress;
#[cfg(any(test, feature = "test-support"))]
pub mod synth;

use std::fs::File;
use std::path::{Path, PathBuf};

use peerscope_abi::{PacketClass, PacketObservation, UnixNs};

use crate::control::{ControlLedger, ControlSummary};
use crate::engine::{Engine, EngineConfig, MonitoredHost, Report};
use crate::schema::{ReportDocument, ReportSource};
use bucket::WindowBucketer;
use capture::{CaptureReader, Damage, FormatError};
use decode::{decode, decode_with_payload, Decoded};
use infer::{HostGuess, HostGuesser};
use progress::Progress;

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
    #[error("{path}: no IP packet, so no monitored host can be inferred (give --host)")]
    NoHost { path: PathBuf },
}

/// Counts of what was read.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ReadStats {
    pub frames: u64,
    pub ip_packets: u64,
    pub non_ip_frames: u64,
    /// Frames cut inside a header that was needed (not counted in any flow).
    pub truncated_frames: u64,
    /// Frames of a link type peerscope does not read.
    pub unsupported_link_frames: u64,
    /// Forward timestamp jumps too long to fill with empty windows (the window
    /// grid restarted there).
    pub time_jumps: u64,
    /// Bytes of the file parsed, and its size.
    pub bytes_read: u64,
    pub file_size_bytes: u64,
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
            read: self.read,
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
}

pub fn open(path: &Path) -> Result<(CaptureReader<File>, u64), OfflineError> {
    let f = File::open(path).map_err(|source| OfflineError::Open { path: path.to_owned(), source })?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let r = CaptureReader::new(f).map_err(|source| OfflineError::Format { path: path.to_owned(), source })?;
    Ok((r, size))
}

/// Infers X: the address present in the most flows.
pub fn infer_host(path: &Path) -> Result<Option<HostGuess>, OfflineError> {
    let (mut r, _) = open(path)?;
    let mut g = HostGuesser::default();
    // Damage is reported by the analysis pass; the guess uses what could be read.
    while let Ok(Some(f)) = r.next_frame() {
        if let Decoded::Ip(p) = decode(f.linktype, f.data) {
            g.add(&p.key);
        }
    }
    Ok(g.guess())
}

/// Analyses a capture file.
pub fn analyze_file(path: &Path, opts: OfflineOptions) -> Result<OfflineAnalysis, OfflineError> {
    let (host, host_guess) = match opts.host {
        Some(h) => (h, None),
        None => {
            let g = infer_host(path)?.ok_or_else(|| OfflineError::NoHost { path: path.to_owned() })?;
            (MonitoredHost::new([g.ip]), Some(g))
        }
    };
    let (mut reader, size) = open(path)?;
    let progress = Progress::new(opts.progress, size, "analysing");
    let thresholds = opts.config.thresholds;
    let mut bucketer = WindowBucketer::new(opts.config.window_ns);
    let mut engine = Engine::new(opts.config, host);
    let mut read = ReadStats { file_size_bytes: size, ..Default::default() };
    let mut ledger = ControlLedger::default();
    let mut emit = |w| {
        engine.observe_window(w);
    };
    let damage = loop {
        let frame = match reader.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break None,
            Err(d) => break Some(d),
        };
        read.frames += 1;
        let (decoded, payload) = decode_with_payload(frame.linktype, frame.data);
        match decoded {
            Decoded::Ip(p) => {
                read.ip_packets += 1;
                let o = PacketObservation::new(
                    &thresholds,
                    p.key.proto,
                    p.ip_len,
                    p.payload_len,
                    p.tcp_flags,
                    UnixNs(frame.ts_ns),
                );
                // Control-class payloads feed the control ledger, as the kernel's
                // samples do live.
                if o.class == PacketClass::Control {
                    if let Some(m) = payload.and_then(|pl| crate::control::decode(&p.key, pl.bytes)) {
                        ledger.observe(&p.key, &m);
                    }
                }
                bucketer.push(p.key, &o, &mut emit);
            }
            Decoded::NotIp => read.non_ip_frames += 1,
            Decoded::Truncated => read.truncated_frames += 1,
            Decoded::UnsupportedLink(_) => read.unsupported_link_frames += 1,
        }
        if read.frames.is_multiple_of(4096) {
            progress.set(reader.offset());
        }
    };
    read.time_jumps = bucketer.jumps();
    bucketer.finish(&mut emit);
    progress.finish();
    read.bytes_read = reader.offset();
    let report = engine.finish();
    let (parents, children) = crate::control::ledger::ever_family(&report);
    let control = ledger.summary(&parents, &children);
    Ok(OfflineAnalysis { report, host_guess, read, damage, control })
}
