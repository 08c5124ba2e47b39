//! The `peerscope` binary on a live interface: `run` prints counts, `flows` reads the
//! same counters from another process through the pinned maps, SIGTERM detaches and
//! removes the pins, and bad input gets one clear line and a non-zero exit.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    process::Command,
    time::Duration,
};

use peerscope_tests::{agent, bin_path::peerscope, netns, require_root, traffic, VethPair};

#[test]
fn run_and_flows_share_pinned_counters_and_sigterm_cleans_up() {
    if !require_root("run_and_flows_share_pinned_counters_and_sigterm_cleans_up") {
        return;
    }
    let pair = VethPair::new("cli", false);
    let (mut run, first) = agent::start_run(&pair, &["--interval", "0.3", "--json"]);
    assert!(first.contains("attached to"), "{first}");
    let pins = pair.pins_a().dir;
    assert!(pins.join("FLOW_SLOTS").exists(), "maps not pinned at {}", pins.display());

    let a = IpAddr::V4(Ipv4Addr::from(netns::A_V4));
    let b = IpAddr::V4(Ipv4Addr::from(netns::B_V4));
    let port = traffic::udp_burst(&pair.ns_a, a, &pair.ns_b, SocketAddr::new(b, 4004), &[100, 1100, 1300]);
    std::thread::sleep(Duration::from_millis(100));

    let out = agent::peerscope_in_a(&pair).args(["flows", "-i", &pair.a_if, "--json", "--top", "0"]).output().unwrap();
    assert!(out.status.success(), "flows: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("flows --json is JSON");
    let flow = v["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["src"] == format!("192.0.2.1:{port}"))
        .unwrap_or_else(|| panic!("flow not listed: {v}"));
    assert_eq!(flow["total"]["packets"], serde_json::json!({"ack": 0, "control": 1, "data": 2}));
    assert_eq!(flow["total"]["bytes"]["data"], 1128 + 1328);

    std::thread::sleep(Duration::from_millis(500));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(run.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let mut run = run.take();
    let stdout = std::io::read_to_string(run.stdout.take().unwrap()).unwrap();
    let status = run.wait().unwrap();
    assert!(status.success(), "run exited with {status}");
    let total_data: u64 = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("one JSON object per line"))
        .flat_map(|v| v["flows"].as_array().cloned().unwrap_or_default())
        .filter(|f| f["src"] == format!("192.0.2.1:{port}"))
        .map(|f| f["interval"]["packets"]["data"].as_u64().unwrap())
        .sum();
    assert_eq!(total_data, 2, "the intervals' deltas add up to the flow's data packets");
    assert!(!pins.exists(), "pins left behind at {}", pins.display());
}

#[test]
fn bad_input_gets_one_clear_line() {
    if !require_root("bad_input_gets_one_clear_line") {
        return;
    }
    let out = Command::new(peerscope()).args(["run", "-i", "nosuchif0"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no network interface named \"nosuchif0\""), "{err}");

    let out = Command::new(peerscope()).args(["flows", "-i", "lo"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no peerscope agent is attached to lo"), "{err}");

    // Without privileges: name the capabilities.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"])
        .arg(peerscope())
        .args(["run", "-i", "lo"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CAP_BPF") && err.contains("CAP_NET_ADMIN"), "{err}");
}

#[test]
fn native_xdp_missing_falls_back_to_generic_and_says_so() {
    if !require_root("native_xdp_missing_falls_back_to_generic_and_says_so") {
        return;
    }
    // Loopback has no driver XDP hook: the agent must fall back to generic mode.
    let pair = VethPair::new("gen", false);
    let out = agent::peerscope_in_a(&pair)
        .args(["run", "-i", "lo", "--interval", "0.2", "--count", "1", "--json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("native XDP is not supported on lo") && err.contains("generic"), "{err}");
    assert!(err.contains("XDP Generic mode"), "{err}");
}
