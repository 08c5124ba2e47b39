//! A real Prometheus server scrapes the agent's `/metrics` every second; a query
//! through its HTTP API returns the value the agent reports.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    process::Stdio,
    time::{Duration, Instant},
};

use peerscope_tests::{agent, http, in_netns, netns, netns::ChildGuard, require_root, require_tool, traffic, VethPair};

const AGENT: &str = "127.0.0.1:19464";
const PROM: &str = "127.0.0.1:19090";

fn get_in(ns: &str, addr: &str, path: String) -> Option<String> {
    let addr: SocketAddr = addr.parse().unwrap();
    in_netns(ns, move || http::get(addr, &path).ok().filter(|(s, _)| *s == 200).map(|(_, b)| b))
}

#[test]
fn prometheus_query_returns_the_agents_value() {
    let name = "prometheus_query_returns_the_agents_value";
    if !require_root(name) || !require_tool(name, "prometheus") {
        return;
    }
    let pair = VethPair::new("prm", false);
    // Traffic only after the program is attached.
    let (mut run, first) = agent::start_run(&pair, &["--interval", "0.5", "--metrics", AGENT]);
    assert!(first.contains("attached to"), "{first}");
    agent::discard_stdout(&mut run);
    let dir = std::env::temp_dir().join(format!("peerscope-prom-{}", pair.a_if));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: peerscope\n    static_configs:\n      - targets: ['{AGENT}']\n"),
    )
    .unwrap();
    let _prom = ChildGuard(Some(
        agent::command_in_a(&pair, std::path::Path::new("prometheus"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address={PROM}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    ));

    let a = IpAddr::V4(Ipv4Addr::from(netns::A_V4));
    let b = IpAddr::V4(Ipv4Addr::from(netns::B_V4));
    traffic::udp_burst(&pair.ns_a, a, &pair.ns_b, SocketAddr::new(b, 4004), &[300; 20]);

    // Wait until Prometheus has scraped the settled value: equal to the agent's own.
    let deadline = Instant::now() + Duration::from_secs(40);
    let series = format!(
        r#"peerscope_packets_total{{iface="{}",netns="{}",direction="out",class="control"}}"#,
        pair.a_if,
        netns::netns_inode(&pair.ns_a)
    );
    let query = format!("/api/v1/query?query={}", http::encode(&series));
    let mut last = (None, None);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(700));
        let agent = get_in(&pair.ns_a, AGENT, "/metrics".into()).and_then(|t| http::sample(&t, &series));
        let prom = get_in(&pair.ns_a, PROM, query.clone()).and_then(|body| {
            let v: serde_json::Value = serde_json::from_str(&body).ok()?;
            v["data"]["result"][0]["value"][1].as_str()?.parse::<f64>().ok()
        });
        last = (agent, prom);
        if let (Some(x), Some(y)) = last {
            if x >= 20.0 && x == y {
                let _ = std::fs::remove_dir_all(&dir);
                return;
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    panic!("Prometheus never returned the agent's value (agent, prometheus) = {last:?}");
}
