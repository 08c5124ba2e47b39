//! Two network namespaces joined by a veth pair, removed on drop (also when the test
//! panics).

use std::{
    fs::File,
    path::PathBuf,
    process::Command,
    sync::atomic::{AtomicU32, Ordering},
    thread,
};

use nix::sched::{setns, CloneFlags};
use peerscope::live::{pins::PinDir, Target};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Namespace `a` (the monitored host, 192.0.2.1 / 2001:db8::1) and `b` (its peer,
/// 192.0.2.2 / 2001:db8::2), joined by `a_if` — `b_if`.
pub struct VethPair {
    pub ns_a: String,
    pub ns_b: String,
    pub a_if: String,
    pub b_if: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("running ip (iproute2)");
    assert!(out.status.success(), "ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
}

pub const A_V4: [u8; 4] = [192, 0, 2, 1];
pub const B_V4: [u8; 4] = [192, 0, 2, 2];
pub const A_V6: &str = "2001:db8::1";
pub const B_V6: &str = "2001:db8::2";

impl VethPair {
    /// Creates the pair; `offloads` keeps the kernel's segmentation offloads (GSO/TSO)
    /// on, otherwise they are turned off so that every skb is one wire packet.
    pub fn new(tag: &str, offloads: bool) -> Self {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let id = format!("{}{}", std::process::id() % 100_000, n);
        let pair = VethPair {
            ns_a: format!("pst-{tag}-{id}-a"),
            ns_b: format!("pst-{tag}-{id}-b"),
            a_if: format!("pa{id}"),
            b_if: format!("pb{id}"),
        };
        // The guard exists before anything is created, so a failure below cleans up.
        ip(&["netns", "add", &pair.ns_a]);
        ip(&["netns", "add", &pair.ns_b]);
        pair.make_link(offloads);
        pair
    }

    /// The veth pair between the namespaces, addressed, up, with static neighbours.
    fn make_link(&self, offloads: bool) {
        ip(&[
            "link", "add", &self.a_if, "netns", &self.ns_a, "type", "veth", "peer", "name", &self.b_if, "netns",
            &self.ns_b,
        ]);
        for (ns, ifc, v4, v6) in [
            (&self.ns_a, &self.a_if, "192.0.2.1/24", "2001:db8::1/64"),
            (&self.ns_b, &self.b_if, "192.0.2.2/24", "2001:db8::2/64"),
        ] {
            ip(&["-n", ns, "addr", "add", v4, "dev", ifc]);
            ip(&["-n", ns, "-6", "addr", "add", v6, "dev", ifc, "nodad"]);
            ip(&["-n", ns, "link", "set", ifc, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
            if !offloads {
                let out = Command::new("ip")
                    .args([
                        "netns",
                        "exec",
                        ns,
                        "ethtool",
                        "-K",
                        ifc,
                        "tso",
                        "off",
                        "gso",
                        "off",
                        "gro",
                        "off",
                        "tx-udp-segmentation",
                        "off",
                    ])
                    .output()
                    .expect("running ethtool");
                assert!(out.status.success(), "ethtool: {}", String::from_utf8_lossy(&out.stderr));
            }
        }
        // Static neighbours: no ARP/ND exchange can delay or drop a test's first packets.
        let mac = |ns: &str, ifc: &str| -> String {
            let out =
                Command::new("ip").args(["-n", ns, "-j", "link", "show", "dev", ifc]).output().expect("ip link show");
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ip -j output");
            v[0]["address"].as_str().expect("link address").to_string()
        };
        let (mac_a, mac_b) = (mac(&self.ns_a, &self.a_if), mac(&self.ns_b, &self.b_if));
        for (ns, ifc, peer_mac, v4, v6) in
            [(&self.ns_a, &self.a_if, &mac_b, "192.0.2.2", B_V6), (&self.ns_b, &self.b_if, &mac_a, "192.0.2.1", A_V6)]
        {
            for addr in [v4, v6] {
                ip(&["-n", ns, "neigh", "replace", addr, "lladdr", peer_mac, "dev", ifc, "nud", "permanent"]);
            }
        }
    }

    /// Deletes the veth pair (both ends: the kernel detaches any program from them).
    pub fn delete_link(&self) {
        ip(&["-n", &self.ns_a, "link", "del", &self.a_if]);
    }

    /// Creates the pair again under the same names (new interface indexes), as a
    /// container runtime recreates a container's `eth0`.
    pub fn recreate_link(&self) {
        self.make_link(false);
    }

    pub fn ns_path(ns: &str) -> PathBuf {
        PathBuf::from("/run/netns").join(ns)
    }

    /// Where an agent on `a_if` keeps its pins and run files (named by namespace and
    /// interface index, so the same interface name elsewhere is another attachment).
    pub fn pins_a(&self) -> PinDir {
        pins_of(&self.ns_a, &self.a_if).expect("namespace a and its interface exist")
    }

    /// Renames both ends (links go down for it, and come back up): two pairs renamed
    /// alike give two namespaces with the same interface names.
    pub fn rename(&mut self, a_if: &str, b_if: &str) {
        for (ns, old, new) in [(&self.ns_a, &self.a_if, a_if), (&self.ns_b, &self.b_if, b_if)] {
            ip(&["-n", ns, "link", "set", "dev", old, "down"]);
            ip(&["-n", ns, "link", "set", "dev", old, "name", new]);
            ip(&["-n", ns, "link", "set", "dev", new, "up"]);
        }
        self.a_if = a_if.to_string();
        self.b_if = b_if.to_string();
    }
}

/// The inode of namespace `ns` (by `ip netns` name): the agent's `netns` label.
pub fn netns_inode(ns: &str) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(VethPair::ns_path(ns)).map(|m| m.ino()).expect("the namespace exists")
}

/// The pin directory of an attachment to `iface` in namespace `ns` (by `ip netns` name).
pub fn pins_of(ns: &str, iface: &str) -> Option<PinDir> {
    let t = Target::resolve(iface, Some(&VethPair::ns_path(ns))).ok()?;
    Some(PinDir::for_target(&t))
}

impl Drop for VethPair {
    fn drop(&mut self) {
        // Pins an agent left for these interfaces (named by these namespaces, so no
        // other run's), then the namespaces: deleting them deletes the veth pair and any
        // program attached to it.
        for (ns, ifc) in [(&self.ns_a, &self.a_if), (&self.ns_b, &self.b_if)] {
            if let Some(p) = pins_of(ns, ifc) {
                let _ = std::fs::remove_dir_all(&p.dir);
                p.remove_run_files();
            }
        }
        for ns in [&self.ns_a, &self.ns_b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

/// Runs `f` on a thread that has entered network namespace `ns` (only the network
/// namespace: the file system, bpffs included, stays the host's).
pub fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = VethPair::ns_path(ns);
    thread::spawn(move || {
        let file = File::open(&path).unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
        setns(file, CloneFlags::CLONE_NEWNET).expect("setns into the test namespace");
        f()
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// A child process killed (SIGKILL) and reaped when the guard drops, so a failing test
/// leaves no agent behind.
pub struct ChildGuard(pub Option<std::process::Child>);

impl ChildGuard {
    pub fn id(&self) -> u32 {
        self.0.as_ref().unwrap().id()
    }

    pub fn take(&mut self) -> std::process::Child {
        self.0.take().unwrap()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
