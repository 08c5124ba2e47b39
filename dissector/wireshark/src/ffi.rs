//! The parts of epan's `expert.h` and `conversation.h` that the `epan-sys`
//! bindings leave out (they are generated from `packet.h` only).

use std::os::raw::{c_char, c_int, c_void};

use epan_sys::{hf_register_info, packet_info, proto_item, proto_tree, tvbuff_t};

/// `expert_field`: filled in by `expert_register_field_array`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ExpertField {
    pub ei: c_int,
    pub hf: c_int,
}

impl ExpertField {
    /// The `EI_INIT` value: not yet registered.
    pub const INIT: ExpertField = ExpertField { ei: 0, hf: -1 };
}

/// `expert_field_info`.
#[repr(C)]
pub struct ExpertFieldInfo {
    pub name: *const c_char,
    pub group: c_int,
    pub severity: c_int,
    pub summary: *const c_char,
    pub id: c_int,
    pub protocol: *const c_char,
    pub orig_severity: c_int,
    pub hf_info: hf_register_info,
}

/// `ei_register_info`.
#[repr(C)]
pub struct EiRegisterInfo {
    pub ids: *mut ExpertField,
    pub eiinfo: ExpertFieldInfo,
}

/// Opaque `expert_module_t`.
#[repr(C)]
pub struct ExpertModule {
    _private: [u8; 0],
}

pub const PI_CHAT: c_int = 0x0020_0000;
pub const PI_NOTE: c_int = 0x0040_0000;
pub const PI_WARN: c_int = 0x0060_0000;
pub const PI_ERROR: c_int = 0x0080_0000;
pub const PI_UNDECODED: c_int = 0x0500_0000;
pub const PI_MALFORMED: c_int = 0x0700_0000;
pub const PI_PROTOCOL: c_int = 0x0900_0000;

/// Opaque `conversation_t` (`epan/conversation.h`).
#[repr(C)]
pub struct Conversation {
    _private: [u8; 0],
}

extern "C" {
    pub fn find_or_create_conversation(pinfo: *mut packet_info) -> *mut Conversation;
    pub fn conversation_add_proto_data(conv: *mut Conversation, proto: c_int, data: *mut c_void);
    pub fn conversation_get_proto_data(conv: *const Conversation, proto: c_int) -> *mut c_void;
}

extern "C" {
    pub fn expert_add_info(pinfo: *mut packet_info, pi: *mut proto_item, eiindex: *mut ExpertField);
    pub fn proto_tree_add_expert(
        tree: *mut proto_tree,
        pinfo: *mut packet_info,
        eiindex: *mut ExpertField,
        tvb: *mut tvbuff_t,
        start: c_int,
        length: c_int,
    ) -> *mut proto_item;
    pub fn expert_register_protocol(id: c_int) -> *mut ExpertModule;
    pub fn expert_register_field_array(module: *mut ExpertModule, ei: *mut EiRegisterInfo, num_records: c_int);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Layouts of `expert.h` on LP64 (Debian amd64).
    #[test]
    fn test_layouts() {
        assert_eq!(core::mem::size_of::<ExpertField>(), 8);
        assert_eq!(core::mem::size_of::<hf_register_info>(), 80);
        assert_eq!(core::mem::size_of::<ExpertFieldInfo>(), 48 + 80);
        assert_eq!(core::mem::offset_of!(ExpertFieldInfo, hf_info), 48);
        assert_eq!(core::mem::size_of::<EiRegisterInfo>(), 8 + 48 + 80);
    }
}
