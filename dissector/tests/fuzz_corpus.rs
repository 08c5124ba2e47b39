//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the
//! same checks the cargo-fuzz targets run, so CI covers it on stable.

use std::path::{Path, PathBuf};

use peerscope_dissector::{check, dissect, Hint};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn test_replay_corpus() {
    for (target, run) in check::TARGETS {
        let corpus = files(&fuzz_dir().join("corpus").join(target));
        assert!(!corpus.is_empty(), "no corpus for {target}");
        for (name, data) in corpus {
            let r = std::panic::catch_unwind(|| run(&data));
            assert!(r.is_ok(), "{target}/{name} breaks an invariant");
        }
    }
}

#[test]
fn test_every_target_has_a_check_and_corpus() {
    let mut targets: Vec<String> = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .unwrap()
        .map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    targets.sort();
    let mut checks: Vec<String> = check::TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    checks.sort();
    assert_eq!(targets, checks);
}

/// The corpus holds real messages: all but the deliberately unknown action
/// and the raw-bodied VOD packet decode without a hint.
#[test]
fn test_corpus_messages_decode() {
    let dirs =
        ["dissect", "pptv_tracker", "pptv_peer", "gossip_2005/study_gossip", "tracker_reply_2005/study_reply_50_hosts"];
    let all = dirs.iter().flat_map(|d| {
        let p = fuzz_dir().join("corpus").join(d);
        if p.is_file() {
            vec![(d.to_string(), std::fs::read(&p).unwrap())]
        } else {
            files(&p)
        }
    });
    for (name, data) in all {
        if name == "vod" {
            assert!(dissect(&data, Hint::Pptv2010).is_ok(), "{name}");
            continue;
        }
        let auto = dissect(&data, Hint::Auto);
        if name.contains("unknown") {
            assert!(auto.is_err(), "{name}");
            assert!(dissect(&data, Hint::Pptv2010).is_ok(), "{name}");
        } else {
            assert!(auto.is_ok(), "{name}: {auto:?}");
        }
    }
}
