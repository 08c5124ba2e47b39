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

unsafe fn copy_to_pool<T: Copy>(items: &[T], pool: *mut ws::wmem_allocator_t) -> *const T {
    if items.is_empty() {
        return ptr::NonNull::dangling().as_ptr();
    }
    // wmem allocations are aligned for any type, like malloc's.
    let dst = ws::wmem_alloc(pool, std::mem::size_of_val(items)).cast::<T>();
    ptr::copy_nonoverlapping(items.as_ptr(), dst, items.len());
    dst
}

impl Packet {
    /// Copies `plan` into `pool`; the plan is dropped here, before any
    /// call that could `longjmp`.
    pub unsafe fn from_plan(plan: Plan, pool: *mut ws::wmem_allocator_t) -> Packet {
        Packet {
            root: plan.root,
            ops: copy_to_pool(&plan.ops, pool),
            n_ops: plan.ops.len(),
            arena: copy_to_pool(&plan.arena, pool),
            info: plan.info,
            malformed: plan.malformed,
        }
    }

    unsafe fn text(&self, at: u32) -> *const c_char {
        self.arena.add(at as usize).cast()
    }

    unsafe fn op(&self, i: usize) -> Op {
        *self.ops.add(i)
    }
}

unsafe fn e_guid(w: [u8; 16]) -> ws::e_guid_t {
    ws::e_guid_t {
        data1: u32::from_le_bytes([w[0], w[1], w[2], w[3]]),
        data2: u16::from_le_bytes([w[4], w[5]]),
        data3: u16::from_le_bytes([w[6], w[7]]),
        data4: [w[8], w[9], w[10], w[11], w[12], w[13], w[14], w[15]],
    }
}

unsafe fn add_field(
    p: &Packet,
    tree: *mut ws::proto_tree,
    tvb: *mut ws::tvbuff_t,
    hf: c_int,
    offset: c_int,
    len: c_int,
    val: Val,
) -> *mut ws::proto_item {
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

/// Sets the columns and adds the protocol item with everything below it.
pub unsafe fn emit(p: Packet, tvb: *mut ws::tvbuff_t, pinfo: *mut ws::packet_info, tree: *mut ws::proto_tree) {
    let cinfo = (*pinfo).cinfo;
    let column = match p.root {
        Root::Pplive => c"PPLive",
        Root::Pptv => c"PPTV",
    };
    ws::col_set_str(cinfo, ws::COL_PROTOCOL as c_int, column.as_ptr());
    ws::col_add_str(cinfo, ws::COL_INFO as c_int, p.text(p.info));

    let item = ws::proto_tree_add_item(tree, register::proto(p.root), tvb, 0, -1, ws::ENC_NA);
    ws::proto_item_append_text(item, c", %s".as_ptr(), p.text(p.info));
    let top = ws::proto_item_add_subtree(item, register::ett_root(p.root));

    // parents[d] is the tree that fields of depth d go into.
    let mut parents = [top; MAX_DEPTH + 1];
    let mut last_item: *mut ws::proto_item = ptr::null_mut();
    for i in 0..p.n_ops {
        match p.op(i) {
            Op::Field { field, depth, offset, len, val, text } => {
                let depth = usize::from(depth);
                let item = add_field(
                    &p,
                    parents[depth],
                    tvb,
                    register::hf_id(field.into()),
                    offset as c_int,
                    len as c_int,
                    val,
                );
                if text != NO_TEXT {
                    ws::proto_item_set_text(item, c"%s".as_ptr(), p.text(text));
                }
                last_item = item;
                // Anchored notes sit between a field and its children.
                let next_field = (i + 1..p.n_ops).map(|j| p.op(j)).find(|op| matches!(op, Op::Field { .. }));
                let has_children = matches!(next_field, Some(Op::Field { depth: d, .. }) if usize::from(d) > depth);
                if has_children {
                    parents[depth + 1] = ws::proto_item_add_subtree(item, register::ett_field(field.into()));
                }
            }
            Op::Note { note, text, anchored: true, .. } => {
                ffi::expert_add_info_format(pinfo, last_item, register::ei(note.into()), c"%s".as_ptr(), p.text(text));
            }
            Op::Note { note, offset, len, text, anchored: false } => {
                ffi::proto_tree_add_expert_format(
                    top,
                    pinfo,
                    register::ei(note.into()),
                    tvb,
                    offset as c_int,
                    len as c_int,
                    c"%s".as_ptr(),
                    p.text(text),
                );
            }
        }
    }

    if p.malformed != NO_TEXT {
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
