//! `peerscope dissect` on captures the test writes with the dissector's
//! encoders: UDP and reassembled TCP messages, segments out of order,
//! retransmitted and overlapping for every TCP-borne message, damaged
//! messages shown with their notes (text and JSON), ambiguity shown raw, a
//! capture cut at its snap length, `--decode-as`, the closing summary, and
//! filters with tshark's semantics.

use std::{net::Ipv4Addr, path::PathBuf, process::Command};

use etherparse::PacketBuilder;
use peerscope::offline::synth::{Link, SynthPcap};
use peerscope::schema::{check::assert_valid, ControlMessageDocument, DissectSummaryDocument};
use peerscope_dissector::{
    v2005::{
        channel_list::{ChannelListRepr, ChannelRepr},
        gossip::GossipRepr,
        host_record::HostRecordRepr,
        http::{Bootstrap, HttpRepr},
        tracker_reply::TrackerReplyRepr,
    },
    Guid,
};
use serde_json::Value;

const CCTV5: &str = "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}";
const X: [u8; 4] = [192, 0, 2, 1];
const TRACKER: [u8; 4] = [192, 0, 2, 10];
const SERVER: [u8; 4] = [192, 0, 2, 20];
const PEER: [u8; 4] = [203, 0, 113, 7];

fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4(src, dst, 64).udp(sport, dport).write(&mut out, payload).unwrap();
    out
}

fn tcp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, seq: u32, syn: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let b = PacketBuilder::ipv4(src, dst, 64).tcp(sport, dport, seq, 65535);
    let b = if syn { b.syn() } else { b.ack(1).psh() };
    b.write(&mut out, payload).unwrap();
    out
}

fn host(i: u8) -> HostRecordRepr {
    HostRecordRepr { ip: Ipv4Addr::new(203, 0, 113, i), udp_port: 4004, tcp_port: 8008, unknown: [0; 10] }
}

const TRACKER_HEADER: [u8; 13] = [0x02, 0, 0, 0x02, 0x99, 0x58, 0x98, 0, 0x2d, 0x5a, 0x98, 0, 0x02];

fn reply(hosts: impl IntoIterator<Item = HostRecordRepr>) -> Vec<u8> {
    let mut out = Vec::new();
    TrackerReplyRepr { header: TRACKER_HEADER, hosts: hosts.into_iter().collect() }.emit(&mut out);
    out
}

fn gossip(n: u8) -> Vec<u8> {
    let g = GossipRepr {
        header: [2, 0, 0, 2],
        channel: CCTV5.parse().unwrap(),
        unknown: [0; 20],
        hosts: (1..=n).map(host).collect(),
    };
    let mut out = Vec::new();
    g.emit(&mut out).unwrap();
    out
}

fn channel_list_reply() -> Vec<u8> {
    let guid: Guid = CCTV5.parse().unwrap();
    let list = ChannelListRepr {
        channels: vec![ChannelRepr {
            guid,
            name: "CCTV-5".into(),
            name_en: "CCTV-5".into(),
            play_link: format!("pplive://192.0.2.10:8000/tracker?source={guid}&type=udp&chnname=CCTV-5&engname=CCTV-5&tracker=udpt://192.0.2.10:8000;tcpt://192.0.2.10:8000;"),
            ..Default::default()
        }],
    };
    let mut xml = Vec::new();
    list.emit(&mut xml);
    let mut http = Vec::new();
    HttpRepr::reply(200, "OK", xml).emit(&mut http);
    http
}

/// A capture file removed when dropped.
struct Capture(PathBuf);

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl Capture {
    fn write(name: &str, p: &SynthPcap) -> Capture {
        let path = std::env::temp_dir().join(format!("peerscope-dissect-{}-{name}.pcap", std::process::id()));
        p.write_file(&path).unwrap();
        Capture(path)
    }

    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out =
            Command::new(env!("CARGO_BIN_EXE_peerscope")).arg("dissect").arg(&self.0).args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The JSON lines of `dissect --json`: the messages, then the summary,
    /// each checked against its document of `peerscope schema` and read back
    /// through its type.
    fn json(&self, args: &[&str]) -> (Vec<Value>, Value) {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let (ok, out, err) = self.run(&a);
        assert!(ok, "{err}");
        let mut lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let summary = lines.pop().expect("a summary line");
        let schema = |name| peerscope::schema::document_schema(name).unwrap();
        assert_valid(&schema("dissect_summary"), &summary, "dissect --json summary");
        let typed: DissectSummaryDocument = serde_json::from_value(summary.clone()).unwrap();
        assert_eq!(serde_json::to_value(&typed).unwrap(), summary, "the type reads what was written");
        let message = schema("control_message");
        for l in &lines {
            assert_valid(&message, l, "dissect --json");
            let typed: ControlMessageDocument = serde_json::from_value(l.clone()).unwrap();
            assert_eq!(&serde_json::to_value(&typed).unwrap(), l, "the type reads what was written");
        }
        (lines, summary)
    }
}

/// Segment `msg` of one connection (SYN first): the cuts, sent in `order`,
/// then `extra` (start, end) segments repeating or overlapping bytes.
fn connection(
    p: &mut SynthPcap,
    t: &mut u64,
    (src, sport, dst, dport): ([u8; 4], u16, [u8; 4], u16),
    msg: &[u8],
    cuts: &[usize],
    order: &[usize],
    extra: &[(usize, usize)],
) {
    const ISN: u32 = 5000;
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(msg.len());
    let mut step = |p: &mut SynthPcap, frame: Vec<u8>| {
        *t += 1_000_000;
        p.raw_ip(*t, &frame);
    };
    step(p, tcp(src, sport, dst, dport, ISN, true, b""));
    for &i in order {
        let (a, b) = (bounds[i], bounds[i + 1]);
        step(p, tcp(src, sport, dst, dport, ISN + 1 + a as u32, false, &msg[a..b]));
    }
    for &(a, b) in extra {
        step(p, tcp(src, sport, dst, dport, ISN + 1 + a as u32, false, &msg[a..b]));
    }
}

#[test]
fn dissect_decodes_udp_and_reassembled_tcp_messages() {
    let mut hosts: Vec<_> = (1..=3).map(host).collect();
    hosts.push(HostRecordRepr { ip: Ipv4Addr::new(10, 0, 0, 5), ..host(0) });
    let http = channel_list_reply();
    let (n, m) = (http.len() / 3, 2 * http.len() / 3);
    let mut p = SynthPcap::new(Link::Ethernet);
    p.raw_ip(1_000, &udp(X, 40000, [198, 51, 100, 7], 5000, &[0x11; 40])); // not PPLive
    let mut t = 1_000;
    // Segments 2, 3 then 1, then 1 again (a retransmission).
    connection(&mut p, &mut t, (SERVER, 80, X, 50000), &http, &[n, m], &[1, 2, 0], &[(0, n)]);
    p.raw_ip(t + 1_000_000, &udp(TRACKER, 8000, X, 4004, &reply(hosts)));
    let cap = Capture::write("basic", &p);

    let (ok, out, err) = cap.run(&[]);
    assert!(ok, "{err}");
    assert!(out.contains("Frame 5 ") && out.contains("reassembled from 3 segments"), "decoded once whole:\n{out}");
    assert!(out.contains("CCTV-5") && out.contains("7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715"), "{out}");
    assert!(out.contains("pplive.xml.channel_list"), "the rule is named:\n{out}");
    assert!(out.contains("Frame 7 ") && out.contains("203.0.113.2") && out.contains("Evidence: bytes 0.."), "{out}");
    assert!(!out.contains("Frame 1 "), "unrelated traffic is not shown:\n{out}");
    assert!(out.contains("2 PPLive/PPTV control (0 malformed)") && out.contains("1 unknown"), "summary:\n{out}");

    let (lines, summary) = cap.json(&["-Y", "pplive.host.ip == 10.0.0.5"]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["frame"], 7);
    assert_eq!((lines[0]["src_ip"].as_str(), lines[0]["src_port"].as_u64()), (Some("192.0.2.10"), Some(8000)));
    assert_eq!(lines[0]["identification"]["rule"], "pplive.udp.tracker_reply_2005");
    assert_eq!(lines[0]["attribution"]["basis"], "a strong rule matched");
    assert!(lines[0]["expert"].to_string().contains("private"), "the private address is flagged: {}", lines[0]);
    assert_eq!((summary["control_messages"].as_u64(), summary["shown_messages"].as_u64()), (Some(2), Some(1)));
}

/// Every TCP-borne message, each in its own connection, in segments sent
/// out of order, with a retransmission and an overlapping segment: each is
/// decoded once, whole.
#[test]
fn test_every_tcp_message_reassembled_out_of_order_retransmitted_overlapping() {
    let mut update = Vec::new();
    HttpRepr::bootstrap_request("update.pplive.com", Bootstrap::SOFTWARE_UPDATE_PATH).emit(&mut update);
    let mut framed = vec![0, 0, 0, 40, 0x21, 0x00, 7, 7, 0x98, 0xab, 0x01, 0x02];
    framed.extend_from_slice(&[0x5a; 32]);
    let bare_list = {
        let http = channel_list_reply();
        let at = http.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        http[at..].to_vec()
    };
    let cases: [(&str, Vec<u8>, &str); 6] = [
        ("bootstrap request", update, "software update check"),
        ("channel list reply", channel_list_reply(), "pplive.channel.guid"),
        ("bare channel list", bare_list, "pplive.channel.guid"),
        ("gossip", gossip(5), "pplive.gossip.channel"),
        ("tracker reply", reply((1..=9).map(host)), "pplive.tracker.count"),
        ("length-prefixed message", framed, "pplive.tcp.length"),
    ];
    let mut p = SynthPcap::new(Link::Ethernet);
    let mut t = 0;
    for (i, (_, msg, _)) in cases.iter().enumerate() {
        let (a, b) = (msg.len() / 4, msg.len() * 3 / 4);
        let ends = (PEER, 8008, X, 41000 + i as u16);
        // Third, first, then the second overlapping both, then the first again.
        connection(&mut p, &mut t, ends, msg, &[a, b], &[2, 0], &[(a - 2, b + 2), (0, a)]);
    }
    let cap = Capture::write("tcp", &p);
    let (lines, summary) = cap.json(&[]);
    let brief: Vec<_> =
        lines.iter().map(|l| (l["frame"].clone(), l["payload_bytes"].clone(), l["tree"]["message"].clone())).collect();
    assert_eq!(lines.len(), cases.len(), "{brief:?}");
    for ((what, msg, field), line) in cases.iter().zip(&lines) {
        assert_eq!(line["payload_bytes"].as_u64(), Some(msg.len() as u64), "{what}: {line}");
        assert!(line["tcp_segments"].as_u64().unwrap() >= 3, "{what}: {line}");
        assert_eq!(line["status"], "decoded", "{what}: {line}");
        assert!(line["tree"].to_string().contains(field), "{what}: {}", line["tree"]);
    }
    assert_eq!(
        (summary["control_messages"].as_u64(), summary["unknown_messages"].as_u64()),
        (Some(6), Some(0)),
        "{summary}"
    );
}

/// A tracker flow attributed by a good reply carries damaged ones: each is
/// shown with its notes, in text and JSON, and counted malformed.
#[test]
fn test_damaged_messages_are_shown_with_their_notes() {
    let good = reply((1..=3).map(host));
    let mut mismatch = reply((1..=50).map(host));
    mismatch.truncate(17 + 18 * 10); // claims 50, holds 10
    let mut cut_record = reply((1..=50).map(host));
    cut_record.truncate(17 + 18 * 10 + 7);
    // A 77-byte payload that fits a 2005 gossip message and a 2010 tracker
    // List response both (41 + 18 x 2 = 11 + 18 + 24 x 2).
    let mut ambiguous = gossip(2);
    ambiguous[4] = 0x31; // PPTV action List
    ambiguous[9] = 0; // a response
    ambiguous[10] = 0; // error code 0
    ambiguous[27..29].copy_from_slice(&2u16.to_le_bytes());
    // The first half of a gossip message over TCP, the stream ending there.
    let g = gossip(4);
    let mut p = SynthPcap::new(Link::Ethernet);
    for (i, payload) in [&good, &mismatch, &cut_record, &ambiguous].into_iter().enumerate() {
        p.raw_ip(1_000 + i as u64, &udp(TRACKER, 8000, X, 4004, payload));
    }
    let mut t = 10_000;
    let stream = [&g[..], &g[..g.len() / 2]].concat();
    connection(&mut p, &mut t, (PEER, 8008, X, 42000), &stream, &[g.len()], &[0, 1], &[]);
    let cap = Capture::write("damaged", &p);
    let (ok, text, err) = cap.run(&[]);
    assert!(ok, "{err}");
    for expected in [
        "claimed 50 hosts, found 10",
        "204 bytes fit no 2005 peer list: a tracker reply is 17 + 18 x count bytes (its count 50 needs 917), a gossip \
         message 41 + 18 x count (its count 15 needs 311)",
        "fit both a 2005 gossip message and a 2010 tracker packet",
        "the stream ended after",
    ] {
        assert!(text.contains(expected), "{expected:?} missing:\n{text}");
    }
    assert!(!text.contains("3591263331") && !text.contains("hosts, found 0"), "nothing is misread:\n{text}");

    let (lines, summary) = cap.json(&[]);
    let notes = |l: &Value| {
        l["expert"].as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(lines.len(), 6, "{lines:#?}");
    assert!(notes(&lines[1]).contains(&"peerscope.expert.count_mismatch".to_string()), "{}", lines[1]);
    assert_eq!(notes(&lines[2]), ["peerscope.expert.no_layout"], "{}", lines[2]);
    assert_eq!(notes(&lines[3]), ["peerscope.expert.ambiguous"], "{}", lines[3]);
    assert_eq!(lines[3]["tree"]["message"], "Undecoded");
    assert!(notes(&lines[5]).contains(&"peerscope.expert.stream_ended".to_string()), "{}", lines[5]);
    assert_eq!(summary["malformed_messages"].as_u64(), Some(4), "{summary}");
    // And tshark's expert names select them.
    let (only, _) = cap.json(&["-Y", "peerscope.expert.count_mismatch"]);
    assert_eq!(only.iter().map(|l| l["frame"].as_u64().unwrap()).collect::<Vec<_>>(), [2]);
}

/// A capture cut at 311 bytes keeps a 50-host reply's first 16 records; the
/// IP length says 917, which the reply's count explains, so it is a tracker
/// reply cut by the capture, not the gossip message its first 311 bytes
/// would also fit.
#[test]
fn test_snaplen_cut_reply_is_decided_on_its_wire_length() {
    let full = reply((1..=50).map(host));
    assert_eq!(full.len(), 917);
    let mut p = SynthPcap::new(Link::Ethernet);
    p.raw_ip(1_000, &udp(TRACKER, 8000, X, 4004, &full));
    p.snaplen(14 + 20 + 8 + 311);
    let cap = Capture::write("cut", &p);
    let (lines, _) = cap.json(&[]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["tree"]["message"], "TrackerReply", "{}", lines[0]);
    assert_eq!((lines[0]["payload_bytes"].as_u64(), lines[0]["wire_payload_bytes"].as_u64()), (Some(311), Some(917)));
    let tree = lines[0].to_string();
    assert!(
        tree.contains("captured 311 of 917 bytes") && tree.contains("host record cut short: 6 of 18 bytes"),
        "{tree}"
    );
}

/// `--decode-as` shows what no rule attributes: a lone damaged reply, raw
/// bytes with a note on the 2005 arithmetic when no layout fits.
#[test]
fn test_decode_as_shows_unattributed_messages() {
    let mut mismatch = reply((1..=50).map(host));
    mismatch.truncate(17 + 18 * 10);
    let mut odd = gossip(2);
    odd.truncate(50);
    let mut p = SynthPcap::new(Link::Ethernet);
    p.raw_ip(1_000, &udp(TRACKER, 8000, X, 4004, &mismatch));
    p.raw_ip(2_000, &udp(TRACKER, 8000, X, 4004, &odd));
    let cap = Capture::write("decode_as", &p);
    let (lines, summary) = cap.json(&[]);
    assert!(lines.is_empty(), "no evidence, nothing claimed: {lines:?}");
    assert_eq!(summary["unknown_messages"].as_u64(), Some(2));
    let (lines, _) = cap.json(&["-d", "udp.port==8000,pplive"]);
    assert_eq!(lines.len(), 2);
    assert!(lines[0]["expert"].to_string().contains("claimed 50 hosts, found 10"), "{}", lines[0]);
    let raw = lines[1].to_string();
    assert!(raw.contains("peerscope.expert.no_layout") && raw.contains("41 + 18 x count"), "{raw}");
    let (ok, _, err) = cap.run(&["-d", "udp.port=8000"]);
    assert!(!ok && err.contains("--decode-as"), "{err}");
}

#[test]
fn test_filters_have_tshark_semantics() {
    let mut p = SynthPcap::new(Link::Ethernet);
    let mut update = Vec::new();
    HttpRepr::bootstrap_request("update.pplive.com", Bootstrap::SOFTWARE_UPDATE_PATH).emit(&mut update);
    p.raw_ip(1_000, &udp(TRACKER, 8000, X, 4004, &reply((1..=3).map(host))));
    p.raw_ip(2_000, &udp(PEER, 4004, X, 4004, &gossip(1)));
    p.raw_ip(3_000, &tcp(X, 50000, SERVER, 80, 1, false, &update));
    let cap = Capture::write("filters", &p);
    let frames = |f: &str| {
        let (lines, _) = cap.json(&["-Y", f]);
        lines.iter().map(|l| l["frame"].as_u64().unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(frames("pplive.tracker.count == 0x3"), [1]);
    assert_eq!(frames("pplive.gossip.count == 01"), [2], "octal");
    assert_eq!(frames("pplive.http.host == \"update.pplive.com\""), [3]);
    assert_eq!(frames("pplive.http.host contains \"pplive\" || pplive.gossip"), [2, 3]);
    assert_eq!(frames("pplive.host.ip != 203.0.113.1"), [0u64; 0], "!= holds only when no occurrence equals");
    assert_eq!(frames("pplive.host.ip ~= 203.0.113.1"), [1]);
    assert_eq!(frames("peerscope.id.strength == \"strong\" && !pplive.http"), [1, 2]);
    for bad in ["pplive.nosuchfield", "pplive.tracker.count == x", "pplive.host == 1", "pplive &&"] {
        let (ok, _, err) = cap.run(&["-Y", bad]);
        assert!(!ok && err.contains("bad filter"), "{bad}: {err}");
    }
}

/// `--decap` dissects what a tunnel carries and names the tunnel: a tracker
/// reply inside GRE (RFC 2784: 4 bytes, no options, protocol 0x0800) between
/// two routers is shown with its inner 5-tuple and "in gre"; without
/// `--decap` the GRE packet carries no UDP and nothing is claimed.
#[test]
fn test_decap_names_the_tunnel_of_each_message() {
    let inner = udp(TRACKER, 8000, X, 4004, &reply((1..=3).map(host)));
    let mut gre = vec![0, 0, 0x08, 0x00];
    gre.extend_from_slice(&inner);
    let mut outer = Vec::new();
    PacketBuilder::ipv4([198, 51, 100, 1], [198, 51, 100, 2], 64)
        .write(&mut outer, etherparse::IpNumber::GRE, &gre)
        .expect("writing to a Vec");
    let mut p = SynthPcap::new(Link::Ethernet);
    p.raw_ip(1_000, &outer);
    p.raw_ip(2_000, &udp(PEER, 4004, X, 4004, &gossip(1)));
    let cap = Capture::write("decap", &p);

    let (lines, _) = cap.json(&["--decap"]);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["frame"], 1);
    assert_eq!(lines[0]["tunnel"], "gre", "{}", lines[0]);
    assert_eq!((lines[0]["src_ip"].as_str(), lines[0]["dst_port"].as_u64()), (Some("192.0.2.10"), Some(4004)));
    assert_eq!(lines[1]["tunnel"], Value::Null, "an untunnelled message names none: {}", lines[1]);
    let (ok, out, err) = cap.run(&["--decap"]);
    assert!(ok, "{err}");
    assert!(out.contains("192.0.2.10:8000 -> 192.0.2.1:4004 UDP in gre,"), "{out}");
    assert!(out.contains("203.0.113.7:4004 -> 192.0.2.1:4004 UDP,"), "{out}");

    let (lines, _) = cap.json(&[]);
    assert_eq!(lines.iter().map(|l| l["frame"].as_u64().unwrap()).collect::<Vec<_>>(), [2], "{lines:?}");
}
