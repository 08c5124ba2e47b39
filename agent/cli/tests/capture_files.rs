//! Reading capture files: link types, pcapng, host inference, damaged files and
//! the `analyze` command's exit status.

#[path = "../../tests/common/mod.rs"]
mod common;
use common::*;

use std::process::Command;

use peerscope::engine::{EngineConfig, MonitoredHost};
use peerscope::offline::synth::{tcp, Link, SynthPcap};
use peerscope::offline::{analyze_file, OfflineError, OfflineOptions};

fn sample(link: Link) -> SynthPcap {
    let mut p = SynthPcap::new(link);
    p.udp_train(T0, S / 10, 5, sa("198.51.100.1", 4004), sa(X, 8008), 1300)
        .tcp(T0 + S, sa(X, 5000), sa("198.51.100.2", 80), tcp::SYN, 40)
        .tcp(T0 + 2 * S, sa("198.51.100.2", 80), sa(X, 5000), tcp::ACK | tcp::PSH, 500)
        .udp(T0 + 3 * S, sa("2001:db8::1", 53), sa("2001:db8::2", 5353), 120);
    p
}

/// (proto, src, sport, dst, dport, packets, bytes, class packets, payload bytes)
type FlowRow = (u8, String, u16, String, u16, u64, u64, [u64; 3], u64);

fn flows_of(out: &peerscope::offline::OfflineAnalysis) -> Vec<FlowRow> {
    out.report
        .flows
        .iter()
        .map(|f| {
            let c = &f.total.classes;
            (
                f.key.ip_protocol,
                f.key.src_ip.to_string(),
                f.key.src_port,
                f.key.dst_ip.to_string(),
                f.key.dst_port,
                c.packets,
                c.bytes,
                [c.ack_packets, c.control_packets, c.data_packets],
                f.total.payload_bytes,
            )
        })
        .collect()
}

#[test]
fn test_every_link_type_gives_the_same_flows() {
    let expected = vec![
        (6, "192.0.2.10".into(), 5000, "198.51.100.2".into(), 80, 1, 40, [1, 0, 0], 0),
        (17, "198.51.100.1".into(), 4004, "192.0.2.10".into(), 8008, 5, 6500, [0, 0, 5], 5 * 1272),
        (6, "198.51.100.2".into(), 80, "192.0.2.10".into(), 5000, 1, 500, [0, 1, 0], 460),
        (17, "2001:db8::1".into(), 53, "2001:db8::2".into(), 5353, 1, 120, [0, 1, 0], 72),
    ];
    for link in [Link::Ethernet, Link::EthernetVlan, Link::LinuxSll, Link::LinuxSll2, Link::RawIp] {
        let out = analyze(&sample(link), EngineConfig::default());
        let mut got = flows_of(&out);
        let mut want = expected.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{link:?}");
        assert_eq!(out.read.frames, 8);
        assert!(out.damage.is_none());
    }
}

#[test]
fn test_pcapng_in_microseconds_and_nanoseconds() {
    let p = sample(Link::Ethernet);
    let reference = analyze(&p, EngineConfig::default());
    for ns in [false, true] {
        let path = temp_path("c.pcapng");
        std::fs::write(&path, p.to_pcapng_bytes(ns)).unwrap();
        let out = analyze_file(&path, OfflineOptions { host: Some(MonitoredHost::new([ip(X)])), ..Default::default() })
            .unwrap();
        assert_eq!(flows_of(&out), flows_of(&reference));
        // Timestamps are whole microseconds here, so both resolutions agree exactly.
        assert_eq!(out.report.capture.start_unix_ns, T0);
        let f = out.report.flows.iter().find(|f| f.key.ip_protocol == 17 && f.key.src_port == 4004).unwrap();
        assert_eq!((f.total.first_seen_unix_ns, f.total.last_seen_unix_ns), (Some(T0), Some(T0 + 4 * S / 10)));
    }
}

#[test]
fn test_snaplen_cut_packets_count_their_ip_length() {
    // tcpdump -s 96: records hold 96 bytes; lengths come from the IP header.
    let mut p = sample(Link::Ethernet);
    p.snaplen(96);
    let full = analyze(&sample(Link::Ethernet), EngineConfig::default());
    let cut = analyze(&p, EngineConfig::default());
    assert!(cut.damage.is_none(), "{:?}", cut.damage);
    assert_eq!(flows_of(&cut), flows_of(&full));
    let path = temp_path("cut.pcapng");
    std::fs::write(&path, p.to_pcapng_bytes(false)).unwrap();
    let ng =
        analyze_file(&path, OfflineOptions { host: Some(MonitoredHost::new([ip(X)])), ..Default::default() }).unwrap();
    assert_eq!(flows_of(&ng), flows_of(&full));
}

#[test]
fn test_a_clock_jump_is_one_run_of_empty_windows() {
    // 10 years ahead (15 768 000 windows of 20 s): the grid runs on, the gap is
    // listed once. By hand: window 0 [T0, T0+20 s) holds the first packet; window 1
    // is empty and completes sample 0 (the one with the packet), so it is listed by
    // itself; windows 2 .. 15 767 998 are one run of 15 767 997; the second packet
    // falls exactly on the last boundary, so it closes window 15 767 999 (the last
    // packet on a boundary closes the window before it).
    let mut p = SynthPcap::new(Link::Ethernet);
    let later = T0 + 10 * 365 * 86_400 * S;
    p.udp(T0, sa("198.51.100.1", 1), sa(X, 2), 100).udp(later, sa("198.51.100.1", 1), sa(X, 2), 100);
    let out = analyze(&p, EngineConfig::default());
    assert_eq!(out.read.time_jumps, 1);
    let w: Vec<_> = out.report.windows.iter().map(|w| (w.start_unix_ns, w.packets, w.count)).collect();
    assert_eq!(w, vec![(T0, 1, 1), (T0 + 20 * S, 0, 1), (T0 + 40 * S, 0, 15_767_997), (later - 20 * S, 1, 1)]);
    assert_eq!(out.report.capture.windows, 15_768_000);
    assert_eq!(out.report.capture.duration_s, (later - T0) as f64 / 1e9);
    // Samples of 30 s: 0 holds the first packet, then one empty by itself and a
    // run; the last one (with the second packet) is partial.
    let total: u64 = out.report.samples.iter().map(|s| s.count).sum();
    assert_eq!(total as usize, out.report.capture.samples);
    assert!(out.report.samples.len() <= 4, "{:?}", out.report.samples);
    assert_eq!(out.report.family.mean_parents_per_window, Some(0.0));
    assert_eq!(out.report.stability.windows_with_empty_parent_set, 15_767_999);
}

/// A capture with a gap of a week between two bursts: `analyze --json` and its CSV
/// stay the size of the traffic (kilobytes, not the hundreds of megabytes one entry
/// per empty window took), and so does the process's memory.
#[test]
fn test_a_gap_of_a_week_gives_bounded_output_and_memory() {
    let mut p = SynthPcap::new(Link::Ethernet);
    let week = 7 * 86_400 * S;
    for start in [T0, T0 + week] {
        p.udp_train(start, S / 10, 600, sa("198.51.100.1", 4004), sa(X, 8008), 1300);
        p.udp_train(start, S / 5, 300, sa(X, 8008), sa("198.51.100.2", 4004), 1300);
    }
    let pcap = temp_path("week.pcap");
    p.write_file(&pcap).unwrap();
    let json = temp_path("week.json");
    let csv = temp_path("week-csv");
    let child = Command::new(env!("CARGO_BIN_EXE_peerscope"))
        .args(["analyze", "--no-progress", "--host", X, "--json"])
        .arg(&json)
        .arg("--csv")
        .arg(&csv)
        .arg(&pcap)
        .status()
        .unwrap();
    assert!(child.success());
    // Only the child has ended so far; its peak resident set.
    let rss_kib = children_max_rss_kib();
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let r = &v["report"];
    // 7 days + 60 s of bursts = 30 243 windows of 20 s (the last one partial).
    assert_eq!(r["capture"]["windows"], 30_243);
    let counts: u64 = r["windows"].as_array().unwrap().iter().map(|w| w["count"].as_u64().unwrap()).sum();
    assert_eq!(counts, 30_243);
    assert!(r["windows"].as_array().unwrap().len() <= 12, "{}", r["windows"]);
    let size = std::fs::metadata(&json).unwrap().len();
    assert!(size < 200_000, "analyze --json wrote {size} bytes for 1800 packets");
    let rows = std::fs::read_to_string(csv.join("windows.csv")).unwrap().lines().count();
    assert!(rows <= 13, "windows.csv has {rows} lines");
    assert!(rss_kib < 100 * 1024, "analyze peaked at {rss_kib} KiB");
    std::fs::remove_dir_all(&csv).ok();
    for f in [&pcap, &json] {
        std::fs::remove_file(f).ok();
    }
}

/// The largest peak resident set of this process's children that have ended, in KiB.
fn children_max_rss_kib() -> i64 {
    // SAFETY: getrusage fills the struct it is given and reads nothing else.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) }, 0);
    u.ru_maxrss
}

#[test]
fn test_host_is_inferred_from_flow_count() {
    let path = temp_path("infer.pcap");
    sample(Link::Ethernet).write_file(&path).unwrap();
    let out = analyze_file(&path, OfflineOptions::default()).unwrap();
    let g = out.host_guess.unwrap();
    // X is in 3 of the 4 flows.
    assert_eq!((g.ip, g.flows, g.total_flows), (ip(X), 3, 4));
    assert_eq!(out.report.host, vec![ip(X)]);
}

/// Five 100-byte IP packets in Ethernet: records of 16 + 114 bytes after the
/// 24-byte file header; the fifth starts at 24 + 4 · 130 = 544.
fn five_packets() -> Vec<u8> {
    let mut p = SynthPcap::new(Link::Ethernet);
    p.udp_train(T0, S, 5, sa("198.51.100.1", 1), sa(X, 2), 100);
    let b = p.to_bytes();
    assert_eq!(b.len(), 24 + 5 * 130);
    b
}

#[test]
fn test_truncated_file_is_analysed_up_to_the_damage() {
    let b = five_packets();
    let path = temp_path("cut.pcap");
    std::fs::write(&path, &b[..b.len() - 50]).unwrap();
    let out =
        analyze_file(&path, OfflineOptions { host: Some(MonitoredHost::new([ip(X)])), ..Default::default() }).unwrap();
    let d = out.damage.expect("damage reported");
    assert_eq!((d.packet_number, d.byte_offset), (5, 544));
    assert!(d.reason.contains("ends inside a record"), "{}", d.reason);
    assert_eq!(out.read.frames, 4);
    assert_eq!(out.read.bytes_read, 544);
    assert_eq!(out.report.flows.iter().map(|f| f.total.classes.packets).sum::<u64>(), 4, "nothing read is lost");
}

#[test]
fn test_corrupt_record_stops_with_its_position() {
    let mut b = five_packets();
    // Third record's captured length (at 24 + 2 · 130 + 8) set beyond any snap length.
    let at = 24 + 2 * 130 + 8;
    b[at..at + 4].copy_from_slice(&0xfff0_0000u32.to_le_bytes());
    let path = temp_path("corrupt.pcap");
    std::fs::write(&path, &b).unwrap();
    let out =
        analyze_file(&path, OfflineOptions { host: Some(MonitoredHost::new([ip(X)])), ..Default::default() }).unwrap();
    let d = out.damage.expect("damage reported");
    assert_eq!((d.packet_number, d.byte_offset), (3, 24 + 2 * 130));
    assert_eq!(out.report.flows[0].total.classes.packets, 2);
}

#[test]
fn test_not_a_capture_and_cut_header_are_errors() {
    let path = temp_path("junk.pcap");
    std::fs::write(&path, b"hello, this is not a capture file").unwrap();
    assert!(matches!(analyze_file(&path, OfflineOptions::default()), Err(OfflineError::Format { .. })));
    std::fs::write(&path, &five_packets()[..10]).unwrap();
    assert!(matches!(analyze_file(&path, OfflineOptions::default()), Err(OfflineError::Format { .. })));
    std::fs::write(&path, &five_packets()[..24]).unwrap();
    assert!(matches!(analyze_file(&path, OfflineOptions::default()), Err(OfflineError::NoUsableInput { .. })));
}

#[test]
fn test_cli_reports_damage_and_exits_damaged_after_writing_outputs() {
    let b = five_packets();
    let path = temp_path("cli-cut.pcap");
    std::fs::write(&path, &b[..b.len() - 50]).unwrap();
    let json = temp_path("out.json");
    let csv = temp_path("csv");
    let plots = temp_path("plots");
    let out = Command::new(env!("CARGO_BIN_EXE_peerscope"))
        .arg("analyze")
        .arg(&path)
        .args(["--host", X, "--json"])
        .arg(&json)
        .arg("--csv")
        .arg(&csv)
        .arg("--plots")
        .arg(&plots)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(peerscope::exit::DAMAGED as i32), "{stderr}");
    assert!(stderr.contains("packet 5") && stderr.contains("byte offset 544"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Parents and children [M]"), "{stdout}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!((v["schema_version"].as_u64(), v["document"].as_str()), (Some(2), Some("report")));
    assert_eq!(v["report"]["flows"][0]["total"]["packets"], 4);
    assert_eq!(v["source"]["damage"]["packet_number"], 5);
    assert_eq!(v["source"]["damage"]["byte_offset"], 544);
    assert_eq!(v["source"]["read"]["frames"], 4);
    assert_eq!(v["report"]["capture"]["first_packet_unix_ns"], T0);
    assert_eq!(v["report"]["capture"]["last_packet_unix_ns"], T0 + 3 * S);
    let windows = std::fs::read_to_string(csv.join("windows.csv")).unwrap();
    assert_eq!(windows.lines().count(), 1 + 1, "header and one window");
    let svg = std::fs::read_to_string(plots.join("rates.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("polyline"), "a drawn line");
}

/// `--flow-rates-top 1`: of X's three flows in the window (see [`sample`]: UDP from
/// .1, the TCP SYN to .2 and its answer) one rate is listed and two are counted as
/// omitted; `--startup-window 5` is the start-up delay's sliding window.
#[test]
fn test_flow_rates_top_and_startup_window_flags() {
    let path = temp_path("flags.pcap");
    sample(Link::Ethernet).write_file(&path).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_peerscope"))
        .args(["analyze", "--no-progress", "--host", X, "--flow-rates-top", "1", "--startup-window", "5"])
        .args(["--playback-rate", "8", "--json", "-"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let w = &v["report"]["windows"][0];
    assert_eq!(w["flow_rates"].as_array().unwrap().len(), 1, "{w}");
    assert_eq!(w["flow_rates_omitted"], 2);
    assert_eq!(v["report"]["config"]["flow_rates_top"], 1);
    assert_eq!(v["report"]["startup"]["rate_window_s"], 5.0);
    let bad = Command::new(env!("CARGO_BIN_EXE_peerscope"))
        .args(["analyze", "--startup-window", "0"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "a usage error");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("startup-window"));
    std::fs::remove_file(&path).ok();
}

#[test]
fn test_cli_help_explains_every_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_peerscope")).args(["analyze", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--host",
        "--window",
        "--geo",
        "--playback-rate",
        "--flow-rates-top",
        "--startup-window",
        "--json",
        "--csv",
        "--plots",
        "--sample",
        "--host-location",
        "--decap",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
    assert!(help.contains(peerscope::exit::HELP), "exit statuses missing from:\n{help}");
}
