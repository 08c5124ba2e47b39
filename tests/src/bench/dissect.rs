//! Decode throughput of peer-list messages on one core: the 2005 tracker reply (50
//! host records) through the zero-copy view, and the full tree `dissect` builds.

use std::{hint::black_box, net::Ipv4Addr, time::Instant};

use peerscope_dissector::{
    dissect,
    v2005::{
        host_record::HostRecordRepr,
        tracker_reply::{TrackerReply, TrackerReplyRepr},
    },
    Hint,
};

use super::Section;

fn reply() -> Vec<u8> {
    let hosts = (0..50u8)
        .map(|i| HostRecordRepr {
            ip: Ipv4Addr::new(203, 0, 113, i),
            udp_port: 4004,
            tcp_port: 8008,
            unknown: [0, 0, 0, 0, 0x18, 0, 7, 0, 0x35, 0],
        })
        .collect();
    let r = TrackerReplyRepr {
        header: [0x02, 0x00, 0x00, 0x02, 0x99, 0x58, 0x98, 0x00, 0x2d, 0x5a, 0x98, 0x00, 0x02],
        hosts,
    };
    let mut out = Vec::new();
    r.emit(&mut out);
    out
}

fn rate(msgs: u64, bytes: u64, secs: f64) -> (f64, f64) {
    (bytes as f64 / secs / 1e6, msgs as f64 / secs)
}

pub fn run(iterations: u64) -> anyhow::Result<Section> {
    let msg = reply();
    let len = msg.len() as u64;

    let t = Instant::now();
    let mut sum = 0u64;
    for _ in 0..iterations {
        let r = TrackerReply::new_checked(black_box(&msg))?;
        for h in r.hosts() {
            sum = sum.wrapping_add(u32::from(h.ip()) as u64 + h.udp_port() as u64 + h.tcp_port() as u64);
        }
    }
    black_box(sum);
    let (view_mb, view_msgs) = rate(iterations, iterations * len, t.elapsed().as_secs_f64());

    let tree_iters = iterations / 20;
    let t = Instant::now();
    for _ in 0..tree_iters {
        black_box(dissect(black_box(&msg), Hint::Auto)?);
    }
    let (tree_mb, tree_msgs) = rate(tree_iters, tree_iters * len, t.elapsed().as_secs_f64());

    let body = format!(
        "A 2005 tracker reply with 50 host records ({len} bytes), decoded on one core. Target: at least 1 GB/s.\n\n\
         | decoder | MB/s | messages/s |\n|---|---:|---:|\n\
         | zero-copy view, every record's address and ports read | {view_mb:.0} | {view_msgs:.0} |\n\
         | full field tree (`dissect`, what `peerscope dissect` and the plugin show) | {tree_mb:.0} | {tree_msgs:.0} |\n"
    );
    Ok(Section { title: "Peer-list decoding".into(), body })
}
