//! Every identification rule (METHODS §10 and the exact fits of §8) fires on
//! a payload built from its text, and not on near misses of it: each fixed
//! byte it tests changed, each length it allows made one off, the port it
//! needs moved by one.

use std::net::Ipv4Addr;

use peerscope_dissector::v2010::tracker::TrackerMessage;
use peerscope_dissector::{
    identify, Bootstrap, ChannelListRepr, ChannelRepr, GossipRepr, Guid, HostRecordRepr, HttpRepr, NatType,
    PeerEntryRepr, Rule, TrackerReplyRepr, TrackerRepr, Transport,
};

const CCTV5: &str = "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}";

/// One rule's payload and its near misses.
struct Case {
    rule: &'static str,
    transport: Transport,
    ports: (u16, u16),
    payload: Vec<u8>,
    /// Offsets of bytes the rule tests: each, changed, must defeat it.
    fixed: Vec<usize>,
    /// Lengths one off the allowed ones: cut or zero-padded to each, it must not fire.
    bad_lengths: Vec<usize>,
    /// Ports one off the one it needs.
    bad_ports: Vec<(u16, u16)>,
}

fn case(rule: &'static str, transport: Transport, payload: Vec<u8>, fixed: &[usize], bad_lengths: &[usize]) -> Case {
    Case {
        rule,
        transport,
        ports: (40000, 40001),
        payload,
        fixed: fixed.to_vec(),
        bad_lengths: bad_lengths.to_vec(),
        bad_ports: vec![],
    }
}

/// The payload of `n` bytes starting with `head`, with `at` bytes placed.
fn bytes(n: usize, head: &[u8], at: &[(usize, &[u8])]) -> Vec<u8> {
    let mut p = vec![0u8; n];
    p[..head.len()].copy_from_slice(head);
    for (o, b) in at {
        p[*o..*o + b.len()].copy_from_slice(b);
    }
    p
}

/// Offsets of `needle` in `hay` (each of its bytes).
fn text_at(hay: &[u8], needle: &str) -> Vec<usize> {
    let at = hay.windows(needle.len()).position(|w| w == needle.as_bytes()).expect("needle present");
    (at..at + needle.len()).collect()
}

fn host(i: u8) -> HostRecordRepr {
    HostRecordRepr { ip: Ipv4Addr::new(203, 0, 113, i), udp_port: 4004, tcp_port: 8008, unknown: [0; 10] }
}

fn reply(n: u8) -> Vec<u8> {
    let header = [0x02, 0, 0, 0x02, 0x99, 0x58, 0x98, 0, 0x2d, 0x5a, 0x98, 0, 0x02];
    let mut out = Vec::new();
    TrackerReplyRepr { header, hosts: (1..=n).map(host).collect() }.emit(&mut out);
    out
}

fn gossip(n: u8) -> Vec<u8> {
    let mut out = Vec::new();
    GossipRepr {
        header: [2, 0, 0, 2],
        channel: CCTV5.parse().unwrap(),
        unknown: [0; 20],
        hosts: (1..=n).map(host).collect(),
    }
    .emit(&mut out)
    .unwrap();
    out
}

fn http_get(path: &str, headers: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\n{headers}\r\n").into_bytes()
}

fn channel_list() -> Vec<u8> {
    let guid: Guid = CCTV5.parse().unwrap();
    let list = ChannelListRepr {
        channels: vec![ChannelRepr { guid, name: "CCTV-5".into(), name_en: "CCTV-5".into(), ..Default::default() }],
    };
    let mut xml = Vec::new();
    list.emit(&mut xml);
    xml
}

fn pptv_list_response() -> Vec<u8> {
    let peer = PeerEntryRepr {
        ip: Ipv4Addr::new(203, 0, 113, 1),
        udp_port: 5041,
        version: 0x010c,
        detected_ip: Ipv4Addr::new(203, 0, 113, 1),
        detected_port: 5042,
        stun_ip: Ipv4Addr::new(192, 0, 2, 9),
        stun_port: 3478,
        nat_type: NatType::PortRestricted,
        upload_priority: 1,
        idle_minutes: 2,
        tracker_priority: 3,
    };
    let repr = TrackerRepr {
        checksum: 0x1234_5678,
        transaction_id: 7,
        message: TrackerMessage::ListResponse { error_code: 0, resource_id: CCTV5.parse().unwrap(), peers: vec![peer] },
    };
    let mut out = Vec::new();
    repr.emit(&mut out).unwrap();
    out
}

fn cases() -> Vec<Case> {
    use Transport::{Tcp, Udp};
    let e903_98ab = bytes(51, &[0xe9, 0x03, 0x77, 0x01, 0x98, 0xab, 0x01, 0x02], &[]);
    let b113 = bytes(94, &[], &[(9, &0x102u32.to_le_bytes()), (58, &[0xb1, 0x13])]);
    let ac = bytes(80, &[0x18, 0x00], &[(24, &[0xac])]);
    let framed = bytes(16, &[0, 0, 0, 12, 0x21, 0x00, 5, 6, 0x98, 0xab, 0x01, 0x02], &[]);
    let pragma = http_get("/x", "Pragma: Client=PPLive\r\n");
    let agent = http_get("/x", "User-Agent: PPLive DAC\r\n");
    let update = {
        let mut v = Vec::new();
        HttpRepr::bootstrap_request("update.example.net", Bootstrap::SOFTWARE_UPDATE_PATH).emit(&mut v);
        v
    };
    let host_rule = http_get("/x", "Host: player.pplive.cn\r\n");
    let list = channel_list();
    let link = format!("pplive://192.0.2.10:8000/tracker?source={CCTV5}&type=udp").into_bytes();
    let sop52 = bytes(52, &[0xff, 0xff, 0x01], &[(8, &[0x02, 0xff, 0x00, 0x2c, 0, 0, 0])]);
    let sop28 = bytes(28, &[0x00, 0x07, 0x02], &[(8, &[0x01, 0xff, 0x00, 0x14, 0, 0])]);
    let sop60 = bytes(60, &[], &[(8, &[0x03, 0xff, 0x00, 0x34])]);
    let sop42 = bytes(42, &[0, 2, 1, 7, 3], &[(8, &[0x06, 0x01, 0x00, 0x22, 0, 0])]);
    let sop76 = bytes(76, &[0xff, 0xff, 0x01], &[(8, &[0x0c, 0xff, 0x00, 0x44])]);
    let sop54 = bytes(54, &[0x00, 0x36], &[(2, &[7; 52])]);
    let pps_tracker = bytes(88, &[0x58, 0x00, 0x43, 0x72, 0x71], &[]);
    let pps_peer = bytes(37, &[0xda, 0x80, 0x9e, 0xbb, 0xbb], &[]);
    let pptv_tracker = pptv_list_response();
    let live: Vec<u8> = [0, 0, 0, 0, 0xc0, 1, 0, 0, 0, 7, 1, 0, 0].into_iter().chain([0; 28]).collect();
    let (r, g) = (reply(3), gossip(2));
    let mut v = vec![
        case("pplive.udp.e903_request", Udp, vec![0xe9, 0x03, 0x41, 0x01, 9], &[0, 1, 2, 3], &[]),
        case("pplive.udp.e903_response", Udp, vec![0xe9, 0x03, 0x42, 0x01, 9], &[0, 1, 2, 3], &[]),
        case("pplive.udp.e903_98ab", Udp, e903_98ab, &[0, 1, 3, 4, 5, 6, 7], &[50]),
        case("pplive.udp.1c1c3201", Udp, vec![0x1c, 0x1c, 0x32, 0x01, 0], &[0, 1, 2, 3], &[]),
        case("pplive.udp.94_b113", Udp, b113, &[8, 9, 10, 58, 59], &[93, 95]),
        case("pplive.udp.76_ac", Udp, ac, &[0, 1, 12, 13, 14, 15, 16, 17, 24], &[75]),
        case("pplive.udp.tracker_reply_2005", Udp, r.clone(), &[0, 1, 2, 3], &[r.len() - 1, r.len() + 1]),
        case("pplive.udp.gossip_2005", Udp, g.clone(), &[0, 1, 2, 3], &[g.len() - 1, g.len() + 1]),
        case("pplive.tcp.tracker_reply_2005", Tcp, r.clone(), &[0, 1, 2, 3], &[r.len() - 1, r.len() + 1]),
        case("pplive.tcp.gossip_2005", Tcp, g.clone(), &[0, 1, 2, 3], &[g.len() - 1, g.len() + 1]),
        case("pplive.tcp.length_21_98ab", Tcp, framed, &[3, 4, 5, 8, 9, 10, 11], &[15, 17]),
        case("pplive.http.pragma", Tcp, pragma.clone(), &text_at(&pragma, "Client=PPLive"), &[]),
        case("pplive.http.user_agent", Tcp, agent.clone(), &text_at(&agent, "PPLive DAC"), &[]),
        case("pplive.http.bootstrap", Tcp, update.clone(), &text_at(&update, "/update/pplive/update.inf"), &[]),
        case("pplive.http.host", Tcp, host_rule.clone(), &text_at(&host_rule, "pplive"), &[]),
        case(
            "pplive.xml.channel_list",
            Tcp,
            list.clone(),
            &[text_at(&list, "<root")[1], text_at(&list, "7D0F9A10")[0]],
            &[],
        ),
        case("pplive.text.play_link", Tcp, link.clone(), &text_at(&link, "pplive://"), &[]),
        case("sopcast.udp.52", Udp, sop52, &[0, 1, 2, 8, 9, 10, 11, 12, 13, 14], &[51, 53]),
        case("sopcast.udp.28_80_94", Udp, sop28, &[0, 2, 8, 9, 10, 11, 12, 13], &[27, 29, 79, 81]),
        case("sopcast.udp.60", Udp, sop60, &[8, 9, 10, 11], &[59, 61]),
        case("sopcast.udp.42", Udp, sop42, &[0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13], &[41, 43]),
        case("sopcast.udp.76", Udp, sop76, &[0, 1, 2, 8, 9, 10, 11], &[75, 77]),
        case("sopcast.tcp.54", Tcp, sop54, &[0, 1], &[53, 55]),
        case("ppstream.udp.peer_data", Udp, pps_peer, &[1, 3], &[17]),
        case(
            "pptv.udp.tracker_2010",
            Udp,
            pptv_tracker.clone(),
            &[4],
            &[pptv_tracker.len() - 1, pptv_tracker.len() + 1],
        ),
        case("pptv.udp.live_2010", Udp, live, &[4], &[40, 42]),
    ];
    let mut pps = case("ppstream.udp.tracker", Udp, pps_tracker, &[0, 1, 2], &[87, 89]);
    pps.ports = (22793, 17788);
    pps.bad_ports = vec![(22793, 17787), (22793, 17789)];
    v.push(pps);
    v
}

/// A byte the rule cannot accept where it tests one: text becomes `#`,
/// a binary byte changes its high nibble (the sets the rules accept differ
/// in their low bits: 00/01, 80/84, 43/44/55).
fn off(b: u8) -> u8 {
    if b.is_ascii_alphanumeric() || b == b':' || b == b'/' || b == b'<' {
        b'#'
    } else {
        b ^ 0x10
    }
}

fn fired(c: &Case, ports: (u16, u16), p: &[u8]) -> bool {
    identify(c.transport, ports.0, ports.1, p).rule.map(Rule::name) == Some(c.rule)
}

#[test]
fn test_every_rule_fires_on_its_text_and_not_on_near_misses() {
    let cases = cases();
    let mut names: Vec<&str> = cases.iter().map(|c| c.rule).collect();
    names.sort();
    let mut all: Vec<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
    all.sort();
    assert_eq!(names, all, "one case per rule");
    let mut failures = Vec::new();
    for c in &cases {
        if !fired(c, c.ports, &c.payload) {
            let got = identify(c.transport, c.ports.0, c.ports.1, &c.payload).rule.map(Rule::name);
            failures.push(format!("{}: does not fire on its own text (got {got:?})", c.rule));
            continue;
        }
        for &i in &c.fixed {
            let mut p = c.payload.clone();
            p[i] = off(p[i]);
            if fired(c, c.ports, &p) {
                failures.push(format!("{}: fires with byte {i} changed to {:02x}", c.rule, p[i]));
            }
        }
        for &n in &c.bad_lengths {
            let mut p = c.payload.clone();
            p.resize(n, 0);
            if fired(c, c.ports, &p) {
                failures.push(format!("{}: fires at length {n}", c.rule));
            }
        }
        for &ports in &c.bad_ports {
            if fired(c, ports, &c.payload) {
                failures.push(format!("{}: fires on ports {ports:?}", c.rule));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A DNS query whose ID ends in 80 or 84 has p[1] in {80, 84} and p[3] =
/// p[4] = 0 (flags 01 00, the question count's high byte): not PPStream.
#[test]
fn test_dns_queries_are_not_ppstream_peer_data() {
    for id in [0x1280u16, 0xab84] {
        let mut q = id.to_be_bytes().to_vec();
        q.extend_from_slice(&[0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
        q.extend_from_slice(b"\x07example\x03org\x00\x00\x01\x00\x01");
        let rule = identify(Transport::Udp, 51000, 53, &q).rule.map(Rule::name);
        assert_ne!(rule, Some("ppstream.udp.peer_data"), "{q:02x?}");
    }
}
