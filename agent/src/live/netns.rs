//! Network namespaces. An attachment is named by its interface's index *and* its
//! network namespace, so the same interface name in two namespaces (every container's
//! `eth0`) is two attachments that never see each other's pins, files or agent.

use std::{
    fs::File,
    os::{fd::AsRawFd, unix::fs::MetadataExt},
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

use super::error::LiveError;

/// `SO_NETNS_COOKIE` (Linux 5.14): the namespace's 64-bit cookie, never reused while the
/// system runs (unlike its inode number, which the kernel recycles).
const SO_NETNS_COOKIE: libc::c_int = 71;

/// The network namespace of this thread, as the kernel names it in `/proc`.
const THREAD_NETNS: &str = "/proc/thread-self/ns/net";

/// Where `ip netns` keeps the namespaces it names.
const IP_NETNS_DIR: &str = "/run/netns";

/// One network namespace: its cookie (the identity pins are named by) and its inode
/// (what `lsns -t net` and `/proc/PID/ns/net` show, as `net:[INODE]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NetNs {
    pub cookie: u64,
    pub inode: u64,
}

impl NetNs {
    /// The namespace the calling thread is in.
    pub fn current() -> Result<NetNs, LiveError> {
        let inode = std::fs::metadata(THREAD_NETNS)
            .map_err(|source| LiveError::Io { what: "reading", path: THREAD_NETNS.into(), source })?
            .ino();
        Ok(NetNs { cookie: current_cookie()?, inode })
    }

    /// `net:[INODE]`, as `ls -l /proc/PID/ns/net` shows it.
    pub fn label(&self) -> String {
        format!("net:[{}]", self.inode)
    }

    /// The `ip netns` name of this namespace, when it has one.
    pub fn ip_netns_name(&self) -> Option<String> {
        std::fs::read_dir(IP_NETNS_DIR).ok()?.flatten().find_map(|e| {
            let md = std::fs::metadata(e.path()).ok()?;
            (md.ino() == self.inode).then(|| e.file_name().to_string_lossy().into_owned())
        })
    }
}

fn current_cookie() -> Result<u64, LiveError> {
    let io = |source| LiveError::Io {
        what: "reading the network namespace cookie (Linux 5.14+) of",
        path: THREAD_NETNS.into(),
        source,
    };
    // SAFETY: a plain socket(2) call; the descriptor is owned by `sock` below.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io(std::io::Error::last_os_error()));
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let mut cookie = 0u64;
    let mut len = std::mem::size_of::<u64>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `cookie`.
    let rc = unsafe {
        libc::getsockopt(sock.as_raw_fd(), libc::SOL_SOCKET, SO_NETNS_COOKIE, (&raw mut cookie).cast(), &mut len)
    };
    if rc != 0 {
        return Err(io(std::io::Error::last_os_error()));
    }
    Ok(cookie)
}

/// Runs `f` in the network namespace at `path` (`/run/netns/NAME`, `/proc/PID/ns/net`),
/// on a thread of its own so the caller's namespace is untouched; with no path, runs
/// it here. Only the network namespace changes: `/sys/fs/bpf`, where pins live, stays
/// the caller's.
pub fn within<T: Send>(path: Option<&Path>, f: impl FnOnce() -> T + Send) -> Result<T, LiveError> {
    let Some(path) = path else { return Ok(f()) };
    let file = open_netns(path)?;
    std::thread::scope(|s| {
        s.spawn(move || {
            nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| LiveError::Io {
                what: "entering the network namespace",
                path: path.to_path_buf(),
                source: e.into(),
            })?;
            Ok(f())
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Moves the calling thread into the namespace at `path` for good (`run --netns`, done
/// before any other thread exists, so every thread the agent starts is there too).
pub fn enter(path: &Path) -> Result<(), LiveError> {
    let file = open_netns(path)?;
    nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| LiveError::Io {
        what: "entering the network namespace",
        path: path.to_path_buf(),
        source: e.into(),
    })
}

fn open_netns(path: &Path) -> Result<File, LiveError> {
    let file = File::open(path).map_err(|source| LiveError::Io {
        what: "opening the network namespace",
        path: path.to_path_buf(),
        source,
    })?;
    // nsfs files are the only ones setns accepts; say so before the kernel's EINVAL does.
    let ns_type = nix::sys::statfs::fstatfs(&file).map(|s| s.filesystem_type().0).unwrap_or(0);
    const NSFS_MAGIC: i64 = 0x6e73_6673;
    if ns_type != NSFS_MAGIC {
        return Err(LiveError::NotANamespace { path: path.to_path_buf() });
    }
    Ok(file)
}

/// What an agent attaches to: one interface, by index, in one network namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The interface's name when it was resolved (names can change; the index cannot).
    pub iface: String,
    pub ifindex: u32,
    pub netns: NetNs,
    /// The namespace path given with `--netns`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netns_path: Option<PathBuf>,
}

impl Target {
    /// The interface named `iface` in the namespace at `netns` (or the caller's).
    pub fn resolve(iface: &str, netns: Option<&Path>) -> Result<Target, LiveError> {
        let iface_owned = iface.to_string();
        let (ifindex, ns) = within(netns, move || Ok::<_, LiveError>((if_index(&iface_owned)?, NetNs::current()?)))??;
        Ok(Target { iface: iface.to_string(), ifindex, netns: ns, netns_path: netns.map(Path::to_path_buf) })
    }

    /// The attachment's name in pins and run files: `COOKIE-IFINDEX`.
    pub fn id(&self) -> String {
        id_of(self.netns.cookie, self.ifindex)
    }

    /// `eth0 in net:[4026531840]`, for messages.
    pub fn describe(&self) -> String {
        format!("{} (ifindex {}) in {}", self.iface, self.ifindex, self.netns.label())
    }
}

/// `COOKIE-IFINDEX`.
pub fn id_of(cookie: u64, ifindex: u32) -> String {
    format!("{cookie}-{ifindex}")
}

/// Parses an attachment name written by [`id_of`]; anything else is not ours.
pub fn parse_id(name: &str) -> Option<(u64, u32)> {
    let (cookie, ifindex) = name.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(cookie) || !digits(ifindex) {
        return None;
    }
    Some((cookie.parse().ok()?, ifindex.parse().ok()?))
}

/// Resolves an interface name to its index in this thread's namespace.
pub fn if_index(iface: &str) -> Result<u32, LiveError> {
    let unknown = || LiveError::UnknownInterface { iface: iface.to_string() };
    let c = std::ffi::CString::new(iface).map_err(|_| unknown())?;
    // SAFETY: a valid C string.
    match unsafe { libc::if_nametoindex(c.as_ptr()) } {
        0 => Err(unknown()),
        i => Ok(i),
    }
}

/// The name of interface `ifindex` in this thread's namespace, if it exists.
pub fn if_name(ifindex: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: the buffer holds IF_NAMESIZE bytes, as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(ifindex, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: if_indextoname wrote a NUL-terminated name into `buf`.
    Some(unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_current_namespace_has_a_cookie_and_an_inode() {
        let a = NetNs::current().unwrap();
        let b = NetNs::current().unwrap();
        assert_eq!(a, b);
        assert!(a.inode > 0);
        assert!(a.label().starts_with("net:["));
    }

    #[test]
    fn test_ids_round_trip_and_foreign_names_are_not_ours() {
        assert_eq!(parse_id(&id_of(4096, 7)), Some((4096, 7)));
        for name in ["eth0", "4096", "4096-", "-7", "4096-7-x", "40a6-7", "veth-1"] {
            assert_eq!(parse_id(name), None, "{name}");
        }
    }

    #[test]
    fn test_loopback_resolves_here() {
        let t = Target::resolve("lo", None).unwrap();
        assert_eq!(t.ifindex, 1);
        assert_eq!(if_name(1).as_deref(), Some("lo"));
        assert!(matches!(Target::resolve("no-such-if0", None), Err(LiveError::UnknownInterface { .. })));
    }

    #[test]
    fn test_a_file_that_is_no_namespace_is_refused() {
        assert!(matches!(within(Some(Path::new("/proc/self/status")), || ()), Err(LiveError::NotANamespace { .. })));
    }
}
