//! A full flow table is part of every figure it affects: the window records and the
//! interval documents carry what it kept out, the report says so in JSON and in text,
//! and the `flows` header warns — each from the kernel's overflow counters. (Stray
//! packets the namespaces send, IPv6 router solicitations, overflow too: each figure is
//! compared with the counters of its own moment.)

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
        &[
            "--interval",
            "0.2",
            "--window",
            "0.5",
            "--max-flows",
            "8",
            "--json",
            "--top",
            "1",
            "--jsonl",
            jsonl.to_str().unwrap(),
        ],
    );
    assert!(first.contains("attached to"), "{first}");
    let mut stdout = run.0.as_mut().unwrap().stdout.take().unwrap();
    let intervals = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).unwrap();
        text
    });
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
    assert!(text.contains("warning: the table was full: ") && text.contains("in no flow below"), "{text}");

    let report = agent::peerscope_in_a(&pair).args(["report", "-i", &pair.a_if, "--json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    schema::assert_document("report", &report, "report --json");
    let reported = report["source"]["overflow"]["packets"].as_u64().unwrap();
    assert!(reported >= 60, "most of the 120 datagrams overflowed by the report's last window: {}", report["source"]);
    let text = agent::peerscope_in_a(&pair).args(["report", "-i", &pair.a_if]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("warning: the flow table was full: ") && text.contains(" packets ("), "{text}");

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(run.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(run.take().wait().unwrap().success());
    let intervals = schema::assert_lines(&intervals.join().unwrap(), &["interval"], "run --json");
    let lines =
        schema::assert_lines(&std::fs::read_to_string(&jsonl).unwrap(), &["window_record", "peer_record"], "jsonl");
    let _ = std::fs::remove_file(&jsonl);
    // The last poll's counters hold every overflow of the run; the windows share them out.
    let last = &intervals.last().expect("intervals were printed")["counters"];
    let windows: Vec<&serde_json::Value> = lines.iter().filter(|l| l["document"] == "window_record").collect();
    let sum = |f: &str| windows.iter().map(|w| w["conditions"][f].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("overflow_packets"), last["overflow_packets"].as_u64().unwrap(), "{last}");
    assert_eq!(sum("overflow_bytes"), last["overflow_bytes"].as_u64().unwrap());
    assert_eq!(sum("flow_insert_failures"), last["flow_insert_failures"].as_u64().unwrap());
    assert!(overflow <= sum("overflow_packets") && reported <= sum("overflow_packets"));
    // Each interval's window conditions are its window record's.
    let in_intervals: u64 = intervals.iter().filter_map(|i| i["window_conditions"]["overflow_packets"].as_u64()).sum();
    assert_eq!(in_intervals, sum("overflow_packets"));
    let counted: u64 = windows.iter().map(|w| w["window"]["packets"].as_u64().unwrap()).sum();
    assert!(counted + sum("overflow_packets") >= 120, "{counted} counted + overflow < 120 sent");
}
