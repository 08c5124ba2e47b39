//! A poll loop that falls behind says so: the agent stopped (SIGSTOP) for a second
//! misses polls, and the window they fall in counts them in its record beside its
//! nominal length, instead of stretching Δ silently.

use std::time::Duration;

use nix::{sys::signal, unistd::Pid};
use peerscope_tests::{agent, require_root, schema, VethPair};

#[test]
fn polls_missed_while_the_agent_was_stopped_are_in_the_window_record() {
    if !require_root("polls_missed_while_the_agent_was_stopped_are_in_the_window_record") {
        return;
    }
    let pair = VethPair::new("late", false);
    let jsonl = std::env::temp_dir().join(format!("peerscope-late-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&jsonl);
    let (mut run, first) = agent::start_run(
        &pair,
        &["--interval", "0.2", "--window", "0.6", "--quiet", "--jsonl", jsonl.to_str().unwrap()],
    );
    assert!(first.contains("attached to"), "{first}");
    agent::discard_stdout(&mut run);
    let pid = Pid::from_raw(run.id() as i32);
    std::thread::sleep(Duration::from_millis(700));
    signal::kill(pid, signal::Signal::SIGSTOP).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    signal::kill(pid, signal::Signal::SIGCONT).unwrap();
    std::thread::sleep(Duration::from_millis(900));
    signal::kill(pid, signal::Signal::SIGTERM).unwrap();
    assert!(run.take().wait().unwrap().success());

    let text = std::fs::read_to_string(&jsonl).unwrap();
    let _ = std::fs::remove_file(&jsonl);
    let lines = schema::assert_lines(&text, &["window_record", "peer_record"], "run --jsonl");
    let windows: Vec<&serde_json::Value> = lines.iter().filter(|l| l["document"] == "window_record").collect();
    assert!(windows.iter().all(|w| w["conditions"]["nominal_len_ns"] == 600_000_000u64), "{text}");
    let missed: u64 = windows.iter().map(|w| w["conditions"]["missed_polls"].as_u64().unwrap()).sum();
    assert!((3..=6).contains(&missed), "1.1 s stopped at 0.2 s per poll misses about 5 polls, not {missed}: {text}");
    assert!(
        windows.iter().any(|w| w["conditions"]["missed_polls"].as_u64() > Some(0)
            && w["window"]["len_ns"].as_u64() > w["conditions"]["nominal_len_ns"].as_u64()),
        "the late window is longer than Δ and says why: {text}"
    );
}

/// A poll loop that keeps up closes every window on the Δ grid: each window but the
/// last (cut by SIGTERM) is exactly Δ long and starts where the one before ended.
#[test]
fn live_windows_are_exactly_delta_long() {
    if !require_root("live_windows_are_exactly_delta_long") {
        return;
    }
    let pair = VethPair::new("grid", false);
    let jsonl = std::env::temp_dir().join(format!("peerscope-grid-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&jsonl);
    let (mut run, first) = agent::start_run(
        &pair,
        &["--interval", "0.1", "--window", "0.5", "--quiet", "--jsonl", jsonl.to_str().unwrap()],
    );
    assert!(first.contains("attached to"), "{first}");
    agent::discard_stdout(&mut run);
    std::thread::sleep(Duration::from_millis(3200));
    signal::kill(Pid::from_raw(run.id() as i32), signal::Signal::SIGTERM).unwrap();
    assert!(run.take().wait().unwrap().success());

    let text = std::fs::read_to_string(&jsonl).unwrap();
    let _ = std::fs::remove_file(&jsonl);
    let lines = schema::assert_lines(&text, &["window_record", "peer_record"], "run --jsonl");
    let windows: Vec<(u64, u64, u64)> = lines
        .iter()
        .filter(|l| l["document"] == "window_record")
        .map(|w| {
            let win = &w["window"];
            (
                win["start_unix_ns"].as_u64().unwrap(),
                win["len_ns"].as_u64().unwrap(),
                w["conditions"]["missed_polls"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(windows.len() >= 5, "{text}");
    for pair in windows.windows(2) {
        assert_eq!(pair[0].0 + pair[0].1, pair[1].0, "windows follow each other: {windows:?}");
    }
    let (last, full) = windows.split_last().unwrap();
    for (start, len, missed) in full {
        // A window that missed polls (a loaded machine) may be longer, and says so.
        if *missed == 0 {
            assert_eq!(*len, 500_000_000, "window at {start}: {windows:?}");
        }
    }
    assert!(full.iter().filter(|w| w.2 == 0).count() >= 4, "most windows kept up: {windows:?}");
    assert!(last.1 <= 500_000_000 + 5_000_000, "the last, cut by SIGTERM: {windows:?}");
}
