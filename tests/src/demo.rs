//! Running `peerscope demo` from a test, and finding what of it might remain.

use std::{
    collections::BTreeSet,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    process::Command,
    sync::Mutex,
};

use crate::bin_path::peerscope;

/// One swarm at a time: each is a few dozen namespaces on a small machine.
pub static ONE_SWARM: Mutex<()> = Mutex::new(());

/// A fresh output directory under the system's temp dir, removed on drop.
pub struct OutDir(pub PathBuf);

impl OutDir {
    pub fn new(tag: &str) -> Self {
        let d = std::env::temp_dir().join(format!("peerscope-demo-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        OutDir(d)
    }

    pub fn json(&self, name: &str) -> serde_json::Value {
        let p = self.0.join(name);
        let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()))
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn demo_command(out: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(peerscope());
    c.arg("demo").arg("--out").arg(out).args(args);
    c
}

/// Network-namespace inodes any process or open file still refers to.
pub fn live_netns_inodes() -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    let Ok(procs) = std::fs::read_dir("/proc") else { return out };
    for p in procs.flatten() {
        if !p.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(tasks) = std::fs::read_dir(p.path().join("task")) {
            for t in tasks.flatten() {
                if let Ok(m) = std::fs::metadata(t.path().join("ns/net")) {
                    out.insert(m.ino());
                }
            }
        }
        if let Ok(fds) = std::fs::read_dir(p.path().join("fd")) {
            for fd in fds.flatten() {
                if let Ok(target) = std::fs::read_link(fd.path()) {
                    let t = target.to_string_lossy();
                    if let Some(n) = t.strip_prefix("net:[").and_then(|r| r.strip_suffix(']')) {
                        if let Ok(n) = n.parse() {
                            out.insert(n);
                        }
                    }
                }
            }
        }
    }
    out
}

/// Interface names of the test's own (root) network namespace.
pub fn root_links() -> BTreeSet<String> {
    let out = Command::new("ip").args(["-o", "link", "show"]).output().expect("running ip");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .collect()
}

/// Panics naming whatever of the demo recorded in `topology.json` is still there:
/// a namespace (and so its links and qdiscs), a link in this namespace, a pin.
pub fn assert_nothing_left(out: &OutDir, links_before: &BTreeSet<String>) {
    let topo = out.json("topology.json");
    let ours: BTreeSet<u64> =
        topo["netns_inodes"].as_array().expect("netns_inodes").iter().map(|v| v.as_u64().unwrap()).collect();
    assert!(ours.len() >= 5, "topology.json lists the namespaces: {topo}");
    let left: Vec<u64> = ours.intersection(&live_netns_inodes()).copied().collect();
    assert!(left.is_empty(), "namespaces still alive: {left:?}");
    let new_links: Vec<String> =
        root_links().difference(links_before).filter(|l| l.starts_with("ps")).cloned().collect();
    assert!(new_links.is_empty(), "links left in the root namespace: {new_links:?}");
    let pins = Path::new("/sys/fs/bpf/peerscope/ps0");
    assert!(!pins.exists(), "pins left at {}", pins.display());
}
