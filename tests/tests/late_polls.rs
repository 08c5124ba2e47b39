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
