//! A full flow table is part of every figure it affects: the window records and the
//! interval documents carry what it kept out, the report says so in JSON and in text,
//! and the `flows` header warns — each the kernel's overflow counters exactly.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::Duration,
};

use peerscope_tests::{agent, netns, require_root, schema, traffic, VethPair};

#[test]
fn overflow_is_in_the_report_the_window_records_and_the_flows_header() {
    if !require_root("overflow_is_in_the_report_the_window_records_and_the_flows_header") {
        return;
    }
    let pair = VethPair::new("ovf", false);
    let jsonl = std::env::temp_dir().join(format!("peerscope-ovf-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&jsonl);
    let (mut run, first) = agent::start_run(
        &pair,
        &["--interval", "0.2", "--window", "0.5", "--max-flows", "8", "--quiet", "--jsonl", jsonl.to_str().unwrap()],
    );
    assert!(first.contains("attached to"), "{first}");
    agent::discard_stdout(&mut run);
    let b = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::B_V4)), 4004);
    for port in 41_000..41_040 {
        let a = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::A_V4)), port);
        traffic::udp_burst_from(&pair.ns_a, a, &pair.ns_b, b, &[200; 3]);
    }
    std::thread::sleep(Duration::from_millis(1200));

    let flows = agent::peerscope_in_a(&pair).args(["flows", "-i", &pair.a_if, "--json", "--interval", "0"]).output();
    let flows: serde_json::Value = serde_json::from_slice(&flows.unwrap().stdout).unwrap();
    schema::assert_document("flows", &flows, "flows --json");
    let overflow = flows["counters"]["overflow_packets"].as_u64().unwrap();
    assert!(overflow > 0, "40 flows in a table of 8 overflow: {}", flows["counters"]);
    let text = agent::peerscope_in_a(&pair).args(["flows", "-i", &pair.a_if, "--interval", "0"]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&format!("the table was full: {overflow} packets")), "{text}");

    let report = agent::peerscope_in_a(&pair).args(["report", "-i", &pair.a_if, "--json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    schema::assert_document("report", &report, "report --json");
    assert_eq!(report["source"]["overflow"]["packets"], overflow, "{}", report["source"]);
    assert_eq!(report["source"]["overflow"]["bytes"], overflow * 228);
    let text = agent::peerscope_in_a(&pair).args(["report", "-i", &pair.a_if]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&format!("warning: the flow table was full: {overflow} packets")), "{text}");

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(run.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(run.take().wait().unwrap().success());
    let lines =
        schema::assert_lines(&std::fs::read_to_string(&jsonl).unwrap(), &["window_record", "peer_record"], "jsonl");
    let _ = std::fs::remove_file(&jsonl);
    let windows: Vec<&serde_json::Value> = lines.iter().filter(|l| l["document"] == "window_record").collect();
    let sum = |f: &str| windows.iter().map(|w| w["conditions"][f].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("overflow_packets"), overflow, "the windows' overflow adds up to the kernel's counter");
    assert_eq!(sum("overflow_bytes"), overflow * 228);
    let counted: u64 = windows.iter().map(|w| w["window"]["packets"].as_u64().unwrap()).sum();
    assert!(counted + overflow >= 120, "{counted} counted + {overflow} overflow < 120 sent");
}
