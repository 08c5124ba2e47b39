//! `--jsonl`: one window record per window (the host's figures) and one peer record
//! per peer of the window, appended to a file or written to stdout, for log shippers.

use std::{
    fs::File,
    io::{BufWriter, Write},
    os::unix::fs::OpenOptionsExt,
    path::Path,
};

use peerscope::{engine::WindowSummary, schema::WindowRecord};

pub struct JsonLines {
    out: Box<dyn Write + Send>,
    iface: String,
}

impl JsonLines {
    /// `-` is stdout; a path is appended to (created 0600).
    pub fn open(path: &Path, iface: &str) -> anyhow::Result<Self> {
        let out: Box<dyn Write + Send> = if path.as_os_str() == "-" {
            Box::new(std::io::stdout())
        } else {
            let f = File::options()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| anyhow::anyhow!("opening --jsonl {}: {e}", path.display()))?;
            Box::new(BufWriter::new(f))
        };
        Ok(JsonLines { out, iface: iface.to_string() })
    }

    pub fn window(&mut self, w: &WindowSummary) -> anyhow::Result<()> {
        let rec = WindowRecord::new(&self.iface, w.clone());
        serde_json::to_writer(&mut self.out, &rec)?;
        self.out.write_all(b"\n")?;
        for p in rec.peers() {
            serde_json::to_writer(&mut self.out, &p)?;
            self.out.write_all(b"\n")?;
        }
        self.out.flush()?;
        Ok(())
    }
}
