//! Real captures of some 300 other protocols (the nDPI test suite, see
//! `../shared/data/ndpi-corpus/PROVENANCE.md`): none of it is PPLive, PPTV,
//! SOPCast or PPStream, so every claim would be a false positive. `dissect`
//! and `analyze` make none, and `analyze` counts what it inspected as unknown.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use peerscope::engine::MonitoredHost;
use peerscope::offline::{analyze_file, OfflineOptions};

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

/// Runs `f` over the files on two threads; returns the failures it reported.
fn each_file(files: &[PathBuf], f: impl Fn(&PathBuf) -> Option<String> + Sync) -> Vec<String> {
    let failures = Mutex::new(Vec::new());
    let next = Mutex::new(files.iter());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let Some(file) = next.lock().unwrap().next() else { break };
                if let Some(why) = f(file) {
                    failures.lock().unwrap().push(format!("{}: {why}", file.file_name().unwrap().to_string_lossy()));
                }
            });
        }
    });
    let mut v = failures.into_inner().unwrap();
    v.sort();
    v
}

/// The only corpus payload a rule matches at all: a fuzzer-made packet a weak
/// rule fits, which its flow never corroborates (so nothing is claimed).
const WEAK_MATCHES: [(&str, u64); 1] = [("ossfuzz_seed_fake_traces_1.pcapng", 1)];

#[test]
fn test_dissect_claims_nothing_in_the_corpus() {
    let failures = each_file(&corpus(), |file| {
        let out =
            Command::new(env!("CARGO_BIN_EXE_peerscope")).arg("dissect").arg("--json").arg(file).output().unwrap();
        let code = out.status.code();
        // A file with nothing readable before its damage is refused, and claims nothing.
        if code == Some(peerscope::exit::NO_INPUT.into()) {
            return (!out.stdout.is_empty())
                .then(|| format!("refused, yet printed: {}", String::from_utf8_lossy(&out.stdout)));
        }
        // A damaged file is dissected up to the damage.
        if code != Some(0) && code != Some(peerscope::exit::DAMAGED.into()) {
            return Some(format!("exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr)));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        let Some((summary, messages)) = lines.split_last() else { return Some("no summary".into()) };
        let s: serde_json::Value = serde_json::from_str(summary).unwrap();
        let claims =
            ["control_messages", "sopcast_messages", "ppstream_messages"].map(|k| s[k].as_u64().unwrap_or(u64::MAX));
        if !messages.is_empty() || claims != [0, 0, 0] {
            return Some(format!("claims {claims:?}: {}", messages.first().unwrap_or(&"")));
        }
        let name = file.file_name().unwrap().to_string_lossy();
        let weak = s["unconfirmed_messages"].as_u64().unwrap_or(u64::MAX);
        if weak != WEAK_MATCHES.iter().find(|(f, _)| *f == name).map_or(0, |(_, n)| *n) {
            return Some(format!("{weak} payloads matched only a weak rule"));
        }
        (s["unknown_messages"] != s["messages"]).then(|| format!("unknown != messages: {s}"))
    });
    assert!(failures.is_empty(), "{} files with claims:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn test_analyze_claims_nothing_in_the_corpus() {
    let inspected = Mutex::new(0u64);
    let failures = each_file(&corpus(), |file| {
        let host = Some(MonitoredHost::new(["192.0.2.1".parse().unwrap()]));
        let a = match analyze_file(file, OfflineOptions { host, progress: false, ..Default::default() }) {
            Ok(a) => a,
            // Nothing readable before the damage: refused, nothing claimed.
            Err(peerscope::offline::OfflineError::NoUsableInput { .. }) => return None,
            Err(e) => return Some(format!("not analysed: {e}")),
        };
        let c = &a.control;
        *inspected.lock().unwrap() += c.payloads;
        if !c.by_rule.is_empty() || !c.by_message.is_empty() || c.bootstrap_requests > 0 || !c.trackers.is_empty() {
            return Some(format!(
                "claims: {:?} {:?}, {} bootstrap requests",
                c.by_rule, c.by_message, c.bootstrap_requests
            ));
        }
        (c.unknown_payloads + c.unconfirmed_payloads != c.payloads).then(|| format!("payloads not all unknown: {c:?}"))
    });
    assert!(failures.is_empty(), "{} files:\n{}", failures.len(), failures.join("\n"));
    assert!(*inspected.lock().unwrap() > 10_000, "the corpus's control-class payloads were inspected");
}
