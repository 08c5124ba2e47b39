//! A 2005 client's start-up, message by message, through the public API only
//! (what the CLI and the simulator do): bootstrap HTTP, channel list,
//! PlayLink, tracker reply, gossip. Each message is built with `emit`,
//! recognised by `identify` and decoded by `dissect`.

use peerscope_dissector::v2005::http::Bootstrap;
use peerscope_dissector::{
    dissect, identify, App, ChannelListRepr, ChannelRepr, Generation, GossipRepr, Guid, Hint, HostRecordRepr, HttpRepr,
    MessageKind, TrackerReplyRepr, TrackerTransport, Transport, Value,
};

const CCTV5: &str = "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}";

fn host(ip: [u8; 4]) -> HostRecordRepr {
    HostRecordRepr { ip: ip.into(), udp_port: 4004, tcp_port: 8008, unknown: [0; 10] }
}

#[test]
fn test_start_up_sequence() {
    // 1. Software update check, answered 404.
    let mut req = Vec::new();
    HttpRepr::bootstrap_request("update.pplive.com", Bootstrap::SOFTWARE_UPDATE_PATH).emit(&mut req);
    let id = identify(Transport::Tcp, 1025, 80, &req);
    assert_eq!((id.app, id.rule.unwrap().name()), (App::PpLive, "pplive.http.bootstrap"));
    let tree = dissect(&req, Hint::Auto).unwrap();
    assert_eq!(tree.message, MessageKind::HttpRequest);
    assert_eq!(tree.find("pplive.http.bootstrap").unwrap().value, Value::Str("software update check".into()));

    // 2. Channel list download; the reply body is the XML.
    let guid: Guid = CCTV5.parse().unwrap();
    let channel = ChannelRepr {
        guid,
        name: "CCTV-5".into(),
        name_en: "CCTV-5".into(),
        play_link: format!(
            "pplive://211.162.0.46:8000/tracker?source={CCTV5}&type=udp&chnname=CCTV-5&engname=CCTV-5&tracker=udpt://211.162.0.46:8000;tcpt://211.162.0.46:8000;"
        ),
        quality: Some(100),
        catalog: Some(2),
        ..Default::default()
    };
    let list = ChannelListRepr { channels: vec![channel] };
    let mut reply = Vec::new();
    HttpRepr::reply(200, "OK", list.to_xml().into_bytes()).emit(&mut reply);
    let tree = dissect(&reply, Hint::Auto).unwrap();
    assert_eq!(tree.message, MessageKind::HttpResponse);
    assert_eq!(tree.find("pplive.channel.guid").unwrap().value, Value::Guid(guid));
    assert!(tree.notes.is_empty(), "{:?}", tree.notes);

    // 3. The PlayLink names a tracker reachable over UDP and TCP.
    let parsed = ChannelListRepr::parse(list.to_xml().as_bytes()).unwrap();
    let link = parsed.channels[0].play_link().unwrap();
    assert_eq!(link.source, guid);
    let transports: Vec<_> = link.trackers.iter().map(|t| t.transport).collect();
    assert_eq!(transports, [TrackerTransport::Udp, TrackerTransport::Tcp]);

    // 4. Tracker reply with 50 hosts, 5 of them private.
    let hosts: Vec<_> =
        (0..50u8).map(|i| if i % 10 == 3 { host([192, 168, 0, i]) } else { host([59, 64, 198, i]) }).collect();
    let reply = TrackerReplyRepr {
        header: [0x02, 0x00, 0x00, 0x02, 0x99, 0x58, 0x98, 0x00, 0x2d, 0x5a, 0x98, 0x00, 0x02],
        hosts: hosts.clone(),
    };
    let mut datagram = Vec::new();
    reply.emit(&mut datagram);
    assert_eq!(&datagram[13..17], &[0, 0, 0, 0x32]);
    let id = identify(Transport::Udp, 8000, 4004, &datagram);
    assert_eq!(id.rule.unwrap().name(), "pplive.udp.tracker_reply_2005");
    let tree = dissect(&datagram, Hint::Auto).unwrap();
    assert_eq!((tree.message, tree.generation), (MessageKind::TrackerReply, Some(Generation::Pplive2005)));
    assert_eq!(tree.find("pplive.tracker.count").unwrap().value, Value::U32(50));
    assert_eq!(tree.notes_named("peerscope.expert.private_address").count(), 5);

    // 5. Gossip to one of them, carrying the channel ID.
    let gossip = GossipRepr { header: [2, 0, 0, 2], channel: guid, unknown: [0; 20], hosts: hosts[..3].to_vec() };
    let mut datagram = Vec::new();
    gossip.emit(&mut datagram).unwrap();
    assert_eq!(
        &datagram[4..20],
        &[0x10, 0x9a, 0x0f, 0x7d, 0xc3, 0xf9, 0xae, 0x4a, 0xa2, 0xd6, 0x0e, 0x54, 0x63, 0x9b, 0xc7, 0x15]
    );
    let tree = dissect(&datagram, Hint::Auto).unwrap();
    assert_eq!(tree.message, MessageKind::Gossip);
    assert_eq!(tree.find("pplive.gossip.channel").unwrap().value, Value::Guid(guid));
}
