//! Prompt shutdown under churn: with thousands of new flows a second going through the
//! table, SIGTERM ends the agent within 2 s, and the window open at that moment is
//! written before it goes (systemd's stop timeout is never reached).

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use peerscope::live::clock;
use peerscope_tests::{agent, in_netns, netns, require_root, schema, VethPair};

/// Sends 64-byte datagrams to the ports of 192.0.2.2 in turn, each a new flow, about
/// 2 000 a second (the load of a busy host), from namespace `a` until `stop`; returns
/// how many were sent.
fn churn(pair: &VethPair, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    let ns = pair.ns_a.clone();
    std::thread::spawn(move || {
        in_netns(&ns, move || {
            let s = UdpSocket::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::A_V4)), 0)).unwrap();
            let mut sent = 0u64;
            let deadline = Instant::now() + Duration::from_secs(30);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                for _ in 0..100 {
                    let dst = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::B_V4)), 1024 + (sent % 60_000) as u16);
                    if s.send_to(&[0u8; 36], dst).is_ok() {
                        sent += 1;
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            sent
        })
    })
}

#[test]
fn sigterm_under_churn_ends_the_agent_within_2_s_with_the_last_window_written() {
    if !require_root("sigterm_under_churn_ends_the_agent_within_2_s_with_the_last_window_written") {
        return;
    }
    let pair = VethPair::new("sht", false);
    let jsonl = std::env::temp_dir().join(format!("peerscope-sht-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&jsonl);
    let (mut run, first) = agent::start_run(
        &pair,
        &["--interval", "0.5", "--window", "2", "--idle-timeout", "1", "--quiet", "--jsonl", jsonl.to_str().unwrap()],
    );
    assert!(first.contains("attached to"), "{first}");
    agent::discard_stdout(&mut run);
    let stop = Arc::new(AtomicBool::new(false));
    let sender = churn(&pair, stop.clone());
    std::thread::sleep(Duration::from_secs(5));

    let asked = Instant::now();
    let asked_unix_ns = clock::unix_now_ns();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(run.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let mut child = run.take();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if asked.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("still running 10 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = asked.elapsed();
    stop.store(true, Ordering::Relaxed);
    let sent = sender.join().unwrap();
    eprintln!("SIGTERM to exit: {took:?} ({sent} new flows sent)");
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(2), "SIGTERM took {took:?} under churn ({sent} new flows sent)");
    assert!(sent > 5_000, "the churn was real: {sent} datagrams");

    let text = std::fs::read_to_string(&jsonl).unwrap();
    let _ = std::fs::remove_file(&jsonl);
    let lines = schema::assert_lines(&text, &["window_record", "peer_record"], "run --jsonl");
    let last = lines.iter().rfind(|l| l["document"] == "window_record").expect("windows were written");
    let end = last["window"]["start_unix_ns"].as_u64().unwrap() + last["window"]["len_ns"].as_u64().unwrap();
    assert!(end >= asked_unix_ns, "the window open at SIGTERM was written (it ends {end}, SIGTERM at {asked_unix_ns})");
}
