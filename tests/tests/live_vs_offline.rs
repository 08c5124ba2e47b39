//! Live and offline agree: tcpdump records the veth while `peerscope run` measures it;
//! `peerscope analyze` of the recording finds the same per-flow counts and the same
//! parents and children. `report` and `--jsonl` show the live engine's figures.

use std::{
    collections::{BTreeMap, BTreeSet},
    net::{IpAddr, Ipv4Addr, SocketAddr},
    process::Command,
    time::Duration,
};

use peerscope_tests::{
    agent, bin_path::peerscope, netns, require_root, require_tool, schema, tools::Capture, traffic, VethPair,
};

type Flow = (String, u16, String, u16);

fn paced(from_ns: &str, src: IpAddr, to_ns: &str, dst: SocketAddr, rounds: usize) {
    // 5 x 1000-byte datagrams every 200 ms: 25 KB/s, far above Rp = Rc = 4 KB/s.
    for _ in 0..rounds {
        traffic::udp_burst(from_ns, src, to_ns, dst, &[1000; 5]);
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn analyze_of_a_recording_agrees_with_the_live_agent() {
    let name = "analyze_of_a_recording_agrees_with_the_live_agent";
    if !require_root(name) || !require_tool(name, "tcpdump") {
        return;
    }
    let pair = VethPair::new("lvo", false);
    let dir = std::env::temp_dir().join(format!("peerscope-lvo-{}", pair.a_if));
    std::fs::create_dir_all(&dir).unwrap();
    let jsonl = dir.join("windows.jsonl");
    let pcap = dir.join("live.pcap");
    let capture = Capture::start(&pair.ns_a, &pair.a_if, &pcap);
    let (mut agent, first) = agent::start_run(
        &pair,
        &["--interval", "0.5", "--window", "2", "--json", "--top", "100000", "--jsonl", jsonl.to_str().unwrap()],
    );
    assert!(first.contains("attached to"), "{first}");
    // Read as it is written: a full pipe would stop the agent's polls (it blocks in
    // the write) and what it had not polled by SIGTERM would never be reported.
    let out = agent.0.as_mut().unwrap().stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(out).unwrap());

    let a4 = IpAddr::V4(Ipv4Addr::from(netns::A_V4));
    let b4 = IpAddr::V4(Ipv4Addr::from(netns::B_V4));
    let (a6, b6): (IpAddr, IpAddr) = (netns::A_V6.parse().unwrap(), netns::B_V6.parse().unwrap());
    // B's IPv4 address feeds A (a parent); A feeds B's IPv6 address (a child).
    let down = std::thread::spawn({
        let (nb, na) = (pair.ns_b.clone(), pair.ns_a.clone());
        move || paced(&nb, b4, &na, SocketAddr::new(a4, 4004), 25)
    });
    paced(&pair.ns_a, a6, &pair.ns_b, SocketAddr::new(b6, 4005), 25);
    down.join().unwrap();
    std::thread::sleep(Duration::from_millis(2500));

    // The live report of the running agent.
    let report = agent::peerscope_in_a(&pair).args(["report", "-i", &pair.a_if]).output().unwrap();
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(
        report.status.success() && text.contains("Parents and children") && text.contains("== window"),
        "report: {text}"
    );

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(agent.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let mut child = agent.take();
    assert!(child.wait().unwrap().success());
    let stdout = reader.join().unwrap();
    let pcap = capture.stop();

    // Live: per-flow totals from the interval deltas; parents/children from windows.
    let mut live: BTreeMap<Flow, (u64, u64)> = BTreeMap::new();
    let (mut live_parents, mut live_children) = (BTreeSet::new(), BTreeSet::new());
    for v in schema::assert_lines(&stdout, &["interval"], "run --json") {
        for f in v["flows"].as_array().unwrap() {
            if f["protocol"] != "udp" {
                continue;
            }
            let e = live.entry(flow_key(f)).or_default();
            let i = &f["interval"];
            e.0 += i["packets"].as_u64().unwrap();
            e.1 += i["bytes"].as_u64().unwrap();
        }
        if let Some(w) = v.get("window").filter(|w| !w.is_null()) {
            live_parents
                .extend(w["parents"].as_array().unwrap().iter().map(|p| p["peer"].as_str().unwrap().to_string()));
            live_children
                .extend(w["children"].as_array().unwrap().iter().map(|p| p["peer"].as_str().unwrap().to_string()));
        }
    }

    // Offline: the same engine on the recording.
    let out = dir.join("analysis.json");
    let analyze = Command::new(peerscope())
        .arg("analyze")
        .arg(&pcap)
        .args(["--host", "192.0.2.1", "--host", "2001:db8::1", "--window", "2", "--json"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(analyze.status.success(), "analyze: {}", String::from_utf8_lossy(&analyze.stderr));
    let v = schema::assert_file("report", &out)["report"].clone();
    let mut offline: BTreeMap<Flow, (u64, u64)> = BTreeMap::new();
    for f in v["flows"].as_array().unwrap() {
        if f["ip_protocol"] != 17 {
            continue;
        }
        offline.insert(flow_key(f), (f["total"]["packets"].as_u64().unwrap(), f["total"]["bytes"].as_u64().unwrap()));
    }
    let (mut off_parents, mut off_children) = (BTreeSet::new(), BTreeSet::new());
    for w in v["windows"].as_array().unwrap() {
        off_parents.extend(w["parents"].as_array().unwrap().iter().map(|p| p["peer"].as_str().unwrap().to_string()));
        off_children.extend(w["children"].as_array().unwrap().iter().map(|p| p["peer"].as_str().unwrap().to_string()));
    }

    // The JSON-lines export has a window record and peer records.
    let lines = std::fs::read_to_string(&jsonl).unwrap();
    let records = schema::assert_lines(&lines, &["window_record", "peer_record"], "run --jsonl");
    assert!(records.iter().any(|r| r["document"] == "window_record"), "{lines}");
    assert!(records.iter().any(|r| r["document"] == "peer_record" && r["parent"] == true), "{lines}");
    let _ = std::fs::remove_dir_all(&dir);

    let unseen: Vec<_> = offline.keys().filter(|k| !live.contains_key(*k)).collect();
    assert!(
        live.len() >= 50,
        "expected 50 bursts' flows, live saw {} (the recording {}); not seen live: {unseen:?}",
        live.len(),
        offline.len()
    );
    assert_eq!(live, offline, "per-flow (packets, IP bytes): live vs offline");
    assert_eq!(live_parents, BTreeSet::from(["192.0.2.2".to_string()]));
    assert_eq!(live_children, BTreeSet::from(["2001:db8::2".to_string()]));
    assert_eq!((off_parents, off_children), (live_parents, live_children), "parents and children: offline vs live");
}

fn flow_key(f: &serde_json::Value) -> Flow {
    let port = |k: &str| f[k].as_u64().unwrap() as u16;
    let ip = |k: &str| f[k].as_str().unwrap().to_string();
    (ip("src_ip"), port("src_port"), ip("dst_ip"), port("dst_port"))
}
