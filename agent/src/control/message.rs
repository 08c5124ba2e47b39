//! One payload → the application it belongs to and, where the evidence
//! decodes, its tree.

use peerscope_abi::FlowKey;
use peerscope_dissector::{
    dissect, dissect_cut, flow::fingerprint, identify_cut, App, Hint, Identification, Transport, Tree,
};

/// What a control payload turned out to be, on its own (the flow it belongs
/// to decides whether it counts: see [`super::ControlLedger`]).
#[derive(Debug, Clone)]
pub struct ControlMessage {
    pub identification: Identification,
    /// The decoded message, when the payload carries PPLive evidence.
    pub tree: Option<Tree>,
    /// Tells a retransmission (the same bytes) from a new payload.
    pub fingerprint: u64,
}

pub fn transport(key: &FlowKey) -> Option<Transport> {
    match key.proto {
        6 => Some(Transport::Tcp),
        17 => Some(Transport::Udp),
        _ => None,
    }
}

/// Identifies a whole TCP or UDP payload and decodes it when it carries
/// PPLive evidence; `None` only for an empty payload or another transport.
pub fn decode(key: &FlowKey, payload: &[u8]) -> Option<ControlMessage> {
    decode_sample(key, payload, payload.len())
}

/// [`decode`] for the first bytes of a payload of `full_len` bytes (a kernel
/// sample, or a frame a capture cut at its snap length): a cut payload is
/// decoded only when the dissector finds a layout whose length arithmetic
/// explains `full_len` exactly ([`dissect_cut`]: the 2005 peer lists, whose
/// records are what the ledger learns peers from).
pub fn decode_sample(key: &FlowKey, captured: &[u8], full_len: usize) -> Option<ControlMessage> {
    let t = transport(key)?;
    let captured = &captured[..captured.len().min(full_len)];
    if captured.is_empty() {
        return None;
    }
    let identification = identify_cut(t, key.src_port, key.dst_port, captured, full_len);
    let tree = match identification.app {
        App::PpLive if captured.len() < full_len => dissect_cut(captured, full_len).ok(),
        App::PpLive => dissect(captured, Hint::Auto).ok(),
        _ => None,
    };
    Some(ControlMessage { identification, tree, fingerprint: fingerprint(captured) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::flow::ipv4;
    use peerscope_dissector::v2005::{host_record::HostRecordRepr, tracker_reply::TrackerReplyRepr};

    #[test]
    fn test_cut_peer_list_is_decoded_when_its_count_explains_the_length() {
        let hosts = (1..=50u8)
            .map(|i| HostRecordRepr { ip: [203, 0, 113, i].into(), udp_port: 4004, tcp_port: 8008, unknown: [0; 10] })
            .collect();
        let mut full = Vec::new();
        TrackerReplyRepr { header: [2, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 2], hosts }.emit(&mut full);
        let key = FlowKey::new(17, ipv4(192, 0, 2, 10), 8000, ipv4(192, 0, 2, 1), 4004);
        let m = decode_sample(&key, &full[..128], full.len()).expect("decoded");
        assert_eq!(m.identification.rule.map(|r| r.name()), Some("pplive.udp.tracker_reply_2005"));
        let ips: Vec<_> = m.tree.as_ref().unwrap().find_all("pplive.host.ip").map(|f| f.value.to_string()).collect();
        assert_eq!(ips.len(), 6, "the records inside 128 bytes: {ips:?}");
        let unexplained = decode_sample(&key, &full[..128], full.len() + 1).expect("identified");
        assert!(
            unexplained.tree.is_none() && unexplained.identification.rule.is_none(),
            "a count that does not explain the length"
        );
        assert!(decode_sample(&key, &full, full.len()).unwrap().tree.is_some());
    }

    #[test]
    fn test_generic_http_is_not_decoded() {
        let key = FlowKey::new(6, ipv4(192, 0, 2, 10), 50000, ipv4(192, 0, 2, 1), 80);
        let m = decode(&key, b"GET /index.html HTTP/1.1\r\nHost: example.org\r\n\r\n").unwrap();
        assert_eq!(m.identification.app, App::Unknown);
        assert!(m.tree.is_none());
        let m = decode(&key, b"GET /web/xml/all.xml HTTP/1.1\r\nHost: list.pplive.com\r\n\r\n").unwrap();
        assert_eq!(m.identification.app, App::PpLive);
        assert!(m.tree.is_some());
    }
}
