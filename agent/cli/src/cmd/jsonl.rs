//! `--jsonl`: one window record per window (the host's figures) and one peer record
//! per peer of the window, appended to a file or written to stdout, for log shippers.

use std::{
    fs::File,
    io::{Seek, SeekFrom, Write},
    os::unix::fs::OpenOptionsExt,
    path::Path,
};

use peerscope::{
    engine::WindowSummary,
    schema::{WindowConditions, WindowRecord},
};

/// The records of one interface's windows.
pub struct JsonLines {
    sink: Sink,
    iface: String,
}

/// Where the records go: a file appended to (whose length tells, after a crash,
/// whether the last window reached it), or stdout.
enum Sink {
    File(File),
    Stdout,
}

impl JsonLines {
    /// `-` is stdout; a path is appended to (created 0600).
    pub fn open(path: &Path, iface: &str) -> anyhow::Result<Self> {
        let sink = if path.as_os_str() == "-" {
            Sink::Stdout
        } else {
            let f = File::options()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| anyhow::anyhow!("opening --jsonl {}: {e}", path.display()))?;
            Sink::File(f)
        };
        Ok(JsonLines { sink, iface: iface.to_string() })
    }

    /// The file's length (None for stdout).
    pub fn len(&mut self) -> Option<u64> {
        match &mut self.sink {
            Sink::File(f) => f.seek(SeekFrom::End(0)).ok(),
            Sink::Stdout => None,
        }
    }

    /// Appends rendered records, flushed.
    pub fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.sink {
            Sink::File(f) => f.write_all(bytes),
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()
            }
        }
    }

    /// The window's record and one per peer, as lines.
    pub fn render(&self, w: &WindowSummary, conditions: WindowConditions) -> anyhow::Result<Vec<u8>> {
        let mut out = Vec::new();
        let rec = WindowRecord::new(&self.iface, w.clone(), conditions);
        serde_json::to_writer(&mut out, &rec)?;
        out.push(b'\n');
        for p in rec.peers() {
            serde_json::to_writer(&mut out, &p)?;
            out.push(b'\n');
        }
        Ok(out)
    }
}
