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

pub struct Options {
    pub bytes: u64,
    pub dir: PathBuf,
    pub peerscope: PathBuf,
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
    let body = format!(
        "Generated capture: {} packets, {} MB (swarm-like: 1400-byte TCP data, acks, UDP gossip). \
         Target: at least 20x tshark's packets/s; peak memory must not grow with the file.\n\n\
         | reader | wall s | CPU s | packets/s | peak RSS MiB |\n|---|---:|---:|---:|---:|\n\
         | peerscope analyze | {:.2} | {:.2} | {:.0} | {:.1} |\n\
         | tshark -q -z conv,tcp -z conv,udp | {:.2} | {:.2} | {:.0} | {:.1} |\n\n\
         Ratio (peerscope / tshark packets per second): **{:.1}x**.\n\n\
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
    Ok(Section { title: "Offline analysis against tshark".into(), body })
}
