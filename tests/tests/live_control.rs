//! Live dissection: a peer list sent to the monitored host is sampled by the kernel
//! (its first 128 bytes), decoded by the agent, and `peerscope report` names the
//! tracker and the peers learned from it.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::Duration,
};

use peerscope_dissector::v2005::{host_record::HostRecordRepr, tracker_reply::TrackerReplyRepr};
use peerscope_tests::{agent, netns, require_root, traffic, VethPair};

#[test]
fn report_names_tracker_and_learned_peers_from_samples() {
    if !require_root("report_names_tracker_and_learned_peers_from_samples") {
        return;
    }
    let pair = VethPair::new("ctl", false);
    let (mut run, first) = agent::start_run(&pair, &["--interval", "0.3", "--window", "1"]);
    agent::discard_stdout(&mut run);
    assert!(first.contains("attached to"), "{first}");

    // A 50-host tracker reply (917 bytes: a control packet) from B's port 8000.
    let hosts = (1..=50u8)
        .map(|i| HostRecordRepr { ip: Ipv4Addr::new(203, 0, 113, i), udp_port: 4004, tcp_port: 8008, unknown: [0; 10] })
        .collect();
    let mut reply = Vec::new();
    TrackerReplyRepr { header: [0x02, 0, 0, 0x02, 0x99, 0x58, 0x98, 0, 0x2d, 0x5a, 0x98, 0, 0x02], hosts }
        .emit(&mut reply);
    let a = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::A_V4)), 4004);
    let b = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::B_V4)), 8000);
    traffic::udp_payloads(&pair.ns_b, b, &pair.ns_a, a, vec![reply]);

    let mut last = String::new();
    for _ in 0..30 {
        std::thread::sleep(Duration::from_millis(300));
        let out = agent::peerscope_in_a(&pair).args(["report", "-i", &pair.a_if, "--json"]).output().unwrap();
        if !out.status.success() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        last = v["control"].to_string();
        if v["control"]["learned_peers"] == 6 {
            let t = &v["control"]["trackers"][0];
            assert_eq!(
                (t["ip"].as_str(), t["port"].as_u64(), t["replies"].as_u64()),
                (Some("192.0.2.2"), Some(8000), Some(1)),
                "{last}"
            );
            assert_eq!(
                v["control"]["by_rule"]["pplive.udp.tracker_reply_2005"],
                serde_json::Value::Null,
                "a cut sample fits no exact rule: {last}"
            );
            return;
        }
    }
    panic!("the report never showed the 6 peers inside the sample's 128 bytes: {last}");
}
