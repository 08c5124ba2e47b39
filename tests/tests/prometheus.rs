//! A real Prometheus server scrapes the agent's `/metrics` every second (OpenMetrics,
//! as Prometheus asks for it), with the shipped alert rules loaded: a query returns
//! the value the agent reports, `promtool check metrics` finds nothing to complain
//! about in the classic text format, every query of the shipped Grafana dashboard
//! runs and returns series, every alert rule evaluates cleanly, and the overflow alert
//! fires when the flow table is full.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
    process::{Command, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use peerscope_tests::{agent, http, in_netns, netns, netns::ChildGuard, require_root, require_tool, traffic, VethPair};

const AGENT: &str = "127.0.0.1:19464";
const PROM: &str = "127.0.0.1:19090";

fn get_in(ns: &str, addr: &str, path: String) -> Option<String> {
    let addr: SocketAddr = addr.parse().unwrap();
    in_netns(ns, move || http::get(addr, &path).ok().filter(|(s, _)| *s == 200).map(|(_, b)| b))
}

fn dist(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../agent/dist").join(file)
}

/// The result vector of an instant query, or the error Prometheus gave.
fn query(ns: &str, q: &str) -> Result<Vec<serde_json::Value>, String> {
    let body = get_in(ns, PROM, format!("/api/v1/query?query={}", http::encode(q))).ok_or("no answer")?;
    let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    if v["status"] != "success" {
        return Err(format!("{q}: {v}"));
    }
    Ok(v["data"]["result"].as_array().cloned().unwrap_or_default())
}

/// Every `expr` of the dashboard, its Grafana variables given values that select all.
fn dashboard_queries() -> Vec<String> {
    let d: serde_json::Value = serde_json::from_slice(&std::fs::read(dist("grafana-dashboard.json")).unwrap()).unwrap();
    let mut out = Vec::new();
    for p in d["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().unwrap() {
            let e = t["expr"].as_str().unwrap();
            out.push(e.replace("$__rate_interval", "10s").replace("$iface", ".*").replace("$instance", ".*"));
        }
    }
    assert!(out.len() >= 15, "the dashboard's queries: {out:?}");
    out
}

#[test]
fn prometheus_reads_the_agent_and_runs_the_dashboard_and_alerts() {
    let name = "prometheus_reads_the_agent_and_runs_the_dashboard_and_alerts";
    if !require_root(name) || !require_tool(name, "prometheus") || !require_tool(name, "promtool") {
        return;
    }
    let rules = Command::new("promtool").arg("check").arg("rules").arg(dist("prometheus-alerts.yml")).output().unwrap();
    assert!(rules.status.success(), "promtool check rules: {}", String::from_utf8_lossy(&rules.stdout));

    let pair = VethPair::new("prm", false);
    // A table of 8 flows, so the overflow alert has something to fire on.
    let (mut run, first) = agent::start_run(
        &pair,
        &["--interval", "0.5", "--window", "1", "--max-flows", "8", "--metrics", AGENT, "--quiet"],
    );
    assert!(first.contains("attached to"), "{first}");
    agent::discard_stdout(&mut run);
    let dir = std::env::temp_dir().join(format!("peerscope-prom-{}", pair.a_if));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: peerscope\n    static_configs:\n      - targets: ['{AGENT}']\n",
            dist("prometheus-alerts.yml").display()
        ),
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

    // Traffic to one peer from 20 ports (more flows than the table holds), in bursts
    // until the checks are done (at most 60 s).
    let a = IpAddr::V4(Ipv4Addr::from(netns::A_V4));
    let b = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::B_V4)), 4004);
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (ns_a, ns_b, stop) = (pair.ns_a.clone(), pair.ns_b.clone(), stop.clone());
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut port = 41_000;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                traffic::udp_burst_from(&ns_a, SocketAddr::new(a, port), &ns_b, b, &[1200; 20]);
                port = if port == 41_019 { 41_000 } else { port + 1 };
            }
        })
    };

    let series = format!(
        r#"peerscope_packets_total{{iface="{}",netns="{}",direction="out",class="data"}}"#,
        pair.a_if,
        netns::netns_inode(&pair.ns_a)
    );
    let deadline = Instant::now() + Duration::from_secs(50);
    let mut pending: Vec<String> = dashboard_queries();
    let (mut same_value, mut alert_fired, mut rules_ok) = (false, false, false);
    let mut last = String::new();
    while Instant::now() < deadline && !(same_value && alert_fired && rules_ok && pending.is_empty()) {
        std::thread::sleep(Duration::from_millis(700));
        let agent = get_in(&pair.ns_a, AGENT, "/metrics".into()).and_then(|t| http::sample(&t, &series));
        let prom = query(&pair.ns_a, &series).ok().and_then(|r| r.first()?["value"][1].as_str()?.parse::<f64>().ok());
        // The sender pauses between bursts; equal values show Prometheus read ours.
        same_value |= matches!((agent, prom), (Some(x), Some(y)) if x >= 8.0 && x == y);
        pending.retain(|q| match query(&pair.ns_a, q) {
            Ok(r) if !r.is_empty() => false,
            Ok(_) => {
                last = format!("{q}: no series yet");
                true
            }
            Err(e) => panic!("the dashboard query {q} fails: {e}"),
        });
        alert_fired |= query(&pair.ns_a, r#"ALERTS{alertname="PeerscopeFlowTableOverflow",alertstate="firing"}"#)
            .is_ok_and(|r| !r.is_empty());
        if let Some(body) = get_in(&pair.ns_a, PROM, "/api/v1/rules".into()) {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            let all: Vec<&serde_json::Value> = v["data"]["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|g| g["rules"].as_array().unwrap())
                .collect();
            for r in &all {
                assert_ne!(r["health"], "err", "alert rule {} fails: {}", r["name"], r["lastError"]);
            }
            rules_ok = all.len() == 7 && all.iter().all(|r| r["health"] == "ok");
        }
    }
    stop.store(true, Ordering::Relaxed);
    let text = in_netns(&pair.ns_a, move || {
        let (status, body) = http::get(AGENT.parse().unwrap(), "/metrics").unwrap();
        assert_eq!(status, 200);
        body
    });
    sender.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(same_value, "Prometheus never returned the agent's value of {series}");
    assert!(pending.is_empty(), "dashboard queries without a series: {pending:?} ({last})");
    assert!(rules_ok, "the 7 alert rules were not all evaluated healthy");
    assert!(alert_fired, "PeerscopeFlowTableOverflow never fired with a full table");

    // The classic text format, as curl gets it, passes promtool's lint untouched.
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut check.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = check.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "promtool check metrics: {said}");
    assert!(text.contains("peerscope_peer_rate_bytes_per_second_bucket{"), "windows gave the histogram observations");
}
