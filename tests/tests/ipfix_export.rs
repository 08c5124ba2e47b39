//! `--ipfix` into real collectors on loopback: nfdump's `nfcapd` receives `analyze
//! --ipfix` of a capture written here, and `nfdump -r` shows every flow of every
//! window with exactly the packets and bytes peerscope counted; tshark's IPFIX
//! dissector decodes the templates and records (peerscope's elements as
//! enterprise-specific ones) with no malformed field. Needs nfdump and tshark: fails
//! under CI=true without them, skips loudly otherwise.

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use peerscope::offline::synth::{tcp, Link, SynthPcap};
use peerscope_tests::collectors::{self, Nfcapd};
use peerscope_tests::{bin_path, require_tool, tempdir::TempDir};

const S: u64 = 1_000_000_000;
/// The capture's first packet, Unix time.
const T0: u64 = 1_700_000_000 * S;
const WINDOW_S: u64 = 2;
const X4: &str = "192.0.2.10";
const X6: &str = "2001:db8::10";

/// One flow of one window: (proto, src, dst, window index).
type FlowWindow = (u8, SocketAddr, SocketAddr, u64);

/// What the capture holds, worked out as it is written: packets and IP bytes per
/// flow per window.
fn capture() -> (SynthPcap, BTreeMap<FlowWindow, (u64, u64)>) {
    let mut p = SynthPcap::new(Link::Ethernet);
    let mut want: BTreeMap<FlowWindow, (u64, u64)> = BTreeMap::new();
    let sizes = [100usize, 1100, 1300, 60];
    let mut packets = Vec::new();
    for i in 0..40u16 {
        let (x, peer): (SocketAddr, SocketAddr) = if i % 5 == 4 {
            (
                format!("[{X6}]:{}", 5000 + i).parse().unwrap(),
                format!("[2001:db8::{:x}]:4004", 0x100 + i).parse().unwrap(),
            )
        } else {
            (format!("{X4}:{}", 5000 + i).parse().unwrap(), format!("198.51.100.{}:4004", i + 1).parse().unwrap())
        };
        let proto = if i % 3 == 0 { 6 } else { 17 };
        // Download in windows 0 and 1, upload in window 2 (some flows only).
        for w in 0..3u64 {
            let n = match w {
                0 => 1 + i as u64 % 3,
                1 => i as u64 % 4,
                _ => (i as u64 % 2) * 2,
            };
            let (src, dst) = if w == 2 { (x, peer) } else { (peer, x) };
            for j in 0..n {
                let len = sizes[(i as usize + j as usize) % sizes.len()].max(if proto == 6 { 40 } else { 28 });
                let ts = T0 + w * WINDOW_S * S + (j + 1) * 100_000_000 + i as u64 * 1_000_000;
                packets.push((ts, proto, src, dst, len));
                let e = want.entry((proto, src, dst, w)).or_default();
                e.0 += 1;
                e.1 += len as u64;
            }
        }
    }
    packets.sort_by_key(|p| p.0);
    for (ts, proto, src, dst, len) in packets {
        if proto == 6 {
            p.tcp(ts, src, dst, tcp::ACK | tcp::PSH, len);
        } else {
            p.udp(ts, src, dst, len);
        }
    }
    (p, want)
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// nfdump's records of the files in `dir` by flow and window; a flow-window given
/// twice fails.
fn nfdump(dir: &Path) -> BTreeMap<FlowWindow, (u64, u64)> {
    let mut got = BTreeMap::new();
    for r in collectors::nfdump(dir) {
        let w = (r.start_ms - T0 / 1_000_000) / (WINDOW_S * 1000);
        let prev = got.insert((r.proto, r.src, r.dst, w), (r.packets, r.bytes));
        assert!(prev.is_none(), "two records of one flow in window {w}: {r:?}");
    }
    got
}

fn analyze(pcap: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(bin_path::peerscope())
        .arg("analyze")
        .arg(pcap)
        .args(["--host", X4, "--host", X6, "--window", &WINDOW_S.to_string(), "--no-progress"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "analyze: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn test_nfdump_shows_every_flow_of_every_window_as_counted() {
    if !require_tool("ipfix_export", "nfcapd") || !require_tool("ipfix_export", "nfdump") {
        return;
    }
    let dir = TempDir::new("ipfix-nfcapd");
    let (cap, want) = capture();
    let pcap = dir.0.join("capture.pcap");
    cap.write_file(&pcap).unwrap();
    let flows = dir.0.join("flows");
    std::fs::create_dir_all(&flows).unwrap();
    let port = free_udp_port();
    let collector = Nfcapd::start(None, &flows, port);
    let json = dir.0.join("report.json");
    let out = analyze(&pcap, &["--ipfix", &format!("127.0.0.1:{port}"), "--json", json.to_str().unwrap()]);
    collector.stop();
    let got = nfdump(&flows);
    assert_eq!(got, want, "nfdump's records (left) and the capture's flows per window (right)");
    // And what peerscope reported, summed over windows.
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let mut totals: BTreeMap<(u8, SocketAddr, SocketAddr), (u64, u64)> = BTreeMap::new();
    for ((p, s, d, _), (n, b)) in &got {
        let e = totals.entry((*p, *s, *d)).or_default();
        e.0 += n;
        e.1 += b;
    }
    let reported = doc["report"]["flows"].as_array().unwrap();
    assert_eq!(reported.len(), totals.len());
    for f in reported {
        let sa = |ip: &str, port: &str| {
            SocketAddr::new(f[ip].as_str().unwrap().parse().unwrap(), f[port].as_u64().unwrap() as u16)
        };
        let k = (f["ip_protocol"].as_u64().unwrap() as u8, sa("src_ip", "src_port"), sa("dst_ip", "dst_port"));
        let t = &f["total"];
        assert_eq!(totals.get(&k), Some(&(t["packets"].as_u64().unwrap(), t["bytes"].as_u64().unwrap())), "{f}");
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("IPFIX:") && !stderr.contains("not sent"), "{stderr}");
}

/// The datagrams `analyze --ipfix` sends to a socket of this test.
fn exported_datagrams(pcap: &Path, extra: &[&str]) -> (Vec<Vec<u8>>, u16) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let mut args = vec!["--ipfix".to_string(), format!("127.0.0.1:{port}")];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    analyze(pcap, &args);
    sock.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65536];
    while let Ok(n) = sock.recv(&mut buf) {
        out.push(buf[..n].to_vec());
    }
    (out, port)
}

#[test]
fn test_tshark_decodes_templates_and_records_without_a_malformed_field() {
    if !require_tool("ipfix_export", "tshark") {
        return;
    }
    let dir = TempDir::new("ipfix-tshark");
    let (cap, want) = capture();
    let pcap = dir.0.join("capture.pcap");
    cap.write_file(&pcap).unwrap();
    let (datagrams, port) = exported_datagrams(&pcap, &[]);
    assert!(!datagrams.is_empty());
    // The datagrams as a capture of their own, for tshark.
    let mut export = SynthPcap::new(Link::Ethernet);
    for (i, d) in datagrams.iter().enumerate() {
        let b = etherparse::PacketBuilder::ipv4([127, 0, 0, 1], [127, 0, 0, 1], 64).udp(40000, port);
        let mut ip = Vec::new();
        b.write(&mut ip, d).unwrap();
        export.raw_ip(T0 + i as u64 * 1000, &ip);
    }
    let file = dir.0.join("export.pcap");
    export.write_file(&file).unwrap();
    let decode = |extra: &[&str]| {
        let out = Command::new("tshark")
            .arg("-r")
            .arg(&file)
            .args(["-d", &format!("udp.port=={port},cflow")])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "tshark: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let malformed = decode(&["-Y", "_ws.malformed || _ws.expert.severity >= \"warning\""]);
    assert!(malformed.trim().is_empty(), "tshark finds malformed or suspicious fields:\n{malformed}");
    let verbose = decode(&["-V"]);
    assert!(verbose.contains("Template Id: 256") && verbose.contains("Options Template"), "no templates decoded");
    // peerscope's elements are shown as enterprise-specific, under its number.
    // 9 in each of the 4 flow templates, 2 in the options template.
    let pen = verbose.matches("PEN: Example Enterprise Number for Documentation Use (32473)").count();
    assert!(pen >= 4 * 9 + 2, "{pen} enterprise elements of 32473 in the templates");
    // tshark's packet counts over all data records equal the capture's.
    let counts = decode(&["-T", "fields", "-e", "cflow.packets", "-E", "aggregator=,"]);
    let total: u64 = counts.split([',', '\n']).filter_map(|v| v.trim().parse::<u64>().ok()).sum();
    assert_eq!(total, want.values().map(|v| v.0).sum::<u64>());
}
