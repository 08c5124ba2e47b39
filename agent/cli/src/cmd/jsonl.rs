//! `--jsonl`: one JSON record per window (the host's figures) and one per peer of the
//! window, appended to a file or written to stdout, for log shippers.

use std::{
    fs::File,
    io::{BufWriter, Write},
    os::unix::fs::OpenOptionsExt,
    path::Path,
};

use serde::Serialize;

use peerscope::engine::WindowSummary;

pub struct JsonLines {
    out: Box<dyn Write + Send>,
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
        Ok(JsonLines { out })
    }

    pub fn window(&mut self, w: &WindowSummary) -> anyhow::Result<()> {
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
        };
        serde_json::to_writer(&mut self.out, &rec)?;
        self.out.write_all(b"\n")?;
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
            serde_json::to_writer(&mut self.out, &rec)?;
            self.out.write_all(b"\n")?;
        }
        self.out.flush()?;
        Ok(())
    }
}
