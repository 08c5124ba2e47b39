//! The C entry points epan calls per packet: heuristics on UDP and TCP, the
//! Decode As / port-preference dissectors, and the postdissector that looks
//! at what Wireshark's HTTP dissector decoded. Each reads the packet, asks
//! [`crate::select`] (plain Rust) what to show, and hands the plans to
//! [`crate::emit`].

use std::os::raw::{c_int, c_void};

use epan_sys as ws;

use crate::conv;
use crate::emit::{self, Packet};
use crate::plan::{Plan, Root};
use crate::register;
use crate::select::{self, TcpPlan};

/// The captured bytes of `tvb` from `offset`; borrowed for this packet only.
///
/// # Safety
/// `tvb` is a tvb of the running dissection; the slice must not outlive it.
unsafe fn bytes<'a>(tvb: *mut ws::tvbuff_t, offset: c_int) -> &'a [u8] {
    // SAFETY: `tvb` is valid (caller's contract); the remaining captured
    // length never throws.
    let n = unsafe { ws::tvb_captured_length_remaining(tvb, offset) };
    if n <= 0 {
        return &[];
    }
    // SAFETY: asking for exactly the captured bytes cannot throw, and
    // tvb_get_ptr then returns `n` contiguous bytes that live as long as the
    // packet's dissection (flattening a composite tvb into packet scope if
    // need be), which outlives the borrow the caller keeps.
    unsafe { std::slice::from_raw_parts(ws::tvb_get_ptr(tvb, offset, n), n as usize) }
}

/// The packet's ports and whether this is the frame's first visit.
///
/// # Safety
/// `pinfo` is the packet_info of the running dissection.
unsafe fn packet(pinfo: *mut ws::packet_info) -> ((u16, u16), bool) {
    // SAFETY: `pinfo` and its frame data are epan's for this packet.
    unsafe { (((*pinfo).srcport as u16, (*pinfo).destport as u16), (*(*pinfo).fd).visited() == 0) }
}

/// Copies `plan` into the packet's pool and emits it on `tvb`.
///
/// # Safety
/// The arguments are those of the running dissection; `tvb` holds the bytes
/// the plan was made from.
unsafe fn show(
    plan: Plan,
    first: bool,
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
) {
    // SAFETY: the pool is this packet's; the plan is dropped inside
    // from_plan, so nothing owned is alive when epan may longjmp.
    unsafe {
        let p = Packet::from_plan(plan, (*pinfo).pool);
        emit::emit(p, first, tvb, pinfo, tree);
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
    // SAFETY: epan calls this with a valid tvb and pinfo, and a tree or NULL.
    unsafe {
        let payload = bytes(tvb, 0);
        if payload.is_empty() {
            return 0;
        }
        let full_len = ws::tvb_reported_length(tvb) as usize;
        let (ports, first_visit) = packet(pinfo);
        let state = conv::state(pinfo, register::proto(Root::Pplive));
        // The state is Copy: work on a copy, store it back before any epan call.
        let mut flow = (*state).flow;
        let plan = std::panic::catch_unwind(move || {
            let plan = select::udp(&mut flow, first_visit, ports, payload, full_len);
            (plan, flow)
        });
        let Ok((plan, flow)) = plan else { return 0 };
        (*state).flow = flow;
        match plan {
            Some(plan) => {
                show(plan, true, tvb, pinfo, tree);
                1
            }
            None => 0,
        }
    }
}

/// Shows a TCP plan's messages and asks TCP for the rest of a split one.
///
/// # Safety
/// As [`heur_tcp`].
unsafe fn show_tcp(plan: TcpPlan, tvb: *mut ws::tvbuff_t, pinfo: *mut ws::packet_info, tree: *mut ws::proto_tree) {
    let TcpPlan { pdus, desegment, .. } = plan;
    for (i, (at, len, plan)) in pdus.into_iter().enumerate() {
        // SAFETY: the message lies inside the captured bytes (the plan was
        // cut from them), so the subset cannot throw.
        unsafe {
            let sub = ws::tvb_new_subset_length(tvb, at as c_int, len as c_int);
            show(plan, i == 0, sub, pinfo, tree);
        }
    }
    if let Some((at, more)) = desegment {
        // SAFETY: `pinfo` is this packet's; TCP reads these after we return.
        unsafe {
            (*pinfo).desegment_offset = at as c_int;
            (*pinfo).desegment_len = more.map_or(ws::DESEGMENT_ONE_MORE_SEGMENT, |n| n as u32);
        }
    }
}

/// # Safety
/// As [`heur_udp`].
unsafe fn tcp(tvb: *mut ws::tvbuff_t, pinfo: *mut ws::packet_info, tree: *mut ws::proto_tree, chosen: bool) -> c_int {
    // SAFETY: epan calls this with a valid tvb and pinfo, and a tree or NULL.
    unsafe {
        let payload = bytes(tvb, 0);
        if payload.is_empty() {
            return 0;
        }
        let (ports, first_visit) = packet(pinfo);
        let state = conv::state(pinfo, register::proto(Root::Pplive));
        let mut flow = (*state).flow;
        let plan = std::panic::catch_unwind(move || {
            let plan = select::tcp(&mut flow, first_visit, chosen, ports, payload);
            (plan, flow)
        });
        let Ok((plan, flow)) = plan else { return 0 };
        (*state).flow = flow;
        if !plan.claimed {
            return 0;
        }
        show_tcp(plan, tvb, pinfo, tree);
        payload.len() as c_int
    }
}

/// # Safety
/// Called by epan only, with the arguments of a heuristic dissector.
pub unsafe extern "C" fn heur_tcp(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    _: *mut c_void,
) -> ws::gboolean {
    // SAFETY: forwarded from epan's call.
    (unsafe { tcp(tvb, pinfo, tree, false) } > 0).into()
}

/// The dissector for UDP ports the user decodes as PPLive.
///
/// # Safety
/// Called by epan only, with the arguments of a dissector.
pub unsafe extern "C" fn port_udp(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    _: *mut c_void,
) -> c_int {
    // SAFETY: epan calls this with a valid tvb and pinfo, and a tree or NULL.
    unsafe {
        let payload = bytes(tvb, 0);
        if payload.is_empty() {
            return 0;
        }
        let full_len = ws::tvb_reported_length(tvb) as usize;
        let (ports, _) = packet(pinfo);
        let Ok(plan) = std::panic::catch_unwind(|| {
            select::decode_as(peerscope_dissector::Transport::Udp, ports, payload, full_len)
        }) else {
            return 0;
        };
        show(plan, true, tvb, pinfo, tree);
        payload.len() as c_int
    }
}

/// The dissector for TCP ports the user decodes as PPLive.
///
/// # Safety
/// As [`port_udp`].
pub unsafe extern "C" fn port_tcp(
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    _: *mut c_void,
) -> c_int {
    // SAFETY: forwarded from epan's call.
    unsafe { tcp(tvb, pinfo, tree, true) }
}

/// After every dissector: each HTTP message Wireshark decoded in this frame
/// is shown under PPLive when its flow is attributed.
///
/// # Safety
/// Called by epan only, as a postdissector.
pub unsafe extern "C" fn post_http(
    _tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
    _: *mut c_void,
) -> c_int {
    let proto_http = register::proto_http();
    if tree.is_null() || proto_http < 0 {
        return 0;
    }
    // SAFETY: `tree` is this packet's; the array is ours to free.
    let found = unsafe { ws::proto_find_finfo(tree, proto_http) };
    if found.is_null() {
        return 0;
    }
    // SAFETY: `found` holds `len` field_info pointers of this packet's tree.
    let infos: Vec<*mut ws::field_info> = unsafe {
        let a = &*found;
        let v = (0..a.len as usize).map(|i| (*a.pdata.add(i)).cast::<ws::field_info>()).collect();
        ws::g_ptr_array_free(found, 1);
        v
    };
    for fi in infos {
        // SAFETY: each field_info is alive for this packet; its data source
        // tvb holds [start, start + length) (clamped to what was captured).
        unsafe {
            let (ds, start, len) = ((*fi).ds_tvb, (*fi).start, (*fi).length);
            if ds.is_null() || start < 0 || len <= 0 {
                continue;
            }
            let have = ws::tvb_captured_length_remaining(ds, start).min(len);
            if have <= 0 {
                continue;
            }
            let message = std::slice::from_raw_parts(ws::tvb_get_ptr(ds, start, have), have as usize);
            let (ports, first_visit) = packet(pinfo);
            let state = conv::state(pinfo, register::proto(Root::Pplive));
            let mut flow = (*state).flow;
            let Ok((plan, flow)) = std::panic::catch_unwind(move || {
                let plan = select::http(&mut flow, first_visit, ports, message);
                (plan, flow)
            }) else {
                continue;
            };
            (*state).flow = flow;
            if let Some(plan) = plan {
                // HTTP keeps its Info text; ours is appended.
                let sub = ws::tvb_new_subset_length(ds, start, have);
                show(plan, false, sub, pinfo, tree);
            }
        }
    }
    0
}
