//! The C entry points epan calls per packet: heuristics on UDP and TCP, and
//! dissectors for the configured ports.

use std::os::raw::{c_int, c_void};

use epan_sys as ws;
use peerscope_dissector::Transport;

use crate::emit::{self, Packet};
use crate::select;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Entry {
    Heuristic,
    Port,
}

/// The captured payload; borrowed from the tvb for this packet only.
unsafe fn payload<'a>(tvb: *mut ws::tvbuff_t) -> &'a [u8] {
    let n = ws::tvb_captured_length(tvb);
    if n == 0 {
        return &[];
    }
    std::slice::from_raw_parts(ws::tvb_get_ptr(tvb, 0, n as c_int), n as usize)
}

/// Phase one: decode and copy into the pool. Every owned value is dropped
/// before this returns; a panic (in a build that unwinds) declines the packet.
unsafe fn plan_packet(
    entry: Entry,
    transport: Transport,
    pinfo: *mut ws::packet_info,
    payload: &[u8],
) -> Option<Packet> {
    let (src, dst) = ((*pinfo).srcport as u16, (*pinfo).destport as u16);
    let plan = std::panic::catch_unwind(|| match entry {
        Entry::Heuristic => select::heuristic(transport, src, dst, payload),
        Entry::Port => select::by_port(transport, src, dst, payload),
    })
    .ok()??;
    Some(Packet::from_plan(plan, (*pinfo).pool))
}

/// Bytes consumed, 0 to decline.
unsafe fn run(
    entry: Entry,
    transport: Transport,
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
) -> c_int {
    let payload = payload(tvb);
    if payload.is_empty() {
        return 0;
    }
    let len = payload.len() as c_int;
    match plan_packet(entry, transport, pinfo, payload) {
        Some(packet) => {
            emit::emit(packet, tvb, pinfo, tree);
            len
        }
        None => 0,
    }
}

pub unsafe extern "C" fn heur_udp(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    _: *mut c_void,
) -> ws::gboolean {
    (run(Entry::Heuristic, Transport::Udp, tvb, pinfo, tree) > 0).into()
}

pub unsafe extern "C" fn heur_tcp(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    _: *mut c_void,
) -> ws::gboolean {
    (run(Entry::Heuristic, Transport::Tcp, tvb, pinfo, tree) > 0).into()
}

pub unsafe extern "C" fn port_udp(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    _: *mut c_void,
) -> c_int {
    run(Entry::Port, Transport::Udp, tvb, pinfo, tree)
}

pub unsafe extern "C" fn port_tcp(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    _: *mut c_void,
) -> c_int {
    run(Entry::Port, Transport::Tcp, tvb, pinfo, tree)
}
