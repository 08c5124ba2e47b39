//! The interface deleted under a running agent (a container's `eth0` recreated): the
//! agent notices from netlink link events, marks the window, and attaches again when
//! an interface of its name returns in its namespace — or, told to, ends with status 1.
//! Never "attached" to nothing.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::{Duration, Instant},
};

use peerscope_tests::{agent, netns, require_root, schema, traffic, VethPair};

fn a() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::A_V4)), 40_020)
}

fn b() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::B_V4)), 4004)
}

/// Waits (bounded) for `cond`.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_deleted_interface_is_attached_again_when_it_returns() {
    if !require_root("a_deleted_interface_is_attached_again_when_it_returns") {
        return;
    }
    let pair = VethPair::new("lnk", false);
    let jsonl = std::env::temp_dir().join(format!("peerscope-link-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&jsonl);
    let (mut run, line) = agent::start_run(
        &pair,
        &["--interval", "0.2", "--window", "0.5", "--quiet", "--jsonl", jsonl.to_str().unwrap()],
    );
    assert!(line.contains("attached to"), "{line}");
    agent::discard_stdout(&mut run);
    let old = pair.pins_a();
    traffic::udp_burst_from(&pair.ns_a, a(), &pair.ns_b, b(), &[200; 5]);
    std::thread::sleep(Duration::from_millis(400));

    pair.delete_link();
    std::thread::sleep(Duration::from_millis(300));
    pair.recreate_link();
    let new = pair.pins_a();
    assert_ne!(new.dir, old.dir, "the new interface has another index");
    wait_for("the agent to attach to the new interface", || new.dir.join("ingress_link").exists());
    wait_for("the dead attachment's pins to be removed", || !old.dir.exists());
    traffic::udp_burst_from(&pair.ns_a, a(), &pair.ns_b, b(), &[200; 7]);
    std::thread::sleep(Duration::from_millis(700));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(run.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(run.take().wait().unwrap().success());

    let text = std::fs::read_to_string(&jsonl).unwrap();
    let _ = std::fs::remove_file(&jsonl);
    let lines = schema::assert_lines(&text, &["window_record", "peer_record"], "run --jsonl");
    let up: u64 = lines
        .iter()
        .filter(|l| l["document"] == "peer_record" && l["peer"] == "192.0.2.2")
        .map(|l| l["up_bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(up, 12 * 228, "before the deletion and after the return: {text}");
    assert!(
        lines.iter().any(|l| l["document"] == "window_record" && l["conditions"]["interface_gone"] == true),
        "a window says the interface was gone: {text}"
    );
    assert!(!new.dir.exists(), "detached on SIGTERM");
}

#[test]
fn exit_on_link_loss_ends_with_status_1_and_leaves_nothing() {
    if !require_root("exit_on_link_loss_ends_with_status_1_and_leaves_nothing") {
        return;
    }
    let pair = VethPair::new("lnx", false);
    let (mut run, line) = agent::start_run(&pair, &["--interval", "0.2", "--quiet", "--exit-on-link-loss"]);
    assert!(line.contains("attached to"), "{line}");
    agent::discard_stdout(&mut run);
    let old = pair.pins_a();
    pair.delete_link();
    let mut child = run.take();
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the agent did not end after its interface was deleted");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1));
    assert!(!old.dir.exists(), "pins left at {}", old.dir.display());
    assert!(!old.baseline_file.exists() && !old.record_file.exists(), "run files left");
}
