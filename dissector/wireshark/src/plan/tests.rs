use std::net::Ipv4Addr;

use peerscope_dissector::{hf, HostRecordRepr, TrackerReplyRepr};

use peerscope_dissector::{ei, Transport};

use super::*;
use crate::select::{decode_as, tcp, udp};
use peerscope_dissector::FlowEvidence;

fn heuristic(_: Transport, sp: u16, dp: u16, p: &[u8]) -> Option<Plan> {
    udp(&mut FlowEvidence::default(), true, (sp, dp), p, p.len())
}

fn by_port(t: Transport, sp: u16, dp: u16, p: &[u8]) -> Option<Plan> {
    Some(decode_as(t, (sp, dp), p, p.len()))
}

fn reply(hosts: usize) -> Vec<u8> {
    let mut header = [0u8; 13];
    header[..4].copy_from_slice(&[0x02, 0x00, 0x00, 0x02]);
    let hosts = (0..hosts)
        .map(|i| HostRecordRepr {
            ip: Ipv4Addr::new(59, 64, 198, i as u8),
            udp_port: 4004,
            tcp_port: 8008,
            unknown: [0; 10],
        })
        .collect();
    let mut out = Vec::new();
    TrackerReplyRepr { header, hosts }.emit(&mut out);
    out
}

fn text(plan: &Plan, at: u32) -> &str {
    let end = plan.arena[at as usize..].iter().position(|b| *b == 0).unwrap();
    core::str::from_utf8(&plan.arena[at as usize..at as usize + end]).unwrap()
}

fn fields<'p>(
    plan: &'p Plan,
    def: &'static peerscope_dissector::FieldDef,
) -> impl Iterator<Item = (u8, Val, u32)> + 'p {
    let i = hf::ALL.iter().position(|d| core::ptr::eq(*d, def)).unwrap() as u16;
    plan.ops.iter().filter_map(move |op| match *op {
        Op::Field { field, depth, val, text, .. } if field == i => Some((depth, val, text)),
        _ => None,
    })
}

#[test]
fn test_tracker_reply_records_numbered() {
    let p = reply(3);
    let plan = heuristic(Transport::Udp, 8000, 4004, &p).expect("claimed");
    assert_eq!(plan.root, Root::Pplive);
    assert_eq!(text(&plan, plan.info), "Tracker reply, 3 hosts");
    match fields(&plan, &hf::ID_RULE).next() {
        Some((_, Val::Str { at, .. }, _)) => assert_eq!(text(&plan, at), "pplive.udp.tracker_reply_2005"),
        other => panic!("no rule field: {other:?}"),
    }
    let hosts: Vec<_> = fields(&plan, &hf::HOST).collect();
    assert_eq!(hosts.len(), 3);
    assert_eq!(text(&plan, hosts[2].2), "Host record #3 (59.64.198.2)");
    let ips: Vec<_> = fields(&plan, &hf::HOST_IP).map(|(d, v, _)| (d, v)).collect();
    assert_eq!(ips[1], (hosts[1].0 + 1, Val::Ipv4([59, 64, 198, 1])));
    assert_eq!(fields(&plan, &hf::TRACKER_COUNT).next().unwrap().1, Val::Uint(3));
}

#[test]
fn test_spans_inside_payload() {
    let p = reply(2);
    let plan = heuristic(Transport::Udp, 8000, 4004, &p).unwrap();
    for op in &plan.ops {
        let (Op::Field { offset, len, .. } | Op::Note { offset, len, .. }) = *op;
        assert!((offset + len) as usize <= p.len(), "{op:?}");
    }
}

#[test]
fn test_heuristic_declines_unknown_payloads() {
    assert_eq!(heuristic(Transport::Udp, 5000, 5001, b"hello world, not a PPLive message"), None);
    // A PPStream tracker packet: LE u16 length, then 0x43. A weak rule: one
    // packet is not enough.
    let mut pps = vec![0u8; 20];
    pps[0] = 20;
    pps[2] = 0x43;
    assert_eq!(heuristic(Transport::Udp, 17788, 5000, &pps), None);
    // Its flow's second, different packet corroborates it: shown as PPStream.
    let mut flow = FlowEvidence::default();
    assert_eq!(udp(&mut flow, true, (5000, 17788), &pps, pps.len()), None);
    let mut again = pps.clone();
    again[5] = 1;
    let plan = udp(&mut flow, true, (17788, 5000), &again, again.len()).expect("corroborated");
    assert_eq!(plan.root, Root::Ppstream);
    assert!(text(&plan, plan.info).contains("ppstream.udp.tracker"), "{}", text(&plan, plan.info));
}

#[test]
fn test_by_port_count_mismatch_is_noted() {
    let mut p = reply(3);
    p.truncate(p.len() - 18);
    assert_eq!(heuristic(Transport::Udp, 8000, 4004, &p), None, "no exact layout, no evidence");
    let plan = by_port(Transport::Udp, 8000, 4004, &p).unwrap();
    let mismatch = ei::ALL.iter().position(|d| core::ptr::eq(*d, &ei::COUNT_MISMATCH)).unwrap() as u16;
    assert!(plan.ops.iter().any(|op| matches!(op, Op::Note { note, .. } if *note == mismatch)));
}

#[test]
fn test_by_port_undecodable_is_raw_with_a_note() {
    let plan = by_port(Transport::Udp, 8000, 4004, &[0x02, 0x00, 0x00, 0x02, 0x01]).unwrap();
    let no_layout = ei::ALL.iter().position(|d| core::ptr::eq(*d, &ei::NO_LAYOUT)).unwrap() as u16;
    assert!(plan.ops.iter().any(|op| matches!(op, Op::Note { note, .. } if *note == no_layout)), "{:?}", plan.ops);
    assert_eq!(fields(&plan, &hf::RAW).count(), 1);
}

/// A gossip message split over TCP segments: its 02 00 00 02 start asks for
/// the rest, and once whole it is decoded; a split generic HTTP request on an
/// unattributed flow is left to others.
#[test]
fn test_tcp_reassembly_requests() {
    let g = {
        let mut v = vec![2, 0, 0, 2];
        v.extend_from_slice(&[0x11; 16]);
        v.extend_from_slice(&[0; 20]);
        v.push(1);
        v.extend_from_slice(&[59, 64, 198, 1, 0xa4, 0x0f, 0x48, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        v
    };
    let mut flow = FlowEvidence::default();
    let first = tcp(&mut flow, true, false, (8008, 40000), &g[..30]);
    assert_eq!((first.desegment, first.claimed, first.pdus.len()), (Some((0, Some(11))), true, 0));
    let whole = tcp(&mut flow, true, false, (8008, 40000), &g);
    assert_eq!(whole.pdus.len(), 1);
    assert_eq!(whole.pdus[0].2.root, Root::Pplive);
    assert_eq!(text(&whole.pdus[0].2, whole.pdus[0].2.info), "Gossip, 1 host");
    let generic = tcp(&mut FlowEvidence::default(), true, false, (80, 40000), b"GET /index.html HTTP/1.1\r\nHo");
    assert!(!generic.claimed && generic.desegment.is_none(), "{generic:?}");
}

#[test]
fn test_pptv_root_is_the_protocol_item() {
    // Live request-announce (0xC0): header, version, reserved, resource id, 3 x u32.
    let live: Vec<u8> = [0, 0, 0, 0, 0xc0, 1, 0, 0, 0, 7, 1, 0, 0].into_iter().chain([0; 28]).collect();
    // An exact 2010 layout is a weak rule: the flow's second packet corroborates it.
    let mut flow = FlowEvidence::default();
    assert_eq!(udp(&mut flow, true, (5041, 5041), &live, live.len()), None);
    let mut next = live.clone();
    next[5] = 2; // another transaction
    let plan = udp(&mut flow, true, (5041, 5041), &next, next.len()).expect("corroborated 2010 layout");
    assert_eq!(plan.root, Root::Pptv);
    assert_eq!(fields(&plan, &hf::PPTV).count(), 0, "hoisted into the protocol item");
    assert_eq!(fields(&plan, &hf::PPTV_ACTION).next().unwrap(), (0, Val::Uint(0xc0), NO_TEXT));
    assert_eq!(text(&plan, plan.info), "Live request-announce");
}

#[test]
fn test_notes_follow_the_field_they_concern() {
    let mut p = reply(3);
    p[16] = 4; // claims 4 hosts, holds 3; 59.64.198.x are public
    p[17] = 10; // first host becomes 10.64.198.0: private
    let plan = by_port(Transport::Udp, 8000, 4004, &p).unwrap();
    let index = |def| hf::ALL.iter().position(|d| core::ptr::eq(*d, def)).unwrap() as u16;
    let mut anchored = 0;
    for (i, op) in plan.ops.iter().enumerate() {
        if let Op::Note { offset, len, anchored: true, note, .. } = *op {
            // The closest field before it holds its span.
            let field = plan.ops[..i].iter().rev().find_map(|o| match *o {
                Op::Field { field, offset, len, .. } => Some((field, offset, len)),
                _ => None,
            });
            let (field, fo, fl) = field.expect("anchored note follows a field");
            assert!(fo <= offset && offset + len <= fo + fl, "{op:?} outside field {field}");
            if ei::ALL[usize::from(note)].name == ei::PRIVATE_ADDRESS.name {
                assert_eq!(field, index(&hf::HOST_IP));
            }
            anchored += 1;
        }
    }
    assert!(anchored >= 2, "{:?}", plan.ops);
}
