//! The plugin takes nothing from other protocols: Wireshark's own port
//! entries survive it, and every frame of the nDPI corpus (real traffic of
//! some 300 other protocols, `../shared/data/ndpi-corpus/PROVENANCE.md`)
//! dissects exactly as it does with the plugin's protocols disabled, with no
//! PPLive, PPTV, SOPCast or PPStream claim.

mod common;

use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

use common::{fields, plugin_ready, udp, write_pcap};

/// The plugin's protocols, as `--disable-protocol` takes them.
const PROTOCOLS: [&str; 4] = ["pplive", "pptv", "sopcast", "ppstream"];

/// The protocol items the plugin adds to a `-V` tree.
const ITEMS: [&str; 4] =
    ["PPLive peer-to-peer TV (peerscope)", "PPTV UDP (peerscope)", "SOPCast, identified", "PPStream, identified"];

fn corpus() -> Vec<PathBuf> {
    let shared = std::env::var_os("PEERSCOPE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = shared.join("data/ndpi-corpus/pcap");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (set PEERSCOPE_SHARED to the shared directory)", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() > 200, "{}: only {} captures", dir.display(), files.len());
    files
}

/// `tshark -n -V` of `file` with `extra` options, its stdout as lines.
fn verbose(file: &Path, extra: &[&str]) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut child = common::tshark_command()
        .args(["-n", "-V", "-r"])
        .arg(file)
        .args(extra)
        .env("LC_ALL", "C")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tshark runs");
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

/// Reads `tshark -V` of `file` with the plugin and with its protocols
/// disabled side by side: the first line where they differ, or a plugin
/// item in the first, is the failure.
fn compare(file: &Path) -> Option<String> {
    let disabled: Vec<&str> = PROTOCOLS.iter().flat_map(|p| ["--disable-protocol", p]).collect();
    let (mut on, mut with) = verbose(file, &[]);
    let (mut off, mut without) = verbose(file, &disabled);
    let mut frame = String::new();
    let failure = loop {
        match (with.next().map(Result::unwrap), without.next().map(Result::unwrap)) {
            (None, None) => break None,
            (a, b) if a != b => break Some(format!("after {frame:?}: with {a:?}, disabled {b:?}")),
            (Some(line), _) => {
                if let Some(item) = ITEMS.iter().find(|i| line.contains(*i)) {
                    break Some(format!("{frame}: claimed ({item})"));
                }
                if line.starts_with("Frame ") {
                    frame = line;
                }
            }
            _ => unreachable!("unequal lines are handled above"),
        }
    };
    let _ = (on.kill(), off.kill());
    let _ = (on.wait(), off.wait());
    failure
}

/// The whole corpus, with the plugin and with it disabled. The files that
/// mergecap reads whole are compared as one (tshark's start-up dominates
/// otherwise); the few it refuses (damaged ones) one by one.
#[test]
fn test_corpus_dissects_as_without_the_plugin() {
    if !plugin_ready("test_corpus_dissects_as_without_the_plugin") {
        return;
    }
    let files = corpus();
    let readable = |f: &PathBuf| {
        Command::new("mergecap")
            .args(["-F", "pcapng", "-w", "/dev/null"])
            .arg(f)
            .stderr(Stdio::null())
            .status()
            .expect("mergecap (from wireshark-common) runs")
            .success()
    };
    let (whole, damaged): (Vec<&PathBuf>, Vec<&PathBuf>) = files.iter().partition(|f| readable(f));
    assert!(whole.len() > 200, "mergecap refuses {} files: {damaged:?}", damaged.len());
    let merged = std::env::temp_dir().join(format!("peerscope-corpus-{}.pcapng", std::process::id()));
    let ok = Command::new("mergecap")
        .args(["-a", "-F", "pcapng", "-w"])
        .arg(&merged)
        .args(&whole)
        .status()
        .expect("mergecap runs")
        .success();
    assert!(ok, "mergecap -a of {} files failed", whole.len());
    let mut failures: Vec<String> = compare(&merged).map(|f| format!("merged corpus: {f}")).into_iter().collect();
    let _ = std::fs::remove_file(&merged);
    for f in damaged {
        if let Some(why) = compare(f) {
            failures.push(format!("{}: {why}", f.file_name().unwrap().to_string_lossy()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// OICQ owns UDP 8000 in Wireshark; the plugin registers no port, so an OICQ
/// packet there is still OICQ, and a lone tracker-port payload is not PPLive.
#[test]
fn test_wireshark_keeps_its_port_entries() {
    if !plugin_ready("test_wireshark_keeps_its_port_entries") {
        return;
    }
    // OICQ: flag 0x02, version, command 0x0002 (heartbeat), sequence, QQ number, data, 0x03.
    let oicq = [0x02, 0x0b, 0x37, 0x00, 0x02, 0x00, 0x01, 0x00, 0x01, 0xe2, 0x40, 0x03];
    let pcap = write_pcap("oicq.pcap", &[udp(40000, 8000, &oicq), udp(8000, 40000, &oicq)]);
    let rows = fields(&pcap, &["frame.protocols", "_ws.col.Protocol"]);
    for r in &rows {
        assert!(r[0].ends_with(":oicq") && r[1] == "OICQ", "{rows:?}");
    }
    let decodes = common::tshark_command().args(["-G", "decodes"]).output().expect("tshark runs");
    let decodes = String::from_utf8_lossy(&decodes.stdout);
    let ours: Vec<&str> =
        decodes.lines().filter(|l| PROTOCOLS.iter().any(|p| l.ends_with(&format!("\t{p}")))).collect();
    assert!(ours.is_empty(), "the plugin holds port entries by default: {ours:?}");
}
