//! Real PPStream captures (nDPI test traces, see shared/data/ndpi-pps) must
//! not be claimed as PPLive or SOPCast, while the PPStream rules recognise
//! the tracker traffic to UDP 17788 and the peer data.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;

use etherparse::{SlicedPacket, TransportSlice};
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use peerscope_dissector::{dissect, identify, App, Hint, Transport};

fn capture_dir() -> PathBuf {
    std::env::var_os("PEERSCOPE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
        .join("data/ndpi-pps")
}

/// Ethernet frames of a pcap or pcapng file.
fn frames(name: &str) -> Vec<Vec<u8>> {
    let path = capture_dir().join(name);
    let magic = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (set PEERSCOPE_SHARED)", path.display()));
    let mut out = Vec::new();
    if magic.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        let mut r = PcapNgReader::new(File::open(&path).unwrap()).unwrap();
        while let Some(block) = r.next_block() {
            match block.unwrap() {
                Block::EnhancedPacket(p) => out.push(p.data.into_owned()),
                Block::SimplePacket(p) => out.push(p.data.into_owned()),
                _ => {}
            }
        }
    } else {
        let mut r = PcapReader::new(File::open(&path).unwrap()).unwrap();
        while let Some(p) = r.next_packet() {
            out.push(p.unwrap().data.into_owned());
        }
    }
    out
}

struct Seen {
    payloads: usize,
    by_rule: BTreeMap<&'static str, usize>,
    tracker_packets: usize,
    tracker_matched: usize,
}

fn run(name: &str) -> Seen {
    let mut s = Seen { payloads: 0, by_rule: BTreeMap::new(), tracker_packets: 0, tracker_matched: 0 };
    for frame in frames(name) {
        let Ok(pkt) = SlicedPacket::from_ethernet(&frame) else {
            continue;
        };
        let (proto, sp, dp, payload) = match &pkt.transport {
            Some(TransportSlice::Udp(u)) => (Transport::Udp, u.source_port(), u.destination_port(), u.payload()),
            Some(TransportSlice::Tcp(t)) => (Transport::Tcp, t.source_port(), t.destination_port(), t.payload()),
            _ => continue,
        };
        if payload.is_empty() {
            continue;
        }
        s.payloads += 1;
        let id = identify(proto, sp, dp, payload);
        assert!(
            !matches!(id.app, App::PpLive | App::SopCast),
            "{name}: {proto:?} {sp}->{dp} ({} bytes) claimed by {:?}",
            payload.len(),
            id.rule.map(|r| r.name())
        );
        if let Some(r) = id.rule {
            *s.by_rule.entry(r.name()).or_default() += 1;
        }
        if proto == Transport::Udp && (sp == 17788 || dp == 17788) {
            s.tracker_packets += 1;
            s.tracker_matched += usize::from(id.rule.map(|r| r.name()) == Some("ppstream.udp.tracker"));
        }
        // The dissector must not panic on real traffic, and must not read a
        // PPStream datagram as a PPLive/PPTV binary message.
        if let Ok(tree) = dissect(payload, Hint::Auto) {
            assert!(
                !matches!(
                    tree.message,
                    peerscope_dissector::MessageKind::TrackerReply
                        | peerscope_dissector::MessageKind::Gossip
                        | peerscope_dissector::MessageKind::PptvTracker
                        | peerscope_dissector::MessageKind::PptvLive
                        | peerscope_dissector::MessageKind::PptvVod
                ),
                "{name}: {sp}->{dp} decoded as {:?}",
                tree.message
            );
        }
    }
    s
}

fn check(name: &str, min_payloads: usize) {
    let s = run(name);
    eprintln!("{name}: {} payloads, matches {:?}", s.payloads, s.by_rule);
    assert!(s.payloads >= min_payloads, "{name}: only {} payloads read", s.payloads);
    assert!(s.tracker_packets > 0, "{name}: no UDP 17788 traffic found");
    assert_eq!(s.tracker_matched, s.tracker_packets, "{name}: tracker packets missed by ppstream.udp.tracker");
    assert!(s.by_rule.get("ppstream.udp.peer_data").copied().unwrap_or(0) > 100, "{name}: peer data not recognised");
}

#[test]
fn test_pps_full_2016_not_pplive_or_sopcast() {
    check("pps_full_2016.pcap", 2000);
}

#[test]
fn test_pps_reduced_2024_not_pplive_or_sopcast() {
    check("pps_reduced_2024.pcap", 500);
}
