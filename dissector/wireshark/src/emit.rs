//! Phase two of a packet: walk the flat plan and add it to epan's tree.
//!
//! Any epan call may `longjmp` out of here, so only `Copy` values and raw
//! pointers into the packet's wmem pool are alive in this module: the
//! [`Plan`]'s vectors are copied and dropped in [`Packet::from_plan`].

use std::os::raw::{c_char, c_int};
use std::ptr;

use epan_sys as ws;

use crate::ffi;
use crate::plan::{Op, Plan, Root, Val, MAX_DEPTH, NO_TEXT};
use crate::register;

/// A [`Plan`] living in the packet's wmem pool.
#[derive(Debug, Clone, Copy)]
pub struct Packet {
    root: Root,
    ops: *const Op,
    n_ops: usize,
    arena: *const u8,
    info: u32,
    malformed: u32,
}

/// A copy of `items` in `pool`; dangling (never read) when empty.
///
/// # Safety
/// `pool` is a live wmem allocator (the packet's).
unsafe fn copy_to_pool<T: Copy>(items: &[T], pool: *mut ws::wmem_allocator_t) -> *const T {
    if items.is_empty() {
        return ptr::NonNull::dangling().as_ptr();
    }
    // SAFETY: `pool` is live (caller's contract); wmem aborts rather than
    // return NULL, and its blocks are aligned for any type, like malloc's.
    let dst = unsafe { ws::wmem_alloc(pool, std::mem::size_of_val(items)) }.cast::<T>();
    // SAFETY: `dst` is a fresh allocation of exactly `items.len()` values of
    // `T`, so it is valid for the writes and cannot overlap `items`.
    unsafe { ptr::copy_nonoverlapping(items.as_ptr(), dst, items.len()) };
    dst
}

impl Packet {
    /// Copies `plan` into `pool`; the plan is dropped here, before any
    /// call that could `longjmp`.
    ///
    /// # Safety
    /// `pool` is the wmem pool of the packet being dissected; the result is
    /// valid only while that packet is.
    pub unsafe fn from_plan(plan: Plan, pool: *mut ws::wmem_allocator_t) -> Packet {
        Packet {
            root: plan.root,
            // SAFETY: `pool` is live (caller's contract).
            ops: unsafe { copy_to_pool(&plan.ops, pool) },
            n_ops: plan.ops.len(),
            // SAFETY: as above.
            arena: unsafe { copy_to_pool(&plan.arena, pool) },
            info: plan.info,
            malformed: plan.malformed,
        }
    }

    /// The NUL-terminated text at `at` in the arena.
    ///
    /// # Safety
    /// `at` is a text offset the plan recorded (so inside the arena, before a NUL).
    unsafe fn text(&self, at: u32) -> *const c_char {
        // SAFETY: `at` lies inside the arena copy (caller's contract).
        unsafe { self.arena.add(at as usize) }.cast()
    }

    fn op(&self, i: usize) -> Op {
        assert!(i < self.n_ops);
        // SAFETY: `ops` holds `n_ops` initialised `Op`s in the packet's pool,
        // alive while the packet is dissected, and `i < n_ops`.
        unsafe { *self.ops.add(i) }
    }
}

fn e_guid(w: [u8; 16]) -> ws::e_guid_t {
    ws::e_guid_t {
        data1: u32::from_le_bytes([w[0], w[1], w[2], w[3]]),
        data2: u16::from_le_bytes([w[4], w[5]]),
        data3: u16::from_le_bytes([w[6], w[7]]),
        data4: [w[8], w[9], w[10], w[11], w[12], w[13], w[14], w[15]],
    }
}

/// # Safety
/// `tree` and `tvb` are the current packet's; the arena offsets in `val` are
/// the plan's.
unsafe fn add_field(
    p: &Packet,
    tree: *mut ws::proto_tree,
    tvb: *mut ws::tvbuff_t,
    hf: c_int,
    offset: c_int,
    len: c_int,
    val: Val,
) -> *mut ws::proto_item {
    // SAFETY: epan copies every value it is given (strings and bytes into
    // the packet scope) before returning; the arena pointers point at text
    // and bytes the plan wrote, NUL-terminated where a C string is expected.
    // The span was clamped to the captured payload in the plan, so no
    // bounds exception is thrown.
    unsafe {
        match val {
            Val::None => ws::proto_tree_add_item(tree, hf, tvb, offset, len, ws::ENC_NA),
            Val::Bool(b) => ws::proto_tree_add_boolean(tree, hf, tvb, offset, len, u32::from(b)),
            Val::Uint(v) => ws::proto_tree_add_uint(tree, hf, tvb, offset, len, v),
            // ws_in4_addr holds the address in network byte order.
            Val::Ipv4(a) => ws::proto_tree_add_ipv4(tree, hf, tvb, offset, len, u32::from_ne_bytes(a)),
            Val::Guid(w) => {
                let g = e_guid(w);
                ws::proto_tree_add_guid(tree, hf, tvb, offset, len, &g)
            }
            Val::Bytes { at, len: n } => {
                ws::proto_tree_add_bytes_with_length(tree, hf, tvb, offset, len, p.arena.add(at as usize), n as c_int)
            }
            Val::Str { at } => ws::proto_tree_add_string(tree, hf, tvb, offset, len, p.text(at)),
        }
    }
}

/// Sets the columns and adds the protocol item with everything below it.
///
/// # Safety
/// `p` was made by [`Packet::from_plan`] for this packet; `tvb`, `pinfo` and
/// `tree` are the ones epan passed to the running dissector.
pub unsafe fn emit(p: Packet, tvb: *mut ws::tvbuff_t, pinfo: *mut ws::packet_info, tree: *mut ws::proto_tree) {
    let column = match p.root {
        Root::Pplive => c"PPLive",
        Root::Pptv => c"PPTV",
    };
    // SAFETY: `pinfo` is this packet's; col_* copy the strings (the info
    // text is the plan's, NUL-terminated) and accept a NULL cinfo. Adding an
    // item to a NULL tree is a no-op that returns NULL, which every later
    // proto_* call accepts.
    let top = unsafe {
        let cinfo = (*pinfo).cinfo;
        ws::col_set_str(cinfo, ws::COL_PROTOCOL as c_int, column.as_ptr());
        ws::col_add_str(cinfo, ws::COL_INFO as c_int, p.text(p.info));
        let item = ws::proto_tree_add_item(tree, register::proto(p.root), tvb, 0, -1, ws::ENC_NA);
        ws::proto_item_append_text(item, c", %s".as_ptr(), p.text(p.info));
        ws::proto_item_add_subtree(item, register::ett_root(p.root))
    };
    // SAFETY: forwarded from this function's contract.
    unsafe { emit_ops(&p, top, tvb, pinfo) };
    if p.malformed != NO_TEXT {
        // SAFETY: as above.
        unsafe { emit_malformed(&p, column, top, tvb, pinfo, tree) };
    }
}

/// The fields and notes of the plan, in order, under `top`.
///
/// # Safety
/// As [`emit`]; `top` is the subtree of the packet's protocol item.
unsafe fn emit_ops(p: &Packet, top: *mut ws::proto_tree, tvb: *mut ws::tvbuff_t, pinfo: *mut ws::packet_info) {
    // parents[d] is the tree that fields of depth d go into.
    let mut parents = [top; MAX_DEPTH + 1];
    let mut last_item: *mut ws::proto_item = ptr::null_mut();
    for i in 0..p.n_ops {
        match p.op(i) {
            Op::Field { field, depth, offset, len, val, text } => {
                let depth = usize::from(depth);
                let hf = register::hf_id(field.into());
                // SAFETY: the parent is a tree of this packet (or NULL); the
                // field's span and arena offsets come from the plan.
                let item = unsafe { add_field(p, parents[depth], tvb, hf, offset as c_int, len as c_int, val) };
                if text != NO_TEXT {
                    // SAFETY: `item` is ours or NULL (accepted); the label is
                    // a plan text, passed through "%s".
                    unsafe { ws::proto_item_set_text(item, c"%s".as_ptr(), p.text(text)) };
                }
                last_item = item;
                // Anchored notes sit between a field and its children.
                let next_field = (i + 1..p.n_ops).map(|j| p.op(j)).find(|op| matches!(op, Op::Field { .. }));
                let has_children = matches!(next_field, Some(Op::Field { depth: d, .. }) if usize::from(d) > depth);
                if has_children {
                    // SAFETY: `item` is ours or NULL; the ett was registered.
                    parents[depth + 1] = unsafe { ws::proto_item_add_subtree(item, register::ett_field(field.into())) };
                }
            }
            Op::Note { note, text, anchored: true, .. } => {
                // SAFETY: `last_item` is the field the plan anchored the note
                // to (an anchored note always follows a field); the ei is
                // registered; the text is a plan text passed through "%s".
                unsafe {
                    ffi::expert_add_info_format(
                        pinfo,
                        last_item,
                        register::ei(note.into()),
                        c"%s".as_ptr(),
                        p.text(text),
                    )
                };
            }
            Op::Note { note, offset, len, text, anchored: false } => {
                // SAFETY: as above; the span was clamped to the payload.
                unsafe {
                    ffi::proto_tree_add_expert_format(
                        top,
                        pinfo,
                        register::ei(note.into()),
                        tvb,
                        offset as c_int,
                        len as c_int,
                        c"%s".as_ptr(),
                        p.text(text),
                    )
                };
            }
        }
    }
}

/// Epan's "Malformed Packet" item (so `_ws.malformed` matches) and our own
/// expert item saying why.
///
/// # Safety
/// As [`emit`]; `p.malformed` is a plan text.
unsafe fn emit_malformed(
    p: &Packet,
    column: &std::ffi::CStr,
    top: *mut ws::proto_tree,
    tvb: *mut ws::tvbuff_t,
    pinfo: *mut ws::packet_info,
    tree: *mut ws::proto_tree,
) {
    // SAFETY: the arguments are this packet's; the texts are NUL-terminated
    // and passed as "%s" arguments, never as formats; the expert item spans
    // the captured length, which cannot throw.
    unsafe {
        let len = ws::tvb_captured_length(tvb) as c_int;
        if register::proto_malformed() >= 0 {
            ws::proto_tree_add_protocol_format(
                tree,
                register::proto_malformed(),
                tvb,
                0,
                0,
                c"[Malformed Packet: %s: %s]".as_ptr(),
                column.as_ptr(),
                p.text(p.malformed),
            );
        }
        ffi::proto_tree_add_expert_format(
            top,
            pinfo,
            register::ei_malformed(),
            tvb,
            0,
            len,
            c"%s".as_ptr(),
            p.text(p.malformed),
        );
    }
}
