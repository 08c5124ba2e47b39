//! `run --ipfix` from the agent in a namespace to a collector on that namespace's
//! loopback: every flow arrives with exactly the packets and bytes sent; a collector
//! that goes away and comes back loses at most the records of the windows it missed
//! over UDP (nfcapd, read back with nfdump) and none over TCP (a listener of this
//! test, the stream decoded with netflow_parser), while the agent keeps polling.
//! Needs root, nfdump: fails under CI=true without them, skips loudly otherwise.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use peerscope_tests::agent::{discard_stdout, start_run};
use peerscope_tests::collectors::{nfdump, Nfcapd};
use peerscope_tests::netns::{ChildGuard, A_V4, B_V4};
use peerscope_tests::traffic::udp_burst_from;
use peerscope_tests::{in_netns, require_root, require_tool, tempdir::TempDir, VethPair};

const SIZES: [usize; 3] = [100, 600, 1200];
/// IP bytes of one burst of [`SIZES`] payloads (IPv4 and UDP headers, 28 bytes).
const BURST_BYTES: u64 = 100 + 600 + 1200 + 3 * 28;

/// A burst from b's port `sport` to a's port 9000 + `sport` % 1000: one flow.
fn burst(pair: &VethPair, sport: u16) -> (u16, u16) {
    let src = SocketAddr::new(IpAddr::from(B_V4), sport);
    let dport = 9000 + sport % 1000;
    let dst = SocketAddr::new(IpAddr::from(A_V4), dport);
    udp_burst_from(&pair.ns_b, src, &pair.ns_a, dst, &SIZES);
    (sport, dport)
}

/// Two polls of `--interval 1`, and a little.
fn two_polls() {
    std::thread::sleep(Duration::from_millis(2500));
}

/// SIGTERM to the agent and a bounded wait for it to exit.
fn stop_agent(mut g: ChildGuard) {
    let mut c = g.take();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(c.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let until = Instant::now() + Duration::from_secs(15);
    while c.try_wait().unwrap().is_none() {
        if Instant::now() > until {
            let _ = c.kill();
            let _ = c.wait();
            panic!("the agent did not stop within 15 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = c.wait();
}

/// Packets and bytes per (source port, destination port) of b → a UDP flows.
type PerFlow = BTreeMap<(u16, u16), (u64, u64)>;

#[test]
fn test_udp_export_to_nfcapd_loses_only_what_a_restarted_collector_missed() {
    let t = "ipfix_live";
    if !require_root(t) || !require_tool(t, "nfcapd") || !require_tool(t, "nfdump") {
        return;
    }
    let pair = VethPair::new("ipfu", false);
    let (d1, d2) = (TempDir::new("ipfix-live-udp-1"), TempDir::new("ipfix-live-udp-2"));
    let port = 4739;
    let first = Nfcapd::start(Some(&pair.ns_a), &d1.0, port);
    let args = ["--interval", "1", "--ipfix", "127.0.0.1:4739", "--ipfix-template-refresh", "0.5"];
    let (mut agent, _) = start_run(&pair, &args);
    discard_stdout(&mut agent);
    let before = burst(&pair, 7001);
    two_polls();
    first.stop();
    let away = burst(&pair, 7002);
    two_polls();
    let second = Nfcapd::start(Some(&pair.ns_a), &d2.0, port);
    // The templates again (every 0.5 s, at the next poll), then new traffic.
    two_polls();
    let after = burst(&pair, 7003);
    two_polls();
    stop_agent(agent);
    second.stop();
    let per_flow = |dir: &TempDir| -> PerFlow {
        let mut m = PerFlow::new();
        for r in nfdump(&dir.0).into_iter().filter(|r| r.proto == 17 && r.src.ip() == IpAddr::from(B_V4)) {
            let e = m.entry((r.src.port(), r.dst.port())).or_default();
            e.0 += r.packets;
            e.1 += r.bytes;
        }
        m
    };
    let (one, two) = (per_flow(&d1), per_flow(&d2));
    let whole = (SIZES.len() as u64, BURST_BYTES);
    assert_eq!(one.get(&before), Some(&whole), "the first collector: {one:?}");
    assert_eq!(two.get(&after), Some(&whole), "the collector back: {two:?}");
    assert!(!two.contains_key(&before) && !one.contains_key(&after), "a flow twice: {one:?} {two:?}");
    // While it was away, records are lost, never made up.
    let got_away = [one.get(&away), two.get(&away)].into_iter().flatten().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    assert!(got_away.0 <= whole.0 && got_away.1 <= whole.1, "{got_away:?}");
}

/// A TCP collector of this test in namespace `ns`: accepts connections one after
/// the other and keeps their bytes until told to go away.
struct TcpCollector {
    away: Arc<AtomicBool>,
    thread: JoinHandle<Vec<Vec<u8>>>,
}

impl TcpCollector {
    fn start(ns: &str, port: u16) -> Self {
        let l = in_netns(ns, move || TcpListener::bind(("127.0.0.1", port)).expect("listen"));
        l.set_nonblocking(true).unwrap();
        let away = Arc::new(AtomicBool::new(false));
        let stop = away.clone();
        let thread = std::thread::spawn(move || {
            let mut sessions = Vec::new();
            // Bounded: the test ends every collector within a minute.
            let until = Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                match l.accept() {
                    Ok((mut c, _)) => {
                        c.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
                        let mut b = Vec::new();
                        let mut buf = [0u8; 65536];
                        while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                            match c.read(&mut buf) {
                                Ok(0) => break,
                                Ok(n) => b.extend_from_slice(&buf[..n]),
                                Err(_) => {}
                            }
                        }
                        sessions.push(b);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
            sessions
        });
        TcpCollector { away, thread }
    }

    /// Closes the connection and the listener; returns what each session carried.
    fn go_away(self) -> Vec<Vec<u8>> {
        self.away.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }

    /// Waits (bounded) for the exporter to close its connection, then goes away.
    fn drain(self, wait: Duration) -> Vec<Vec<u8>> {
        std::thread::sleep(wait);
        self.go_away()
    }
}

/// Packets and bytes per flow in an IPFIX stream, decoded by netflow_parser.
fn decode_stream(stream: &[u8], into: &mut PerFlow) {
    let mut p = netflow_parser::NetflowParser::default();
    let r = p.parse_bytes(stream);
    assert!(r.error.is_none(), "{:?}", r.error);
    let v = serde_json::to_value(&r.packets).unwrap();
    let n = |x: &serde_json::Value| -> u64 {
        let mut x = x;
        while let Some(o) = x.as_object() {
            x = o.values().next().unwrap();
        }
        x.as_u64().unwrap()
    };
    for m in v.as_array().unwrap() {
        for set in m["IPFix"]["flowsets"].as_array().unwrap() {
            let Some(d) = set["body"].get("Data") else { continue };
            for rec in d["fields"].as_array().unwrap() {
                let get =
                    |name: &str| rec.as_array().unwrap().iter().find(|p| p[0]["IANA"] == name).map(|p| p[1].clone());
                let src = get("SourceIpv4address").and_then(|a| a["Ip4Addr"].as_str().map(String::from));
                if src.as_deref() != Some("192.0.2.2") {
                    continue;
                }
                let key = (
                    n(&get("SourceTransportPort").unwrap()) as u16,
                    n(&get("DestinationTransportPort").unwrap()) as u16,
                );
                let e = into.entry(key).or_default();
                e.0 += n(&get("PacketDeltaCount").unwrap());
                e.1 += n(&get("OctetDeltaCount").unwrap());
            }
        }
    }
}

#[test]
fn test_tcp_export_loses_nothing_while_the_collector_is_away() {
    let t = "ipfix_live";
    if !require_root(t) {
        return;
    }
    let pair = VethPair::new("ipft", false);
    let port = 4740;
    let first = TcpCollector::start(&pair.ns_a, port);
    let args = ["--interval", "1", "--ipfix", "127.0.0.1:4740", "--ipfix-transport", "tcp"];
    let (mut agent, _) = start_run(&pair, &args);
    discard_stdout(&mut agent);
    let before = burst(&pair, 7101);
    two_polls();
    let mut sessions = first.go_away();
    let away = burst(&pair, 7102);
    two_polls();
    let second = TcpCollector::start(&pair.ns_a, port);
    let after = burst(&pair, 7103);
    // The exporter's back-off is at most 5 s.
    std::thread::sleep(Duration::from_secs(6));
    stop_agent(agent);
    sessions.extend(second.drain(Duration::from_millis(500)));
    let mut got = PerFlow::new();
    for s in &sessions {
        decode_stream(s, &mut got);
    }
    let whole = (SIZES.len() as u64, BURST_BYTES);
    for f in [before, away, after] {
        assert_eq!(got.get(&f), Some(&whole), "flow {f:?} in {got:?} ({} sessions)", sessions.len());
    }
}
