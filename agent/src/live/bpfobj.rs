//! What a pinned BPF object is, read from the kernel (`/proc/self/fdinfo`): so the agent
//! removes only the maps and links it created, and tells a dead link (its interface
//! gone) from a live one.

use std::{
    collections::HashMap,
    ffi::CString,
    os::fd::{AsRawFd, FromRawFd, OwnedFd},
    os::unix::ffi::OsStrExt,
    path::Path,
};

/// `BPF_OBJ_GET`, the bpf(2) command that opens a pinned object.
const BPF_OBJ_GET: libc::c_long = 7;

/// The kind of a BPF object, as its anonymous inode names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Map,
    Link,
    Program,
    Other,
}

/// One pinned object: its kind and the kernel's `fdinfo` lines (`map_type`, `link_type`,
/// `ifindex`, …).
#[derive(Clone, Debug)]
pub struct Pinned {
    pub kind: Kind,
    pub fields: HashMap<String, String>,
}

impl Pinned {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// A link's interface index; 0 once the interface is gone (the kernel detached the
    /// program and left the link defunct).
    pub fn ifindex(&self) -> Option<u32> {
        self.field("ifindex")?.parse().ok()
    }
}

#[repr(C)]
#[derive(Default)]
struct ObjGetAttr {
    pathname: u64,
    bpf_fd: u32,
    file_flags: u32,
    path_fd: i32,
    // Explicit, so it is zero: the kernel refuses an attribute with non-zero bytes
    // past the fields it knows.
    _pad: u32,
}

/// Opens the object pinned at `path` and reads what it is.
pub fn inspect(path: &Path) -> std::io::Result<Pinned> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| std::io::ErrorKind::InvalidInput)?;
    let attr = ObjGetAttr { pathname: c.as_ptr() as u64, ..Default::default() };
    // SAFETY: bpf(BPF_OBJ_GET) reads `attr` (a path pointer that outlives the call) and
    // returns a new descriptor or -1.
    let fd = unsafe {
        libc::syscall(libc::SYS_bpf, BPF_OBJ_GET, &attr as *const ObjGetAttr, std::mem::size_of::<ObjGetAttr>())
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    describe(fd)
}

/// `bpf(BPF_LINK_GET_FD_BY_ID)`'s attribute.
#[repr(C)]
#[derive(Default)]
struct LinkByIdAttr {
    link_id: u32,
    next_id: u32,
    open_flags: u32,
}

const BPF_LINK_GET_FD_BY_ID: libc::c_long = 30;

/// The link with kernel id `id`, wherever it is pinned or held: `Err` once the kernel
/// has freed it (after a detach).
pub fn link_by_id(id: u32) -> std::io::Result<Pinned> {
    let attr = LinkByIdAttr { link_id: id, ..Default::default() };
    // SAFETY: bpf(BPF_LINK_GET_FD_BY_ID) reads `attr` and returns a new descriptor or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_LINK_GET_FD_BY_ID,
            &attr as *const LinkByIdAttr,
            std::mem::size_of::<LinkByIdAttr>(),
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a fresh descriptor that nothing else owns.
    describe(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// What a descriptor is, from `/proc/self/fd` and its fdinfo.
fn describe(fd: OwnedFd) -> std::io::Result<Pinned> {
    let target = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))?;
    let kind = match target.to_string_lossy().as_ref() {
        "anon_inode:bpf-map" => Kind::Map,
        "anon_inode:bpf_link" | "anon_inode:bpf-link" => Kind::Link,
        "anon_inode:bpf-prog" => Kind::Program,
        _ => Kind::Other,
    };
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd()))?;
    let fields = info
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Pinned { kind, fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_a_path_that_is_not_pinned_is_an_error() {
        assert!(inspect(Path::new("/nonexistent/peerscope")).is_err());
    }
}
