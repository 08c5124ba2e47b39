//! Bounded test traffic between the two namespaces of a [`crate::VethPair`].

use std::{
    io::{Read, Write},
    net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket},
    time::Duration,
};

use crate::netns::in_netns;

const TIMEOUT: Duration = Duration::from_secs(5);

/// Sends one UDP datagram per payload size from `src` (in `src_ns`, any port) to `dst`
/// (in `dst_ns`, where a socket receives them all so no ICMP errors are generated).
/// Returns the source port used.
pub fn udp_burst(src_ns: &str, src: IpAddr, dst_ns: &str, dst: SocketAddr, sizes: &[usize]) -> u16 {
    udp_burst_from(src_ns, SocketAddr::new(src, 0), dst_ns, dst, sizes)
}

/// [`udp_burst`] from a chosen source port, so successive bursts are one flow.
pub fn udp_burst_from(src_ns: &str, src: SocketAddr, dst_ns: &str, dst: SocketAddr, sizes: &[usize]) -> u16 {
    udp_payloads(src_ns, src, dst_ns, dst, sizes.iter().map(|n| vec![0x5a; *n]).collect())
}

/// Sends the given datagrams from `src` to `dst` and waits until all arrived.
pub fn udp_payloads(src_ns: &str, src: SocketAddr, dst_ns: &str, dst: SocketAddr, payloads: Vec<Vec<u8>>) -> u16 {
    let count = payloads.len();
    let receiver = {
        let dst_ns = dst_ns.to_string();
        in_netns(&dst_ns, move || UdpSocket::bind(dst).expect("bind receiver"))
    };
    receiver.set_read_timeout(Some(TIMEOUT)).unwrap();
    let port = in_netns(src_ns, move || {
        let s = UdpSocket::bind(src).expect("bind sender");
        for p in &payloads {
            s.send_to(p, dst).expect("send");
            // Paced so that nothing is dropped on the way.
            std::thread::sleep(Duration::from_millis(2));
        }
        s.local_addr().unwrap().port()
    });
    let mut buf = vec![0u8; 65536];
    for _ in 0..count {
        receiver.recv_from(&mut buf).expect("datagram lost");
    }
    port
}

/// A TCP connection from `client_ns` to `server` in `server_ns`: the client writes each
/// chunk (with TCP_NODELAY and a pause, so small chunks are separate segments), then
/// closes; the server reads everything. Returns (client port, bytes the server read).
pub fn tcp_session(
    client_ns: &str,
    client: IpAddr,
    server_ns: &str,
    server: SocketAddr,
    chunks: &[usize],
) -> (u16, usize) {
    let listener = in_netns(server_ns, move || TcpListener::bind(server).expect("listen"));
    let server_thread = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        conn.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut all = Vec::new();
        conn.read_to_end(&mut all).expect("server read");
        all.len()
    });
    let chunks = chunks.to_vec();
    let port = in_netns(client_ns, move || {
        let sock = std::net::TcpStream::connect_timeout(&server, TIMEOUT).expect("connect");
        let _ = client;
        sock.set_nodelay(true).unwrap();
        let mut sock: TcpStream = sock;
        for n in &chunks {
            sock.write_all(&vec![0xa5; *n]).expect("write");
            std::thread::sleep(Duration::from_millis(20));
        }
        let port = sock.local_addr().unwrap().port();
        sock.shutdown(std::net::Shutdown::Write).unwrap();
        // Wait for the server's FIN so the whole exchange is on the wire.
        let mut rest = Vec::new();
        sock.set_read_timeout(Some(TIMEOUT)).unwrap();
        let _ = sock.read_to_end(&mut rest);
        port
    });
    let read = server_thread.join().unwrap();
    (port, read)
}
