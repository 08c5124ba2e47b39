//! A directory of one test, removed when dropped (even when the test fails).

use std::path::PathBuf;

pub struct TempDir(pub PathBuf);

impl TempDir {
    /// `peerscope-PID-NAME` under the system's temporary directory, empty.
    pub fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("peerscope-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("creating {}: {e}", d.display()));
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
