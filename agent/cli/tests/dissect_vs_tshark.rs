//! Property: for generated messages and generated display filters,
//! `peerscope dissect -Y F` selects the same frames as `tshark -2 -Y F` with
//! the installed Wireshark plugin (`cargo xtask plugin`). Needs tshark and
//! the plugin: fails under CI=true without them, skips loudly otherwise.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;

use etherparse::PacketBuilder;
use peerscope::offline::synth::{Link, SynthPcap};
use peerscope_dissector::v2010::tracker::TrackerMessage;
use peerscope_dissector::{GossipRepr, Guid, HostRecordRepr, NatType, PeerEntryRepr, TrackerReplyRepr, TrackerRepr};

/// A tshark that loads this tree's build of the plugin (as root: bound over
/// the installed one in a private mount namespace, so another checkout's
/// install meanwhile does not matter); plain tshark otherwise.
fn tshark() -> Command {
    let built = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("wireshark-plugin/libpeerscope_wireshark.so");
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let installed = Command::new("tshark").args(["-G", "plugins"]).output().ok().and_then(|o| {
        let listing = String::from_utf8_lossy(&o.stdout).into_owned();
        listing
            .lines()
            .find(|l| l.contains("peerscope-pplive.so"))
            .and_then(|l| l.split('\t').next_back().map(PathBuf::from))
    });
    match installed.filter(|i| root && built.is_file() && i.is_file()) {
        Some(installed) => {
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

fn plugin_ready() -> bool {
    let listed = tshark().args(["-G", "plugins"]).output().ok().filter(|o| o.status.success());
    let problem = match listed {
        None => "needs `tshark` (`cargo xtask setup`)",
        Some(o) if !String::from_utf8_lossy(&o.stdout).contains("peerscope-pplive.so") => {
            "needs the Wireshark plugin installed (`cargo xtask plugin`)"
        }
        Some(_) => return true,
    };
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("dissect_vs_tshark: {problem}; CI=true, so this is a failure, not a skip");
    }
    eprintln!("\n*** SKIPPED dissect_vs_tshark: {problem} ***\n");
    false
}

/// xorshift64*: the same cases on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

/// Addresses the messages name: a few, so filters on them match some frames.
const IPS: [[u8; 4]; 5] = [[203, 0, 113, 1], [203, 0, 113, 2], [10, 0, 0, 5], [198, 51, 100, 9], [192, 168, 1, 4]];
const PORTS: [u16; 3] = [4004, 5041, 8008];
const CCTV5: &str = "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}";

fn hosts(r: &mut Rng) -> Vec<HostRecordRepr> {
    (0..r.below(5))
        .map(|_| HostRecordRepr {
            ip: Ipv4Addr::from(*r.pick(&IPS)),
            udp_port: *r.pick(&PORTS),
            tcp_port: 8008,
            unknown: [0; 10],
        })
        .collect()
}

fn message(r: &mut Rng, transaction: u32) -> (u16, u16, Vec<u8>) {
    let mut out = Vec::new();
    match r.below(3) {
        0 => {
            let header = [0x02, 0, 0, 0x02, 0x99, 0x58, 0x98, 0, 0x2d, 0x5a, 0x98, 0, 0x02];
            TrackerReplyRepr { header, hosts: hosts(r) }.emit(&mut out);
            (8000, 4004, out)
        }
        1 => {
            let g =
                GossipRepr { header: [2, 0, 0, 2], channel: CCTV5.parse().unwrap(), unknown: [0; 20], hosts: hosts(r) };
            g.emit(&mut out).unwrap();
            (4004, 4004, out)
        }
        _ => {
            let peers = (0..r.below(4))
                .map(|i| PeerEntryRepr {
                    ip: Ipv4Addr::from(*r.pick(&IPS)),
                    udp_port: *r.pick(&PORTS),
                    version: 0x010c,
                    detected_ip: Ipv4Addr::new(203, 0, 113, i as u8),
                    detected_port: 5042,
                    stun_ip: Ipv4Addr::new(192, 0, 2, 9),
                    stun_port: 3478,
                    nat_type: NatType::PortRestricted,
                    upload_priority: 1,
                    idle_minutes: 2,
                    tracker_priority: 3,
                })
                .collect();
            let repr = TrackerRepr {
                checksum: 0x1234_5678,
                transaction_id: transaction,
                message: TrackerMessage::ListResponse {
                    error_code: 0,
                    resource_id: Guid::parse_text(CCTV5).unwrap(),
                    peers,
                },
            };
            repr.emit(&mut out).unwrap();
            (5041, 40002, out)
        }
    }
}

/// A filter of tshark's grammar over the fields the messages carry.
fn filter(r: &mut Rng, depth: u32) -> String {
    if depth > 0 && r.below(3) == 0 {
        let (a, b) = (filter(r, depth - 1), filter(r, depth - 1));
        return match r.below(3) {
            0 => format!("({a}) && ({b})"),
            1 => format!("({a}) || ({b})"),
            _ => format!("!({a})"),
        };
    }
    let ip = || IPS.map(|o| Ipv4Addr::from(o).to_string());
    let ips = ip();
    match r.below(10) {
        0 => r
            .pick(&["pplive", "pptv", "pplive.gossip", "pplive.tracker", "peerscope.expert.private_address"])
            .to_string(),
        1 => format!("pplive.host.ip {} {}", r.pick(&["==", "!=", "~="]), r.pick(&ips)),
        2 => format!("pptv.peer.ip {} {}", r.pick(&["==", "!=", "~="]), r.pick(&ips)),
        3 => format!("pplive.tracker.count {} {}", r.pick(&["==", "<", ">=", "!="]), r.below(5)),
        4 => format!("pplive.gossip.count == 0x{:x}", r.below(5)),
        5 => format!("pplive.host.udp_port {} {}", r.pick(&["==", ">", "<="]), r.pick(&PORTS)),
        6 => format!("pptv.tracker.count {} {}", r.pick(&["==", ">"]), r.below(4)),
        7 => format!("pptv.action == {}", r.pick(&["0x31", "49", "0x32"])),
        8 => format!("peerscope.id.rule contains \"{}\"", r.pick(&["tracker", "gossip", "pptv", "2005"])),
        _ => format!("peerscope.id.strength == \"{}\"", r.pick(&["strong", "weak"])),
    }
}

struct Capture(PathBuf);

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn dissect_frames(pcap: &Capture, f: &str) -> Vec<u64> {
    let out = Command::new(env!("CARGO_BIN_EXE_peerscope"))
        .args(["dissect", "--json", "-Y", f])
        .arg(&pcap.0)
        .output()
        .unwrap();
    assert!(out.status.success(), "dissect -Y {f:?}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (_, messages) = lines.split_last().expect("a summary");
    messages.iter().map(|m| m["frame"].as_u64().unwrap()).collect()
}

fn tshark_frames(pcap: &Capture, f: &str) -> Vec<u64> {
    let out =
        tshark().args(["-n", "-2", "-Y", f, "-T", "fields", "-e", "frame.number", "-r"]).arg(&pcap.0).output().unwrap();
    assert!(out.status.success(), "tshark -Y {f:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| l.trim().parse().unwrap()).collect()
}

#[test]
fn prop_dissect_filters_select_what_tshark_selects() {
    if !plugin_ready() {
        return;
    }
    let mut r = Rng(0x5eed_0f11);
    let mut p = SynthPcap::new(Link::Ethernet);
    for i in 0..30u32 {
        let (sp, dp, payload) = message(&mut r, i);
        let mut ip = Vec::new();
        PacketBuilder::ipv4([192, 0, 2, 10], [192, 0, 2, 1], 64).udp(sp, dp).write(&mut ip, &payload).unwrap();
        p.raw_ip(1_000_000_000 + u64::from(i) * 1_000_000, &ip);
    }
    let pcap = Capture(std::env::temp_dir().join(format!("peerscope-dissect-vs-tshark-{}.pcap", std::process::id())));
    p.write_file(&pcap.0).unwrap();
    let everything = tshark_frames(&pcap, "pplive || pptv");
    assert_eq!(dissect_frames(&pcap, "pplive || pptv"), everything, "the same messages are shown");
    assert!(everything.len() >= 25, "most generated messages are attributed: {everything:?}");
    let mut differ = Vec::new();
    let mut selective = 0;
    for _ in 0..30 {
        let f = filter(&mut r, 2);
        let (ours, theirs) = (dissect_frames(&pcap, &f), tshark_frames(&pcap, &f));
        selective += usize::from(!theirs.is_empty() && theirs.len() < everything.len());
        if ours != theirs {
            differ.push(format!("{f}: dissect {ours:?}, tshark {theirs:?}"));
        }
    }
    assert!(differ.is_empty(), "{} filters differ:\n{}", differ.len(), differ.join("\n"));
    assert!(selective >= 8, "the filters select something, not everything: only {selective} did");
}
