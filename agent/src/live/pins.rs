//! Where an agent pins its program's maps and links in bpffs, and where it keeps its
//! run files, so other commands (and a restarted agent) find them.
//!
//! An attachment is named `COOKIE-IFINDEX` ([`Target::id`]): its network namespace's
//! cookie and its interface's index, so same-named interfaces of two namespaces never
//! share anything.
//!
//! ```text
//! /sys/fs/bpf/peerscope/ID/   FLOW_SLOTS FLOW_STATS FLOW_TABLE COUNTERS SAMPLES
//!                             ingress_link egress_link
//! /run/peerscope/ID.json      the attachment: interface, namespace, agent pid
//! /run/peerscope/ID.report.json  the running agent's report document
//! /run/peerscope/ID.baseline  what the agent last reported (a restart continues from it)
//! ```
//!
//! Only objects that are ours — our names, and the kernel says they are the map or link
//! type our program creates — are ever removed; anything else found there is reported
//! and left alone.

use std::{
    fs,
    io::Write,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt},
    path::{Path, PathBuf},
};

use peerscope_abi::names;
use serde::{Deserialize, Serialize};

use super::{
    bpfobj::{self, Kind},
    error::LiveError,
    hook::IngressHook,
    netns::Target,
};

pub const BPFFS: &str = "/sys/fs/bpf";
pub const RUN_DIR: &str = "/run/peerscope";
const BPF_FS_MAGIC: i64 = 0xcafe4a11;

/// Names of the pinned links in an attachment's pin directory.
pub const INGRESS_LINK: &str = "ingress_link";
pub const EGRESS_LINK: &str = "egress_link";

/// What a pinned object of ours is: a map of a BPF map type, or a link of a link type
/// (as `/proc/PID/fdinfo` names them).
#[derive(Clone, Copy, Debug)]
enum Expect {
    Map(u32),
    /// A link of one of these types.
    Link(&'static [&'static str]),
}

const BPF_MAP_TYPE_ARRAY: u32 = 2;
const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;
const BPF_MAP_TYPE_RINGBUF: u32 = 27;

/// Every object an agent pins.
const OURS: &[(&str, Expect)] = &[
    (names::FLOW_SLOTS, Expect::Map(BPF_MAP_TYPE_ARRAY)),
    (names::FLOW_STATS, Expect::Map(BPF_MAP_TYPE_ARRAY)),
    (names::FLOW_TABLE, Expect::Map(BPF_MAP_TYPE_ARRAY)),
    (names::COUNTERS, Expect::Map(BPF_MAP_TYPE_PERCPU_ARRAY)),
    (names::SAMPLES, Expect::Map(BPF_MAP_TYPE_RINGBUF)),
    (names::SIZES, Expect::Map(BPF_MAP_TYPE_PERCPU_ARRAY)),
    (INGRESS_LINK, Expect::Link(&["xdp", "tcx"])),
    (EGRESS_LINK, Expect::Link(&["tcx"])),
];

/// Something in our directories that peerscope did not create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Foreign {
    /// Its path.
    pub path: PathBuf,
    /// Why it is not ours (name, object type).
    pub why: String,
}

impl std::fmt::Display for Foreign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}; left alone)", self.path.display(), self.why)
    }
}

/// The attachment record (`ID.json`): what the pins belong to, and the agent holding
/// them while one runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub target: Target,
    /// The running agent; `None` once it stopped and left the program attached.
    pub pid: Option<i32>,
    /// The hook ingress is attached on, and why it was chosen (`None` in records of
    /// older agents).
    #[serde(default)]
    pub ingress: Option<IngressHook>,
    #[serde(default)]
    pub hook_why: Option<String>,
}

/// The pin directory and run files of one attachment.
#[derive(Clone, Debug)]
pub struct PinDir {
    pub id: String,
    pub dir: PathBuf,
    pub record_file: PathBuf,
    /// The running agent's report document (state and history), for `peerscope report`.
    pub report_file: PathBuf,
    /// The counts last reported, saved each poll (see `live::baseline`).
    pub baseline_file: PathBuf,
}

impl PinDir {
    pub fn for_target(t: &Target) -> Self {
        Self::for_id(&t.id())
    }

    pub fn for_id(id: &str) -> Self {
        Self::under(Path::new(BPFFS), Path::new(RUN_DIR), id)
    }

    pub fn under(bpffs: &Path, run_dir: &Path, id: &str) -> Self {
        PinDir {
            id: id.to_string(),
            dir: bpffs.join("peerscope").join(id),
            record_file: run_dir.join(format!("{id}.json")),
            report_file: run_dir.join(format!("{id}.report.json")),
            baseline_file: run_dir.join(format!("{id}.baseline")),
        }
    }

    pub fn map(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn exists(&self) -> bool {
        self.dir.is_dir()
    }

    /// The attachment record, if one was written.
    pub fn record(&self) -> Option<Record> {
        serde_json::from_slice(&fs::read(&self.record_file).ok()?).ok()
    }

    /// Writes the attachment record (0600, replaced atomically).
    pub fn write_record(&self, r: &Record) -> Result<(), LiveError> {
        let bytes = serde_json::to_vec(r).expect("a record serializes");
        write_private(&self.record_file, &bytes)
    }

    /// Records this process as the attachment's agent.
    pub fn claim(&self, target: &Target, ingress: IngressHook, why: &str) -> Result<(), LiveError> {
        self.write_record(&Record {
            target: target.clone(),
            pid: Some(std::process::id() as i32),
            ingress: Some(ingress),
            hook_why: Some(why.to_string()),
        })
    }

    /// Refuses when another live agent holds the attachment.
    pub fn check_owner(&self, target: &Target) -> Result<(), LiveError> {
        match self.live_owner() {
            Some(pid) if pid != std::process::id() as i32 => {
                Err(LiveError::AlreadyRunning { target: target.describe(), iface: target.iface.clone(), pid })
            }
            _ => Ok(()),
        }
    }

    /// The pid of a running agent holding the attachment.
    pub fn live_owner(&self) -> Option<i32> {
        self.record()?.pid.filter(|pid| is_agent(*pid))
    }

    /// Whether a program is attached and pinned here (links and maps).
    pub fn has_program(&self) -> bool {
        // SIZES is not required: pins of an agent from before the size histogram.
        OURS.iter().filter(|(n, _)| *n != names::SAMPLES && *n != names::SIZES).all(|(n, _)| self.map(n).exists())
    }

    /// Whether both pinned links still have their interface: the kernel detaches a
    /// program whose interface was deleted and leaves its link defunct (ifindex 0).
    pub fn links_alive(&self) -> bool {
        [INGRESS_LINK, EGRESS_LINK]
            .iter()
            .all(|n| bpfobj::inspect(&self.map(n)).ok().and_then(|o| o.ifindex()).is_some_and(|i| i != 0))
    }

    /// Creates the pin directory (0700).
    pub fn prepare(&self) -> Result<(), LiveError> {
        fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.dir).map_err(|source| LiveError::Io {
            what: "creating pin directory",
            path: self.dir.clone(),
            source,
        })
    }

    /// Sorts the pin directory's entries into ours and foreign ones.
    pub fn survey(&self) -> (Vec<PathBuf>, Vec<Foreign>) {
        let (mut ours, mut foreign) = (Vec::new(), Vec::new());
        let Ok(entries) = fs::read_dir(&self.dir) else { return (ours, foreign) };
        for e in entries.flatten() {
            let path = e.path();
            match is_ours(&e.file_name().to_string_lossy(), &path) {
                Ok(()) => ours.push(path),
                Err(why) => foreign.push(Foreign { path, why }),
            }
        }
        ours.sort();
        foreign.sort_by(|a, b| a.path.cmp(&b.path));
        (ours, foreign)
    }

    /// Removes our pins (removing a link's pin while no process holds the link detaches
    /// its program) and the run files; returns what was left alone because it is not
    /// ours. The directory goes only when nothing foreign remains in it.
    pub fn remove(&self) -> Vec<Foreign> {
        let (ours, foreign) = self.survey();
        for p in ours {
            let _ = fs::remove_file(p);
        }
        let _ = fs::remove_dir(&self.dir);
        if let Some(parent) = self.dir.parent() {
            // Only succeeds when no other attachment is pinned.
            let _ = fs::remove_dir(parent);
        }
        self.remove_run_files();
        foreign
    }

    /// The run files (record, report, baseline).
    pub fn remove_run_files(&self) {
        for f in [&self.record_file, &self.report_file, &self.baseline_file] {
            let _ = fs::remove_file(f);
        }
    }

    /// The report file only (the agent stopped; what it reported is out of date).
    pub fn remove_reports(&self) {
        let _ = fs::remove_file(&self.report_file);
    }
}

/// Whether the object at `path`, named `name`, is one an agent pins; if not, why.
fn is_ours(name: &str, path: &Path) -> Result<(), String> {
    let Some((_, expect)) = OURS.iter().find(|(n, _)| *n == name) else {
        return Err("not a name peerscope pins".into());
    };
    let obj = bpfobj::inspect(path).map_err(|e| format!("not a BPF object ({e})"))?;
    match (*expect, obj.kind) {
        (Expect::Map(ty), Kind::Map) => {
            let found = obj.field("map_type").and_then(|t| t.parse::<u32>().ok());
            if found != Some(ty) {
                return Err(format!("a map of type {}, not {ty}", found.map_or("?".into(), |t| t.to_string())));
            }
            let kernel_name = aya::maps::MapInfo::from_pin(path).ok().and_then(|i| i.name_as_str().map(str::to_string));
            match kernel_name.as_deref() {
                Some(n) if n == name => Ok(()),
                other => Err(format!("a map named {:?} in the kernel", other.unwrap_or("?"))),
            }
        }
        (Expect::Link(types), Kind::Link) => match obj.field("link_type") {
            Some(t) if types.contains(&t) => Ok(()),
            other => Err(format!("a {} link, not {}", other.unwrap_or("?"), types.join(" or "))),
        },
        (_, kind) => Err(format!("a BPF {kind:?}, not what peerscope pins under this name").to_lowercase()),
    }
}

/// Entries of `/sys/fs/bpf/peerscope` that are no attachment of ours (an older layout,
/// someone else's).
pub fn foreign_entries() -> Vec<Foreign> {
    let root = Path::new(BPFFS).join("peerscope");
    let Ok(entries) = fs::read_dir(&root) else { return Vec::new() };
    let mut out: Vec<Foreign> = entries
        .flatten()
        .filter(|e| super::netns::parse_id(&e.file_name().to_string_lossy()).is_none())
        .map(|e| Foreign { path: e.path(), why: "not named like a peerscope attachment (COOKIE-IFINDEX)".into() })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Writes a file only the owner can read (0600), replacing it atomically (a reader sees
/// the old file or the new one, never a part).
pub fn write_private(path: &Path, data: &[u8]) -> Result<(), LiveError> {
    write_private_parts(path, &[data])
}

/// [`write_private`] of the concatenation of `parts` (written in turn, never copied
/// into one buffer).
pub fn write_private_parts(path: &Path, parts: &[&[u8]]) -> Result<(), LiveError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|source| LiveError::Io {
        what: "creating",
        path: dir.to_path_buf(),
        source,
    })?;
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let io = |source| LiveError::Io { what: "writing", path: tmp.clone(), source };
    let f = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(io)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
    for part in parts {
        w.write_all(part).map_err(io)?;
    }
    w.flush().map_err(io)?;
    drop(w);
    fs::rename(&tmp, path).map_err(|source| {
        let _ = fs::remove_file(&tmp);
        LiveError::Io { what: "replacing", path: path.to_path_buf(), source }
    })
}

/// A live peerscope process (a recycled pid that now runs something else is not).
fn is_agent(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(comm) => comm.trim_end().starts_with("peerscope") || pid == std::process::id() as i32,
        Err(_) => false,
    }
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
    use crate::live::netns::{NetNs, Target};

    fn target() -> Target {
        Target { iface: "veth9".into(), ifindex: 9, netns: NetNs { cookie: 77, inode: 4026531840 }, netns_path: None }
    }

    fn tmp(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!("peerscope-pins-{tag}-{}", std::process::id()))
    }

    #[test]
    fn test_claim_writes_the_record_and_remove_cleans_up() {
        let tmp = tmp("claim");
        let t = target();
        let pins = PinDir::under(&tmp.join("bpf"), &tmp.join("run"), &t.id());
        assert!(pins.dir.ends_with("peerscope/77-9"), "{}", pins.dir.display());
        pins.check_owner(&t).unwrap();
        pins.prepare().unwrap();
        pins.claim(&t, IngressHook::Tcx, "test").unwrap();
        assert!(!pins.has_program());
        assert_eq!(pins.record().unwrap().target, t);
        assert_eq!(pins.live_owner(), Some(std::process::id() as i32));
        assert!(pins.exists());
        assert!(pins.remove().is_empty());
        assert!(!pins.exists());
        assert_eq!(pins.live_owner(), None);
        let _ = fs::remove_dir_all(&tmp);
    }

    #[test]
    fn test_a_live_owner_is_refused() {
        let tmp = tmp("owner");
        let t = target();
        let pins = PinDir::under(&tmp.join("bpf"), &tmp.join("run"), &t.id());
        // pid 1 is alive but is no peerscope agent; our own pid is one.
        pins.write_record(&Record { target: t.clone(), pid: Some(1), ingress: None, hook_why: None }).unwrap();
        assert_eq!(pins.live_owner(), None, "a pid running something else is no owner");
        let _ = fs::remove_dir_all(&tmp);
    }

    #[test]
    fn test_foreign_files_are_reported_and_left_alone() {
        let tmp = tmp("foreign");
        let pins = PinDir::under(&tmp.join("bpf"), &tmp.join("run"), "77-9");
        pins.prepare().unwrap();
        // Outside bpffs any file is foreign, even with one of our names.
        fs::write(pins.map("FLOW_SLOTS"), b"x").unwrap();
        fs::write(pins.map("notes.txt"), b"x").unwrap();
        let left = pins.remove();
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(left.iter().any(|f| f.why.starts_with("not a BPF object")), "{left:?}");
        assert!(left.iter().any(|f| f.why == "not a name peerscope pins"), "{left:?}");
        assert!(pins.map("notes.txt").exists() && pins.map("FLOW_SLOTS").exists());
        let _ = fs::remove_dir_all(&tmp);
    }

    #[test]
    fn test_atomic_write_replaces_and_leaves_no_temporary() {
        let tmp = tmp("atomic");
        let f = tmp.join("run/x.json");
        write_private(&f, b"one").unwrap();
        write_private(&f, b"two").unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"two");
        assert_eq!(fs::read_dir(tmp.join("run")).unwrap().count(), 1);
        let _ = fs::remove_dir_all(&tmp);
    }
}
