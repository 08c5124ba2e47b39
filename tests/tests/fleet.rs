//! The agent beside others on one host: the same interface name in two network
//! namespaces (two containers' eth0), the shipped unit's command line for two
//! interfaces at once, a configuration that fails before attaching, clean pipes and
//! logs without escape codes.
//!
//! Commands run in a namespace with `nsenter --net=` (not `ip netns exec`, which mounts
//! a /sys of its own where bpffs, and so the pins, are not visible).

use std::{
    io::{BufRead, BufReader, Write},
    net::{IpAddr, Ipv4Addr, SocketAddr},
    process::{Command, Stdio},
    time::Duration,
};

use peerscope_tests::{agent, bin_path::peerscope, netns, netns::ChildGuard, require_root, schema, traffic, VethPair};

fn a() -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(netns::A_V4))
}

fn b(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::from(netns::B_V4)), port)
}

/// `peerscope ARGS` in namespace `a` of `pair`, with its output.
fn in_a(pair: &VethPair, args: &[&str]) -> std::process::Output {
    agent::peerscope_in_a(pair).args(args).output().unwrap()
}

/// Packets of the flow from `src_port` that `flows` shows in namespace `a`.
fn flow_packets(pair: &VethPair, iface: &str, src_port: u16) -> Option<u64> {
    let out = in_a(pair, &["flows", "-i", iface, "--json", "--top", "0", "--interval", "0"]);
    assert!(out.status.success(), "flows: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    schema::assert_document("flows", &v, "flows --json");
    v["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["src_ip"] == "192.0.2.1" && f["src_port"] == src_port)
        .map(|f| f["total"]["packets"].as_u64().unwrap())
}

fn sigterm(child: &ChildGuard) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
}

#[test]
fn same_interface_name_in_two_namespaces() {
    if !require_root("same_interface_name_in_two_namespaces") {
        return;
    }
    let name = format!("pse{}", std::process::id() % 100_000);
    let peer = format!("psp{}", std::process::id() % 100_000);
    let mut one = VethPair::new("ns1", false);
    let mut two = VethPair::new("ns2", false);
    one.rename(&name, &peer);
    two.rename(&name, &peer);
    let (mut run1, line1) = agent::start_run(&one, &["--interval", "0.2", "--window", "1", "--quiet"]);
    assert!(line1.contains("attached to"), "{line1}");
    // The second agent on the same name starts: it is another interface.
    let (mut run2, line2) = agent::start_run(&two, &["--interval", "0.2", "--window", "1", "--quiet"]);
    assert!(line2.contains("attached to"), "the second namespace's agent: {line2}");
    agent::discard_stdout(&mut run1);
    agent::discard_stdout(&mut run2);
    assert_ne!(one.pins_a().dir, two.pins_a().dir);
    let (links1, links2) = (agent::pinned_links(&one), agent::pinned_links(&two));

    traffic::udp_burst_from(&one.ns_a, SocketAddr::new(a(), 42_001), &one.ns_b, b(4004), &[300; 3]);
    traffic::udp_burst_from(&two.ns_a, SocketAddr::new(a(), 42_001), &two.ns_b, b(4004), &[300; 7]);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(flow_packets(&one, &name, 42_001), Some(3), "flows in the first namespace shows its own flow");
    assert_eq!(flow_packets(&two, &name, 42_001), Some(7), "flows in the second namespace shows its own flow");

    // `status` from anywhere lists both, each with its namespace.
    let st = Command::new(peerscope()).args(["status", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    schema::assert_document("status", &v, "status --json");
    let inodes: Vec<u64> = v["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["iface"] == name.as_str())
        .map(|s| s["netns_inode"].as_u64().unwrap())
        .collect();
    let mut want = vec![netns::netns_inode(&one.ns_a), netns::netns_inode(&two.ns_a)];
    want.sort();
    let mut got = inodes.clone();
    got.sort();
    assert_eq!(got, want, "status names both attachments by namespace: {v}");
    let text = in_a(&one, &["status"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("this namespace") && text.contains(&format!("net:[{}]", netns::netns_inode(&one.ns_a))),
        "{text}"
    );

    // Each namespace's report is its own agent's.
    std::thread::sleep(Duration::from_millis(1500));
    for (pair, run) in [(&one, &run1), (&two, &run2)] {
        let rep = in_a(pair, &["report", "-i", &name]);
        let rep = String::from_utf8_lossy(&rep.stdout);
        assert!(rep.contains(&format!("agent pid {}", run.id())), "{rep}");
    }

    // Detach in the first namespace stops only the first agent.
    let out = in_a(&one, &["detach", "-i", &name]);
    assert!(out.status.success(), "detach: {}", String::from_utf8_lossy(&out.stderr));
    assert!(run1.take().wait().unwrap().success());
    assert!(agent::links_gone(links1) && agent::links_attached(links2), "only the first namespace's program went");
    assert!(run2.0.as_mut().unwrap().try_wait().unwrap().is_none(), "the second agent still runs");
    assert_eq!(flow_packets(&two, &name, 42_001), Some(7));
    let out = in_a(&two, &["detach", "-i", &name]);
    assert!(out.status.success());
    assert!(run2.take().wait().unwrap().success());
    assert!(!two.pins_a().dir.exists());
}

#[test]
fn a_port_in_use_leaves_nothing_attached() {
    if !require_root("a_port_in_use_leaves_nothing_attached") {
        return;
    }
    let pair = VethPair::new("prt", false);
    let busy = peerscope_tests::in_netns(&pair.ns_a, || std::net::TcpListener::bind("127.0.0.1:19470").unwrap());
    let cfg = std::env::temp_dir().join(format!("peerscope-prt-{}.toml", pair.a_if));
    // Native XDP, so `ip link` would show a program left behind.
    std::fs::write(&cfg, "keep-attached = true\nmetrics = \"19470\"\nhook = \"xdp\"\n").unwrap();
    let out = in_a(&pair, &["run", "-i", &pair.a_if, "--config", cfg.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot listen for --metrics on 127.0.0.1:19470"), "{err}");
    assert!(!err.contains("attached to"), "{err}");
    assert!(!pair.pins_a().dir.exists() && !agent::xdp_attached(&pair), "nothing may be attached after the failure");
    drop(busy);
    let _ = std::fs::remove_file(&cfg);
}

#[test]
fn the_shipped_unit_runs_for_two_interfaces_at_once() {
    if !require_root("the_shipped_unit_runs_for_two_interfaces_at_once") {
        return;
    }
    // Two interfaces in one namespace: a second veth pair moved into the first's.
    let pair = VethPair::new("unit", false);
    let other = VethPair::new("unit2", false);
    let second_if = format!("{}x", pair.a_if);
    let ip = |args: &[&str]| assert!(Command::new("ip").args(args).status().unwrap().success(), "ip {args:?}");
    ip(&["-n", &other.ns_a, "link", "set", "dev", &other.a_if, "netns", &pair.ns_a, "name", &second_if]);
    ip(&["-n", &pair.ns_a, "link", "set", "dev", &second_if, "up"]);
    // The shipped file, with the two interfaces' own tables as the operator adds them.
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../agent/dist/peerscope.toml")).unwrap();
    let cfg = std::env::temp_dir().join(format!("peerscope-unit-{}.toml", pair.a_if));
    std::fs::write(
        &cfg,
        format!(
            "{shipped}\n[interface.{}]\nmetrics = \"19481\"\n\n[interface.{second_if}]\nmetrics = \"19482\"\n",
            pair.a_if
        ),
    )
    .unwrap();
    let unit =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../agent/dist/peerscope@.service")).unwrap();
    let exec = unit.lines().find_map(|l| l.strip_prefix("ExecStart=")).unwrap();
    let mut agents = Vec::new();
    for iface in [pair.a_if.as_str(), second_if.as_str()] {
        // ExecStart, with %i and the config's path filled in and our binary.
        let cmdline = exec.replace("%i", iface).replace("/etc/peerscope/peerscope.toml", cfg.to_str().unwrap());
        let args: Vec<&str> = cmdline.split_whitespace().skip(1).collect();
        let mut child =
            agent::peerscope_in_a(&pair).args(&args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        assert!(first.contains("attached to"), "{iface}: {first}");
        std::thread::spawn(move || for _ in lines {});
        agents.push(ChildGuard(Some(child)));
    }
    for port in [19481u16, 19482] {
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let (status, body) =
            peerscope_tests::in_netns(&pair.ns_a, move || peerscope_tests::http::get(addr, "/metrics").unwrap());
        assert_eq!(status, 200);
        assert!(body.contains("peerscope_build_info{"), "{port}");
    }
    for a in &agents {
        sigterm(a);
    }
    for mut a in agents {
        assert!(a.take().wait().unwrap().success());
    }
    // keep-attached = true in the shipped file: both stay attached until detached.
    for iface in [pair.a_if.as_str(), second_if.as_str()] {
        let out = in_a(&pair, &["detach", "-i", iface]);
        assert!(out.status.success(), "detach {iface}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let _ = std::fs::remove_file(&cfg);
}

#[test]
fn pipes_and_logs_behave() {
    if !require_root("pipes_and_logs_behave") {
        return;
    }
    let pair = VethPair::new("pip", false);
    // `--jsonl -`: stdout carries the JSON lines only; -v logs go to a file, plain.
    let log = std::env::temp_dir().join(format!("peerscope-pip-{}.log", pair.a_if));
    let mut run = ChildGuard(Some(
        agent::peerscope_in_a(&pair)
            .args([
                "-v",
                "run",
                "-i",
                &pair.a_if,
                "--interval",
                "0.2",
                "--window",
                "0.5",
                "--jsonl",
                "-",
                "--count",
                "8",
            ])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    ));
    std::thread::sleep(Duration::from_millis(300));
    traffic::udp_burst_from(&pair.ns_a, SocketAddr::new(a(), 42_010), &pair.ns_b, b(4004), &[300; 4]);
    let out = run.take().wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let records = schema::assert_lines(&text, &["window_record", "peer_record"], "run --jsonl -");
    assert!(records.iter().any(|r| r["document"] == "window_record"), "{text}");
    let logged = std::fs::read(&log).unwrap();
    assert!(String::from_utf8_lossy(&logged).contains("attached"), "-v logs: {}", String::from_utf8_lossy(&logged));
    assert!(!logged.contains(&0x1b), "escape codes in a log file: {}", String::from_utf8_lossy(&logged));
    let _ = std::fs::remove_file(&log);

    // `flows | head -1` ends quietly (SIGPIPE), whatever the table's length.
    let (mut agent_run, _) = agent::start_run(&pair, &["--interval", "0.2", "--quiet"]);
    agent::discard_stdout(&mut agent_run);
    // Far more rows than a pipe buffers: flows put into the pinned table as the kernel
    // would, stamped now so the agent keeps them.
    let target = peerscope::live::Target::resolve(&pair.a_if, Some(&VethPair::ns_path(&pair.ns_a))).unwrap();
    let maps = peerscope::live::FlowMaps::open_pinned(&pair.pins_a(), &target).unwrap();
    let view = maps.view().unwrap();
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec (the kernel program's clock).
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    let now = peerscope_abi::KernelNs(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64);
    for i in 0..3000u32 {
        let key = peerscope_abi::FlowKey::v4(
            17,
            [192, 0, 2, 1],
            [198, 51, 100, (i % 200) as u8],
            40_000 + (i / 200) as u16,
            4004,
        );
        let s = peerscope_abi::FlowStats {
            packets: [0, 1, 0],
            bytes: [0, 100, 0],
            first_seen: now,
            last_seen: now,
            ..Default::default()
        };
        let mut per_cpu = vec![peerscope_abi::FlowStats::default(); maps.geometry().cpus as usize];
        per_cpu[0] = s;
        view.insert(&key, &per_cpu).unwrap();
    }
    let script = format!(
        "set -o pipefail; nsenter --net=/run/netns/{} {} flows -i {} --interval 0 --top 0 | head -1; echo \"status ${{PIPESTATUS[0]}}\"",
        pair.ns_a,
        peerscope().display(),
        pair.a_if
    );
    let sh = Command::new("bash").args(["-c", &script]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let out = sh.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.stderr.is_empty(), "no message, no panic: {}", String::from_utf8_lossy(&out.stderr));
    assert!(said.lines().next().unwrap_or("").contains("flows in the kernel table"), "{said}");
    assert_eq!(said.lines().last(), Some("status 141"), "the shell sees SIGPIPE's status: {said}");
    sigterm(&agent_run);
    assert!(agent_run.take().wait().unwrap().success());
    let _ = std::io::stdout().flush();
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    if !require_root("colour_only_on_a_terminal_and_never_with_no_color")
        || !peerscope_tests::require_tool("colour_only_on_a_terminal_and_never_with_no_color", "script")
    {
        return;
    }
    let pair = VethPair::new("col", false);
    // `script` gives the agent a terminal; the first run may colour, the second not.
    let cmd = |env: &str| {
        format!(
            "{env} nsenter --net=/run/netns/{} {} -v run -i {} --interval 0.2 --count 2 --quiet",
            pair.ns_a,
            peerscope().display(),
            pair.a_if
        )
    };
    let on_tty = |env: &str| {
        let out = Command::new("script").args(["-qfec", &cmd(env), "/dev/null"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    assert!(on_tty("").contains(&0x1b), "a terminal gets colour");
    assert!(!on_tty("NO_COLOR=1").contains(&0x1b), "NO_COLOR turns it off");
}
