//! Exit statuses and messages of the commands that read captures (`peerscope::exit`):
//! a file with nothing peerscope can count says what it holds and exits
//! [`exit::NO_INPUT`]; bad usage exits [`exit::USAGE`]; a damaged capture with results
//! before the damage exits [`exit::DAMAGED`], in `analyze` as in `dissect`.

use std::process::{Command, Output};

use pcap_file::DataLink;
use peerscope::exit;
use peerscope::offline::link_frames::{pcap, Wrap};
use peerscope_abi::frames::{eth, ipv4_between, udp};

/// A file of the temporary directory, named by this process and removed when dropped
/// (even when the test fails).
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn named(name: &str) -> Self {
        TempFile(std::env::temp_dir().join(format!("peerscope-exit-{}-{name}", std::process::id())))
    }
}

impl std::ops::Deref for TempFile {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp(name: &str, bytes: &[u8]) -> TempFile {
    let f = TempFile::named(name);
    std::fs::write(&f.0, bytes).unwrap();
    f
}

fn peerscope(args: &[&str], file: &std::path::Path) -> (Output, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_peerscope")).args(args).arg(file).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out, stderr)
}

fn udp_frame(sport: u16) -> Vec<u8> {
    Wrap::Ethernet.wrap(&ipv4_between([198, 51, 100, 1], [192, 0, 2, 10], 17, &udp(sport, 8008, 100)), false)
}

fn records(frames: Vec<Vec<u8>>) -> Vec<(u64, Vec<u8>, u32)> {
    frames.into_iter().enumerate().map(|(i, f)| (1_000_000_000 * (i as u64 + 1), f, 0)).collect()
}

#[test]
fn test_only_unsupported_link_types_is_an_error_that_names_them() {
    let f = temp("user0.pcap", &pcap(DataLink::Unknown(147), &records(vec![udp_frame(1); 14])));
    for cmd in ["analyze", "dissect"] {
        let (out, err) = peerscope(&[cmd], &f);
        assert_eq!(out.status.code(), Some(exit::NO_INPUT.into()), "{cmd}: {err}");
        assert!(err.contains("no packet of a supported link type: 14 frames of USER0 (link type 147)"), "{cmd}: {err}");
    }
}

#[test]
fn test_no_ip_packet_says_what_the_file_holds() {
    let arp = [eth(0x0806, &[]), vec![0; 28]].concat();
    let f = temp("arp.pcap", &pcap(DataLink::ETHERNET, &records(vec![arp; 3])));
    let (out, err) = peerscope(&["analyze", "--host", "192.0.2.10"], &f);
    assert_eq!(out.status.code(), Some(exit::NO_INPUT.into()), "{err}");
    assert!(err.contains("no IP packet in 3 frames (3 not IP)"), "{err}");
    let empty = temp("empty.pcap", &pcap(DataLink::ETHERNET, &[]));
    let (out, err) = peerscope(&["analyze"], &empty);
    assert_eq!(out.status.code(), Some(exit::NO_INPUT.into()), "{err}");
    assert!(err.contains("no packet"), "{err}");
}

#[test]
fn test_damage_before_any_packet_is_no_usable_input_and_says_where() {
    let mut b = pcap(DataLink::ETHERNET, &records(vec![udp_frame(1)]));
    b.truncate(24 + 10);
    let f = temp("cut-first.pcap", &b);
    for cmd in ["analyze", "dissect"] {
        let (out, err) = peerscope(&[cmd], &f);
        assert_eq!(out.status.code(), Some(exit::NO_INPUT.into()), "{cmd}: {err}");
        assert!(err.contains("damaged capture, stopped at packet 1 (byte offset 24)"), "{cmd}: {err}");
    }
}

#[test]
fn test_damage_after_packets_exits_damaged_in_both_commands() {
    let mut b = pcap(DataLink::ETHERNET, &records(vec![udp_frame(1), udp_frame(2), udp_frame(3)]));
    b.truncate(b.len() - 20);
    let f = temp("cut-last.pcap", &b);
    for cmd in ["analyze", "dissect"] {
        let (out, err) = peerscope(&[cmd], &f);
        assert_eq!(out.status.code(), Some(exit::DAMAGED.into()), "{cmd}: {err}");
        assert!(err.contains("stopped at packet 3"), "{cmd}: {err}");
    }
}

#[test]
fn test_bad_usage_exits_usage() {
    let f = temp("ok.pcap", &pcap(DataLink::ETHERNET, &records(vec![udp_frame(1)])));
    let (out, err) = peerscope(&["analyze", "--no-such-flag"], &f);
    assert_eq!(out.status.code(), Some(exit::USAGE.into()), "{err}");
    let (out, err) = peerscope(&["analyze", "--window=-3"], &f);
    assert_eq!(out.status.code(), Some(exit::USAGE.into()), "{err}");
    assert!(err.contains("--window") && err.contains("must be a positive number"), "{err}");
}

/// A pcapng whose second interface is of a link type peerscope does not read: the
/// first interface's packets are analysed, the others named in a warning.
#[test]
fn test_mixed_link_types_analyse_what_can_be_read_and_name_the_rest() {
    let block = |kind: u32, body: &[u8]| {
        let len = (12 + body.len()) as u32;
        [&kind.to_le_bytes()[..], &len.to_le_bytes(), body, &len.to_le_bytes()].concat()
    };
    let mut b =
        block(0x0a0d_0d0a, &[0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    for link in [1u16, 147] {
        b.extend(block(1, &[&link.to_le_bytes()[..], &[0, 0], &0u32.to_le_bytes()].concat()));
    }
    for (i, iface) in [0u32, 1, 1, 0].iter().enumerate() {
        let f = udp_frame(i as u16 + 1);
        let ts = 1_000_000u64 * (i as u64 + 1);
        let mut body =
            [&iface.to_le_bytes()[..], &((ts >> 32) as u32).to_le_bytes(), &(ts as u32).to_le_bytes()].concat();
        body.extend_from_slice(&(f.len() as u32).to_le_bytes());
        body.extend_from_slice(&(f.len() as u32).to_le_bytes());
        body.extend_from_slice(&f);
        body.resize(body.len().div_ceil(4) * 4, 0);
        b.extend(block(6, &body));
    }
    let f = temp("mixed.pcapng", &b);
    let json = TempFile::named("mixed.json");
    let (out, err) = peerscope(&["analyze", "--host", "192.0.2.10", "--json", json.to_str().unwrap()], &f);
    assert_eq!(out.status.code(), Some(exit::SUCCESS.into()), "{err}");
    assert!(err.contains("warning: 2 frames of USER0 (link type 147) skipped"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json.0).unwrap()).unwrap();
    assert_eq!(v["source"]["read"]["ip_packets"], 2);
    assert_eq!(v["source"]["read"]["unsupported_link_frames_by_type"]["USER0 (link type 147)"], 2);
}
