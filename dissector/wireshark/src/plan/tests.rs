use std::net::Ipv4Addr;

use peerscope_dissector::{hf, HostRecordRepr, TrackerReplyRepr};

use peerscope_dissector::{ei, Transport};

use super::*;
use crate::select::{by_port, heuristic};

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
    let hosts: Vec<_> = fields(&plan, &hf::HOST).collect();
    assert_eq!(hosts.len(), 3);
    assert_eq!(text(&plan, hosts[2].2), "Host record #3 (59.64.198.2)");
    let ips: Vec<_> = fields(&plan, &hf::HOST_IP).map(|(d, v, _)| (d, v)).collect();
    assert_eq!(ips[1], (hosts[1].0 + 1, Val::Ipv4([59, 64, 198, 1])));
    assert_eq!(fields(&plan, &hf::TRACKER_COUNT).next().unwrap().1, Val::Uint(3));
    assert_eq!(plan.malformed, NO_TEXT);
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
    // A PPStream tracker packet: LE u16 length, then 0x43.
    let mut pps = vec![0u8; 20];
    pps[0] = 20;
    pps[2] = 0x43;
    assert_eq!(heuristic(Transport::Udp, 17788, 5000, &pps), None);
    assert_eq!(by_port(Transport::Udp, 17788, 4004, &pps), None);
}

#[test]
fn test_by_port_count_mismatch_is_noted() {
    let mut p = reply(3);
    p.truncate(p.len() - 18);
    assert_eq!(heuristic(Transport::Udp, 8000, 4004, &p), None, "strict layouts only");
    let plan = by_port(Transport::Udp, 8000, 4004, &p).unwrap();
    let mismatch = ei::ALL.iter().position(|d| core::ptr::eq(*d, &ei::COUNT_MISMATCH)).unwrap() as u16;
    assert!(plan.ops.iter().any(|op| matches!(op, Op::Note { note, .. } if *note == mismatch)));
    assert_eq!(plan.malformed, NO_TEXT);
}

#[test]
fn test_by_port_undecodable_is_malformed() {
    let plan = by_port(Transport::Udp, 8000, 4004, &[0x02, 0x00, 0x00, 0x02, 0x01]).unwrap();
    assert_ne!(plan.malformed, NO_TEXT);
    assert!(text(&plan, plan.info).starts_with("Malformed: "), "{}", text(&plan, plan.info));
    assert!(plan.ops.is_empty());
}

#[test]
fn test_pptv_root_is_the_protocol_item() {
    // Live request-announce (0xC0): header, version, reserved, resource id, 3 x u32.
    let live: Vec<u8> = [0, 0, 0, 0, 0xc0, 1, 0, 0, 0, 7, 1, 0, 0].into_iter().chain([0; 28]).collect();
    let plan = heuristic(Transport::Udp, 5041, 5041, &live).expect("exact 2010 layout");
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
