//! Damaged messages are shown with expert info or as malformed, and tshark
//! exits normally however the bytes look.

mod common;

use std::net::Ipv4Addr;

use common::{fields, plugin_ready, tcp, tshark, udp, write_pcap};
use peerscope_dissector::{GossipRepr, HostRecordRepr, TrackerReplyRepr};

/// A tracker reply whose hosts are in 10.0.0.0/8 (private: each gets a note).
fn reply(hosts: u8) -> Vec<u8> {
    let host =
        |i: u8| HostRecordRepr { ip: Ipv4Addr::new(10, 0, 0, i), udp_port: 4004, tcp_port: 8008, unknown: [0; 10] };
    let header = [0x02, 0, 0, 0x02, 0x99, 0x58, 0x98, 0, 0x2d, 0x5a, 0x98, 0, 0x02];
    let mut out = Vec::new();
    TrackerReplyRepr { header, hosts: (1..=hosts).map(host).collect() }.emit(&mut out);
    out
}

fn gossip(hosts: u8) -> Vec<u8> {
    let host =
        |i: u8| HostRecordRepr { ip: Ipv4Addr::new(10, 0, 0, i), udp_port: 4004, tcp_port: 8008, unknown: [0; 10] };
    let g = GossipRepr {
        header: [2, 0, 0, 2],
        channel: "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}".parse().unwrap(),
        unknown: [0; 20],
        hosts: (1..=hosts).map(host).collect(),
    };
    let mut out = Vec::new();
    g.emit(&mut out).unwrap();
    out
}

/// The damaged messages of `peerscope dissect`'s test, in a tracker flow a
/// good reply attributes: shown with the same notes, constant expert
/// summaries, and nothing misread.
#[test]
fn test_damaged_messages_in_an_attributed_flow() {
    if !plugin_ready("test_damaged_messages_in_an_attributed_flow") {
        return;
    }
    let mut mismatch = reply(50);
    mismatch.truncate(17 + 18 * 10);
    let mut cut_record = reply(50);
    cut_record.truncate(17 + 18 * 10 + 7);
    let mut ambiguous = gossip(2);
    ambiguous[4] = 0x31;
    ambiguous[9] = 0;
    ambiguous[10] = 0;
    ambiguous[27..29].copy_from_slice(&2u16.to_le_bytes());
    let frames: Vec<Vec<u8>> = [reply(3), mismatch, cut_record, ambiguous].iter().map(|p| udp(8000, 4004, p)).collect();
    let pcap = write_pcap("damaged.pcap", &frames);
    let rows = fields(
        &pcap,
        &[
            "_ws.col.Protocol",
            "peerscope.expert.count_mismatch",
            "peerscope.expert.no_layout",
            "peerscope.expert.ambiguous",
            "pplive.raw",
        ],
    );
    let flag = |r: &Vec<String>, i: usize| !r[i].is_empty();
    assert!(rows.iter().all(|r| r[0] == "PPLive"), "{rows:?}");
    assert!(flag(&rows[1], 1) && !flag(&rows[1], 2), "claims 50, holds 10: {rows:?}");
    assert!(flag(&rows[2], 2) && flag(&rows[2], 4), "a record cut short fits no layout, shown raw: {rows:?}");
    assert!(flag(&rows[3], 3) && flag(&rows[3], 4), "two layouts fit: raw: {rows:?}");
    let text = tshark(&pcap, &["-V"]);
    for expected in [
        "claimed 50 hosts, found 10",
        "204 bytes fit no 2005 peer list: a tracker reply is 17 + 18 x count bytes (its count 50 needs 917)",
        "77 bytes fit both a 2005 gossip message and a 2010 tracker packet; not decoded as either",
    ] {
        assert!(text.contains(expected), "{expected:?} missing:\n{text}");
    }
    assert!(!text.contains("3591263331"), "nothing misread");
    // Expert summaries are constant: one line per kind, however many items.
    let expert = tshark(&pcap, &["-q", "-z", "expert"]);
    let private: Vec<&str> = expert.lines().filter(|l| l.contains("Private or reserved address")).collect();
    assert_eq!(private.len(), 1, "{expert}");
    assert!(!expert.contains("10.0.0.1"), "addresses stay in the items: {expert}");
}

/// A capture cut at 311 bytes of a 917-byte reply: its count explains the
/// length on the wire, so it is a tracker reply the capture cut, not the
/// gossip message its first 311 bytes would also fit.
#[test]
fn test_snaplen_cut_reply() {
    if !plugin_ready("test_snaplen_cut_reply") {
        return;
    }
    let frame = udp(8000, 4004, &reply(50));
    let pcap = common::write_pcap_snap("cut.pcap", &[frame], 14 + 20 + 8 + 311);
    let rows = fields(&pcap, &["_ws.col.Info", "peerscope.expert.capture_cut", "pplive.gossip"]);
    assert!(rows[0][0].starts_with("Tracker reply, 50 hosts"), "{rows:?}");
    assert!(!rows[0][1].is_empty() && rows[0][2].is_empty(), "{rows:?}");
}

/// What no rule attributes is shown when the user decodes its port: a lone
/// damaged reply with its note, bytes no layout explains raw with one.
#[test]
fn test_decode_as_shows_damaged_and_undecodable() {
    if !plugin_ready("test_decode_as_shows_damaged_and_undecodable") {
        return;
    }
    let mut mismatch = reply(50);
    mismatch.truncate(17 + 18 * 10);
    let pcap =
        write_pcap("decode_as.pcap", &[udp(8000, 40001, &mismatch), udp(8000, 40001, &[0x02, 0x00, 0x00, 0x02, 0x01])]);
    assert_eq!(tshark(&pcap, &["-Y", "pplive || pptv"]), "", "no evidence: nothing claimed");
    let rows = common::fields_with(
        &pcap,
        &["-d", "udp.port==8000,pplive"],
        &["peerscope.expert.count_mismatch", "peerscope.expert.no_layout", "peerscope.id.basis"],
    );
    assert!(!rows[0][0].is_empty(), "{rows:?}");
    assert!(!rows[1][1].is_empty(), "{rows:?}");
    assert!(rows[1][2].contains("Decode As"), "{rows:?}");
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
    let out = tshark(&pcap, &["-V", "-d", "udp.port==8000,pplive", "-d", "tcp.port==8008,pplive"]);
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
    let decode_as = ["-d", "udp.port==8000,pplive", "-d", "udp.port==4004,pplive", "-d", "tcp.port==8008,pplive"];
    let mut args = decode_as.to_vec();
    args.extend(["-T", "fields", "-e", "frame.number"]);
    let out = tshark(&pcap, &args);
    assert_eq!(out.lines().count(), frames.len());
    args.extend(["-Y", "pplive || pptv"]);
    let claimed = tshark(&pcap, &args);
    assert!(claimed.lines().count() >= payloads.len() * 2, "the Decode As dissectors show every non-empty payload");
}

/// Video segments share connections with the control messages: bytes that
/// start no message are not read as one (no count, no layout), but shown raw
/// as undecoded peer data, not as malformed.
#[test]
fn test_peer_data_is_undecoded_not_malformed() {
    if !plugin_ready("test_peer_data_is_undecoded_not_malformed") {
        return;
    }
    let video: Vec<u8> = (0..1400u32).map(|i| (i * 7 + 3) as u8).collect();
    let pcap = write_pcap("peerdata.pcap", &[tcp(8008, 50000, &video), tcp(8008, 50000, &[0u8; 1400])]);
    assert_eq!(tshark(&pcap, &["-Y", "pplive"]), "", "nothing attributes the flow");
    let rows = common::fields_with(
        &pcap,
        &["-d", "tcp.port==8008,pplive"],
        &["peerscope.expert.undecoded", "_ws.expert.group", "pplive.gossip", "pplive.tracker"],
    );
    for r in &rows {
        assert!(!r[0].is_empty() && r[2].is_empty() && r[3].is_empty(), "{rows:?}");
        assert!(!r[1].contains("0x07000000"), "not malformed: {rows:?}");
    }
}
