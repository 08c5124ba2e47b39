//! `--jsonl`: one JSON record per window (the host's figures) and one per peer of the
//! window, appended to a file or written to stdout, for log shippers.

use std::{
    fs::File,
    io::{Seek, SeekFrom, Write},
    os::unix::fs::OpenOptionsExt,
    path::Path,
};

use serde::Serialize;

use peerscope::{engine::WindowSummary, live::baseline::WindowNotes};

/// Where the records go: a file appended to (whose length tells, after a crash,
/// whether the last window reached it), or stdout.
pub enum JsonLines {
    File(File),
    Stdout,
}

#[derive(Serialize)]
struct WindowRecord {
    r#type: &'static str,
    window: usize,
    start_unix_ns: u64,
    len_ns: u64,
    down_bytes_per_s: f64,
    up_bytes_per_s: f64,
    video_down_bytes_per_s: f64,
    video_up_bytes_per_s: f64,
    parents: usize,
    children: usize,
    s_n: Option<f64>,
    x_n: Option<f64>,
    download_cost_miles_per_byte: Option<f64>,
    upload_cost_miles_per_byte: Option<f64>,
    active_flows: usize,
    packets: u64,
    bytes: u64,
    /// Why S_n/X_n have their stated value (first window, empty parent set).
    #[serde(skip_serializing_if = "Option::is_none")]
    stability_note: Option<serde_json::Value>,
    /// The window's length as configured (Δ); `len_ns` is its real length.
    nominal_len_ns: u64,
    /// Polls that ran late in this window (the loop never falls behind silently).
    missed_polls: u64,
    /// Packets, IP bytes and new flows the full flow table could not take in this
    /// window: in none of the figures above.
    overflow_packets: u64,
    overflow_bytes: u64,
    flow_insert_failures: u64,
    /// The window began under an earlier agent (restart, crash): its counts continue
    /// that agent's, nothing is counted twice.
    after_restart: bool,
    /// The interface was gone for part of the window.
    interface_gone: bool,
}

#[derive(Serialize)]
struct PeerRecord {
    r#type: &'static str,
    window: usize,
    start_unix_ns: u64,
    peer: std::net::IpAddr,
    down_bytes_per_s: f64,
    up_bytes_per_s: f64,
    down_bytes: u64,
    up_bytes: u64,
    parent: bool,
    child: bool,
}

impl JsonLines {
    /// `-` is stdout; a path is appended to (created 0600).
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if path.as_os_str() == "-" {
            return Ok(JsonLines::Stdout);
        }
        let f = File::options()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| anyhow::anyhow!("opening --jsonl {}: {e}", path.display()))?;
        Ok(JsonLines::File(f))
    }

    /// The file's length (None for stdout).
    pub fn len(&mut self) -> Option<u64> {
        match self {
            JsonLines::File(f) => f.seek(SeekFrom::End(0)).ok(),
            JsonLines::Stdout => None,
        }
    }

    /// Appends rendered records, flushed.
    pub fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            JsonLines::File(f) => f.write_all(bytes),
            JsonLines::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()
            }
        }
    }

    /// The window's record and one per peer, as lines.
    pub fn render(w: &WindowSummary, nominal_len_ns: u64, notes: &WindowNotes) -> anyhow::Result<Vec<u8>> {
        let mut out = Vec::new();
        let rec = WindowRecord {
            r#type: "window",
            window: w.index,
            start_unix_ns: w.start_ns,
            len_ns: w.len_ns,
            down_bytes_per_s: w.down_bytes_per_s,
            up_bytes_per_s: w.up_bytes_per_s,
            video_down_bytes_per_s: w.video_down_bytes_per_s,
            video_up_bytes_per_s: w.video_up_bytes_per_s,
            parents: w.parent_count,
            children: w.child_count,
            s_n: w.stability.s_n,
            x_n: w.stability.x_n,
            download_cost_miles_per_byte: w.cost.download_miles_per_byte,
            upload_cost_miles_per_byte: w.cost.upload_miles_per_byte,
            active_flows: w.active_flows,
            packets: w.packets,
            bytes: w.bytes,
            stability_note: w.stability.note.as_ref().and_then(|n| serde_json::to_value(n).ok()),
            nominal_len_ns,
            missed_polls: notes.missed_polls,
            overflow_packets: notes.overflow_packets,
            overflow_bytes: notes.overflow_bytes,
            flow_insert_failures: notes.flow_insert_failures,
            after_restart: notes.has(WindowNotes::AFTER_RESTART),
            interface_gone: notes.has(WindowNotes::INTERFACE_GONE),
        };
        serde_json::to_writer(&mut out, &rec)?;
        out.push(b'\n');
        for p in &w.pairs {
            let rec = PeerRecord {
                r#type: "peer",
                window: w.index,
                start_unix_ns: w.start_ns,
                peer: p.peer,
                down_bytes_per_s: p.down_bytes_per_s,
                up_bytes_per_s: p.up_bytes_per_s,
                down_bytes: p.down_bytes,
                up_bytes: p.up_bytes,
                parent: w.parents.iter().any(|x| x.peer == p.peer),
                child: w.children.iter().any(|x| x.peer == p.peer),
            };
            serde_json::to_writer(&mut out, &rec)?;
            out.push(b'\n');
        }
        Ok(out)
    }
}
