//! End to end on the demo swarm: what peerscope measures on the monitored peer's
//! interface equals what the swarm itself recorded sending (TCP payload per peer and
//! direction, retransmissions apart), and the studies' findings show: a campus peer
//! uploads several times what it downloads, a NATed one almost nothing.

use peerscope_tests::{
    demo::{demo_command, OutDir, ONE_SWARM},
    require_root,
};

fn run_demo(tag: &str, monitored: &str) -> (OutDir, serde_json::Value) {
    let _one = ONE_SWARM.lock().unwrap_or_else(|e| e.into_inner());
    let out = OutDir::new(tag);
    let res = demo_command(&out.0, &["--duration", "40", "--peers", "16", "--window", "10", "--monitored", monitored])
        .output()
        .expect("running peerscope demo");
    let stdout = String::from_utf8_lossy(&res.stdout);
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "demo exited with {}\nstdout:\n{stdout}\nstderr:\n{stderr}", res.status);
    assert!(stdout.contains("── window 0"), "a live report per window:\n{stdout}");
    let report = out.json("report.json");
    (out, report)
}

fn u(v: &serde_json::Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("{k} missing in {v}"))
}

/// Every peer: measured payload = ground truth + retransmitted, both directions.
fn assert_matches_truth(report: &serde_json::Value) {
    let peers = report["per_peer"].as_array().expect("per_peer");
    assert!(peers.len() >= 5, "the monitored peer talked to the swarm: {report}");
    for p in peers {
        for dir in ["up", "down"] {
            let measured = u(p, &format!("measured_{dir}_payload"));
            let truth = u(p, &format!("truth_{dir}_payload"));
            let retx = u(p, &format!("retransmitted_{dir}"));
            assert_eq!(measured, truth + retx, "{dir} with {}: measured {measured}, truth {truth} + retransmitted {retx}", p["ip"]);
        }
    }
    assert_eq!(report["all_match"], true);
    assert!(u(report, "truth_down_payload") > 0);
}

#[test]
fn campus_peer_measured_equals_ground_truth_and_uploads_several_times_its_download() {
    if !require_root("campus_peer_measured_equals_ground_truth_and_uploads_several_times_its_download") {
        return;
    }
    let (out, report) = run_demo("campus", "campus");
    assert_matches_truth(&report);
    let (up, down) = (u(&report, "measured_up_payload"), u(&report, "measured_down_payload"));
    assert!(up >= 3 * down, "campus: up {up} B, down {down} B");
    // At 400 kbit/s for most of 40 s the peer downloads well over a megabyte.
    assert!(down > 1_000_000, "the monitored peer played the channel: {down} B");
    let most_children = report["windows"].as_array().unwrap().iter().map(|w| w["children"].as_array().unwrap().len()).max();
    assert!(most_children >= Some(3), "a campus peer has many children: {most_children:?}");
    for svg in ["truth_rates.svg", "truth_peers.svg", "rates.svg", "parents_children.svg", "stability.svg", "cost.svg"] {
        let text = std::fs::read_to_string(out.0.join(svg)).unwrap_or_else(|e| panic!("{svg}: {e}"));
        assert!(text.starts_with("<svg") && text.contains("<polyline"), "{svg}: {text}");
    }
    let geo = std::fs::read_to_string(out.0.join("geo.csv")).expect("geo.csv written");
    assert!(geo.starts_with("prefix,latitude,longitude,label\n"), "{geo}");
}

#[test]
fn nat_peer_downloads_but_uploads_almost_nothing() {
    if !require_root("nat_peer_downloads_but_uploads_almost_nothing") {
        return;
    }
    let (_out, report) = run_demo("nat", "nat");
    assert_matches_truth(&report);
    let (up, down) = (u(&report, "measured_up_payload"), u(&report, "measured_down_payload"));
    assert!(down > 1_000_000, "the NATed peer still plays the channel: {down} B");
    assert!(up * 20 < down, "NAT: up {up} B is not ≪ down {down} B");
    for w in report["windows"].as_array().unwrap() {
        assert!(w["children"].as_array().unwrap().is_empty(), "a NATed peer has no children: {w}");
    }
}
