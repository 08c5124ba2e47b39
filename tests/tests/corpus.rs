//! Every capture of `../shared/data/ndpi-corpus/` (real traffic of some 300 protocols,
//! link types Ethernet, Linux cooked, raw IP, BSD null and PPI, tunnels, and
//! malformed and fuzzed files): no panic, no hang, no error on a file tshark reads;
//! per directional flow, peerscope's packets and IP bytes equal tshark's
//! ([`peerscope_tests::tshark`]'s rules), with decapsulation off and on.
//!
//! No file differs today. A file tshark cannot read either (one is cut inside its
//! first record) must give an error that says so, not a report.

use std::{collections::BTreeMap, time::Duration};

use peerscope::offline::OfflineError;
use peerscope_tests::{corpus, require_tool, tshark};

#[test]
fn every_corpus_file_agrees_with_tshark() {
    if !require_tool("every_corpus_file_agrees_with_tshark", "tshark") {
        return;
    }
    // PEERSCOPE_CORPUS_ONLY=substring narrows the run (when looking into one file).
    let only = std::env::var("PEERSCOPE_CORPUS_ONLY").unwrap_or_default();
    let mut failures = Vec::new();
    let (mut files, mut frames, mut flows) = (0, 0, 0);
    let mut tunnels: BTreeMap<&str, u64> = BTreeMap::new();
    for path in corpus::files().into_iter().filter(|p| p.to_string_lossy().contains(&only)) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let dump = tshark::read(&path);
        files += 1;
        for decap in [false, true] {
            let theirs = dump.flows(decap);
            let ours = match corpus::analyze(&path, decap, Duration::from_secs(120)) {
                Ok(a) => a,
                Err(e) => {
                    let unreadable = dump.error.is_some() || theirs.flows.is_empty();
                    if !unreadable || !matches!(e, OfflineError::NoUsableInput { .. } | OfflineError::Format { .. }) {
                        failures.push(format!("{name} (decap {decap}): {e}; tshark read {} frames", theirs.frames));
                    }
                    continue;
                }
            };
            if dump.error.is_some() && ours.damage.is_none() {
                failures.push(format!("{name}: tshark says {:?}, peerscope reports no damage", dump.error));
            }
            let mine = corpus::flows(&ours);
            for (f, c) in mine.iter().filter(|(f, _)| decap && f.tunnel.is_some()) {
                *tunnels.entry(f.tunnel.unwrap()).or_default() += c.packets;
            }
            let diffs = corpus::differences(&mine, &theirs.flows);
            if !decap {
                frames += theirs.frames;
                flows += theirs.flows.len();
            }
            if !diffs.is_empty() {
                let mut s = format!("{name} (decap {decap}): {} flows differ", diffs.len());
                for (f, a, b) in diffs.iter().take(6) {
                    s.push_str(&format!("\n    {f:?}: peerscope {a:?}, tshark {b:?}"));
                }
                failures.push(s);
            }
        }
    }
    eprintln!("corpus: {files} files, {frames} frames, {flows} flows; inner packets per tunnel: {tunnels:?}");
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
    if only.is_empty() {
        // The corpus holds every tunnel peerscope opens: each must have been compared.
        for t in ["gre", "ipip", "6in4", "gtp-u", "vxlan"] {
            assert!(tunnels.get(t).copied().unwrap_or(0) > 0, "no {t} packet decapsulated: {tunnels:?}");
        }
        assert!(files > 250 && frames > 40_000, "the corpus is smaller than expected: {files} files, {frames} frames");
    }
}
