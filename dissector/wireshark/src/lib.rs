//! A Wireshark 4.0 plugin that shows PPLive (2005-era) and PPTV (2010-era)
//! control messages, decoded by `peerscope-dissector`.
//!
//! This crate only maps the library's [`Tree`](peerscope_dissector::Tree)
//! onto epan: one `hf` per `hf::ALL` entry, one `ett` per field, one `ei`
//! per `ei::ALL` entry, the Info and Protocol columns, a heuristic on UDP and
//! TCP and port preferences (`pplive.udp.port`, `pplive.tcp.port`).
//!
//! Epan reports errors by `longjmp`, which skips Rust destructors. So each
//! packet is handled in two phases: `select` decodes it and `plan` flattens
//! the tree, in plain Rust with no epan call; then the flat result is copied
//! into the packet's wmem pool and `emit` walks it with only `Copy` data and raw
//! pointers alive. The plugin is built with `panic = "abort"` (the
//! `wireshark-plugin` profile) so no panic unwinds into C either.

#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

mod callbacks;
mod emit;
mod ffi;
mod info;
mod plan;
mod register;
mod select;

use std::os::raw::{c_char, c_int};

/// Read by Wireshark's plugin loader; must equal the package version.
#[no_mangle]
#[used]
pub static plugin_version: [c_char; 6] =
    [b'0' as c_char, b'.' as c_char, b'1' as c_char, b'.' as c_char, b'0' as c_char, 0];

/// The Wireshark release this plugin is built for (4.0).
#[no_mangle]
#[used]
pub static plugin_want_major: c_int = 4;

#[no_mangle]
#[used]
pub static plugin_want_minor: c_int = 0;

/// Called once by Wireshark's plugin loader.
#[no_mangle]
pub extern "C" fn plugin_register() {
    static PLUGIN: epan_sys::proto_plugin = epan_sys::proto_plugin {
        register_protoinfo: Some(register::protocols),
        register_handoff: Some(register::handoff),
    };
    // SAFETY: PLUGIN is a static, so the pointer Wireshark keeps stays valid;
    // its callbacks are the `unsafe extern "C"` functions epan expects, and
    // the loader calls plugin_register before registering protocols.
    unsafe { epan_sys::proto_register_plugin(&PLUGIN) }
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    #[test]
    fn test_plugin_version_is_package_version() {
        // SAFETY: plugin_version is a static, NUL-terminated array.
        let v = unsafe { CStr::from_ptr(super::plugin_version.as_ptr()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
