use super::*;
use proptest::prelude::*;

const CCTV5: [u8; 16] =
    [0x10, 0x9a, 0x0f, 0x7d, 0xc3, 0xf9, 0xae, 0x4a, 0xa2, 0xd6, 0x0e, 0x54, 0x63, 0x9b, 0xc7, 0x15];

fn peer_header(action: u8) -> Vec<u8> {
    let mut b = vec![0x11, 0x22, 0x33, 0x44, action, 5, 0, 0, 0, 0x07, 0x01, 0, 0];
    b.extend_from_slice(&CCTV5);
    b
}

#[test]
fn test_parse_announce() {
    let mut b = peer_header(0xc1);
    b.extend_from_slice(&100u32.to_le_bytes()); // request block id
    b.extend_from_slice(&2u16.to_le_bytes()); // two blocks
    b.extend_from_slice(&[17, 0, 33, 0]); // sub-pieces per block
    b.extend_from_slice(&96u32.to_le_bytes()); // start block id
    b.extend_from_slice(&5u16.to_le_bytes()); // interval
    b.extend_from_slice(&1u16.to_le_bytes());
    b.push(0b1101_1100);
    let p = PeerPacket::new_checked(&b).unwrap();
    assert_eq!(p.protocol_version(), 0x0107);
    assert_eq!(p.resource_id().to_string(), "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}");
    let body = p.body().unwrap();
    assert_eq!(body.subpiece_counts().collect::<Vec<_>>(), vec![17, 33]);
    assert!(matches!(body, PeerBody::Announce { start_block_id: 96, interval: 5, bitmap: [0b1101_1100], .. }));
    let tree = p.to_tree();
    assert_eq!(tree.message, MessageKind::PptvLive);
    assert_eq!(tree.find_all("pptv.live.subpiece_count").count(), 2);
    assert_eq!(tree.find("pptv.live.bitmap").unwrap().offset, b.len() - 1);
    assert!(tree.notes.is_empty());
}

#[test]
fn test_parse_subpiece() {
    let mut b = peer_header(0xc3);
    b.extend_from_slice(&[0x64, 0, 0, 0, 3, 0, 4, 0, 0xde, 0xad, 0xbe, 0xef]);
    match parse(&b).unwrap().body {
        PeerBodyRepr::SubPiece { info, data } => {
            assert_eq!(info, SubPieceInfo { block_id: 100, index: 3 });
            assert_eq!(data, [0xde, 0xad, 0xbe, 0xef]);
        }
        x => panic!("decoded as {x:?}"),
    }
    // Length says 4, only 3 present: strict error, lax tree note.
    b.pop();
    assert!(matches!(parse(&b), Err(Error::Truncated { field: "data", expected: 4, actual: 3, .. })));
    let tree = PeerPacket::new_checked(&b).unwrap().to_tree();
    assert_eq!(tree.notes_named(ei::TRUNCATED_RECORD.name).count(), 1);
}

#[test]
fn test_parse_vod_header() {
    let mut b = peer_header(0x52);
    b.extend_from_slice(&[0x22; 16]);
    b.extend_from_slice(&[1, 2, 3]);
    let p = PeerPacket::new_checked(&b).unwrap();
    assert_eq!(p.vod_peer_guid(), Some(Guid([0x22; 16])));
    assert_eq!(p.body().unwrap(), PeerBody::Raw(&[1, 2, 3]));
    assert_eq!(p.to_tree().message, MessageKind::PptvVod);
}

#[test]
fn test_emit() {
    let repr = PeerPacketRepr {
        checksum: 0x4433_2211,
        action: Action::LiveRequestSubPiece,
        transaction_id: 5,
        protocol_version: 0x0107,
        reserved: 0,
        resource_id: Guid(CCTV5),
        vod_peer_guid: None,
        body: PeerBodyRepr::RequestSubPiece { subpieces: vec![SubPieceInfo { block_id: 100, index: 3 }], priority: 9 },
    };
    let mut out = Vec::new();
    repr.emit(&mut out).unwrap();
    let mut want = peer_header(0xc2);
    want.extend_from_slice(&[1, 0x64, 0, 0, 0, 3, 0, 9, 0]);
    assert_eq!(out, want);
    let wrong = PeerPacketRepr { action: Action::LiveSubPiece, ..repr.clone() };
    assert!(wrong.emit(&mut Vec::new()).is_err());
    let vod_guid_on_live = PeerPacketRepr { vod_peer_guid: Some(Guid::default()), ..repr };
    assert!(vod_guid_on_live.emit(&mut Vec::new()).is_err());
}

#[test]
fn test_impossible_len() {
    let b = peer_header(0xc0);
    assert!(matches!(PeerPacket::new_checked(&b[..28]), Err(Error::Truncated { field: "resource id", .. })));
    assert!(matches!(parse(&b), Err(Error::Truncated { field: "block id", .. })));
    assert!(matches!(PeerPacket::new_checked(&peer_header(0x55)), Err(Error::Truncated { field: "peer guid", .. })));
    assert!(matches!(PeerPacket::new_checked(&peer_header(0x31)), Err(Error::Invalid { field: "action", .. })));
    let mut a = peer_header(0xc1);
    a.extend_from_slice(&[0, 0, 0, 0, 0xff, 0xff]); // 65535 blocks claimed
    assert!(matches!(parse(&a), Err(Error::Truncated { field: "sub-piece counts", .. })));
}

fn arb_info() -> impl Strategy<Value = SubPieceInfo> {
    (any::<u32>(), any::<u16>()).prop_map(|(block_id, index)| SubPieceInfo { block_id, index })
}

fn arb_packet() -> impl Strategy<Value = PeerPacketRepr> {
    let bytes = |n| proptest::collection::vec(any::<u8>(), 0..n);
    let body = prop_oneof![
        (any::<[u32; 3]>()).prop_map(|v| (
            Action::LiveRequestAnnounce,
            PeerBodyRepr::RequestAnnounce { block_id: v[0], upload_bandwidth: v[1], reserved: v[2] }
        )),
        (any::<u32>(), proptest::collection::vec(any::<u16>(), 0..10), any::<u32>(), any::<u16>(), bytes(10)).prop_map(
            |(r, c, s, i, bm)| (
                Action::LiveAnnounce,
                PeerBodyRepr::Announce {
                    request_block_id: r,
                    subpiece_counts: c,
                    start_block_id: s,
                    interval: i,
                    bitmap: bm
                }
            )
        ),
        (proptest::collection::vec(arb_info(), 0..10), any::<u16>()).prop_map(|(s, p)| (
            Action::LiveRequestSubPiece,
            PeerBodyRepr::RequestSubPiece { subpieces: s, priority: p }
        )),
        (arb_info(), bytes(40)).prop_map(|(info, data)| (Action::LiveSubPiece, PeerBodyRepr::SubPiece { info, data })),
        (0xc4u8..=0xcf, bytes(30)).prop_map(|(a, r)| (Action::LiveOther(a), PeerBodyRepr::Raw(r))),
        (0x50u8..=0x5f, bytes(30)).prop_map(|(a, r)| (Action::Vod(a), PeerBodyRepr::Raw(r))),
    ];
    (any::<u32>(), any::<u32>(), any::<u16>(), any::<u16>(), any::<[u8; 16]>(), any::<[u8; 16]>(), body).prop_map(
        |(checksum, transaction_id, protocol_version, reserved, rid, pg, (action, body))| PeerPacketRepr {
            checksum,
            action,
            transaction_id,
            protocol_version,
            reserved,
            resource_id: Guid(rid),
            vod_peer_guid: action.is_vod().then_some(Guid(pg)),
            body,
        },
    )
}

proptest! {
    #[test]
    fn prop_round_trip(repr in arb_packet()) {
        let mut out = Vec::new();
        repr.emit(&mut out).unwrap();
        prop_assert_eq!(parse(&out).unwrap(), repr);
    }

    #[test]
    fn prop_random_never_panics(mut b in proptest::collection::vec(any::<u8>(), 0..120), action in 0xc0u8..=0xc3) {
        let _ = parse(&b);
        if b.len() > 4 {
            b[4] = action;
        }
        if let Ok(p) = PeerPacket::new_checked(&b) {
            let _ = p.to_tree();
            let _ = p.body();
        }
    }
}
