//! The swarm's messages, built with the dissector's encoders (METHODS §8): host
//! records, tracker replies, gossip with the channel ID, the channel list and its
//! PlayLink.

use std::net::{Ipv4Addr, SocketAddrV4};

use peerscope_dissector::{
    ChannelListRepr, ChannelRepr, GossipRepr, Guid, HostRecordRepr, PlayLinkRepr, TrackerAddr, TrackerReplyRepr,
    TrackerTransport,
};

use super::plan;

/// Every host listens on the ports of [M]'s dumps.
pub const UDP_PORT: u16 = 4004;
pub const TCP_PORT: u16 = 8008;
pub const TRACKER_PORT: u16 = 7000;
pub const HTTP_PORT: u16 = 80;
/// A reply lists at most this many hosts ([M] §II-C).
pub const MAX_TRACKER_HOSTS: usize = 50;

/// The CCTV-5 channel ID of the study's XML example.
pub const CHANNEL: Guid =
    Guid::from_wire([0x10, 0x9a, 0x0f, 0x7d, 0xc3, 0xf9, 0xae, 0x4a, 0xa2, 0xd6, 0x0e, 0x54, 0x63, 0x9b, 0xc7, 0x15]);

/// Gossip header of the study's dump; the tracker query uses the same format.
const GOSSIP_HEADER: [u8; 4] = [0x02, 0x00, 0x00, 0x02];
/// The 13 leading bytes of the study's tracker reply, meaning unknown.
const TRACKER_HEADER: [u8; 13] = [0x02, 0x00, 0x00, 0x02, 0x99, 0x58, 0x98, 0x00, 0x2d, 0x5a, 0x98, 0x00, 0x02];

pub fn host(ip: Ipv4Addr) -> HostRecordRepr {
    HostRecordRepr { ip, udp_port: UDP_PORT, tcp_port: TCP_PORT, unknown: [0; 10] }
}

/// A gossip message: the channel ID and the sender's neighbours (the tracker query
/// is a gossip message listing only the sender).
pub fn gossip(hosts: &[Ipv4Addr]) -> Vec<u8> {
    let repr = GossipRepr {
        header: GOSSIP_HEADER,
        channel: CHANNEL,
        unknown: [0; 20],
        hosts: hosts.iter().take(GossipRepr::MAX_HOSTS).map(|ip| host(*ip)).collect(),
    };
    let mut out = Vec::new();
    repr.emit(&mut out).expect("at most 255 hosts");
    out
}

/// The hosts of a gossip message for our channel (None: not one).
pub fn parse_gossip(buf: &[u8]) -> Option<Vec<Ipv4Addr>> {
    let g = peerscope_dissector::v2005::gossip::parse(buf).ok()?;
    (g.channel == CHANNEL).then(|| g.hosts.iter().map(|h| h.ip).collect())
}

pub fn tracker_reply(hosts: &[Ipv4Addr]) -> Vec<u8> {
    let repr = TrackerReplyRepr {
        header: TRACKER_HEADER,
        hosts: hosts.iter().take(MAX_TRACKER_HOSTS).map(|ip| host(*ip)).collect(),
    };
    let mut out = Vec::new();
    repr.emit(&mut out);
    out
}

pub fn parse_tracker_reply(buf: &[u8]) -> Option<Vec<Ipv4Addr>> {
    let r = peerscope_dissector::v2005::tracker_reply::parse(buf).ok()?;
    Some(r.hosts.iter().map(|h| h.ip).collect())
}

/// `all.xml`: one channel whose PlayLink names the tracker on UDP and TCP.
pub fn channel_list(bitrate_bps: u64, peers: usize) -> Vec<u8> {
    let tracker = plan::TRACKER.to_string();
    let link = PlayLinkRepr {
        host: plan::TRACKER.to_string(),
        port: TCP_PORT,
        path: "tracker".into(),
        source: CHANNEL,
        link_type: Some("udp".into()),
        chnname: Some("CCTV5".into()),
        engname: Some("CCTV5".into()),
        trackers: vec![
            TrackerAddr { transport: TrackerTransport::Udp, host: tracker.clone(), port: TRACKER_PORT },
            TrackerAddr { transport: TrackerTransport::Tcp, host: tracker, port: TRACKER_PORT },
        ],
        other: vec![],
    };
    let list = ChannelListRepr {
        channels: vec![ChannelRepr {
            guid: CHANNEL,
            base_guid: Some(CHANNEL),
            name: "CCTV5".into(),
            name_en: "CCTV5".into(),
            author: "peerscope demo".into(),
            author_url: String::new(),
            play_link: link.to_url(),
            peer_count: Some(peers as u32),
            bitrate: Some((bitrate_bps / 1000) as u32),
            preview_url: String::new(),
            quality: Some(1),
            catalog: Some(1),
            program_list1: String::new(),
            program_list2: String::new(),
        }],
    };
    let mut out = Vec::new();
    list.emit(&mut out);
    out
}

/// A channel's tracker addresses over UDP and over TCP.
pub type Trackers = (Option<SocketAddrV4>, Option<SocketAddrV4>);

/// The tracker of our channel from `all.xml`.
pub fn trackers_from_list(xml: &[u8]) -> Option<Trackers> {
    let list = ChannelListRepr::parse(xml).ok()?;
    let ch = list.channels.iter().find(|c| c.guid == CHANNEL)?;
    let link = ch.play_link().ok()?;
    let find = |t: TrackerTransport| {
        link.trackers
            .iter()
            .find(|a| a.transport == t)
            .and_then(|a| Some(SocketAddrV4::new(a.host.parse().ok()?, a.port)))
    };
    Some((find(TrackerTransport::Udp), find(TrackerTransport::Tcp)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_gossip_round_trip_and_wrong_channel() {
        let hosts = [Ipv4Addr::new(203, 0, 113, 20), Ipv4Addr::new(192, 0, 2, 150)];
        assert_eq!(parse_gossip(&gossip(&hosts)).unwrap(), hosts);
        let mut other = gossip(&hosts);
        other[4] ^= 1;
        assert_eq!(parse_gossip(&other), None);
    }

    #[test]
    fn test_the_dissector_decodes_what_the_swarm_sends() {
        use peerscope_dissector::{dissect, Hint, MessageKind};
        let g = dissect(&gossip(&[Ipv4Addr::new(203, 0, 113, 20)]), Hint::Auto).unwrap();
        assert_eq!(g.message, MessageKind::Gossip, "{g:?}");
        let t = dissect(&tracker_reply(&[Ipv4Addr::new(203, 0, 113, 20)]), Hint::Auto).unwrap();
        assert_eq!(t.message, MessageKind::TrackerReply, "{t:?}");
    }

    #[test]
    fn test_tracker_reply_caps_at_fifty() {
        let hosts: Vec<_> = (0..60).map(|i| Ipv4Addr::new(203, 0, 113, i)).collect();
        let got = parse_tracker_reply(&tracker_reply(&hosts)).unwrap();
        assert_eq!(got.len(), 50);
        assert_eq!(got[..], hosts[..50]);
    }

    #[test]
    fn test_channel_list_names_the_tracker() {
        let xml = channel_list(400_000, 30);
        let (udp, tcp) = trackers_from_list(&xml).unwrap();
        assert_eq!(udp, Some(SocketAddrV4::new(plan::TRACKER, TRACKER_PORT)));
        assert_eq!(tcp, Some(SocketAddrV4::new(plan::TRACKER, TRACKER_PORT)));
        assert!(String::from_utf8_lossy(&xml).contains("<Bitrate>400</Bitrate>"));
    }
}
