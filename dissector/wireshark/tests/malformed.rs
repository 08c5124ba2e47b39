//! Damaged messages are shown with expert info or as malformed, and tshark
//! exits normally however the bytes look.

mod common;

use std::net::Ipv4Addr;

use common::{fields, plugin_ready, tcp, tshark, udp, write_pcap};
use peerscope_dissector::{HostRecordRepr, TrackerReplyRepr};

fn reply_claiming_more_hosts() -> Vec<u8> {
    let host = HostRecordRepr { ip: Ipv4Addr::new(10, 0, 0, 1), udp_port: 4004, tcp_port: 8008, unknown: [0; 10] };
    let mut header = [0u8; 13];
    header[..4].copy_from_slice(&[0x02, 0x00, 0x00, 0x02]);
    let mut out = Vec::new();
    TrackerReplyRepr { header, hosts: vec![host; 3] }.emit(&mut out);
    out.truncate(out.len() - 18);
    out
}

#[test]
fn test_count_mismatch_and_private_address_are_expert_info() {
    if !plugin_ready("test_count_mismatch_and_private_address_are_expert_info") {
        return;
    }
    let pcap = write_pcap("count_mismatch.pcap", &[udp(8000, 40001, &reply_claiming_more_hosts())]);
    let rows = fields(
        &pcap,
        &["pplive.tracker.count", "pplive.host.ip", "peerscope.expert.count_mismatch", "_ws.expert.severity"],
    );
    assert_eq!(rows[0][0..2], ["3", "10.0.0.1,10.0.0.1"]);
    assert!(!rows[0][2].is_empty(), "count mismatch not flagged: {rows:?}");
    let flagged = tshark(&pcap, &["-Y", "peerscope.expert.private_address"]);
    assert_eq!(flagged.lines().count(), 1, "private address not flagged");
}

#[test]
fn test_undecodable_on_port_is_malformed() {
    if !plugin_ready("test_undecodable_on_port_is_malformed") {
        return;
    }
    let pcap = write_pcap(
        "malformed.pcap",
        &[
            udp(8000, 40001, &[0x02, 0x00, 0x00, 0x02, 0x01]),
            udp(4004, 4004, &[1, 2, 3]),
            tcp(8008, 50000, &[0x02, 0x00]),
        ],
    );
    let malformed = tshark(&pcap, &["-Y", "_ws.malformed && pplive.malformed", "-T", "fields", "-e", "frame.number"]);
    assert_eq!(malformed.lines().collect::<Vec<_>>(), ["1", "2", "3"]);
}

/// Random payloads on every port the plugin listens on, and on others for
/// the heuristics: tshark survives and shows every frame.
#[test]
fn test_random_payloads_never_crash_tshark() {
    if !plugin_ready("test_random_payloads_never_crash_tshark") {
        return;
    }
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut frames = Vec::new();
    for i in 0..400 {
        let len = (next() % 200) as usize;
        let mut p: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Half start like real messages so the decoders get past the first check.
        match i % 4 {
            0 if len >= 4 => p[..4].copy_from_slice(&[0x02, 0x00, 0x00, 0x02]),
            1 if len >= 5 => p[4] = [0x31, 0x34, 0x35, 0xc0, 0xc1, 0xc2, 0xc3][i % 7],
            _ => {}
        }
        let port = [4004, 8000, 8008, 40000][i % 4];
        frames.push(if port == 8008 { tcp(port, 50000, &p) } else { udp(port, 40001, &p) });
    }
    let pcap = write_pcap("random.pcap", &frames);
    let out = tshark(&pcap, &["-V"]);
    assert_eq!(out.matches("\nFrame ").count() + usize::from(out.starts_with("Frame ")), frames.len());
}

/// The dissector's fuzz corpus, whole and cut short, through the heuristic
/// and every port: tshark survives and shows every frame.
#[test]
fn test_fuzz_corpus_cut_short_never_crashes_tshark() {
    if !plugin_ready("test_fuzz_corpus_cut_short_never_crashes_tshark") {
        return;
    }
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let mut payloads = Vec::new();
    for dir in std::fs::read_dir(&corpus).expect("fuzz corpus") {
        for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let p = std::fs::read(file.unwrap().path()).unwrap();
            for cut in [p.len(), p.len() * 2 / 3, p.len() / 2, p.len().saturating_sub(1)] {
                // Larger than one UDP datagram is not what these ports carry.
                payloads.push(p[..cut.min(1400)].to_vec());
            }
        }
    }
    assert!(payloads.len() > 40, "corpus too small: {}", payloads.len());
    let mut frames = Vec::new();
    for p in &payloads {
        frames.extend([udp(8000, 40001, p), udp(4004, 4004, p), udp(40000, 40001, p), tcp(8008, 50000, p)]);
    }
    let pcap = write_pcap("corpus.pcap", &frames);
    let out = tshark(&pcap, &["-T", "fields", "-e", "frame.number"]);
    assert_eq!(out.lines().count(), frames.len());
    let claimed = tshark(&pcap, &["-Y", "pplive || pptv", "-T", "fields", "-e", "frame.number"]);
    assert!(claimed.lines().count() >= payloads.len() * 2, "the UDP port dissectors claim every non-empty payload");
}

/// Video segments share TCP 8008 with the control messages: a payload that does
/// not begin like a message is left to TCP, never shown as a (malformed) message.
#[test]
fn test_peer_data_on_tcp_port_is_not_claimed() {
    if !plugin_ready("test_peer_data_on_tcp_port_is_not_claimed") {
        return;
    }
    let video: Vec<u8> = (0..1400u32).map(|i| (i * 7 + 3) as u8).collect();
    let pcap = write_pcap(
        "peerdata.pcap",
        &[tcp(8008, 50000, &video), tcp(8008, 50000, &[0u8; 1400]), tcp(8008, 50000, &[0x02, 0x00, 0x00, 0x02, 0x01])],
    );
    let claimed = tshark(&pcap, &["-Y", "pplive || pptv", "-T", "fields", "-e", "frame.number"]);
    assert_eq!(claimed.lines().collect::<Vec<_>>(), ["3"], "only the frame that starts like a 2005 message");
}
