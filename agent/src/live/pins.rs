//! Where a running agent pins its maps in bpffs, so other commands can read them.
//!
//! Layout: `/sys/fs/bpf/peerscope/IFACE/{FLOW_SLOTS,FLOW_STATS,FLOW_TABLE,COUNTERS,SAMPLES}` plus an `agent.pid` file
//! outside bpffs-only semantics (bpffs holds only BPF objects, so the pid lives in
//! `/run/peerscope/IFACE.pid`).

use std::{
    fs,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt},
    path::{Path, PathBuf},
};

use super::error::LiveError;

pub const BPFFS: &str = "/sys/fs/bpf";
const BPF_FS_MAGIC: i64 = 0xcafe4a11;

/// The pin directory of one interface.
#[derive(Clone, Debug)]
pub struct PinDir {
    pub iface: String,
    pub dir: PathBuf,
    pub pid_file: PathBuf,
    /// The running agent's report document (state and history), for `peerscope report`.
    pub report_file: PathBuf,
}

impl PinDir {
    pub fn for_iface(iface: &str) -> Self {
        Self::under(Path::new(BPFFS), Path::new("/run/peerscope"), iface)
    }

    pub fn under(bpffs: &Path, run_dir: &Path, iface: &str) -> Self {
        PinDir {
            iface: iface.to_string(),
            dir: bpffs.join("peerscope").join(iface),
            pid_file: run_dir.join(format!("{iface}.pid")),
            report_file: run_dir.join(format!("{iface}.report.json")),
        }
    }

    pub fn map(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn exists(&self) -> bool {
        self.dir.is_dir()
    }

    /// Refuses when a live agent already holds the interface.
    pub fn check_owner(&self) -> Result<(), LiveError> {
        match self.live_owner() {
            Some(pid) if pid != std::process::id() as i32 => {
                Err(LiveError::AlreadyRunning { iface: self.iface.clone(), pid })
            }
            _ => Ok(()),
        }
    }

    /// The pid of a running agent holding the interface.
    pub fn live_owner(&self) -> Option<i32> {
        self.owner().filter(|pid| process_alive(*pid))
    }

    /// Whether a program is attached and pinned here (links and maps).
    pub fn has_program(&self) -> bool {
        ["ingress_link", "egress_link", "FLOW_SLOTS", "FLOW_STATS", "FLOW_TABLE", "COUNTERS"]
            .iter()
            .all(|n| self.map(n).exists())
    }

    /// Creates the pin directory (0700).
    pub fn prepare(&self) -> Result<(), LiveError> {
        fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.dir).map_err(|source| LiveError::Io {
            what: "creating pin directory",
            path: self.dir.clone(),
            source,
        })
    }

    /// Records this process as the interface's agent (file mode 0600).
    pub fn write_pid(&self) -> Result<(), LiveError> {
        let parent = self.pid_file.parent().unwrap().to_path_buf();
        fs::DirBuilder::new().recursive(true).mode(0o700).create(&parent).map_err(|source| LiveError::Io {
            what: "creating",
            path: parent,
            source,
        })?;
        let io = |source| LiveError::Io { what: "writing", path: self.pid_file.clone(), source };
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&self.pid_file)
            .map_err(io)?;
        use std::io::Write;
        writeln!(f, "{}", std::process::id()).map_err(io)
    }

    pub fn remove_pid(&self) {
        let _ = fs::remove_file(&self.pid_file);
    }

    /// The pid of the agent that claimed the interface, if any.
    pub fn owner(&self) -> Option<i32> {
        fs::read_to_string(&self.pid_file).ok()?.trim().parse().ok()
    }

    /// Removes the pins and the pid file (missing ones are fine). Removing a link's pin
    /// while no process holds the link detaches its program.
    pub fn remove(&self) {
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let _ = fs::remove_file(e.path());
            }
        }
        let _ = fs::remove_dir(&self.dir);
        if let Some(parent) = self.dir.parent() {
            // Only succeeds when no other interface is pinned.
            let _ = fs::remove_dir(parent);
        }
        let _ = fs::remove_file(&self.pid_file);
    }
}

fn process_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) }
}

/// Makes sure bpffs is mounted at /sys/fs/bpf, mounting it if not.
pub fn ensure_bpffs() -> Result<(), LiveError> {
    if is_bpffs(Path::new(BPFFS)) {
        return Ok(());
    }
    let res = nix::mount::mount(Some("bpf"), BPFFS, Some("bpf"), nix::mount::MsFlags::empty(), None::<&str>);
    match res {
        Ok(()) => Ok(()),
        Err(errno) => Err(LiveError::BpffsNotMounted { source: std::io::Error::from(errno) }),
    }
}

fn is_bpffs(path: &Path) -> bool {
    match nix::sys::statfs::statfs(path) {
        Ok(st) => st.filesystem_type().0 == BPF_FS_MAGIC,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_prepare_writes_pid_and_remove_cleans_up() {
        let tmp = std::env::temp_dir().join(format!("peerscope-pins-{}", std::process::id()));
        let pins = PinDir::under(&tmp.join("bpf"), &tmp.join("run"), "veth9");
        pins.check_owner().unwrap();
        pins.prepare().unwrap();
        pins.write_pid().unwrap();
        assert!(!pins.has_program());
        assert_eq!(pins.owner(), Some(std::process::id() as i32));
        assert!(pins.exists());
        pins.remove();
        assert!(!pins.exists());
        assert_eq!(pins.owner(), None);
        let _ = fs::remove_dir_all(&tmp);
    }

    #[test]
    fn test_claim_refuses_a_live_owner() {
        let tmp = std::env::temp_dir().join(format!("peerscope-pins2-{}", std::process::id()));
        let pins = PinDir::under(&tmp.join("bpf"), &tmp.join("run"), "veth8");
        fs::create_dir_all(tmp.join("run")).unwrap();
        // pid 1 is always alive.
        fs::write(&pins.pid_file, "1\n").unwrap();
        assert!(matches!(pins.check_owner(), Err(LiveError::AlreadyRunning { pid: 1, .. })));
        let _ = fs::remove_dir_all(&tmp);
    }
}
