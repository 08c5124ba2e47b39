//! Where a running agent pins its maps in bpffs, so other commands can read them.
//!
//! Layout: `/sys/fs/bpf/peerscope/IFACE/{FLOWS,COUNTERS}` plus an `agent.pid` file
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
        }
    }

    pub fn map(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn exists(&self) -> bool {
        self.dir.is_dir()
    }

    /// Refuses when a live agent already holds the interface; clears what a dead one
    /// left behind.
    pub fn claim(&self) -> Result<(), LiveError> {
        if let Some(pid) = self.owner() {
            if process_alive(pid) && pid != std::process::id() as i32 {
                return Err(LiveError::AlreadyRunning { iface: self.iface.clone(), pid });
            }
        }
        self.remove();
        for (dir, what) in [(&self.dir, "creating pin directory"), (&self.pid_file.parent().unwrap().to_path_buf(), "creating")] {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|source| LiveError::Io { what, path: dir.clone(), source })?;
        }
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&self.pid_file)
            .map_err(|source| LiveError::Io { what: "writing", path: self.pid_file.clone(), source })?;
        use std::io::Write;
        writeln!(f, "{}", std::process::id())
            .map_err(|source| LiveError::Io { what: "writing", path: self.pid_file.clone(), source })?;
        Ok(())
    }

    /// The pid of the agent that claimed the interface, if any.
    pub fn owner(&self) -> Option<i32> {
        fs::read_to_string(&self.pid_file).ok()?.trim().parse().ok()
    }

    /// Removes the pins and the pid file (missing ones are fine).
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
    let res = nix::mount::mount(
        Some("bpf"),
        BPFFS,
        Some("bpf"),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    );
    match res {
        Ok(()) => Ok(()),
        Err(errno) => Err(LiveError::BpffsNotMounted { source: std::io::Error::from(errno) }),
    }
}

fn is_bpffs(path: &Path) -> bool {
    match nix::sys::statfs::statfs(path) {
        Ok(st) => st.filesystem_type().0 as i64 == BPF_FS_MAGIC,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_claim_writes_pid_and_remove_cleans_up() {
        let tmp = std::env::temp_dir().join(format!("peerscope-pins-{}", std::process::id()));
        let pins = PinDir::under(&tmp.join("bpf"), &tmp.join("run"), "veth9");
        pins.claim().unwrap();
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
        assert!(matches!(pins.claim(), Err(LiveError::AlreadyRunning { pid: 1, .. })));
        let _ = fs::remove_dir_all(&tmp);
    }
}
