use super::*;
use crate::v2010::peer_entry::tests::{arb_entry, ENTRY};
use proptest::prelude::*;

const CCTV5: [u8; 16] =
    [0x10, 0x9a, 0x0f, 0x7d, 0xc3, 0xf9, 0xae, 0x4a, 0xa2, 0xd6, 0x0e, 0x54, 0x63, 0x9b, 0xc7, 0x15];

fn list_response(count: u16, entries: usize) -> Vec<u8> {
    let mut b = vec![0xef, 0xbe, 0xad, 0xde, 0x31, 0x2a, 0, 0, 0, 0, 0];
    b.extend_from_slice(&CCTV5);
    b.extend_from_slice(&count.to_le_bytes());
    for _ in 0..entries {
        b.extend_from_slice(&ENTRY);
    }
    b
}

#[test]
fn test_parse_list_response() {
    let buf = list_response(2, 2);
    let p = TrackerPacket::new_checked(&buf).unwrap();
    assert_eq!(p.header().checksum(), 0xdead_beef);
    assert_eq!(p.header().transaction_id(), 42);
    assert_eq!(p.error_code(), Some(0));
    let (rid, count, peers) = p.list_response().unwrap();
    assert_eq!(rid.to_string(), "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}");
    assert_eq!(count, 2);
    assert_eq!(peers.map(|e| e.ip()).collect::<Vec<_>>(), vec![Ipv4Addr::new(59, 64, 198, 250); 2]);
    match parse(&buf).unwrap().message {
        TrackerMessage::ListResponse { peers, .. } => assert_eq!(peers[0].udp_port, 4004),
        m => panic!("decoded as {m:?}"),
    }
}

#[test]
fn test_parse_list_request_versions() {
    let mut b = vec![0, 0, 0, 0, 0x31, 1, 0, 0, 0, 1, 0x0b, 0x01, 3, 0];
    b.extend_from_slice(&CCTV5);
    b.extend_from_slice(&[0x11; 16]);
    b.extend_from_slice(&50u16.to_le_bytes());
    match parse(&b).unwrap().message {
        TrackerMessage::ListRequest { requested_count: 50, nat_type: None, common, .. } => {
            assert_eq!(common.peer_version, 0x010b)
        }
        m => panic!("decoded as {m:?}"),
    }
    // From 0x010C the NAT type byte is required.
    b[10] = 0x0c;
    assert!(matches!(parse(&b), Err(Error::Truncated { field: "nat type", .. })));
    b.push(3);
    assert!(matches!(parse(&b).unwrap().message, TrackerMessage::ListRequest { nat_type: Some(3), .. }));
    b.push(0);
    assert!(matches!(parse(&b), Err(Error::Trailing { extra: 1, .. })));
}

#[test]
fn test_parse_report_response() {
    let mut b = vec![0, 0, 0, 0, 0x35, 9, 0, 0, 0, 0, 0];
    b.extend_from_slice(&60u16.to_le_bytes());
    b.extend_from_slice(&[0xfa, 0xc6, 0x40, 0x3b, 0xa4, 0x0f, 3, 0]);
    let r = parse(&b).unwrap();
    assert_eq!(
        r.message,
        TrackerMessage::ReportResponse {
            error_code: 0,
            keepalive_interval: 60,
            detected_ip: Ipv4Addr::new(59, 64, 198, 250),
            detected_port: 4004,
            resource_count: 3
        }
    );
    let tree = TrackerPacket::new_checked(&b).unwrap().to_tree();
    assert_eq!(tree.find("pptv.tracker.detected_ip").unwrap().value, Value::Ipv4(Ipv4Addr::new(59, 64, 198, 250)));
    assert!(tree.notes.is_empty());
}

#[test]
fn test_error_reply() {
    let b = [0, 0, 0, 0, 0x31, 1, 0, 0, 0, 0, 7];
    assert_eq!(
        parse(&b).unwrap().message,
        TrackerMessage::OtherResponse { action: Action::TrackerList, error_code: 7, body: vec![] }
    );
}

#[test]
fn test_emit() {
    let buf = list_response(2, 2);
    let mut out = Vec::new();
    parse(&buf).unwrap().emit(&mut out).unwrap();
    assert_eq!(out, buf);
}

#[test]
fn test_tree_notes() {
    // Claims 3, has 2 and a half.
    let mut buf = list_response(3, 2);
    buf.extend_from_slice(&ENTRY[..12]);
    buf[11 + 16 + 2..11 + 16 + 2 + 4].copy_from_slice(&[1, 0, 168, 192]);
    let tree = TrackerPacket::new_checked(&buf).unwrap().to_tree();
    assert_eq!(tree.generation, Some(Generation::Pptv2010));
    assert_eq!(tree.find_all("pptv.peer").count(), 2);
    assert_eq!(tree.find("pptv.peer.ip").unwrap().value, Value::Ipv4(Ipv4Addr::new(192, 168, 0, 1)));
    let names: Vec<_> = tree.notes.iter().map(|n| n.def.name).collect();
    assert!(names.contains(&ei::PRIVATE_ADDRESS.name));
    assert!(names.contains(&ei::COUNT_MISMATCH.name));
    assert!(names.contains(&ei::TRUNCATED_RECORD.name));
}

#[test]
fn test_impossible_len() {
    assert!(matches!(
        TrackerPacket::new_checked(&[0, 0, 0, 0, 0x31, 1, 0, 0, 0]),
        Err(Error::Truncated { field: "is request", offset: 9, .. })
    ));
    assert!(matches!(
        TrackerPacket::new_checked(&[0, 0, 0, 0, 0x31, 1, 0, 0, 0, 1, 0x0c]),
        Err(Error::Truncated { field: "reserved", .. })
    ));
    assert!(matches!(TrackerPacket::new_checked(&[0, 0, 0, 0, 0x31, 1, 0, 0, 0, 2, 0]), Err(Error::Invalid { .. })));
    assert!(matches!(
        TrackerPacket::new_checked(&[0, 0, 0, 0, 0xc0, 1, 0, 0, 0, 0, 0]),
        Err(Error::Invalid { field: "action", .. })
    ));
    let short = &list_response(0, 0)[..20];
    assert!(matches!(parse(short), Err(Error::Truncated { field: "resource id", .. })));
}

fn arb_common() -> impl Strategy<Value = RequestCommon> {
    (any::<u16>(), any::<u8>(), any::<u8>()).prop_map(|(peer_version, source, reserved)| RequestCommon {
        peer_version,
        source,
        reserved,
    })
}

fn arb_message() -> impl Strategy<Value = TrackerMessage> {
    let g = || any::<[u8; 16]>().prop_map(Guid);
    prop_oneof![
        (arb_common(), g(), g(), any::<u16>(), any::<u8>()).prop_map(
            |(common, resource_id, peer_guid, requested_count, n)| {
                let nat_type = (common.peer_version >= NAT_TYPE_SINCE_VERSION).then_some(n);
                TrackerMessage::ListRequest { common, resource_id, peer_guid, requested_count, nat_type }
            }
        ),
        (any::<u8>(), g(), proptest::collection::vec(arb_entry(), 0..8)).prop_map(
            |(error_code, resource_id, peers)| TrackerMessage::ListResponse { error_code, resource_id, peers }
        ),
        (arb_common(), g()).prop_map(|(common, peer_guid)| TrackerMessage::LeaveRequest { common, peer_guid }),
        (arb_common(), proptest::collection::vec(any::<u8>(), 0..20))
            .prop_map(|(common, body)| TrackerMessage::ReportRequest { common, body }),
        (any::<u8>(), any::<u16>(), any::<u32>(), any::<u16>(), any::<u16>()).prop_map(|(error_code, k, ip, p, n)| {
            TrackerMessage::ReportResponse {
                error_code,
                keepalive_interval: k,
                detected_ip: ip.into(),
                detected_port: p,
                resource_count: n,
            }
        }),
        (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..20)).prop_map(|(error_code, body)| {
            TrackerMessage::OtherResponse { action: Action::TrackerLeave, error_code, body }
        }),
        (1u8.., prop_oneof![Just(Action::TrackerList), Just(Action::TrackerReport)])
            .prop_map(|(error_code, action)| TrackerMessage::OtherResponse { action, error_code, body: vec![] }),
    ]
}

proptest! {
    #[test]
    fn prop_round_trip(checksum in any::<u32>(), transaction_id in any::<u32>(), message in arb_message()) {
        let repr = TrackerRepr { checksum, transaction_id, message };
        let mut out = Vec::new();
        repr.emit(&mut out).unwrap();
        prop_assert_eq!(parse(&out).unwrap(), repr);
        prop_assert!(TrackerPacket::new_checked(&out).unwrap().to_tree().notes.iter().all(|n| n.def.name != ei::TRUNCATED_RECORD.name));
    }

    /// The allocation-free fit test agrees with the strict decoder.
    #[test]
    fn prop_fit_implies_message(mut b in proptest::collection::vec(any::<u8>(), 10..80), action in prop_oneof![Just(0x31u8), Just(0x34), Just(0x35)], req in 0u8..2, n in 0u16..3) {
        b[4] = action;
        b[9] = req;
        if b.len() >= 29 && req == 0 {
            b[27..29].copy_from_slice(&n.to_le_bytes());
        }
        if let Ok(p) = TrackerPacket::new_checked(&b) {
            let described = match p.message() {
                Ok(TrackerMessage::ReportRequest { .. }) => false,
                Ok(TrackerMessage::OtherResponse { body, .. }) => body.is_empty(),
                Ok(_) => true,
                Err(_) => false,
            };
            prop_assert_eq!(p.fits_described_layout(), described);
        }
    }

    #[test]
    fn prop_random_never_panics(mut b in proptest::collection::vec(any::<u8>(), 0..120), action in prop_oneof![Just(0x31u8), Just(0x34), Just(0x35)], req in 0u8..2) {
        let _ = parse(&b);
        if b.len() > 9 {
            b[4] = action;
            b[9] = req;
        }
        if let Ok(p) = TrackerPacket::new_checked(&b) {
            let _ = p.to_tree();
            let _ = p.message();
        }
    }
}
