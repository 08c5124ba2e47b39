//! TCP-borne messages in tshark with the plugin: the HTTP bootstrap, the
//! channel list and its PlayLink on top of Wireshark's HTTP dissector;
//! generic HTTP left alone; 2005 peer lists, gossip and the length-prefixed
//! framing split over segments (in order, out of order, retransmitted,
//! overlapping) reassembled whole.

mod common;

use std::net::Ipv4Addr;

use common::{fields_with, plugin_ready, write_pcap};
use etherparse::PacketBuilder;
use peerscope_dissector::{
    Bootstrap, ChannelListRepr, ChannelRepr, GossipRepr, Guid, HostRecordRepr, HttpRepr, TrackerReplyRepr,
};

const CCTV5: &str = "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}";
const CLIENT: [u8; 4] = [192, 0, 2, 1];
const SERVER: [u8; 4] = [192, 0, 2, 20];

/// One TCP segment of a connection between documentation addresses.
fn seg(from_client: bool, ports: (u16, u16), seq: u32, ack: u32, syn: bool, payload: &[u8]) -> Vec<u8> {
    let (src, dst, sp, dp) =
        if from_client { (CLIENT, SERVER, ports.0, ports.1) } else { (SERVER, CLIENT, ports.1, ports.0) };
    let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]).ipv4(src, dst, 64).tcp(sp, dp, seq, 65535);
    let b = match (syn, from_client) {
        (true, true) => b.syn(),
        (true, false) => b.syn().ack(ack),
        (false, _) => b.psh().ack(ack),
    };
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).unwrap();
    out
}

const CISN: u32 = 1000;
const SISN: u32 = 70000;

/// A connection: handshake, the client's `request` in one segment, then the
/// server's `reply` cut at `cuts` and sent in `order`, then `extra` (start,
/// end) ranges of it resent.
fn exchange(
    ports: (u16, u16),
    request: &[u8],
    reply: &[u8],
    cuts: &[usize],
    order: &[usize],
    extra: &[(usize, usize)],
) -> Vec<Vec<u8>> {
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(reply.len());
    let c_after = CISN + 1 + request.len() as u32;
    let mut out = vec![seg(true, ports, CISN, 0, true, b""), seg(false, ports, SISN, CISN + 1, true, b"")];
    if !request.is_empty() {
        out.push(seg(true, ports, CISN + 1, SISN + 1, false, request));
    }
    let part = |a: usize, b: usize| seg(false, ports, SISN + 1 + a as u32, c_after, false, &reply[a..b]);
    out.extend(order.iter().map(|&i| part(bounds[i], bounds[i + 1])));
    out.extend(extra.iter().map(|&(a, b)| part(a, b)));
    out
}

fn channel_list_reply() -> Vec<u8> {
    let guid: Guid = CCTV5.parse().unwrap();
    let list = ChannelListRepr {
        channels: vec![ChannelRepr {
            guid,
            name: "CCTV-5".into(),
            name_en: "CCTV-5".into(),
            play_link: format!(
                "pplive://192.0.2.10:8000/tracker?source={guid}&type=udp&chnname=CCTV-5&engname=CCTV-5\
                 &tracker=udpt://192.0.2.10:8000;tcpt://192.0.2.11:8000;"
            ),
            ..Default::default()
        }],
    };
    let mut xml = Vec::new();
    list.emit(&mut xml);
    let mut http = Vec::new();
    HttpRepr::reply(200, "OK", xml).emit(&mut http);
    http
}

fn host(i: u8) -> HostRecordRepr {
    HostRecordRepr { ip: Ipv4Addr::new(203, 0, 113, i), udp_port: 4004, tcp_port: 8008, unknown: [0; 10] }
}

/// The HTTP bootstrap: a channel-list request and its reply, the reply in
/// three segments; a generic HTTP exchange beside it is not PPLive.
#[test]
fn test_http_bootstrap_channel_list_and_play_link() {
    if !plugin_ready("test_http_bootstrap_channel_list_and_play_link") {
        return;
    }
    let mut request = Vec::new();
    HttpRepr::bootstrap_request("list.pplive.com", Bootstrap::CHANNEL_LIST_PATH).emit(&mut request);
    let reply = channel_list_reply();
    let (a, b) = (reply.len() / 3, 2 * reply.len() / 3);
    let mut frames = exchange((50000, 80), &request, &reply, &[a, b], &[0, 1, 2], &[]);
    let generic_request = b"GET /index.html HTTP/1.1\r\nHost: example.org\r\nUser-Agent: curl/8.0\r\n\r\n";
    let mut generic_reply = Vec::new();
    HttpRepr::reply(200, "OK", b"<html><body>all.xml channel.xml</body></html>".to_vec()).emit(&mut generic_reply);
    frames.extend(exchange((50001, 80), generic_request, &generic_reply, &[], &[0], &[]));
    let pcap = write_pcap("http_bootstrap.pcap", &frames);
    let rows = fields_with(
        &pcap,
        &["-Y", "http"],
        &[
            "frame.number",
            "pplive.http.host",
            "pplive.http.bootstrap",
            "pplive.channel.guid",
            "pplive.channel.name",
            "pplive.playlink.tracker.host",
            "peerscope.id.rule",
        ],
    );
    assert_eq!(rows.len(), 4, "two requests, two replies: {rows:?}");
    assert_eq!(rows[0][1], "list.pplive.com", "{rows:?}");
    assert!(!rows[0][2].is_empty() && rows[0][6].contains("pplive.http"), "{rows:?}");
    assert_eq!(rows[1][3], "7d0f9a10-f9c3-4aae-a2d6-0e54639bc715", "{rows:?}");
    assert_eq!(rows[1][4], "CCTV-5", "{rows:?}");
    assert_eq!(rows[1][5], "192.0.2.10,192.0.2.11", "{rows:?}");
    for generic in &rows[2..] {
        assert!(generic[1..].iter().all(String::is_empty), "generic HTTP is not PPLive: {rows:?}");
    }
    // HTTP keeps its own dissection: the Protocol column still says so.
    let protocols = fields_with(&pcap, &["-Y", "http"], &["_ws.col.Protocol"]);
    assert!(protocols.iter().all(|r| r[0] == "HTTP" || r[0] == "HTTP/XML" || r[0] == "PPLive"), "{protocols:?}");
}

/// The channel list's HTTP reply in three segments sent out of order, with a
/// retransmission and an overlapping segment (each delivery in its own
/// connection): Wireshark's HTTP reassembles it and the plugin decodes the list
/// once, in the frame that completes it.
#[test]
fn test_channel_list_reassembled_out_of_order_retransmitted_overlapping() {
    if !plugin_ready("test_channel_list_reassembled_out_of_order_retransmitted_overlapping") {
        return;
    }
    let mut request = Vec::new();
    HttpRepr::bootstrap_request("list.pplive.com", Bootstrap::CHANNEL_LIST_PATH).emit(&mut request);
    let reply = channel_list_reply();
    let (a, b) = (reply.len() / 3, 2 * reply.len() / 3);
    type Delivery<'a> = (&'a str, &'a [usize], Vec<(usize, usize)>);
    let deliveries: [Delivery; 3] = [
        ("out of order", &[2, 0, 1], vec![]),
        ("out of order, then a retransmission", &[1, 0, 2], vec![(0, a)]),
        ("overlapping", &[0, 2], vec![(a - 5, b + 5)]),
    ];
    let mut frames = Vec::new();
    for (i, (_, order, extra)) in deliveries.iter().enumerate() {
        frames.extend(exchange((51000 + i as u16, 80), &request, &reply, &[a, b], order, extra));
    }
    let pcap = write_pcap("channel_list_out_of_order.pcap", &frames);
    for (i, (how, ..)) in deliveries.iter().enumerate() {
        let rows = fields_with(
            &pcap,
            &["-o", "tcp.reassemble_out_of_order:TRUE", "-Y", &format!("tcp.port == {} && pplive.channel", 51000 + i)],
            &["pplive.channel.guid", "pplive.channel.name", "pplive.playlink.tracker.host"],
        );
        assert_eq!(rows.len(), 1, "{how}: one channel list, decoded once: {rows:?}");
        assert_eq!(rows[0][0], "7d0f9a10-f9c3-4aae-a2d6-0e54639bc715", "{how}: {rows:?}");
        assert_eq!(rows[0][1], "CCTV-5", "{how}: {rows:?}");
        assert_eq!(rows[0][2], "192.0.2.10,192.0.2.11", "{how}: {rows:?}");
    }
}

/// Each binary TCP-borne message in its own connection, split in three,
/// delivered in order, out of order, with a retransmission and an
/// overlapping segment: each is decoded once, whole, in the frame that
/// completes it.
#[test]
fn test_binary_tcp_messages_reassembled() {
    if !plugin_ready("test_binary_tcp_messages_reassembled") {
        return;
    }
    let mut reply = Vec::new();
    let mut header = [0u8; 13];
    header[..4].copy_from_slice(&[2, 0, 0, 2]);
    TrackerReplyRepr { header, hosts: (1..=9).map(host).collect() }.emit(&mut reply);
    let mut gossip = Vec::new();
    GossipRepr {
        header: [2, 0, 0, 2],
        channel: CCTV5.parse().unwrap(),
        unknown: [0; 20],
        hosts: (1..=5).map(host).collect(),
    }
    .emit(&mut gossip)
    .unwrap();
    let mut framed = vec![0, 0, 0, 40, 0x21, 0x00, 7, 7, 0x98, 0xab, 0x01, 0x02];
    framed.extend_from_slice(&[0x5a; 32]);
    let cases = [
        ("tracker reply", &reply, "pplive.tracker.count"),
        ("gossip", &gossip, "pplive.gossip.count"),
        ("length-prefixed", &framed, "pplive.tcp.length"),
    ];
    // (name, order of the three parts, extra resent ranges given the cuts)
    type Extra = fn(usize, usize) -> Vec<(usize, usize)>;
    let deliveries: [(&str, &[usize], Extra); 3] = [
        ("in order, then a retransmission", &[0, 1, 2], |a, _| vec![(0, a)]),
        ("out of order", &[0, 2, 1], |_, _| vec![]),
        ("out of order, overlapping", &[2, 0], |a, b| vec![(a - 2, b + 2)]),
    ];
    let mut frames = Vec::new();
    let mut expect = Vec::new();
    let mut port = 41000;
    for (what, msg, field) in cases {
        for (how, order, extra) in &deliveries {
            let (a, b) = (msg.len() / 4, msg.len() * 3 / 4);
            frames.extend(exchange((port, 8008), b"", msg, &[a, b], order, &extra(a, b)));
            expect.push((format!("{what}, {how}"), field, port));
            port += 1;
        }
    }
    let pcap = write_pcap("tcp_reassembly.pcap", &frames);
    for (what, field, port) in expect {
        let rows = fields_with(
            &pcap,
            &["-o", "tcp.reassemble_out_of_order:TRUE", "-Y", &format!("tcp.port == {port} && pplive")],
            &[field, "peerscope.expert.no_layout", "peerscope.expert.count_mismatch", "tcp.reassembled.length"],
        );
        assert_eq!(rows.len(), 1, "{what}: one message, decoded once: {rows:?}");
        assert!(!rows[0][0].is_empty() && rows[0][1].is_empty() && rows[0][2].is_empty(), "{what}: {rows:?}");
    }
}
