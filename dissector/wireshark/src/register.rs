//! Registration with epan: the two protocols, one `hf` per `hf::ALL` entry,
//! one `ett` per field and protocol, one `ei` per `ei::ALL` entry (plus
//! "malformed"), the heuristics and the port preferences.
//!
//! Epan keeps pointers into every array it is given, so they are leaked:
//! registration runs once per process.

use std::ffi::CString;
use std::os::raw::{c_char, c_int};
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;

use epan_sys as ws;
use peerscope_dissector::{ei, hf, Base, FieldDef, NoteDef, Severity, ValueKind};

use crate::callbacks;
use crate::ffi::{self, EiRegisterInfo, ExpertField, ExpertFieldInfo};
use crate::plan::Root;

/// Registered ids. Written by epan during registration, read-only after.
struct Ids {
    proto_pplive: c_int,
    proto_pptv: c_int,
    hf: *const c_int,
    ett: *const c_int,
    ei: *mut ExpertField,
}

// SAFETY: the arrays are leaked (never freed) and epan writes them only during
// registration, which finishes before `IDS` is set and any packet is dissected;
// afterwards every thread only reads them.
unsafe impl Send for Ids {}
// SAFETY: as for Send: shared access is read-only once `IDS` is set.
unsafe impl Sync for Ids {}

static IDS: OnceLock<Ids> = OnceLock::new();

/// Epan's own "Malformed Packet" protocol, so `_ws.malformed` matches our
/// undecodable packets as it does packets that raised an exception.
static PROTO_MALFORMED: AtomicI32 = AtomicI32::new(-1);

fn ids() -> &'static Ids {
    IDS.get().expect("dissecting before registration")
}

/// The `hf` id of `hf::ALL[i]` (the protocol id for a protocol's own entry).
pub fn hf_id(i: usize) -> c_int {
    assert!(i < hf::ALL.len());
    // SAFETY: the array has hf::ALL.len() initialised entries, leaked, and
    // `i` is in range.
    unsafe { *ids().hf.add(i) }
}

/// The `ett` id for the subtree of `hf::ALL[i]`.
pub fn ett_field(i: usize) -> c_int {
    assert!(i < N_ETT);
    // SAFETY: the array has N_ETT initialised entries, leaked, and `i` is in range.
    unsafe { *ids().ett.add(i) }
}

pub fn ett_root(root: Root) -> c_int {
    ett_field(hf::ALL.len() + root as usize)
}

pub fn proto(root: Root) -> c_int {
    match root {
        Root::Pplive => ids().proto_pplive,
        Root::Pptv => ids().proto_pptv,
    }
}

/// The `ei` of `ei::ALL[i]`; `i == ei::ALL.len()` is "malformed".
pub fn ei(i: usize) -> *mut ExpertField {
    assert!(i <= ei::ALL.len());
    // SAFETY: the array has ei::ALL.len() + 1 entries and `i` is at most the
    // last index, so the pointer stays inside the allocation.
    unsafe { ids().ei.add(i) }
}

pub fn ei_malformed() -> *mut ExpertField {
    ei(ei::ALL.len())
}

pub fn proto_malformed() -> c_int {
    PROTO_MALFORMED.load(Ordering::Relaxed)
}

/// One ett per field, then one per protocol.
const N_ETT: usize = hf::ALL.len() + 2;

fn leak_str(s: &str) -> *const c_char {
    CString::new(s).expect("registry strings have no NUL").into_raw()
}

fn leak<T>(v: Vec<T>) -> *mut T {
    Box::leak(v.into_boxed_slice()).as_mut_ptr()
}

fn field_type(kind: ValueKind) -> ws::ftenum {
    match kind {
        ValueKind::None => ws::ftenum_FT_NONE,
        ValueKind::Bool => ws::ftenum_FT_BOOLEAN,
        ValueKind::U8 => ws::ftenum_FT_UINT8,
        ValueKind::U16 => ws::ftenum_FT_UINT16,
        ValueKind::U32 => ws::ftenum_FT_UINT32,
        ValueKind::Ipv4 => ws::ftenum_FT_IPv4,
        ValueKind::Guid => ws::ftenum_FT_GUID,
        ValueKind::Bytes => ws::ftenum_FT_BYTES,
        ValueKind::Str => ws::ftenum_FT_STRING,
    }
}

fn display(base: Base) -> c_int {
    (match base {
        Base::None => ws::field_display_e_BASE_NONE,
        Base::Dec => ws::field_display_e_BASE_DEC,
        Base::Hex => ws::field_display_e_BASE_HEX,
    }) as c_int
}

/// A `value_string` array, `{0, NULL}`-terminated, or NULL.
fn value_strings(vals: &[(u32, &str)]) -> *const std::os::raw::c_void {
    if vals.is_empty() {
        return ptr::null();
    }
    let mut v: Vec<ws::value_string> =
        vals.iter().map(|(n, s)| ws::value_string { value: *n, strptr: leak_str(s) }).collect();
    v.push(ws::value_string { value: 0, strptr: ptr::null() });
    leak(v).cast()
}

/// A `header_field_info` with the `HFILL` defaults.
fn hfinfo(
    name: *const c_char,
    abbrev: *const c_char,
    type_: ws::ftenum,
    display: c_int,
    strings: *const std::os::raw::c_void,
) -> ws::header_field_info {
    ws::header_field_info {
        name,
        abbrev,
        type_,
        display,
        strings,
        bitmask: 0,
        blurb: ptr::null(),
        id: -1,
        parent: 0,
        ref_type: 0,
        same_name_prev_id: -1,
        same_name_next: ptr::null_mut(),
    }
}

fn root_of(def: &FieldDef) -> Root {
    if def.name == "pptv" || def.name.starts_with("pptv.") {
        Root::Pptv
    } else {
        Root::Pplive
    }
}

fn is_protocol(def: &FieldDef) -> bool {
    def.name == Root::Pplive.filter_name() || def.name == Root::Pptv.filter_name()
}

fn expert_group(def: &NoteDef) -> c_int {
    if core::ptr::eq(def, &ei::UNDECODED) {
        ffi::PI_UNDECODED
    } else if core::ptr::eq(def, &ei::TRUNCATED_RECORD) {
        ffi::PI_MALFORMED
    } else {
        ffi::PI_PROTOCOL
    }
}

fn severity(s: Severity) -> c_int {
    match s {
        Severity::Chat => ffi::PI_CHAT,
        Severity::Note => ffi::PI_NOTE,
        Severity::Warn => ffi::PI_WARN,
        Severity::Error => ffi::PI_ERROR,
    }
}

fn expert(ids: *mut ExpertField, name: &str, group: c_int, severity: c_int, summary: &str) -> EiRegisterInfo {
    EiRegisterInfo {
        ids,
        eiinfo: ExpertFieldInfo {
            name: leak_str(name),
            group,
            severity,
            summary: leak_str(summary),
            id: 0,
            protocol: ptr::null(),
            orig_severity: 0,
            hf_info: ws::hf_register_info {
                p_id: ptr::null_mut(),
                hfinfo: hfinfo(ptr::null(), ptr::null(), ws::ftenum_FT_NONE, 0, ptr::null()),
            },
        },
    }
}

/// `register_protoinfo` of the plugin.
///
/// # Safety
/// Called by epan's plugin loader, once, while protocols are being registered.
pub unsafe extern "C" fn protocols() {
    // SAFETY: epan is registering protocols (caller's contract); the names
    // are static C strings, which epan keeps.
    let (proto_pplive, proto_pptv) = unsafe {
        (
            ws::proto_register_protocol(
                c"PPLive peer-to-peer TV (peerscope)".as_ptr(),
                c"PPLive".as_ptr(),
                c"pplive".as_ptr(),
            ),
            ws::proto_register_protocol(c"PPTV UDP (peerscope)".as_ptr(), c"PPTV".as_ptr(), c"pptv".as_ptr()),
        )
    };
    // SAFETY: forwarded from this function's contract.
    let (hf, ett, ei) = unsafe { (fields(proto_pplive, proto_pptv), subtrees(), experts(proto_pplive)) };
    let _ = IDS.set(Ids { proto_pplive, proto_pptv, hf, ett, ei });
}

/// One `hf` per `hf::ALL` entry, each under its protocol; the protocols'
/// own entries get the protocol ids.
///
/// # Safety
/// As [`protocols`].
unsafe fn fields(proto_pplive: c_int, proto_pptv: c_int) -> *const c_int {
    let proto_of = |root| if root == Root::Pptv { proto_pptv } else { proto_pplive };
    let hf_ids = leak(vec![-1 as c_int; hf::ALL.len()]);
    for root in [Root::Pplive, Root::Pptv] {
        let entries: Vec<ws::hf_register_info> = hf::ALL
            .iter()
            .enumerate()
            .filter(|(_, d)| root_of(d) == root && !is_protocol(d))
            .map(|(i, d)| ws::hf_register_info {
                // SAFETY: `i < hf::ALL.len()`, the length of `hf_ids`.
                p_id: unsafe { hf_ids.add(i) },
                hfinfo: hfinfo(
                    leak_str(d.label),
                    leak_str(d.name),
                    field_type(d.kind),
                    display(d.base),
                    value_strings(d.vals),
                ),
            })
            .collect();
        let n = entries.len() as c_int;
        // SAFETY: the array and everything it points to is leaked, as epan
        // keeps pointers into it; `n` is its length.
        unsafe { ws::proto_register_field_array(proto_of(root), leak(entries), n) };
    }
    for (i, d) in hf::ALL.iter().enumerate() {
        if is_protocol(d) {
            // SAFETY: `i` is in range; epan wrote the other entries and is done.
            unsafe { *hf_ids.add(i) = proto_of(root_of(d)) };
        }
    }
    hf_ids
}

/// [`N_ETT`] subtree ids.
///
/// # Safety
/// As [`protocols`].
unsafe fn subtrees() -> *const c_int {
    let ett_ids = leak(vec![-1 as c_int; N_ETT]);
    // SAFETY: every `i < N_ETT` is inside `ett_ids`.
    let ett_ptrs: Vec<*mut c_int> = (0..N_ETT).map(|i| unsafe { ett_ids.add(i) }).collect();
    // SAFETY: both arrays are leaked, as epan keeps the pointers.
    unsafe { ws::proto_register_subtree_array(leak(ett_ptrs), N_ETT as c_int) };
    ett_ids
}

/// One `ei` per `ei::ALL` entry, then "malformed".
///
/// # Safety
/// As [`protocols`]; `proto_pplive` was just registered.
unsafe fn experts(proto_pplive: c_int) -> *mut ExpertField {
    let ei_ids = leak(vec![ExpertField::INIT; ei::ALL.len() + 1]);
    // SAFETY: every `i <= ei::ALL.len()` is inside `ei_ids`.
    let id = |i: usize| unsafe { ei_ids.add(i) };
    let mut entries: Vec<EiRegisterInfo> = ei::ALL
        .iter()
        .enumerate()
        .map(|(i, d)| expert(id(i), d.name, expert_group(d), severity(d.severity), d.summary))
        .collect();
    entries.push(expert(
        id(ei::ALL.len()),
        "pplive.malformed",
        ffi::PI_MALFORMED,
        ffi::PI_ERROR,
        "Malformed PPLive/PPTV message",
    ));
    let n = entries.len() as c_int;
    // SAFETY: the entries and their strings are leaked, as epan keeps them;
    // the layouts of `EiRegisterInfo` match expert.h (tested in `ffi`).
    unsafe { ffi::expert_register_field_array(ffi::expert_register_protocol(proto_pplive), leak(entries), n) };
    ei_ids
}

/// The UDP ports of 2005 gossip and of the tracker, the TCP port peers move to.
const UDP_PORTS: &std::ffi::CStr = c"4004,8000";
const TCP_PORTS: &std::ffi::CStr = c"8008";

/// `register_handoff` of the plugin.
///
/// # Safety
/// Called by epan's plugin loader, once, after every protocol registered.
pub unsafe extern "C" fn handoff() {
    let proto_pplive = ids().proto_pplive;
    // SAFETY: epan is in its handoff phase (caller's contract), so the udp
    // and tcp heuristic lists and port tables exist; every string is a
    // static C string; the callbacks have the signatures epan expects.
    unsafe {
        PROTO_MALFORMED.store(ws::proto_registrar_get_id_byname(c"_ws.malformed".as_ptr()), Ordering::Relaxed);
        ws::heur_dissector_add(
            c"udp".as_ptr(),
            Some(callbacks::heur_udp),
            c"PPLive/PPTV over UDP".as_ptr(),
            c"pplive_udp".as_ptr(),
            proto_pplive,
            ws::heuristic_enable_e_HEURISTIC_ENABLE,
        );
        ws::heur_dissector_add(
            c"tcp".as_ptr(),
            Some(callbacks::heur_tcp),
            c"PPLive over TCP".as_ptr(),
            c"pplive_tcp".as_ptr(),
            proto_pplive,
            ws::heuristic_enable_e_HEURISTIC_ENABLE,
        );
        let udp = ws::create_dissector_handle(Some(callbacks::port_udp), proto_pplive);
        let tcp = ws::create_dissector_handle(Some(callbacks::port_tcp), proto_pplive);
        ws::dissector_add_uint_range_with_preference(c"udp.port".as_ptr(), UDP_PORTS.as_ptr(), udp);
        ws::dissector_add_uint_range_with_preference(c"tcp.port".as_ptr(), TCP_PORTS.as_ptr(), tcp);
    }
}
