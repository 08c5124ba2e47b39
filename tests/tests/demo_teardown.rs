//! The demo leaves nothing behind — no namespace (and so no veth, route or qdisc),
//! no link in the caller's namespace, no pin — whether it ends by itself, by Ctrl-C,
//! or is killed with SIGKILL.

use std::{
    io::{BufRead, BufReader},
    process::Stdio,
    time::{Duration, Instant},
};

use nix::{sys::signal::Signal, unistd::Pid};
use peerscope_tests::{
    demo::{assert_nothing_left, demo_command, root_links, OutDir, ONE_SWARM},
    require_root,
};

/// Starts a demo, waits until the agent is attached (the swarm is fully built), then
/// sends `sig`; returns once the process has exited.
fn interrupt_running_demo(out: &OutDir, sig: Signal) -> std::process::ExitStatus {
    let mut child = demo_command(&out.0, &["--duration", "60", "--peers", "6", "--window", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting peerscope demo");
    // Kill it whatever happens below, so a failing test does not leave it running.
    struct Reap(std::process::Child);
    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stderr = child.stderr.take().unwrap();
    let mut child = Reap(child);
    let mut lines = BufReader::new(stderr).lines();
    let attached = lines.by_ref().map_while(Result::ok).any(|l| l.contains("attached to"));
    assert!(attached, "the demo never attached");
    std::thread::sleep(Duration::from_secs(3));
    nix::sys::signal::kill(Pid::from_raw(child.0.id() as i32), sig).unwrap();
    // Drain stderr so the demo never blocks writing to it.
    std::thread::spawn(move || lines.for_each(drop));
    let t = Instant::now();
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            return status;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "the demo did not exit after {sig}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn nothing_left_after_a_complete_run() {
    if !require_root("nothing_left_after_a_complete_run") {
        return;
    }
    let _one = ONE_SWARM.lock().unwrap_or_else(|e| e.into_inner());
    let before = root_links();
    let out = OutDir::new("complete");
    let res = demo_command(&out.0, &["--duration", "8", "--peers", "4", "--window", "4"]).output().unwrap();
    assert!(res.status.success(), "demo failed: {}", String::from_utf8_lossy(&res.stderr));
    assert_nothing_left(&out, &before);
}

#[test]
fn nothing_left_after_a_failure() {
    if !require_root("nothing_left_after_a_failure") {
        return;
    }
    let _one = ONE_SWARM.lock().unwrap_or_else(|e| e.into_inner());
    let before = root_links();
    let out = OutDir::new("failure");
    // A directory where the report should go: the run fails at its very end.
    std::fs::create_dir_all(out.0.join("report.json")).unwrap();
    let res = demo_command(&out.0, &["--duration", "6", "--peers", "4", "--window", "3"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(!res.status.success(), "the demo cannot write its report: {stderr}");
    assert!(stderr.contains("report.json"), "the error names the file: {stderr}");
    assert_nothing_left(&out, &before);
}

#[test]
fn nothing_left_after_ctrl_c_and_the_report_is_written() {
    if !require_root("nothing_left_after_ctrl_c_and_the_report_is_written") {
        return;
    }
    let _one = ONE_SWARM.lock().unwrap_or_else(|e| e.into_inner());
    let before = root_links();
    let out = OutDir::new("sigint");
    let status = interrupt_running_demo(&out, Signal::SIGINT);
    assert!(status.code().is_some(), "Ctrl-C ends the demo by itself, not by the signal: {status}");
    let report = peerscope_tests::schema::assert_file("demo_record", &out.0.join("report.json"));
    assert!(report["duration_s"].as_f64().unwrap() < 30.0, "stopped early: {report}");
    assert_nothing_left(&out, &before);
}

#[test]
fn nothing_left_after_sigkill() {
    if !require_root("nothing_left_after_sigkill") {
        return;
    }
    let _one = ONE_SWARM.lock().unwrap_or_else(|e| e.into_inner());
    let before = root_links();
    let out = OutDir::new("sigkill");
    let status = interrupt_running_demo(&out, Signal::SIGKILL);
    assert_eq!(status.code(), None, "killed: {status}");
    assert!(!out.0.join("report.json").exists(), "a killed demo writes no report");
    assert_nothing_left(&out, &before);
}
