//! One payload → the application it belongs to and, where a layout fits, its tree.

use peerscope_abi::FlowKey;
use peerscope_dissector::{dissect, dissect_cut, identify, App, Hint, Identification, Transport, Tree};

/// What a control payload turned out to be.
#[derive(Debug, Clone)]
pub struct ControlMessage {
    pub identification: Identification,
    /// The decoded message, when a known layout fits exactly.
    pub tree: Option<Tree>,
}

pub fn transport(key: &FlowKey) -> Option<Transport> {
    match key.proto {
        6 => Some(Transport::Tcp),
        17 => Some(Transport::Udp),
        _ => None,
    }
}

/// Identifies and decodes a TCP or UDP payload; `None` when it is neither a known
/// application's nor a decodable message.
pub fn decode(key: &FlowKey, payload: &[u8]) -> Option<ControlMessage> {
    let t = transport(key)?;
    if payload.is_empty() {
        return None;
    }
    let identification = identify(t, key.src_port, key.dst_port, payload);
    // Only PPLive payloads are decoded; the others are counted under their rule.
    let tree = match identification.app {
        App::SopCast | App::PpStream => None,
        _ => dissect(payload, Hint::Auto).ok(),
    };
    if identification.app == App::Unknown && tree.is_none() {
        return None;
    }
    Some(ControlMessage { identification, tree })
}

/// Decodes a kernel sample: the first bytes of a payload of `full_len` bytes. A whole
/// payload goes through [`decode`]. A cut one is decoded (laxly, its missing records
/// noted) only when the dissector finds a layout whose length arithmetic explains
/// `full_len` exactly ([`dissect_cut`]: the 2005 peer lists, whose records are what
/// the ledger learns peers from).
pub fn decode_sample(key: &FlowKey, captured: &[u8], full_len: usize) -> Option<ControlMessage> {
    if captured.len() >= full_len {
        return decode(key, &captured[..full_len]);
    }
    if transport(key)? != Transport::Udp {
        return None;
    }
    let tree = dissect_cut(captured, full_len).ok()?;
    Some(ControlMessage {
        identification: identify(Transport::Udp, key.src_port, key.dst_port, captured),
        tree: Some(tree),
    })
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
        let ips: Vec<_> = m.tree.as_ref().unwrap().find_all("pplive.host.ip").map(|f| f.value.to_string()).collect();
        assert_eq!(ips.len(), 6, "the records inside 128 bytes: {ips:?}");
        assert!(
            decode_sample(&key, &full[..128], full.len() + 1).is_none(),
            "a count that does not explain the length"
        );
        assert!(decode_sample(&key, &full, full.len()).is_some());
    }
}
