//! `peerscope dissect` on a capture the test writes with the dissector's encoders:
//! a UDP tracker reply, a channel list over HTTP split across three TCP segments
//! (reassembled), a retransmitted segment, and unrelated traffic that stays silent.

use std::{net::Ipv4Addr, process::Command};

use etherparse::PacketBuilder;
use peerscope::offline::synth::{Link, SynthPcap};
use peerscope_dissector::{
    v2005::{
        channel_list::{ChannelListRepr, ChannelRepr},
        host_record::HostRecordRepr,
        http::HttpRepr,
        tracker_reply::TrackerReplyRepr,
    },
    Guid,
};

fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4(src, dst, 64).udp(sport, dport).write(&mut out, payload).unwrap();
    out
}

fn tcp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4(src, dst, 64).tcp(sport, dport, seq, 65535).ack(1).psh().write(&mut out, payload).unwrap();
    out
}

fn capture() -> std::path::PathBuf {
    let host =
        |i: u8| HostRecordRepr { ip: Ipv4Addr::new(203, 0, 113, i), udp_port: 4004, tcp_port: 8008, unknown: [0; 10] };
    let mut hosts: Vec<_> = (1..=3).map(host).collect();
    hosts.push(HostRecordRepr { ip: Ipv4Addr::new(10, 0, 0, 5), ..host(0) });
    let reply = TrackerReplyRepr { header: [0x02, 0, 0, 0x02, 0x99, 0x58, 0x98, 0, 0x2d, 0x5a, 0x98, 0, 0x02], hosts };
    let mut reply_bytes = Vec::new();
    reply.emit(&mut reply_bytes);

    let guid: Guid = "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}".parse().unwrap();
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
    let (a, b) = http.split_at(http.len() / 3);
    let (b, c) = b.split_at(b.len() / 2);

    let (x, tracker, list_server) = ([192, 0, 2, 1], [192, 0, 2, 10], [192, 0, 2, 20]);
    let mut p = SynthPcap::new(Link::Ethernet);
    p.raw_ip(1_000, &udp(x, 40000, [198, 51, 100, 7], 5000, &[0x11; 40])); // not PPLive
    p.raw_ip(2_000, &tcp(list_server, 80, x, 50000, 1000, a));
    p.raw_ip(3_000, &tcp(list_server, 80, x, 50000, 1000, a)); // retransmission
    p.raw_ip(4_000, &tcp(list_server, 80, x, 50000, 1000 + a.len() as u32, b));
    p.raw_ip(5_000, &tcp(list_server, 80, x, 50000, 1000 + (a.len() + b.len()) as u32, c));
    p.raw_ip(6_000, &udp(tracker, 8000, x, 4004, &reply_bytes));
    let path = std::env::temp_dir().join(format!("peerscope-dissect-{}.pcap", std::process::id()));
    p.write_file(&path).unwrap();
    path
}

fn peerscope(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_peerscope")).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn dissect_decodes_udp_and_reassembled_tcp_messages() {
    let pcap = capture();
    let f = pcap.to_str().unwrap();
    let (ok, out, err) = peerscope(&["dissect", f]);
    assert!(ok, "{err}");
    assert!(err.contains("2 control messages in 6 frames"), "{err}");
    assert!(out.contains("Frame 5") && out.contains("reassembled"), "the channel list is decoded once whole:\n{out}");
    assert!(out.contains("CCTV-5") && out.contains("7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715"), "{out}");
    assert!(out.contains("Frame 6") && out.contains("203.0.113.2"), "{out}");
    assert!(!out.contains("Frame 1 "), "unrelated traffic is not shown:\n{out}");

    let (ok, out, _) = peerscope(&["dissect", f, "--json", "-Y", "pplive.host.ip == 10.0.0.5"]);
    assert!(ok);
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert_eq!(lines[0]["frame"], 6);
    assert_eq!((lines[0]["src_ip"].as_str(), lines[0]["src_port"].as_u64()), (Some("192.0.2.10"), Some(8000)));
    assert!(
        lines[0]["expert"].to_string().contains("private"),
        "the private address is flagged: {}",
        lines[0]["expert"]
    );

    // Every message fits the `control_message` document of `peerscope schema`.
    let (ok, out, err) = peerscope(&["dissect", f, "--json"]);
    assert!(ok, "{err}");
    let (_, schema, _) = peerscope(&["schema", "--document", "control_message"]);
    let schema: serde_json::Value = serde_json::from_str(&schema).unwrap();
    let docs: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(docs.len(), 2, "{out}");
    for d in &docs {
        peerscope::schema::check::assert_valid(&schema, d, "dissect --json");
        assert_eq!(d["status"], "decoded", "{d}");
    }
    assert!(docs[0]["reassembled_bytes"].as_u64().is_some(), "the channel list was reassembled: {}", docs[0]);
    assert_eq!((docs[0]["protocol"].as_str(), docs[1]["protocol"].as_str()), (Some("tcp"), Some("udp")));

    let (ok, _, err) = peerscope(&["dissect", f, "-Y", "pplive.host.ip =="]);
    assert!(!ok && err.contains("bad filter"), "{err}");
    let _ = std::fs::remove_file(&pcap);
}
