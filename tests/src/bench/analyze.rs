//! `peerscope analyze` against `tshark -q -z conv,tcp -z conv,udp` on the same
//! generated capture, side by side; and peak memory on two file sizes (it must not
//! grow with the file).

use std::{
    collections::HashMap,
    fs::File,
    io::{BufWriter, Write},
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    process::Command,
};

use etherparse::PacketBuilder;
use peerscope::offline::synth::{Link, SynthPcap};

use super::{proc::measure, Section};

const HOST: [u8; 4] = [192, 0, 2, 1];

/// A TCP segment with real sequence numbers: a reader that tracks streams (tshark
/// does) must see an ordinary transfer, not the same segment over and over.
fn segment(
    seqs: &mut HashMap<(SocketAddr, SocketAddr), u32>,
    src: SocketAddr,
    dst: SocketAddr,
    ip_len: usize,
) -> Vec<u8> {
    let (IpAddr::V4(s), IpAddr::V4(d)) = (src.ip(), dst.ip()) else { unreachable!("IPv4 bench capture") };
    let payload = vec![0u8; ip_len - 40];
    let seq_now = *seqs.entry((src, dst)).or_insert(1);
    let ack = *seqs.get(&(dst, src)).unwrap_or(&1);
    let mut out = Vec::with_capacity(ip_len);
    PacketBuilder::ipv4(s.octets(), d.octets(), 64)
        .tcp(src.port(), dst.port(), seq_now, 65535)
        .ack(ack)
        .write(&mut out, &payload)
        .expect("writing to a Vec");
    seqs.insert((src, dst), seq_now.wrapping_add(payload.len() as u32));
    out
}

/// Writes a swarm-like capture of about `bytes` bytes: the host downloads 1400-byte
/// TCP segments from a few parents, uploads to many children, acks, and UDP gossip.
/// Returns the number of packets.
pub fn write_capture(path: &Path, bytes: u64) -> anyhow::Result<u64> {
    let mut seqs = HashMap::new();
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let host = IpAddr::V4(Ipv4Addr::from(HOST));
    let peer = |i: u32| {
        IpAddr::V4(Ipv4Addr::new(
            if i.is_multiple_of(3) {
                203
            } else if i % 3 == 1 {
                198
            } else {
                192
            },
            if i % 3 == 1 { 51 } else { 0 },
            if i % 3 == 1 {
                100
            } else if i.is_multiple_of(3) {
                113
            } else {
                2
            },
            2 + (i % 250) as u8,
        ))
    };
    let (mut written, mut packets, mut chunk, mut first) = (0u64, 0u64, 0u64, true);
    while written < bytes {
        let mut p = SynthPcap::new(Link::Ethernet);
        let t0 = chunk * 1_000_000_000;
        for i in 0..2_000u32 {
            let ts = t0 + i as u64 * 500_000;
            let parent = peer(i % 5);
            let child = peer(5 + i % 40);
            let (pa, xa) = (SocketAddr::new(parent, 8008), SocketAddr::new(host, 40_000 + (i % 5) as u16));
            let (xc, ca) = (SocketAddr::new(host, 8008), SocketAddr::new(child, 50_000 + (i % 40) as u16));
            p.raw_ip(ts, &segment(&mut seqs, pa, xa, 1400));
            p.raw_ip(ts + 1000, &segment(&mut seqs, xa, pa, 40));
            p.raw_ip(ts + 2000, &segment(&mut seqs, xc, ca, 1400));
            if i % 10 == 0 {
                p.udp(
                    ts + 3000,
                    SocketAddr::new(host, 4004),
                    SocketAddr::new(peer(100 + i % 150), 4004),
                    120 + (i % 7) as usize * 20,
                );
            }
        }
        let b = p.to_bytes();
        let body = if first { &b[..] } else { &b[24..] };
        out.write_all(body)?;
        written += body.len() as u64;
        packets += p.len() as u64;
        chunk += 1;
        first = false;
    }
    out.flush()?;
    Ok(packets)
}

/// The section's title in BENCHMARKS.md.
pub const TITLE: &str = "Offline analysis against tshark";

/// The first cell of peerscope's row in the section's table.
const OUR_ROW: &str = "peerscope analyze";

pub struct Options {
    pub bytes: u64,
    pub dir: PathBuf,
    pub peerscope: PathBuf,
    /// The body of the section this run replaces: its figures are shown beside the new
    /// ones, so a change that slows `analyze` shows in the file that records it.
    pub previous: Option<String>,
}

/// peerscope's row of a previous section's table, and the day that section was measured.
struct PreviousRow {
    cells: Vec<String>,
    measured: Option<String>,
}

impl PreviousRow {
    fn parse(body: &str) -> Option<PreviousRow> {
        let cells: Vec<String> = body
            .lines()
            .map(|l| l.trim().trim_matches('|').split('|').map(|c| c.trim().to_string()).collect::<Vec<_>>())
            .find(|c| c.len() == 5 && c[0] == OUR_ROW)?;
        let measured = body
            .lines()
            .find_map(|l| l.strip_prefix("Measured on "))
            .and_then(|l| l.split(',').next())
            .map(str::to_string);
        Some(PreviousRow { cells, measured })
    }

    fn packets_per_s(&self) -> Option<f64> {
        self.cells[3].parse().ok()
    }
}

/// This run's figures, as the previous run's are compared with them.
struct Now {
    packets: u64,
    wall_s: f64,
    cpu_s: f64,
}

/// The lines that set this run's figures beside the previous run's, or a sentence
/// saying there is none to compare with. Wall time moves with the machine's load;
/// CPU time per packet much less, so both are given.
fn against_previous(previous: Option<&str>, now: &Now) -> (String, String) {
    let Some(row) = previous.and_then(PreviousRow::parse) else {
        return (String::new(), "No previous figures of `peerscope analyze` to compare with.\n".into());
    };
    let when = row.measured.as_deref().unwrap_or("an earlier day");
    let table_row = format!(
        "| {OUR_ROW}, previous run ({when}) | {} | {} | {} | {} |\n",
        row.cells[1], row.cells[2], row.cells[3], row.cells[4]
    );
    let before_pps = row.packets_per_s().filter(|p| *p > 0.0);
    let before_cpu_ns = match (row.cells[2].parse::<f64>(), previous.and_then(previous_packets)) {
        (Ok(cpu), Some(n)) if cpu > 0.0 && n > 0 => Some(cpu * 1e9 / n as f64),
        _ => None,
    };
    let line = match (before_pps, before_cpu_ns) {
        (Some(pps), Some(cpu_ns)) => {
            let now_cpu_ns = now.cpu_s * 1e9 / now.packets as f64;
            format!(
                "Against the previous run: packets/s **{:.2}x**, CPU per packet {:.0} ns against {:.0} ns (**{:.2}x** as fast). \
                 The previous figures come from another run, on a machine whose load may have differed; \
                 the ratio to tshark above is measured side by side.\n",
                now.packets as f64 / now.wall_s / pps,
                now_cpu_ns,
                cpu_ns,
                cpu_ns / now_cpu_ns
            )
        }
        _ => "The previous run's figures could not be read.\n".into(),
    };
    (table_row, line)
}

/// The packet count of a previous section's generated capture.
fn previous_packets(body: &str) -> Option<u64> {
    body.split("Generated capture: ").nth(1)?.split(' ').next()?.parse().ok()
}

pub fn run(o: &Options) -> anyhow::Result<Section> {
    std::fs::create_dir_all(&o.dir)?;
    let big = o.dir.join("bench-big.pcap");
    let small = o.dir.join("bench-small.pcap");
    eprintln!("bench analyze: writing {} MB and {} MB captures", o.bytes >> 20, (o.bytes / 4) >> 20);
    let packets = write_capture(&big, o.bytes)?;
    let small_packets = write_capture(&small, o.bytes / 4)?;
    let size = std::fs::metadata(&big)?.len();
    let analyze = |f: &Path| {
        let mut c = Command::new(&o.peerscope);
        c.arg("analyze").arg(f).args(["--host", "192.0.2.1", "--no-progress", "--json", "/dev/null"]);
        c
    };
    eprintln!("bench analyze: peerscope analyze");
    let ours = measure(&mut analyze(&big))?;
    let ours_small = measure(&mut analyze(&small))?;
    eprintln!("bench analyze: tshark -q -z conv,tcp -z conv,udp");
    // Stock tshark: peerscope's own Wireshark plugin (installed system-wide) is off.
    let tshark = measure(
        Command::new("tshark")
            .args([
                "-n",
                "-q",
                "-z",
                "conv,tcp",
                "-z",
                "conv,udp",
                "--disable-protocol",
                "pplive",
                "--disable-protocol",
                "pptv",
                "-r",
            ])
            .arg(&big),
    )?;
    let pps = |m: &super::proc::Measured, n: u64| n as f64 / m.wall.as_secs_f64();
    let now = Now { packets, wall_s: ours.wall.as_secs_f64(), cpu_s: ours.cpu.as_secs_f64() };
    let (previous_row, previous_line) = against_previous(o.previous.as_deref(), &now);
    let body = format!(
        "Generated capture: {} packets, {} MB (swarm-like: 1400-byte TCP data, acks, UDP gossip). \
         Target: at least 20x tshark's packets/s; peak memory must not grow with the file.\n\n\
         | reader | wall s | CPU s | packets/s | peak RSS MiB |\n|---|---:|---:|---:|---:|\n\
         | {OUR_ROW} | {:.2} | {:.2} | {:.0} | {:.1} |\n\
         {previous_row}\
         | tshark -q -z conv,tcp -z conv,udp | {:.2} | {:.2} | {:.0} | {:.1} |\n\n\
         Ratio (peerscope / tshark packets per second): **{:.1}x**.\n\n\
         {previous_line}\n\
         Peak memory of `peerscope analyze`: {:.1} MiB on a {} MB file, {:.1} MiB on a {} MB file ({} packets).\n",
        packets,
        size >> 20,
        ours.wall.as_secs_f64(),
        ours.cpu.as_secs_f64(),
        pps(&ours, packets),
        ours.max_rss_kib as f64 / 1024.0,
        tshark.wall.as_secs_f64(),
        tshark.cpu.as_secs_f64(),
        pps(&tshark, packets),
        tshark.max_rss_kib as f64 / 1024.0,
        pps(&ours, packets) / pps(&tshark, packets),
        ours.max_rss_kib as f64 / 1024.0,
        size >> 20,
        ours_small.max_rss_kib as f64 / 1024.0,
        std::fs::metadata(&small)?.len() >> 20,
        small_packets,
    );
    if std::env::var_os("PEERSCOPE_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_file(&big);
        let _ = std::fs::remove_file(&small);
    }
    Ok(Section { title: TITLE.into(), body })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREVIOUS: &str = "Measured on 2026-11-30, 2 CPUs, kernel 6.18.\n\n\
        Generated capture: 600000 packets, 512 MB.\n\n\
        | reader | wall s | CPU s | packets/s | peak RSS MiB |\n|---|---:|---:|---:|---:|\n\
        | peerscope analyze | 0.31 | 0.30 | 2000000 | 6.7 |\n\
        | peerscope analyze, previous run (2026-11-01) | 0.62 | 0.60 | 1000000 | 6.7 |\n\
        | tshark -q -z conv,tcp -z conv,udp | 64.18 | 64.13 | 17583 | 732.4 |\n";

    #[test]
    fn test_previous_figures_are_shown_beside_the_new_ones() {
        // 600 000 packets in 0.2 s wall (3 M/s, 1.5x the 2 M/s before) and 0.15 s CPU:
        // 250 ns per packet now, 0.30 s / 600 000 = 500 ns before, twice as fast.
        let now = Now { packets: 600_000, wall_s: 0.2, cpu_s: 0.15 };
        let (row, line) = against_previous(Some(PREVIOUS), &now);
        // The previous run's own row, not the one it carried from the run before it.
        assert_eq!(row, "| peerscope analyze, previous run (2026-11-30) | 0.31 | 0.30 | 2000000 | 6.7 |\n");
        assert!(line.contains("packets/s **1.50x**"), "{line}");
        assert!(line.contains("250 ns against 500 ns (**2.00x** as fast)"), "{line}");
    }

    #[test]
    fn test_no_previous_figures_is_said() {
        let now = Now { packets: 1, wall_s: 1.0, cpu_s: 1.0 };
        let (row, line) = against_previous(None, &now);
        assert!(row.is_empty());
        assert!(line.starts_with("No previous figures"), "{line}");
        let (row, _) = against_previous(Some("a section without our row"), &now);
        assert!(row.is_empty());
    }
}
