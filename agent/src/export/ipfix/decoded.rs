//! Test-only: messages read back with netflow_parser, a decoder nobody here wrote.

use std::collections::BTreeMap;

use netflow_parser::NetflowParser;
use serde_json::Value;

/// A decoded data record: field name (IANA's, or `PEN/id`) → value.
pub type Decoded = BTreeMap<String, Value>;

pub fn field_name(f: &Value) -> String {
    match (f.get("IANA"), f.get("Enterprise")) {
        (Some(n), _) => n.as_str().unwrap().to_string(),
        (_, Some(e)) => format!("{}/{}", e["enterprise_number"], e["field_number"]),
        _ => panic!("field {f}"),
    }
}

/// A number in netflow_parser's JSON, however wrapped (`{"U64": n}`, a duration).
pub fn num(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().unwrap(),
        Value::Object(o) if o.contains_key("secs") => {
            o["secs"].as_u64().unwrap() * 1000 + o["nanos"].as_u64().unwrap() / 1_000_000
        }
        Value::Object(o) if o.len() == 1 => num(o.values().next().unwrap()),
        // An element it has no type for: its bytes, big-endian.
        Value::Array(b) => b.iter().fold(0, |n, x| n << 8 | x.as_u64().unwrap()),
        _ => panic!("not a number: {v}"),
    }
}

/// Every data record of flow templates in `messages`, decoded by netflow_parser;
/// fails on any parse error or set it could not decode.
pub fn decode(messages: &[Vec<u8>]) -> (Vec<Decoded>, Vec<Value>) {
    let mut p = NetflowParser::default();
    let (mut flows, mut options) = (Vec::new(), Vec::new());
    for m in messages {
        let r = p.parse_bytes(m);
        assert!(r.error.is_none(), "{:?}", r.error);
        let packets = serde_json::to_value(&r.packets).unwrap();
        let packets = packets.as_array().unwrap();
        let lens: u64 = packets.iter().map(|p| p["IPFix"]["header"]["length"].as_u64().unwrap()).sum();
        assert_eq!(lens as usize, m.len(), "every byte is in a message");
        for set in packets.iter().flat_map(|p| p["IPFix"]["flowsets"].as_array().unwrap()) {
            let body = &set["body"];
            if let Some(d) = body.get("Data") {
                for rec in d["fields"].as_array().unwrap() {
                    let fields = rec.as_array().unwrap().iter().map(|pair| (field_name(&pair[0]), pair[1].clone()));
                    flows.push(fields.collect());
                }
            } else if let Some(d) = body.get("OptionsData") {
                options.push(d["fields"].clone());
            } else {
                assert!(
                    body.get("Templates").is_some() || body.get("OptionsTemplate").is_some(),
                    "a set netflow_parser could not decode: {body}"
                );
            }
        }
    }
    (flows, options)
}

/// Parses a TCP stream (messages back to back) with a fresh decoder.
pub fn decode_stream(stream: &[u8]) -> Vec<Decoded> {
    let mut messages = Vec::new();
    let mut rest = stream;
    while rest.len() >= 4 {
        let len = u16::from_be_bytes([rest[2], rest[3]]) as usize;
        assert!(len >= 16 && len <= rest.len(), "a cut message: {len} of {}", rest.len());
        messages.push(rest[..len].to_vec());
        rest = &rest[len..];
    }
    assert!(rest.is_empty(), "{} stray bytes", rest.len());
    decode(&messages).0
}

/// `n` one-packet UDP flows from 192.0.2.1, ports from `first_port` on.
pub fn sample_records(n: u16, first_port: u16) -> Vec<super::FlowRecord> {
    use peerscope_abi::{flow::ipv4, FlowKey, FlowStats, PacketObservation, Thresholds, UnixNs};
    (0..n)
        .map(|i| {
            let k = FlowKey::new(17, ipv4(192, 0, 2, 1), first_port + i, ipv4(198, 51, 100, 2), 4004);
            let mut s = FlowStats::default();
            s.record(&PacketObservation::new(&Thresholds::STUDIES, 17, 300, 272, 0, UnixNs(1_000_000_000)));
            super::FlowRecord::of_delta(&k, &s, None, 0, super::EndReason::ActiveTimeout)
        })
        .collect()
}

/// The source ports of decoded records, sorted.
pub fn ports(recs: &[Decoded]) -> Vec<u16> {
    let mut p: Vec<u16> = recs.iter().map(|r| num(&r["SourceTransportPort"]) as u16).collect();
    p.sort_unstable();
    p
}
