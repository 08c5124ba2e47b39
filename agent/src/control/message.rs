//! One payload → the application it belongs to and, where a layout fits, its tree.

use peerscope_abi::FlowKey;
use peerscope_dissector::{dissect, identify, App, Hint, Identification, Transport, Tree};

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
