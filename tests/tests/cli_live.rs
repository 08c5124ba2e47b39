//! The `peerscope` binary on a live interface: `run` prints counts, `flows` reads the
//! same counters from another process through the pinned maps, SIGTERM detaches and
//! removes the pins, and bad input gets one clear line and a non-zero exit. Every
//! JSON document of the live commands (`run --json`, `--jsonl`, `flows`, `status`,
//! `report`) fits the schema `peerscope schema` prints, and `report` reads its
//! pinned file through the same document.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    process::Command,
    time::Duration,
};

use peerscope_tests::{agent, bin_path::peerscope, netns, require_root, schema, traffic, VethPair};

#[test]
fn run_and_flows_share_pinned_counters_and_sigterm_cleans_up() {
    if !require_root("run_and_flows_share_pinned_counters_and_sigterm_cleans_up") {
        return;
    }
    let pair = VethPair::new("cli", false);
    let jsonl = RemovedOnDrop(std::env::temp_dir().join(format!("peerscope-cli-{}.jsonl", pair.a_if)));
    let jsonl = &jsonl.0;
    let _ = std::fs::remove_file(jsonl);
    let (mut run, first) = agent::start_run(
        &pair,
        &["--interval", "0.3", "--json", "--window", "0.6", "--jsonl", jsonl.to_str().unwrap()],
    );
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
    schema::assert_document("flows", &v, "flows --json");
    let flow = v["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["src_ip"] == "192.0.2.1" && f["src_port"] == port)
        .unwrap_or_else(|| panic!("flow not listed: {v}"));
    let t = &flow["total"];
    assert_eq!(
        (t["ack_packets"].as_u64(), t["control_packets"].as_u64(), t["data_packets"].as_u64()),
        (Some(0), Some(1), Some(2))
    );
    assert_eq!(t["data_bytes"], 1128 + 1328);
    assert_eq!((flow["protocol"].as_str(), flow["direction"].as_str()), (Some("udp"), Some("upload")), "{flow}");

    let out = Command::new(peerscope()).args(["status", "--json"]).output().unwrap();
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status --json is JSON");
    schema::assert_document("status", &status, "status --json");
    let ours = status["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["iface"] == pair.a_if.as_str())
        .unwrap_or_else(|| panic!("{status}"));
    // `auto` on a veth: TCX, not native XDP (which would cost the pair its GRO), and why.
    assert_eq!(ours["ingress_hook"], "tcx", "{ours}");
    assert!(ours["hook_why"].as_str().is_some_and(|w| w.contains("veth")), "{ours}");
    assert!(first.contains("ingress: TCX"), "{first}");

    // The pinned report, once the first window (0.6 s) has closed: as JSON, and as
    // text rendered from the same document.
    let report = (0..20)
        .find_map(|_| {
            std::thread::sleep(Duration::from_millis(200));
            let out = agent::peerscope_in_a(&pair).args(["report", "-i", &pair.a_if, "--json"]).output().unwrap();
            out.status.success().then(|| serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap())
        })
        .expect("report --json after the first window");
    schema::assert_document("report", &report, "report --json");
    assert_eq!(
        (report["source"]["kind"].as_str(), report["source"]["iface"].as_str()),
        (Some("live"), Some(pair.a_if.as_str()))
    );
    let text = agent::peerscope_in_a(&pair).args(["report", "-i", &pair.a_if]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&format!("peerscope live report for {}", pair.a_if)) && text.contains("Windows so far:"),
        "{text}"
    );
    // The kernel's size histogram reaches the live report: the burst's IP lengths
    // 128, 1128 and 1328 B leave A (egress, upload) in bins 16, 141 and 166.
    let upload = |bin: usize, r: &serde_json::Value| {
        r["report"]["sizes"]["distribution"]["upload"]["bins"][bin].as_u64().unwrap_or(0)
    };
    let mut last = serde_json::Value::Null;
    let sized = (0..20)
        .find_map(|_| {
            let out = agent::peerscope_in_a(&pair).args(["report", "-i", &pair.a_if, "--json"]).output().unwrap();
            let r = serde_json::from_slice::<serde_json::Value>(&out.stdout).ok()?;
            if upload(166, &r) > 0 {
                return Some(r);
            }
            last = r["report"]["sizes"].clone();
            std::thread::sleep(Duration::from_millis(200));
            None
        })
        .unwrap_or_else(|| panic!("the size histogram in the live report: {last}"));
    assert_eq!(sized["report"]["sizes"]["distribution"]["source"], "kernel");
    assert!(upload(16, &sized) >= 1 && upload(141, &sized) >= 1, "{}", sized["report"]["sizes"]);

    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(run.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let mut run = run.take();
    let stdout = std::io::read_to_string(run.stdout.take().unwrap()).unwrap();
    let status = run.wait().unwrap();
    assert!(status.success(), "run exited with {status}");
    let intervals = schema::assert_lines(&stdout, &["interval"], "run --json");
    assert!(intervals.iter().any(|v| !v["window"].is_null()), "a window closed during the run");
    let total_data: u64 = intervals
        .iter()
        .flat_map(|v| v["flows"].as_array().cloned().unwrap_or_default())
        .filter(|f| f["src_ip"] == "192.0.2.1" && f["src_port"] == port)
        .map(|f| f["interval"]["data_packets"].as_u64().unwrap())
        .sum();
    assert_eq!(total_data, 2, "the intervals' deltas add up to the flow's data packets");
    let records = std::fs::read_to_string(jsonl).unwrap();
    let records = schema::assert_lines(&records, &["window_record", "peer_record"], "run --jsonl");
    assert!(records.iter().any(|r| r["document"] == "peer_record" && r["peer"] == "192.0.2.2"), "{records:?}");
    assert!(!pins.exists(), "pins left behind at {}", pins.display());
}

/// `peerscope report` reads the pinned file through the report document: it renders
/// the document it finds as text, prints it again as JSON, and refuses a file of
/// another schema version by naming both versions.
#[test]
fn report_renders_the_pinned_document_and_refuses_another_version() {
    if !require_root("report_renders_the_pinned_document_and_refuses_another_version") {
        return;
    }
    // The file of an attachment to a real interface (named by namespace and index).
    let pair = VethPair::new("rep", false);
    let file = RemovedOnDrop(pair.pins_a().report_file);
    let pcap = RemovedOnDrop(std::env::temp_dir().join(format!("psrep{}.pcap", std::process::id())));
    let mut p = peerscope::offline::synth::SynthPcap::new(peerscope::offline::synth::Link::Ethernet);
    let (x, peer): (SocketAddr, SocketAddr) = ("192.0.2.1:4004".parse().unwrap(), "198.51.100.7:8008".parse().unwrap());
    p.udp_train(1_000_000_000_000, 100_000_000, 50, peer, x, 1300);
    p.write_file(&pcap.0).unwrap();
    let out = Command::new(peerscope())
        .args(["analyze", pcap.0.to_str().unwrap(), "--host", "192.0.2.1", "--json", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    std::fs::create_dir_all("/run/peerscope").unwrap();
    std::fs::write(&file.0, serde_json::to_vec(&doc).unwrap()).unwrap();

    let text = agent::peerscope_in_a(&pair).args(["report", "-i", &pair.a_if]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("peerscope analysis") && text.contains("Parents and children [M]"), "{text}");
    let json = agent::peerscope_in_a(&pair).args(["report", "-i", &pair.a_if, "--json"]).output().unwrap();
    let again: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    schema::assert_document("report", &again, "report --json");
    assert_eq!(again, doc, "report --json prints the document it read");

    doc["schema_version"] = 1.into();
    std::fs::write(&file.0, serde_json::to_vec(&doc).unwrap()).unwrap();
    let old = agent::peerscope_in_a(&pair).args(["report", "-i", &pair.a_if]).output().unwrap();
    let err = String::from_utf8_lossy(&old.stderr);
    assert!(!old.status.success() && err.contains("schema_version 1") && err.contains("reads 2"), "{err}");
}

/// A file the test wrote, removed however the test ends.
struct RemovedOnDrop(std::path::PathBuf);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// An interface whose frames do not start with an Ethernet header (a tun device: raw
/// IP) is refused with its link type named, and nothing is attached or pinned; the
/// veth beside it in the same namespace is accepted.
#[test]
fn run_refuses_an_interface_without_ethernet_frames() {
    if !require_root("run_refuses_an_interface_without_ethernet_frames") {
        return;
    }
    let pair = VethPair::new("l3", false);
    let tun = format!("pt{}", &pair.a_if[2..]);
    for args in [&["tuntap", "add", "dev", &tun, "mode", "tun"][..], &["link", "set", &tun, "up"]] {
        let out = Command::new("ip").args(["-n", &pair.ns_a]).args(args).output().unwrap();
        assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let pins = std::path::Path::new("/sys/fs/bpf/peerscope").join(&tun);
    let child = agent::peerscope_in_a(&pair)
        .args(["run", "-i", &tun, "--interval", "0.2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = netns::ChildGuard(Some(child));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.0.as_mut().unwrap().try_wait().unwrap() {
            break Some(s);
        }
        if std::time::Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let pinned = pins.exists();
    let mut c = child.take();
    let _ = c.kill();
    let err = std::io::read_to_string(c.stderr.take().unwrap()).unwrap();
    let _ = c.wait();
    let _ = std::fs::remove_dir_all(&pins);
    let status = status.unwrap_or_else(|| panic!("run -i {tun} did not refuse the interface: {err}"));
    assert_eq!(status.code(), Some(peerscope::exit::FAILURE.into()), "{err}");
    assert!(err.contains(&format!("{tun} is not an Ethernet interface")) && err.contains("raw IP"), "{err}");
    assert!(!pinned, "a refused interface left pins at {}", pins.display());

    let (mut run, first) = agent::start_run(&pair, &["--interval", "0.2"]);
    assert!(first.contains("attached to"), "the veth beside it: {first}");
    agent::discard_stdout(&mut run);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(run.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = run.take().wait().unwrap();
    assert!(status.success(), "{status:?}");
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

/// Loopback has no native XDP hook: `--hook xdp` says so and names the other hooks
/// (generic XDP is never a silent fallback), `--hook xdp-generic` runs there, and
/// `auto` picks TCX.
#[test]
fn each_hook_is_what_was_asked_for_or_an_error() {
    if !require_root("each_hook_is_what_was_asked_for_or_an_error") {
        return;
    }
    let pair = VethPair::new("gen", false);
    let run = |hook: &str| {
        let out = agent::peerscope_in_a(&pair)
            .args(["run", "-i", "lo", "--interval", "0.2", "--count", "1", "--json", "--hook", hook])
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (ok, err) = run("xdp");
    assert!(!ok, "native XDP on lo: {err}");
    assert!(err.contains("no ingress hook attached to lo") && err.contains("--hook xdp-generic"), "{err}");
    let (ok, err) = run("xdp-generic");
    assert!(ok, "{err}");
    assert!(err.contains("ingress: XDP (generic), --hook xdp-generic"), "{err}");
    let (ok, err) = run("auto");
    assert!(ok, "{err}");
    assert!(err.contains("ingress: TCX, auto:"), "{err}");
    let (ok, err) = run("tc");
    assert!(!ok && err.contains("--hook"), "a hook that does not exist: {err}");
}
