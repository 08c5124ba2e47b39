//! Which packets the plugin claims, and which layout it decodes them as.

use peerscope_dissector::{dissect, identify, App, Hint, Transport};

use crate::plan::{from_tree, identified_only, malformed, Plan};

/// For the heuristic dissectors: only payloads the DPI rules attribute to
/// PPLive/PPTV are claimed, decoded strictly when a layout fits exactly.
pub fn heuristic(transport: Transport, src_port: u16, dst_port: u16, payload: &[u8]) -> Option<Plan> {
    let id = identify(transport, src_port, dst_port, payload);
    if id.app != App::PpLive {
        return None;
    }
    Some(match dissect(payload, Hint::Auto) {
        Ok(tree) => from_tree(&tree, payload.len()),
        Err(_) => identified_only(id, payload.len()),
    })
}

/// For traffic on the configured ports: everything except what the DPI rules
/// give to another application is claimed, decoded laxly, and shown as
/// malformed when no layout applies.
pub fn by_port(transport: Transport, src_port: u16, dst_port: u16, payload: &[u8]) -> Option<Plan> {
    let id = identify(transport, src_port, dst_port, payload);
    if matches!(id.app, App::SopCast | App::PpStream) {
        return None;
    }
    if let Ok(tree) = dissect(payload, Hint::Auto) {
        return Some(from_tree(&tree, payload.len()));
    }
    if id.app == App::PpLive {
        return Some(identified_only(id, payload.len()));
    }
    // Peer data (video segments) shares the TCP port: a payload that does not
    // begin like a 2005 message is not a control message to decode.
    let hint = lax_hint(transport, payload)?;
    Some(match dissect(payload, hint) {
        Ok(tree) => from_tree(&tree, payload.len()),
        Err(e) => malformed(hint, &e),
    })
}

/// The layout a payload on a PPLive port most likely has: the 2005 messages
/// share the `02 00 00 02` prefix (a payload shorter than it must match what it
/// has) and differ in fixed length (17 and 41 bytes before the 18-byte records);
/// the 2010 protocol is UDP only. `None`: TCP bytes that start like no message.
fn lax_hint(transport: Transport, p: &[u8]) -> Option<Hint> {
    use peerscope_dissector::v2005::PREFIX;
    let prefixed = p.len().min(4) > 0 && p[..p.len().min(4)] == PREFIX[..p.len().min(4)];
    if prefixed {
        Some(if p.len() >= 41 && (p.len() - 41).is_multiple_of(18) { Hint::Gossip2005 } else { Hint::TrackerReply2005 })
    } else if transport == Transport::Udp {
        Some(Hint::Pptv2010)
    } else {
        None
    }
}
