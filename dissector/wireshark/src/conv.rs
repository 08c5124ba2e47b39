//! Per-conversation state: the flow's evidence, in epan's file-scoped
//! memory, so it lives exactly as long as the capture's dissection.

use epan_sys as ws;
use peerscope_dissector::FlowEvidence;

use crate::ffi;

/// What the plugin remembers of one conversation.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConvState {
    pub flow: FlowEvidence,
}

/// The state of the conversation `pinfo` belongs to, created on first use.
///
/// # Safety
/// `pinfo` is the packet_info of the packet being dissected; `proto` is the
/// plugin's protocol id. The returned pointer is valid until the capture file
/// is closed (file scope), and only the dissection thread touches it.
pub unsafe fn state(pinfo: *mut ws::packet_info, proto: i32) -> *mut ConvState {
    // SAFETY: `pinfo` is valid (caller's contract); epan never returns NULL here.
    let conv = unsafe { ffi::find_or_create_conversation(pinfo) };
    // SAFETY: `conv` is a live conversation; data under our protocol id is
    // only ever a ConvState we stored.
    let found = unsafe { ffi::conversation_get_proto_data(conv, proto) }.cast::<ConvState>();
    if !found.is_null() {
        return found;
    }
    // SAFETY: file-scoped wmem memory outlives every packet of the file; it
    // is aligned for any type and ConvState is plain data (no Drop), so
    // writing it in place and never freeing it is sound.
    unsafe {
        let fresh = ws::wmem_alloc(ws::wmem_file_scope(), core::mem::size_of::<ConvState>()).cast::<ConvState>();
        fresh.write(ConvState::default());
        ffi::conversation_add_proto_data(conv, proto, fresh.cast());
        fresh
    }
}
