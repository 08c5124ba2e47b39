//! CSV files: one row per window, per sample, per flow, and the distributions.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::engine::Report;

fn o<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Writes `name` into `dir`: its header line, then `rows`.
fn file(
    dir: &Path,
    name: &str,
    header: &str,
    rows: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    let mut w = BufWriter::new(File::create(dir.join(name))?);
    writeln!(w, "{header}")?;
    rows(&mut w)?;
    w.flush()
}

/// Writes `windows.csv`, `samples.csv`, `sample_peers.csv`, `flows.csv`, `session_ccdf.csv`,
/// `packet_sizes.csv` and `continents.csv` into `dir` (created if needed).
/// Empty cells stand for `null`.
pub fn write_dir(dir: &Path, r: &Report) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    windows(dir, r)?;
    samples(dir, r)?;
    sample_peers(dir, r)?;
    flows(dir, r)?;
    session_ccdf(dir, r)?;
    packet_sizes(dir, r)?;
    size_histogram(dir, r)?;
    window_flows(dir, r)?;
    continents(dir, r)
}

fn windows(dir: &Path, r: &Report) -> io::Result<()> {
    let header = "index,start_unix_ns,len_ns,partial,count,active_flows,packets,bytes,down_bytes_per_s,up_bytes_per_s,video_down_bytes_per_s,video_up_bytes_per_s,parents,children,s_n,x_n,stability_note,new_parents,left_parents,download_miles_per_byte,upload_miles_per_byte";
    file(dir, "windows.csv", header, |w| {
        for x in &r.windows {
            writeln!(
                w,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                x.index,
                x.start_unix_ns,
                x.len_ns,
                x.partial,
                x.count,
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
                o(x.stability.note.map(|n| n.name())),
                x.stability.new_parents,
                x.stability.left_parents,
                o(x.cost.download_miles_per_byte),
                o(x.cost.upload_miles_per_byte)
            )?;
        }
        Ok(())
    })
}

fn samples(dir: &Path, r: &Report) -> io::Result<()> {
    let header = "index,start_unix_ns,len_ns,partial,count,video_down_bytes_per_s,video_up_bytes_per_s,down_bytes_per_s,up_bytes_per_s,video_peers,started,stopped,changed";
    file(dir, "samples.csv", header, |w| {
        for s in &r.samples {
            writeln!(
                w,
                "{},{},{},{},{},{},{},{},{},{},{},{},{}",
                s.index,
                s.start_unix_ns,
                s.len_ns,
                s.partial,
                s.count,
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
        Ok(())
    })
}

/// `R(A1, X1, t1)` per window for X's fastest flows ([M] §III-B; bounded to
/// `config.flow_rates_top` per window).
fn window_flows(dir: &Path, r: &Report) -> io::Result<()> {
    let header = "window,start_unix_ns,len_ns,ip_protocol,src_ip,src_port,dst_ip,dst_port,bytes,bytes_per_s";
    file(dir, "window_flows.csv", header, |w| {
        for x in &r.windows {
            for f in &x.flow_rates {
                writeln!(
                    w,
                    "{},{},{},{},{},{},{},{},{},{}",
                    x.index,
                    x.start_unix_ns,
                    x.len_ns,
                    f.ip_protocol,
                    f.src_ip,
                    f.src_port,
                    f.dst_ip,
                    f.dst_port,
                    f.bytes,
                    f.bytes_per_s
                )?;
            }
        }
        Ok(())
    })
}

/// The per-direction IP-length histogram ([M] Fig. 1), when it was counted.
fn size_histogram(dir: &Path, r: &Report) -> io::Result<()> {
    let Some(d) = &r.sizes.distribution else { return Ok(()) };
    let header = "min_ip_len_bytes,max_ip_len_bytes,download_packets,upload_packets,download_cdf,upload_cdf";
    file(dir, "packet_size_histogram.csv", header, |w| {
        for i in 0..d.download.bins.len() {
            let min = i as u32 * d.bin_bytes;
            let max = if i + 1 == d.download.bins.len() { String::new() } else { (min + d.bin_bytes - 1).to_string() };
            writeln!(
                w,
                "{min},{max},{},{},{},{}",
                d.download.bins[i],
                d.upload.bins[i],
                o(d.download.cdf[i]),
                o(d.upload.cdf[i])
            )?;
        }
        Ok(())
    })
}

fn sample_peers(dir: &Path, r: &Report) -> io::Result<()> {
    let header = "sample,start_unix_ns,peer,video_down_bytes_per_s,video_up_bytes_per_s";
    file(dir, "sample_peers.csv", header, |w| {
        for s in &r.samples {
            for p in &s.rates.peer_video_rates {
                writeln!(
                    w,
                    "{},{},{},{},{}",
                    s.index, s.start_unix_ns, p.peer, p.video_down_bytes_per_s, p.video_up_bytes_per_s
                )?;
            }
        }
        Ok(())
    })
}

fn flows(dir: &Path, r: &Report) -> io::Result<()> {
    let header = "protocol,ip_protocol,src_ip,src_port,dst_ip,dst_port,direction,packets,bytes,ack_packets,control_packets,data_packets,payload_bytes,large_packets,large_bytes,syn_packets,first_seen_unix_ns,last_seen_unix_ns,duration_s";
    file(dir, "flows.csv", header, |w| {
        for f in &r.flows {
            let (k, t, c) = (&f.key, &f.total, &f.total.classes);
            writeln!(
                w,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                k.protocol,
                k.ip_protocol,
                k.src_ip,
                k.src_port,
                k.dst_ip,
                k.dst_port,
                o(f.direction.map(|d| d.name())),
                c.packets,
                c.bytes,
                c.ack_packets,
                c.control_packets,
                c.data_packets,
                t.payload_bytes,
                t.large_packets,
                t.large_bytes,
                t.syn_packets,
                o(t.first_seen_unix_ns),
                o(t.last_seen_unix_ns),
                t.duration_s
            )?;
        }
        Ok(())
    })
}

fn session_ccdf(dir: &Path, r: &Report) -> io::Result<()> {
    file(dir, "session_ccdf.csv", "kind,duration_s,fraction_at_least", |w| {
        for (kind, c) in
            [("video", &r.sessions.video_duration_ccdf), ("signaling", &r.sessions.signaling_duration_ccdf)]
        {
            for p in c {
                writeln!(w, "{kind},{},{}", p.duration_s, p.fraction_at_least)?;
            }
        }
        Ok(())
    })
}

fn packet_sizes(dir: &Path, r: &Report) -> io::Result<()> {
    let header = "bucket,min_ip_len_bytes,max_ip_len_bytes,packets,bytes,mean_ip_len_bytes,cumulative_packet_fraction,cumulative_byte_fraction";
    file(dir, "packet_sizes.csv", header, |w| {
        for b in &r.sizes.cdf {
            writeln!(
                w,
                "{},{},{},{},{},{},{},{}",
                b.bucket.name(),
                o(b.min_ip_len_bytes),
                o(b.max_ip_len_bytes),
                b.packets,
                b.bytes,
                o(b.mean_ip_len_bytes),
                o(b.cumulative_packet_fraction),
                o(b.cumulative_byte_fraction)
            )?;
        }
        Ok(())
    })
}

fn continents(dir: &Path, r: &Report) -> io::Result<()> {
    let header = "region,peers,download_bytes,upload_bytes,peer_share,download_share,upload_share";
    file(dir, "continents.csv", header, |w| {
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
        Ok(())
    })
}
