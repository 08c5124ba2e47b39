//! Real P2P-TV traffic no one on the team wrote (the nDPI PPStream captures in
//! `shared/data/ndpi-pps/`): per-flow counts must equal what tshark reports, the
//! analysis must complete, and its parents/children must follow from those counts.
//!
//! Without tshark the test fails under CI (`CI=true`) and is skipped loudly elsewhere.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Command;

use peerscope::engine::{EngineConfig, MonitoredHost};
use peerscope::offline::{analyze_file, OfflineOptions};

/// The PPS client of the captures (their PROVENANCE.md).
const CLIENT: &str = "192.168.115.8";

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/ndpi-pps")
}

/// `false` (after saying so) when the test cannot run here.
fn prerequisites() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let tshark = Command::new("tshark").arg("--version").output().is_ok_and(|o| o.status.success());
    if !tshark {
        assert!(!ci, "tshark is not installed: CI must install it (apt-get install tshark)");
        eprintln!("\n*** SKIPPED: tshark not installed ***\n");
        return false;
    }
    let data = data_dir().is_dir();
    if !data {
        assert!(!ci, "real captures missing at {}", data_dir().display());
        eprintln!("\n*** SKIPPED: {} not found ***\n", data_dir().display());
        return false;
    }
    true
}

type Key = (u8, IpAddr, u16, IpAddr, u16);

/// Per-flow totals as tshark sees them.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    packets: u64,
    ip_bytes: u64,
    payload_bytes: u64,
    ack_packets: u64,
    syn_packets: u64,
}

fn tshark_flows(file: &std::path::Path) -> BTreeMap<Key, Counts> {
    let fields = [
        "ip.src",
        "ip.dst",
        "ip.proto",
        "ip.len",
        "ipv6.src",
        "ipv6.dst",
        "ipv6.plen",
        "tcp.srcport",
        "tcp.dstport",
        "tcp.len",
        "tcp.flags",
        "udp.srcport",
        "udp.dstport",
        "udp.length",
    ];
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(file).args(["-T", "fields", "-E", "separator=;", "-E", "occurrence=f"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark runs");
    assert!(out.status.success(), "tshark failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut flows: BTreeMap<Key, Counts> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let f: Vec<&str> = line.split(';').collect();
        let n = |i: usize| -> u64 { f[i].parse().unwrap_or(0) };
        let (src, dst, ip_len, proto): (IpAddr, IpAddr, u64, u8) = if !f[0].is_empty() {
            (f[0].parse().unwrap(), f[1].parse().unwrap(), n(3), n(2) as u8)
        } else if !f[4].is_empty() {
            (f[4].parse().unwrap(), f[5].parse().unwrap(), 40 + n(6), 0)
        } else {
            continue;
        };
        let (proto, sp, dp, payload, flags) = if !f[7].is_empty() {
            let flags = u64::from_str_radix(f[10].trim_start_matches("0x"), 16).unwrap();
            (6, n(7) as u16, n(8) as u16, n(9), flags)
        } else if !f[11].is_empty() {
            (17, n(11) as u16, n(12) as u16, n(13) - 8, 0)
        } else {
            (proto, 0, 0, 0, 0)
        };
        let c = flows.entry((proto, src, sp, dst, dp)).or_default();
        c.packets += 1;
        c.ip_bytes += ip_len;
        c.payload_bytes += payload;
        c.ack_packets += u64::from(proto == 6 && payload == 0);
        c.syn_packets += u64::from(flags & 0x12 == 0x02);
    }
    flows
}

fn check_file(name: &str) {
    let path = data_dir().join(name);
    let want = tshark_flows(&path);
    let host = MonitoredHost::new(["192.168.115.8".parse().unwrap()]);
    let out =
        analyze_file(&path, OfflineOptions { config: EngineConfig::default(), host: Some(host), progress: false })
            .unwrap();
    assert!(out.damage.is_none(), "{name}: {:?}", out.damage);
    let r = &out.report;
    let got: BTreeMap<Key, Counts> = r
        .flows
        .iter()
        .map(|f| {
            let c = Counts {
                packets: f.total.classes.packets,
                ip_bytes: f.total.classes.bytes,
                payload_bytes: f.total.payload_bytes,
                ack_packets: f.total.classes.ack_packets,
                syn_packets: f.total.syn_packets as u64,
            };
            let k = &f.key;
            ((k.ip_protocol, k.src_ip, k.src_port, k.dst_ip, k.dst_port), c)
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got.len(), want.len(), "{name}: number of flows");
    for (k, w) in &want {
        assert_eq!(got.get(k), Some(w), "{name}: flow {k:?}");
    }
    assert_eq!(out.read.ip_packets, want.values().map(|c| c.packets).sum::<u64>());

    // Parents and children follow from the counts: per window, a peer is a parent
    // exactly when its bytes to X exceed Rp · Δ, and the pair bytes over all windows
    // add up to tshark's bytes of that peer's flows.
    let x: IpAddr = CLIENT.parse().unwrap();
    let delta = r.config.window_s;
    let mut down_per_peer: BTreeMap<IpAddr, u64> = BTreeMap::new();
    let mut up_per_peer: BTreeMap<IpAddr, u64> = BTreeMap::new();
    for w in &r.windows {
        for p in &w.pairs {
            *down_per_peer.entry(p.peer).or_default() += p.down_bytes;
            *up_per_peer.entry(p.peer).or_default() += p.up_bytes;
            let is_parent = w.parents.iter().any(|q| q.peer == p.peer);
            assert_eq!(
                is_parent,
                p.down_bytes as f64 > r.config.parent_rate_bytes_per_s * delta,
                "{name}: window {} peer {}",
                w.index,
                p.peer
            );
            let is_child = w.children.iter().any(|q| q.peer == p.peer);
            assert_eq!(is_child, p.up_bytes as f64 > r.config.child_rate_bytes_per_s * delta);
        }
    }
    let mut want_down: BTreeMap<IpAddr, u64> = BTreeMap::new();
    let mut want_up: BTreeMap<IpAddr, u64> = BTreeMap::new();
    for ((_, s, _, d, _), c) in &want {
        if *d == x && *s != x {
            *want_down.entry(*s).or_default() += c.ip_bytes;
        } else if *s == x && *d != x {
            *want_up.entry(*d).or_default() += c.ip_bytes;
        }
    }
    for (peer, b) in &want_down {
        assert_eq!(down_per_peer.get(peer), Some(b), "{name}: bytes from {peer}");
    }
    for (peer, b) in &want_up {
        assert_eq!(up_per_peer.get(peer), Some(b), "{name}: bytes to {peer}");
    }
    assert_eq!(r.family.download_bytes, want_down.values().sum::<u64>());
    assert!(r.family.hosts_ever_parent > 0, "{name}: the PPS client downloads from peers");
    let json = serde_json::to_string(r).unwrap();
    assert!(!json.contains("NaN"));
}

#[test]
fn test_full_capture_matches_tshark() {
    if prerequisites() {
        check_file("pps_full_2016.pcap");
    }
}

#[test]
fn test_reduced_capture_matches_tshark() {
    if prerequisites() {
        check_file("pps_reduced_2024.pcap");
    }
}

#[test]
fn test_inferred_host_is_the_client() {
    if prerequisites() {
        let out = analyze_file(&data_dir().join("pps_full_2016.pcap"), OfflineOptions::default()).unwrap();
        assert_eq!(out.host_guess.unwrap().ip, CLIENT.parse::<IpAddr>().unwrap());
    }
}
