//! Which payloads the plugin claims and what it shows for them, in plain
//! Rust: the same evidence rules as `peerscope dissect` (the library's
//! identification, flow corroboration and length arithmetic). Callers pass
//! the flow's evidence, kept per conversation, and whether this is the
//! frame's first visit (only then does a payload count as evidence).

use peerscope_dissector::framing::{next_message, starts_binary_message, starts_message, Framing};
use peerscope_dissector::{attributed_tree, identify_cut, Attribution, FlowEvidence, Transport};

use crate::plan::{from_tree, Plan};

/// The flow's attribution after `payload` (fed to the evidence on the
/// frame's first visit; later visits see the flow's final state, as
/// Wireshark's second pass does).
fn attribute(
    flow: &mut FlowEvidence,
    first_visit: bool,
    transport: Transport,
    ports: (u16, u16),
    payload: &[u8],
    full_len: usize,
) -> (peerscope_dissector::Identification, Attribution) {
    let id = identify_cut(transport, ports.0, ports.1, payload, full_len);
    let attribution = if first_visit { flow.observe(&id, payload) } else { flow.attribution() };
    (id, attribution)
}

/// A UDP datagram: claimed when its flow is attributed.
pub fn udp(
    flow: &mut FlowEvidence,
    first_visit: bool,
    ports: (u16, u16),
    payload: &[u8],
    full_len: usize,
) -> Option<Plan> {
    let (id, attribution) = attribute(flow, first_visit, Transport::Udp, ports, payload, full_len);
    let tree = attributed_tree(payload, Transport::Udp, full_len, &id, &attribution)?;
    Some(from_tree(&tree, payload.len()))
}

/// A payload of a port the user decodes as PPLive (Decode As, or the
/// port preferences): shown whatever it matches.
pub fn decode_as(transport: Transport, ports: (u16, u16), payload: &[u8], full_len: usize) -> Plan {
    let id = identify_cut(transport, ports.0, ports.1, payload, full_len);
    let tree = attributed_tree(payload, transport, full_len, &id, &Attribution::DecodeAs)
        .expect("Decode As always attributes");
    from_tree(&tree, payload.len())
}

/// What to do with the bytes of a TCP segment (or of a reassembled run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpPlan {
    /// Messages to show: offset in the bytes, length, plan.
    pub pdus: Vec<(usize, usize, Plan)>,
    /// Ask TCP to reassemble from this offset: `Some(n)` more bytes, or
    /// `None` for one more segment.
    pub desegment: Option<(usize, Option<usize>)>,
    /// Bytes accounted for (shown, or waiting for reassembly).
    pub claimed: bool,
}

/// Cuts TCP bytes into messages. The flow's messages are shown once it is
/// attributed; bytes that begin a message wait for the rest (TCP
/// desegmentation) when the flow is attributed, the user chose the port, or
/// they start with a binary marker (4 fixed bytes: rare elsewhere), so that a
/// message split over segments can be identified whole.
pub fn tcp(flow: &mut FlowEvidence, first_visit: bool, chosen: bool, ports: (u16, u16), bytes: &[u8]) -> TcpPlan {
    let mut plan = TcpPlan { pdus: Vec::new(), desegment: None, claimed: false };
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let ours = chosen || flow.attribution().app().is_some();
        let n = match next_message(rest) {
            Framing::Message(n) => n,
            Framing::NeedMore(more) if ours || starts_binary_message(rest) || (at > 0 && plan.claimed) => {
                plan.desegment = Some((at, more));
                plan.claimed = true;
                break;
            }
            Framing::MessageOrMore(..) if ours || starts_binary_message(rest) => {
                plan.desegment = Some((at, None));
                plan.claimed = true;
                break;
            }
            // Bytes that frame as nothing are one message of an attributed flow.
            _ if ours && !starts_message(rest) => rest.len(),
            Framing::NeedMore(_) | Framing::MessageOrMore(..) | Framing::NotAMessage => rest.len(),
        };
        let msg = &rest[..n];
        let (id, attribution) = attribute(flow, first_visit, Transport::Tcp, ports, msg, n);
        let attribution = if chosen { Attribution::DecodeAs } else { attribution };
        if let Some(tree) = attributed_tree(msg, Transport::Tcp, n, &id, &attribution) {
            plan.pdus.push((at, n, from_tree(&tree, n)));
            plan.claimed = true;
        }
        at += n;
    }
    plan
}

/// An HTTP message Wireshark's HTTP dissector decoded: shown under PPLive
/// when its flow is attributed (a bootstrap request by its own evidence, the
/// reply by its request's).
pub fn http(flow: &mut FlowEvidence, first_visit: bool, ports: (u16, u16), message: &[u8]) -> Option<Plan> {
    let (id, attribution) = attribute(flow, first_visit, Transport::Tcp, ports, message, message.len());
    let tree = attributed_tree(message, Transport::Tcp, message.len(), &id, &attribution)?;
    Some(from_tree(&tree, message.len()))
}
