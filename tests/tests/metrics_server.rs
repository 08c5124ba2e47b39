//! The agent's `/metrics` server holds up for no client: a request whose headers never
//! finish, or a connection that sends nothing, is closed after the header timeout;
//! connections beyond the limit are closed at once; only GET and HEAD are answered.
//! Everything on the loopback of the monitored namespace.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    time::{Duration, Instant},
};

use peerscope::export::server::{HEADER_TIMEOUT, MAX_CONNECTIONS};
use peerscope_tests::{agent, http, in_netns, require_root, VethPair};

const AGENT: &str = "127.0.0.1:19466";

/// How long until the server closes a connection that sent `sent` (bounded).
fn closed_after(stream: &mut TcpStream, sent: &[u8]) -> Duration {
    let t = Instant::now();
    stream.write_all(sent).unwrap();
    stream.set_read_timeout(Some(HEADER_TIMEOUT * 3)).unwrap();
    let mut buf = Vec::new();
    // EOF (or a reset) ends the read; a server holding the connection lets it time out.
    let _ = stream.read_to_end(&mut buf);
    t.elapsed()
}

#[test]
fn slow_idle_and_surplus_clients_are_closed_and_only_get_and_head_answered() {
    if !require_root("slow_idle_and_surplus_clients_are_closed_and_only_get_and_head_answered") {
        return;
    }
    let pair = VethPair::new("msv", false);
    let (mut run, first) = agent::start_run(&pair, &["--interval", "0.5", "--metrics", AGENT, "--quiet"]);
    assert!(first.contains("attached to"), "{first}");
    agent::discard_stdout(&mut run);
    let addr: SocketAddr = AGENT.parse().unwrap();
    in_netns(&pair.ns_a, move || {
        let deadline = Instant::now() + Duration::from_secs(5);
        while http::get(addr, "/metrics").map(|(s, _)| s).ok() != Some(200) {
            assert!(Instant::now() < deadline, "no /metrics");
            std::thread::sleep(Duration::from_millis(100));
        }
        let connect = || TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();

        // POST is refused with 405 and the methods allowed.
        let mut s = connect();
        write!(s, "POST /metrics HTTP/1.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n").unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        assert!(resp.starts_with("HTTP/1.0 405") || resp.starts_with("HTTP/1.1 405"), "{resp}");
        assert!(resp.to_ascii_lowercase().contains("allow: get, head"), "{resp}");

        // Connections beyond the limit are closed as soon as they are accepted.
        let mut held: Vec<TcpStream> = (0..MAX_CONNECTIONS).map(|_| connect()).collect();
        std::thread::sleep(Duration::from_millis(200));
        let surplus = closed_after(&mut connect(), b"");
        assert!(surplus < Duration::from_secs(1), "a connection beyond the limit stayed open {surplus:?}");

        // Those that send nothing, or half a request, are closed after the header
        // timeout: a scraper is never locked out for long.
        let slow = closed_after(&mut held[0], b"GET /metrics HTTP/1.1\r\nHost: x\r\n");
        assert!(slow < HEADER_TIMEOUT + Duration::from_secs(2), "a half-sent request held {slow:?}");
        let idle = closed_after(&mut held[1], b"");
        assert!(idle < HEADER_TIMEOUT + Duration::from_secs(2), "an idle connection held {idle:?}");
        held.clear();
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(http::get(addr, "/metrics").map(|(s, _)| s).ok(), Some(200), "served again");
    });
}
