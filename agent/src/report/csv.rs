//! CSV files: one row per window, per sample, per flow, and the distributions.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::engine::Report;

fn o<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn create(dir: &Path, name: &str) -> io::Result<BufWriter<File>> {
    Ok(BufWriter::new(File::create(dir.join(name))?))
}

/// Writes `windows.csv`, `samples.csv`, `sample_peers.csv`, `flows.csv`, `session_ccdf.csv`,
/// `packet_sizes.csv` and `continents.csv` into `dir` (created if needed).
/// Empty cells stand for `null`.
pub fn write_dir(dir: &Path, r: &Report) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut w = create(dir, "windows.csv")?;
    writeln!(w, "index,start_ns,len_ns,active_flows,packets,bytes,down_bytes_per_s,up_bytes_per_s,video_down_bytes_per_s,video_up_bytes_per_s,parents,children,s_n,x_n,stability_note,new_parents,left_parents,download_miles_per_byte,upload_miles_per_byte")?;
    for x in &r.windows {
        let note = x
            .stability
            .note
            .map(|n| serde_json::to_value(n).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default());
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            x.index,
            x.start_ns,
            x.len_ns,
            x.active_flows,
            x.packets,
            x.bytes,
            x.down_bytes_per_s,
            x.up_bytes_per_s,
            x.video_down_bytes_per_s,
            x.video_up_bytes_per_s,
            x.parent_count,
            x.child_count,
            o(x.stability.s_n),
            o(x.stability.x_n),
            o(note),
            x.stability.new,
            x.stability.left,
            o(x.cost.download_miles_per_byte),
            o(x.cost.upload_miles_per_byte)
        )?;
    }
    w.flush()?;

    let mut w = create(dir, "samples.csv")?;
    writeln!(w, "index,start_ns,len_ns,video_down_bytes_per_s,video_up_bytes_per_s,down_bytes_per_s,up_bytes_per_s,video_peers,started,stopped,changed")?;
    for s in &r.samples {
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{}",
            s.index,
            s.start_ns,
            s.len_ns,
            s.rates.video_down_bytes_per_s,
            s.rates.video_up_bytes_per_s,
            s.rates.down_bytes_per_s,
            s.rates.up_bytes_per_s,
            s.video_peers.video_peers,
            s.video_peers.started,
            s.video_peers.stopped,
            s.video_peers.changed
        )?;
    }
    w.flush()?;

    let mut w = create(dir, "sample_peers.csv")?;
    writeln!(w, "sample,start_ns,peer,video_down_bytes_per_s,video_up_bytes_per_s")?;
    for s in &r.samples {
        for p in &s.rates.peer_video_rates {
            writeln!(
                w,
                "{},{},{},{},{}",
                s.index, s.start_ns, p.peer, p.video_down_bytes_per_s, p.video_up_bytes_per_s
            )?;
        }
    }
    w.flush()?;

    let mut w = create(dir, "flows.csv")?;
    writeln!(w, "proto,src,src_port,dst,dst_port,direction,packets,bytes,ack_packets,control_packets,data_packets,payload_bytes,large_packets,large_bytes,syn_packets,first_seen_ns,last_seen_ns,duration_s")?;
    for f in &r.flows {
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            f.proto,
            f.src,
            f.src_port,
            f.dst,
            f.dst_port,
            f.direction,
            f.packets,
            f.bytes,
            f.class_packets[0],
            f.class_packets[1],
            f.class_packets[2],
            f.payload_bytes,
            f.large_packets,
            f.large_bytes,
            f.syn_packets,
            f.first_seen_ns,
            f.last_seen_ns,
            f.duration_s
        )?;
    }
    w.flush()?;

    let mut w = create(dir, "session_ccdf.csv")?;
    writeln!(w, "kind,duration_s,fraction_at_least")?;
    for (kind, c) in [("video", &r.sessions.video_duration_ccdf), ("signaling", &r.sessions.signaling_duration_ccdf)] {
        for p in c {
            writeln!(w, "{kind},{},{}", p.duration_s, p.fraction_at_least)?;
        }
    }
    w.flush()?;

    let mut w = create(dir, "packet_sizes.csv")?;
    writeln!(
        w,
        "bucket,min_ip_len,max_ip_len,packets,bytes,mean_ip_len,cumulative_packet_fraction,cumulative_byte_fraction"
    )?;
    for b in &r.sizes.cdf {
        writeln!(
            w,
            "{},{},{},{},{},{},{},{}",
            b.bucket,
            o(b.min_ip_len),
            o(b.max_ip_len),
            b.packets,
            b.bytes,
            o(b.mean_ip_len),
            o(b.cumulative_packet_fraction),
            o(b.cumulative_byte_fraction)
        )?;
    }
    w.flush()?;

    let mut w = create(dir, "continents.csv")?;
    writeln!(w, "region,peers,download_bytes,upload_bytes,peer_share,download_share,upload_share")?;
    for c in &r.continents {
        writeln!(
            w,
            "{},{},{},{},{},{},{}",
            c.region.name(),
            c.peers,
            c.download_bytes,
            c.upload_bytes,
            o(c.peer_share),
            o(c.download_share),
            o(c.upload_share)
        )?;
    }
    w.flush()
}
