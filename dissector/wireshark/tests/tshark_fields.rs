//! tshark, with the installed plugin, shows the fields the library decodes
//! from messages built by the library's encoders.

mod common;

use std::net::Ipv4Addr;

use common::{fields, plugin_ready, tcp, udp, write_pcap};
use peerscope_dissector::v2010::tracker::TrackerMessage;
use peerscope_dissector::{GossipRepr, Guid, HostRecordRepr, NatType, PeerEntryRepr, TrackerReplyRepr, TrackerRepr};

const PREFIX_2005: [u8; 4] = [0x02, 0x00, 0x00, 0x02];

fn host(i: u8) -> HostRecordRepr {
    HostRecordRepr { ip: Ipv4Addr::new(59, 64, 198, 200 + i), udp_port: 4004, tcp_port: 8008, unknown: [0; 10] }
}

fn tracker_reply(hosts: u8) -> Vec<u8> {
    let mut header = [0u8; 13];
    header[..4].copy_from_slice(&PREFIX_2005);
    let mut out = Vec::new();
    TrackerReplyRepr { header, hosts: (0..hosts).map(host).collect() }.emit(&mut out);
    out
}

const CCTV5: &str = "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}";

fn gossip(hosts: u8) -> Vec<u8> {
    let repr = GossipRepr {
        header: PREFIX_2005,
        channel: Guid::parse_text(CCTV5).unwrap(),
        unknown: [0; 20],
        hosts: (0..hosts).map(host).collect(),
    };
    let mut out = Vec::new();
    repr.emit(&mut out).unwrap();
    out
}

fn pptv_list_response(transaction_id: u32) -> Vec<u8> {
    let peer = |i: u8| PeerEntryRepr {
        ip: Ipv4Addr::new(59, 64, 199, i),
        udp_port: 5041,
        version: 0x010c,
        detected_ip: Ipv4Addr::new(203, 0, 113, i),
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
        transaction_id,
        message: TrackerMessage::ListResponse {
            error_code: 0,
            resource_id: Guid::parse_text(CCTV5).unwrap(),
            peers: vec![peer(1), peer(2)],
        },
    };
    let mut out = Vec::new();
    repr.emit(&mut out).unwrap();
    out
}

#[test]
fn test_tracker_reply_fields_heuristic_and_port() {
    if !plugin_ready("test_tracker_reply_fields_heuristic_and_port") {
        return;
    }
    // Frame 1 reaches the heuristic (an exact layout: a strong rule), frame 2
    // the Decode As dissector.
    let pcap =
        write_pcap("tracker_reply.pcap", &[udp(40000, 40001, &tracker_reply(3)), udp(8000, 40001, &tracker_reply(2))]);
    let rows = fields(
        &pcap,
        &[
            "_ws.col.Protocol",
            "pplive.tracker.count",
            "pplive.host.ip",
            "pplive.host.udp_port",
            "pplive.host.tcp_port",
            "_ws.col.Info",
            "peerscope.id.rule",
        ],
    );
    assert_eq!(
        rows[0][..5],
        ["PPLive", "3", "59.64.198.200,59.64.198.201,59.64.198.202", "4004,4004,4004", "8008,8008,8008"]
    );
    assert_eq!(rows[0][5..], ["Tracker reply, 3 hosts", "pplive.udp.tracker_reply_2005"]);
    assert_eq!(rows[1][1..3], ["2", "59.64.198.200,59.64.198.201"]);
    assert_eq!(rows.len(), 2);
}

#[test]
fn test_gossip_fields_udp_and_tcp() {
    if !plugin_ready("test_gossip_fields_udp_and_tcp") {
        return;
    }
    let pcap = write_pcap("gossip.pcap", &[udp(4004, 4004, &gossip(2)), tcp(8008, 50000, &gossip(1))]);
    let rows = fields(&pcap, &["pplive.gossip.channel", "pplive.gossip.count", "pplive.host.ip"]);
    assert_eq!(rows[0], ["7d0f9a10-f9c3-4aae-a2d6-0e54639bc715", "2", "59.64.198.200,59.64.198.201"]);
    assert_eq!(rows[1], ["7d0f9a10-f9c3-4aae-a2d6-0e54639bc715", "1", "59.64.198.200"]);
}

/// An exact 2010 layout is a weak rule: the flow is shown once its second
/// packet corroborates it (every packet of it with `-2`, as `peerscope
/// dissect` does).
#[test]
fn test_pptv_list_response_fields() {
    if !plugin_ready("test_pptv_list_response_fields") {
        return;
    }
    let pcap = write_pcap(
        "pptv_list.pcap",
        &[udp(5041, 40002, &pptv_list_response(7)), udp(5041, 40002, &pptv_list_response(8))],
    );
    let names = [
        "_ws.col.Protocol",
        "pptv.action",
        "pptv.tracker.count",
        "pptv.peer.ip",
        "pptv.peer.nat_type",
        "pptv.tracker.resource_id",
        "_ws.col.Info",
    ];
    let expect = [
        "PPTV",
        "0x31",
        "2",
        "59.64.199.1,59.64.199.2",
        "2,2",
        "7d0f9a10-f9c3-4aae-a2d6-0e54639bc715",
        "Tracker List response, 2 peers",
    ];
    let one_pass = fields(&pcap, &names);
    assert_eq!(one_pass[0][0], "UDP", "one packet of a weak rule is not enough: {one_pass:?}");
    assert_eq!(one_pass[1], expect);
    let two_pass = common::fields_with(&pcap, &["-2"], &names);
    assert_eq!(two_pass, [expect, expect]);
}

#[test]
fn test_info_column() {
    if !plugin_ready("test_info_column") {
        return;
    }
    let pcap = write_pcap("info.pcap", &[udp(4004, 4004, &gossip(1)), udp(4004, 4004, &gossip(0))]);
    let rows = fields(&pcap, &["_ws.col.Info"]);
    assert_eq!(rows, [["Gossip, 1 host"], ["Gossip, 0 hosts"]]);
}

/// The TCP heuristic: a length-prefixed PPLive TCP message (DPI rule) on a port
/// the plugin does not listen on.
#[test]
fn test_tcp_heuristic() {
    if !plugin_ready("test_tcp_heuristic") {
        return;
    }
    let mut p = vec![0, 0, 0, 12, 0x21, 0x00, 0x01, 0x02, 0x98, 0xab, 0x01, 0x02];
    p.extend_from_slice(&[0; 4]);
    // The second frame is another connection: nothing attributes it.
    let pcap = write_pcap("tcp_heuristic.pcap", &[tcp(40000, 40001, &p), tcp(40002, 40003, b"not pplive at all")]);
    let rows = fields(&pcap, &["frame.protocols", "_ws.col.Info"]);
    assert_eq!(rows[0][0], "eth:ethertype:ip:tcp:pplive");
    assert!(rows[0][1].contains("pplive.tcp.length_21_98ab"), "{rows:?}");
    assert!(!rows[1][0].contains("pplive"), "{rows:?}");
}

/// The port preferences exist under the names the README gives, are empty
/// by default, and decode their ports once set; so does Decode As.
#[test]
fn test_port_preferences_and_decode_as() {
    if !plugin_ready("test_port_preferences_and_decode_as") {
        return;
    }
    let mut damaged = tracker_reply(3);
    damaged.truncate(damaged.len() - 18);
    let pcap = write_pcap("prefs.pcap", &[udp(8000, 40001, &damaged), tcp(8008, 50000, &[0xff; 40])]);
    let protocols = |extra: &[&str]| -> Vec<String> {
        common::fields_with(&pcap, extra, &["_ws.col.Protocol"]).into_iter().map(|r| r[0].clone()).collect()
    };
    assert_eq!(protocols(&[]), ["UDP", "TCP"], "no port is decoded by default");
    assert_eq!(protocols(&["-o", "pplive.udp.port:8000", "-o", "pplive.tcp.port:8008"]), ["PPLive", "PPLive"]);
    assert_eq!(protocols(&["-d", "udp.port==8000,pplive", "-d", "tcp.port==8008,pplive"]), ["PPLive", "PPLive"]);
}

/// A payload only a DPI rule recognises is claimed and says which rule.
#[test]
fn test_dpi_rule_only_is_claimed_undecoded() {
    if !plugin_ready("test_dpi_rule_only_is_claimed_undecoded") {
        return;
    }
    let mut e903 = vec![0xe9, 0x03, 0x41, 0x01];
    e903.extend_from_slice(&[0; 20]);
    let pcap = write_pcap("dpi_only.pcap", &[udp(40000, 40001, &e903)]);
    let rows =
        fields(&pcap, &["_ws.col.Protocol", "_ws.col.Info", "peerscope.expert.undecoded", "peerscope.id.evidence"]);
    assert_eq!(rows[0][0], "PPLive");
    assert!(rows[0][1].contains("pplive.udp.e903_request"), "{rows:?}");
    assert_eq!(rows[0][3], "e9034101", "the evidence is the four bytes the rule matched");
}
