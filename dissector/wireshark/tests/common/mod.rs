//! Shared by the tshark tests: a tiny pcap writer, tshark runners, and the
//! check that tshark and the installed plugin are there.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use etherparse::PacketBuilder;

/// The file name `cargo xtask plugin` installs the plugin under.
pub const PLUGIN_FILE: &str = "peerscope-pplive.so";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// This tree's plugin, as `cargo xtask plugin` (and `cargo xtask test`) builds it.
fn built_plugin() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("wireshark-plugin/libpeerscope_wireshark.so")
}

/// Where the installed plugin is, by `tshark -G plugins`.
fn installed_plugin() -> Option<PathBuf> {
    let out = Command::new("tshark").args(["-G", "plugins"]).output().ok()?;
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = listing.lines().find(|l| l.contains(PLUGIN_FILE))?;
    line.split('\t').next_back().map(PathBuf::from).filter(|p| p.is_file())
}

/// A tshark command that loads this tree's build of the plugin: as root,
/// tshark runs in a private mount namespace where the built plugin is bound
/// over the installed one, so the tests check this tree's plugin even when
/// another checkout installed its own meanwhile. Otherwise (not root, no
/// build, nothing installed) plain tshark with whatever is installed.
pub fn tshark_command() -> Command {
    static CHOICE: std::sync::OnceLock<Option<(PathBuf, PathBuf)>> = std::sync::OnceLock::new();
    let choice = CHOICE.get_or_init(|| {
        let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        let built = built_plugin();
        let installed = installed_plugin()?;
        (root && built.is_file()).then_some((built, installed))
    });
    match choice {
        Some((built, installed)) => {
            let mut c = Command::new("unshare");
            c.args(["--mount", "--propagation", "private", "sh", "-c"])
                .arg(r#"b=$1; i=$2; shift 2; mount --bind "$b" "$i" && exec tshark "$@""#)
                .arg("sh")
                .arg(built)
                .arg(installed);
            c
        }
        None => Command::new("tshark"),
    }
}

/// True when tshark runs and lists the plugin. Otherwise fails under CI
/// (CI=true) and skips loudly elsewhere: never a silent pass.
pub fn plugin_ready(test: &str) -> bool {
    let listed = tshark_command().args(["-G", "plugins"]).output().ok().filter(|o| o.status.success());
    let problem = match listed {
        None => "needs `tshark` (install it with `cargo xtask setup`)",
        Some(o) if !String::from_utf8_lossy(&o.stdout).contains(PLUGIN_FILE) => {
            "needs the Wireshark plugin installed (`cargo xtask plugin`)"
        }
        Some(_) => return true,
    };
    if in_ci() {
        panic!("{test}: {problem}; CI=true, so this is a failure, not a skip");
    }
    eprintln!("\n*** SKIPPED {test}: {problem} ***\n");
    false
}

/// An Ethernet/IPv4/UDP frame between documentation addresses.
pub fn udp(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4([192, 0, 2, 1], [192, 0, 2, 2], 64)
        .udp(src_port, dst_port);
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).unwrap();
    out
}

/// Sequence numbers for [`tcp`]: each segment follows the last one, or tshark
/// would take a repeated segment for a retransmission and not dissect it.
static TCP_SEQ: AtomicU32 = AtomicU32::new(1000);

/// An Ethernet/IPv4/TCP frame (PSH|ACK) between documentation addresses.
pub fn tcp(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let seq = TCP_SEQ.fetch_add(payload.len() as u32, Ordering::Relaxed);
    let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4([192, 0, 2, 1], [192, 0, 2, 2], 64)
        .tcp(src_port, dst_port, seq, 65535)
        .psh()
        .ack(1);
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).unwrap();
    out
}

/// An Ethernet/IPv4/TCP frame of a connection from 192.0.2.1 to 192.0.2.2:
/// a SYN (no payload) or a PSH|ACK segment at `seq`.
pub fn tcp_seg(src_port: u16, dst_port: u16, seq: u32, syn: bool, payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4([192, 0, 2, 1], [192, 0, 2, 2], 64)
        .tcp(src_port, dst_port, seq, 65535);
    let b = if syn { b.syn() } else { b.psh().ack(1) };
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).unwrap();
    out
}

/// The frames of one connection carrying `msg`: a SYN, then the segments cut
/// at `cuts` sent in `order`, then `extra` (start, end) ranges resent
/// (retransmissions, overlaps).
pub fn connection(
    ports: (u16, u16),
    isn: u32,
    msg: &[u8],
    cuts: &[usize],
    order: &[usize],
    extra: &[(usize, usize)],
) -> Vec<Vec<u8>> {
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(msg.len());
    let seg = |a: usize, b: usize| tcp_seg(ports.0, ports.1, isn + 1 + a as u32, false, &msg[a..b]);
    let mut out = vec![tcp_seg(ports.0, ports.1, isn, true, b"")];
    out.extend(order.iter().map(|&i| seg(bounds[i], bounds[i + 1])));
    out.extend(extra.iter().map(|&(a, b)| seg(a, b)));
    out
}

/// A pcap file removed (with its directory, once empty) when dropped.
pub struct TempPcap(PathBuf);

impl std::ops::Deref for TempPcap {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempPcap {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Writes a classic pcap (microsecond, Ethernet) holding `frames`, one per second.
pub fn write_pcap(name: &str, frames: &[Vec<u8>]) -> TempPcap {
    write_pcap_snap(name, frames, 65535)
}

/// [`write_pcap`] with frames cut at `snaplen` bytes, as `tcpdump -s` does.
pub fn write_pcap_snap(name: &str, frames: &[Vec<u8>], snaplen: u32) -> TempPcap {
    let dir = std::env::temp_dir().join(format!("peerscope-wireshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    for v in [0u32, 0, snaplen, 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (i, f) in frames.iter().enumerate() {
        let cap = &f[..f.len().min(snaplen as usize)];
        for v in [i as u32 + 1, 0, cap.len() as u32, f.len() as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(cap);
    }
    std::fs::write(&path, out).unwrap();
    TempPcap(path)
}

/// Runs tshark on `pcap`; panics unless it exits 0. Returns stdout.
pub fn tshark(pcap: &Path, args: &[&str]) -> String {
    let out = tshark_command().arg("-n").arg("-r").arg(pcap).args(args).output().expect("running tshark");
    assert!(
        out.status.success(),
        "tshark {args:?} on {} exited with {}: {}",
        pcap.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// One line per frame of `tshark -T fields -e …`, fields split on tabs.
pub fn fields(pcap: &Path, names: &[&str]) -> Vec<Vec<String>> {
    let mut args = vec!["-T", "fields"];
    for n in names {
        args.extend(["-e", n]);
    }
    tshark(pcap, &args).lines().map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

/// [`fields`] with extra tshark options before the field list.
pub fn fields_with(pcap: &Path, extra: &[&str], names: &[&str]) -> Vec<Vec<String>> {
    let mut args: Vec<&str> = extra.to_vec();
    args.extend(["-T", "fields"]);
    for n in names {
        args.extend(["-e", n]);
    }
    tshark(pcap, &args).lines().map(|l| l.split('\t').map(str::to_string).collect()).collect()
}
