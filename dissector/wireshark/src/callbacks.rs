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
///
/// # Safety
/// `tvb` is the tvb epan passed to the running dissector; the slice must not
/// outlive that call.
unsafe fn payload<'a>(tvb: *mut ws::tvbuff_t) -> &'a [u8] {
    // SAFETY: `tvb` is valid for this call (caller's contract).
    let n = unsafe { ws::tvb_captured_length(tvb) };
    if n == 0 {
        return &[];
    }
    // SAFETY: asking for exactly the captured length cannot throw, and
    // tvb_get_ptr then returns `n` contiguous bytes (flattening a composite
    // tvb into packet scope if need be) that live as long as the packet's
    // dissection, which outlives the borrow the caller keeps.
    unsafe { std::slice::from_raw_parts(ws::tvb_get_ptr(tvb, 0, n as c_int), n as usize) }
}

/// Phase one: decode and copy into the pool. Every owned value is dropped
/// before this returns; a panic (in a build that unwinds) declines the packet.
///
/// # Safety
/// `pinfo` is the packet_info epan passed to the running dissector.
unsafe fn plan_packet(
    entry: Entry,
    transport: Transport,
    pinfo: *mut ws::packet_info,
    payload: &[u8],
) -> Option<Packet> {
    // SAFETY: `pinfo` points to epan's packet_info for this packet.
    let (src, dst, pool) = unsafe { ((*pinfo).srcport as u16, (*pinfo).destport as u16, (*pinfo).pool) };
    let plan = std::panic::catch_unwind(|| match entry {
        Entry::Heuristic => select::heuristic(transport, src, dst, payload),
        Entry::Port => select::by_port(transport, src, dst, payload),
    })
    .ok()??;
    // SAFETY: `pool` is this packet's wmem pool, alive until the packet is done.
    Some(unsafe { Packet::from_plan(plan, pool) })
}

/// Bytes consumed, 0 to decline.
///
/// # Safety
/// The arguments are those epan passed to the running dissector.
unsafe fn run(
    entry: Entry,
    transport: Transport,
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
) -> c_int {
    // SAFETY: `tvb` is this call's; the slice is dropped before we return.
    let payload = unsafe { payload(tvb) };
    if payload.is_empty() {
        return 0;
    }
    let len = payload.len() as c_int;
    // SAFETY: `pinfo` is this call's.
    match unsafe { plan_packet(entry, transport, pinfo, payload) } {
        Some(packet) => {
            // SAFETY: `packet` lives in this packet's pool; tvb, pinfo and
            // tree are this call's. Nothing owned is alive across it, so a
            // longjmp out of epan leaks nothing.
            unsafe { emit::emit(packet, tvb, pinfo, tree) };
            len
        }
        None => 0,
    }
}

/// # Safety
/// Called by epan only, with the arguments of a heuristic dissector.
pub unsafe extern "C" fn heur_udp(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    _: *mut c_void,
) -> ws::gboolean {
    // SAFETY: epan calls this with a valid tvb, pinfo and (possibly NULL) tree.
    (unsafe { run(Entry::Heuristic, Transport::Udp, tvb, pinfo, tree) } > 0).into()
}

/// # Safety
/// As [`heur_udp`].
pub unsafe extern "C" fn heur_tcp(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    _: *mut c_void,
) -> ws::gboolean {
    // SAFETY: as in heur_udp.
    (unsafe { run(Entry::Heuristic, Transport::Tcp, tvb, pinfo, tree) } > 0).into()
}

/// # Safety
/// Called by epan only, with the arguments of a dissector.
pub unsafe extern "C" fn port_udp(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    _: *mut c_void,
) -> c_int {
    // SAFETY: as in heur_udp.
    unsafe { run(Entry::Port, Transport::Udp, tvb, pinfo, tree) }
}

/// # Safety
/// As [`port_udp`].
pub unsafe extern "C" fn port_tcp(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    _: *mut c_void,
) -> c_int {
    // SAFETY: as in heur_udp.
    unsafe { run(Entry::Port, Transport::Tcp, tvb, pinfo, tree) }
}
