//! Restart without loss: the program and maps are pinned, so an agent killed with
//! SIGKILL leaves the kernel counting, and the next `peerscope run` takes over from
//! the same counters. `peerscope detach` then removes program, links and pins.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    process::Command,
};

use peerscope_tests::{agent, bin_path::peerscope, netns, netns::ChildGuard, require_root, traffic, VethPair};

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

fn xdp_attached(pair: &VethPair) -> bool {
    let out = Command::new("ip").args(["-n", &pair.ns_a, "link", "show", "dev", &pair.a_if]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).contains("xdp")
}

#[test]
fn sigkill_and_restart_lose_no_counts_and_detach_removes_everything() {
    if !require_root("sigkill_and_restart_lose_no_counts_and_detach_removes_everything") {
        return;
    }
    let pair = VethPair::new("rst", false);
    let a = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::A_V4)), 40_000);
    let b = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::B_V4)), 4004);
    let pins = std::path::Path::new("/sys/fs/bpf/peerscope").join(&pair.a_if);
    let burst = || traffic::udp_burst_from(&pair.ns_a, a, &pair.ns_b, b, &[200; 10]);

    let (mut first, line) = start(&pair, &[]);
    assert!(line.contains("attached to"), "{line}");
    burst();
    let mut killed = first.take();
    killed.kill().unwrap(); // SIGKILL: no chance to clean up.
    killed.wait().unwrap();
    assert!(pins.join("ingress_link").exists(), "links must stay pinned after SIGKILL");
    assert!(xdp_attached(&pair), "the program keeps counting without an agent");
    burst();

    let (mut second, line) = start(&pair, &[]);
    assert!(line.contains("Reused"), "the restarted agent takes the pinned program over: {line}");
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

    let out = Command::new(peerscope()).args(["detach", "-i", &pair.a_if]).output().unwrap();
    assert!(out.status.success(), "detach: {}", String::from_utf8_lossy(&out.stderr));
    assert!(second.take().wait().unwrap().success(), "the agent stops on SIGTERM from detach");
    assert!(!pins.exists(), "pins left at {}", pins.display());
    assert!(!xdp_attached(&pair), "XDP still attached after detach");
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
    traffic::udp_burst_from(&pair.ns_a, a, &pair.ns_b, b, &[200; 5]);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(first.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(first.take().wait().unwrap().success());
    assert!(xdp_attached(&pair));
    traffic::udp_burst_from(&pair.ns_a, a, &pair.ns_b, b, &[200; 5]);
    assert_eq!(flow_packets(&pair, 40_001), 10);
    let out = Command::new(peerscope()).args(["detach", "-i", &pair.a_if]).output().unwrap();
    assert!(out.status.success());
    assert!(!xdp_attached(&pair));
}
