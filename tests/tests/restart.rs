//! Restart without loss: the program and maps are pinned, so an agent killed with
//! SIGKILL leaves the kernel counting, and the next `peerscope run` takes over from
//! the same counters. `peerscope detach` then removes program, links and pins.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    process::Command,
};

use peerscope_tests::{agent, bin_path::peerscope, netns, netns::ChildGuard, require_root, schema, traffic, VethPair};

/// Starts `peerscope run` (its JSON output is not read here).
fn start(pair: &VethPair, extra: &[&str]) -> (ChildGuard, String) {
    let mut args = vec!["--interval", "0.3"];
    args.extend(extra);
    let (mut child, first) = agent::start_run(pair, &args);
    agent::discard_stdout(&mut child);
    (child, first)
}

fn flow_packets(pair: &VethPair, src_port: u16) -> u64 {
    let out = agent::peerscope_in_a(pair).args(["flows", "-i", &pair.a_if, "--json", "--top", "0"]).output().unwrap();
    assert!(out.status.success(), "flows: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["src_ip"] == "192.0.2.1" && f["src_port"] == src_port)
        .map(|f| f["total"]["control_packets"].as_u64().unwrap())
        .unwrap_or(0)
}

#[test]
fn sigkill_and_restart_lose_no_counts_and_detach_removes_everything() {
    if !require_root("sigkill_and_restart_lose_no_counts_and_detach_removes_everything") {
        return;
    }
    let pair = VethPair::new("rst", false);
    let a = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::A_V4)), 40_000);
    let b = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::B_V4)), 4004);
    let pins = pair.pins_a().dir;
    let p = pair.pins_a();
    let run_files = [p.record_file, p.report_file, p.baseline_file];
    let burst = || traffic::udp_burst_from(&pair.ns_a, a, &pair.ns_b, b, &[200; 10]);

    let (mut first, line) = start(&pair, &[]);
    assert!(line.contains("attached to"), "{line}");
    let links = agent::pinned_links(&pair);
    burst();
    let mut killed = first.take();
    killed.kill().unwrap(); // SIGKILL: no chance to clean up.
    killed.wait().unwrap();
    assert!(pins.join("ingress_link").exists(), "links must stay pinned after SIGKILL");
    assert!(agent::links_attached(links), "the program keeps counting without an agent");
    burst();

    let (mut second, line) = start(&pair, &[]);
    assert!(line.contains("taken over"), "the restarted agent takes the pinned program over: {line}");
    assert_eq!(agent::pinned_links(&pair), links, "the same links");
    burst();
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(flow_packets(&pair, 40_000), 30, "before, during and after the restart");

    let status = Command::new(peerscope()).args(["status", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let ours = v["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["iface"] == pair.a_if.as_str())
        .expect("status lists the interface");
    assert_eq!(ours["attached"], true);
    assert_eq!(ours["agent_pid"], second.id());

    let out = agent::peerscope_in_a(&pair).args(["detach", "-i", &pair.a_if]).output().unwrap();
    assert!(out.status.success(), "detach: {}", String::from_utf8_lossy(&out.stderr));
    assert!(second.take().wait().unwrap().success(), "the agent stops on SIGTERM from detach");
    assert!(!pins.exists(), "pins left at {}", pins.display());
    assert!(!run_files.iter().any(|f| f.exists()), "run files (record, report, baseline) left after detach");
    assert!(agent::links_gone(links), "links still in the kernel after detach");
}

#[test]
fn keep_attached_survives_a_clean_exit() {
    if !require_root("keep_attached_survives_a_clean_exit") {
        return;
    }
    let pair = VethPair::new("kpa", false);
    let a = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::A_V4)), 40_001);
    let b = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::B_V4)), 4004);
    let (mut first, _) = start(&pair, &["--keep-attached"]);
    let links = agent::pinned_links(&pair);
    traffic::udp_burst_from(&pair.ns_a, a, &pair.ns_b, b, &[200; 5]);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(first.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(first.take().wait().unwrap().success());
    assert!(agent::links_attached(links));
    traffic::udp_burst_from(&pair.ns_a, a, &pair.ns_b, b, &[200; 5]);
    assert_eq!(flow_packets(&pair, 40_001), 10);
    let out = agent::peerscope_in_a(&pair).args(["detach", "-i", &pair.a_if]).output().unwrap();
    assert!(out.status.success());
    assert!(agent::links_gone(links));
}

/// What the `--jsonl` file's peer records say X sent to 192.0.2.2, in all; and the
/// window records.
fn jsonl_up_bytes(path: &std::path::Path) -> (u64, Vec<serde_json::Value>) {
    let text = std::fs::read_to_string(path).unwrap();
    let lines = schema::assert_lines(&text, &["window_record", "peer_record"], "run --jsonl");
    let up = lines
        .iter()
        .filter(|l| l["document"] == "peer_record" && l["peer"] == "192.0.2.2")
        .map(|l| l["up_bytes"].as_u64().unwrap())
        .sum();
    (up, lines.into_iter().filter(|l| l["document"] == "window_record").collect())
}

/// Exactly once across SIGKILL: the restarted agent continues from the baseline the
/// killed one saved at its last poll, so the `--jsonl` records of both agents sum to
/// what was sent — before, during, between and after — with nothing counted twice.
#[test]
fn jsonl_records_sum_to_what_was_sent_across_a_sigkill() {
    if !require_root("jsonl_records_sum_to_what_was_sent_across_a_sigkill") {
        return;
    }
    let pair = VethPair::new("once", false);
    let jsonl = std::env::temp_dir().join(format!("peerscope-once-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&jsonl);
    let a = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::A_V4)), 40_002);
    let b = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::B_V4)), 4004);
    let burst = || traffic::udp_burst_from(&pair.ns_a, a, &pair.ns_b, b, &[200; 10]);
    let args = ["--window", "0.6", "--quiet", "--jsonl", jsonl.to_str().unwrap()];
    let pause = |ms| std::thread::sleep(std::time::Duration::from_millis(ms));

    let (mut first, line) = start(&pair, &args);
    assert!(line.contains("attached to"), "{line}");
    burst();
    pause(1000); // a window closes with these
    burst();
    pause(350); // read into the open window, which only the baseline holds
    let mut killed = first.take();
    killed.kill().unwrap();
    killed.wait().unwrap();
    assert!(pair.pins_a().baseline_file.exists(), "the killed agent's baseline stays for the next one");
    let (_, before) = jsonl_up_bytes(&jsonl);
    assert!(!before.is_empty() && before.iter().all(|w| w["conditions"]["after_restart"] == false), "{before:?}");
    burst(); // counted by the kernel alone

    let (mut second, line) = start(&pair, &args);
    assert!(line.contains("taken over"), "{line}");
    burst();
    pause(800);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(second.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(second.take().wait().unwrap().success());

    let (up, windows) = jsonl_up_bytes(&jsonl);
    let _ = std::fs::remove_file(&jsonl);
    assert_eq!(up, 40 * 228, "40 datagrams of 228 IP bytes, each reported once: {windows:?}");
    assert!(windows[before.len()]["conditions"]["after_restart"] == true, "the first window after the restart says so");
}
