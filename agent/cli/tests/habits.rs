//! The command as tcpdump and tshark users, scripts and operators use it: `-r FILE`,
//! `-` for standard input, `-c N`, `dissect -V`, distinct exit statuses, a closed pipe
//! that ends the command quietly, and a bad configuration refused before anything
//! is attached (none of these need root).

#[path = "../../tests/common/mod.rs"]
mod common;
use common::*;

use std::{
    io::Write,
    os::unix::process::ExitStatusExt,
    process::{Command, Stdio},
};

use peerscope::{
    exit,
    offline::synth::{Link, SynthPcap},
};

const BIN: &str = env!("CARGO_BIN_EXE_peerscope");

fn capture(flows: u16) -> std::path::PathBuf {
    let mut p = SynthPcap::new(Link::Ethernet);
    for i in 0..flows {
        p.udp(T0 + i as u64 * S / 100, sa("198.51.100.1", 1000 + i), sa(X, 4004), 1300);
    }
    let path = temp_path("habits.pcap");
    p.write_file(&path).unwrap();
    path
}

fn json_of(args: &[&str], stdin: Option<&[u8]>) -> serde_json::Value {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(data) = stdin {
        child.stdin.take().unwrap().write_all(data).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e})"))
}

#[test]
fn test_read_flag_stdin_and_count_read_what_they_name() {
    let path = capture(20);
    let p = path.to_str().unwrap();
    let positional = json_of(&["analyze", p, "--host", X, "--json", "-"], None);
    let with_r = json_of(&["analyze", "-r", p, "--host", X, "--json", "-"], None);
    assert_eq!(positional["document"], "report");
    assert_eq!(positional["report"]["flows"], with_r["report"]["flows"]);
    assert_eq!(positional["source"]["read"]["frames"], 20);
    // `tcpdump -w - | peerscope analyze -`, the host inferred from a second reading.
    let bytes = std::fs::read(&path).unwrap();
    let piped = json_of(&["analyze", "-", "--json", "-"], Some(&bytes));
    assert_eq!(piped["report"]["flows"], positional["report"]["flows"]);
    assert_eq!(piped["source"]["file"], "-", "standard input is named as given: {}", piped["source"]);
    let first = json_of(&["analyze", "-r", p, "-c", "5", "--host", X, "--json", "-"], None);
    assert_eq!(first["source"]["read"]["frames"], 5);
    assert_eq!(first["report"]["flows"].as_array().unwrap().len(), 5);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn test_dissect_takes_tshark_flags() {
    let path = capture(3);
    let out = Command::new(BIN).args(["dissect", "-V", "-c", "2", "-r"]).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Summary: 2 frames"), "{stdout}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn test_exit_statuses_are_distinct() {
    let usage = Command::new(BIN).args(["analyze", "--no-such-flag"]).output().unwrap();
    assert_eq!(usage.status.code(), Some(exit::USAGE as i32));
    let missing = Command::new(BIN).args(["analyze", "/nonexistent/capture.pcap"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(exit::NO_INPUT as i32), "{}", String::from_utf8_lossy(&missing.stderr));
    let help = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for (code, _) in exit::TABLE {
        assert!(help.contains(&format!("{code:>3}  ")), "--help does not list status {code}:\n{help}");
    }
}

#[test]
fn test_a_closed_pipe_ends_the_command_quietly() {
    // Far more JSON than a pipe buffers, so the writer meets the closed pipe.
    let path = capture(3000);
    let script = format!("{BIN} analyze {} --host {X} --json - | head -c 100 >/dev/null", path.display());
    let out = Command::new("sh").args(["-c", &format!("{script}; exit 0")]).output().unwrap();
    assert!(out.stderr.is_empty(), "no message, no panic: {}", String::from_utf8_lossy(&out.stderr));
    // The status the shell saw: killed by SIGPIPE, as cat or grep would be.
    let mut child = Command::new(BIN)
        .args(["analyze"])
        .arg(&path)
        .args(["--host", X, "--json", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGPIPE), "{status:?}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn test_a_bad_configuration_is_refused_before_anything_is_attached() {
    let cfg = temp_path("typo.toml");
    std::fs::write(&cfg, "window = 20.0\nintervall = 5\n").unwrap();
    // Not root and no such interface: the checks come first, so that is never reached.
    let out = Command::new(BIN).args(["run", "-i", "nosuchif0", "--config"]).arg(&cfg).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(exit::USAGE as i32), "{err}");
    assert!(err.contains(&format!("{}:2:", cfg.display())) && err.contains("`intervall`"), "{err}");
    for (args, says) in [
        (&["--data-min", "2000", "--large-above", "100"][..], "--data-min: 2000 must be below --large-above 100"),
        (&["--metrics", ":99999"][..], "port 99999 is out of range"),
        (&["--jsonl", "/nonexistent/x.jsonl"][..], "--jsonl"),
        (&["--interval", "0"][..], "--interval: must be a positive number"),
        (&["--max-flows", "0"][..], "--max-flows: 0 is out of range"),
    ] {
        let out = Command::new(BIN).args(["run", "-i", "nosuchif0"]).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(exit::USAGE as i32), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let _ = std::fs::remove_file(&cfg);
}

#[test]
fn test_run_help_names_config_and_every_off_switch() {
    let out = Command::new(BIN).args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--config <FILE>", "--no-keep-attached", "--no-metrics", "--quiet", "--netns <PATH>"] {
        assert!(help.contains(flag), "{flag} missing from run --help");
    }
}

#[test]
fn test_the_man_page_renders() {
    let page = Command::new(BIN).arg("man").output().unwrap();
    assert!(page.status.success());
    let dir = temp_path("man");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("peerscope.1");
    std::fs::write(&file, &page.stdout).unwrap();
    // man -l formats a page file as `man peerscope` shows the installed one.
    let shown = Command::new("man").arg("-l").arg(&file).env("MANPAGER", "cat").env("MANWIDTH", "100").output();
    let Ok(shown) = shown else {
        assert!(std::env::var("CI").is_err(), "`man` is needed to render the page");
        eprintln!("\n*** SKIPPED test_the_man_page_renders: no `man` ***\n");
        return;
    };
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
    for part in ["NAME", "SYNOPSIS", "COMMANDS", "EXIT STATUS", "FILES", "peerscope run", "--keep-attached"] {
        assert!(text.contains(part), "{part} missing from the rendered page");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn test_completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(BIN).args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains("keep-attached") && script.contains("analyze"), "{shell}");
    }
    if std::process::Command::new("bash").arg("--version").output().is_ok() {
        let out = Command::new("bash")
            .args(["-c", &format!("source <({BIN} completions bash) && complete -p peerscope")])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("peerscope"), "{}", String::from_utf8_lossy(&out.stderr));
    }
}
