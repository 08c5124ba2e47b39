//! An exporting process: records in, messages out to one collector.

use std::sync::Arc;
use std::time::Duration;

use super::message::{Encoder, EncoderConfig};
use super::record::FlowRecord;
use super::transport::{Counters, ExportStats, Sink, TransportConfig};

pub struct Exporter {
    encoder: Encoder,
    sink: Sink,
    counters: Arc<Counters>,
}

impl Exporter {
    /// Opens the transport (UDP: a socket; TCP: the thread that connects).
    pub fn open(encoder: EncoderConfig, transport: &TransportConfig) -> std::io::Result<Self> {
        let encoder = Encoder::new(encoder);
        let counters = Arc::new(Counters::default());
        let sink = Sink::open(transport, encoder.templates(export_time_s()), counters.clone())?;
        Ok(Exporter { encoder, sink, counters })
    }

    /// Exports one window's records (never blocks on the collector).
    pub fn export<'r>(&mut self, records: impl IntoIterator<Item = &'r FlowRecord>) {
        for m in self.encoder.data(export_time_s(), records) {
            self.sink.send(m);
        }
    }

    pub fn stats(&self) -> ExportStats {
        self.counters.snapshot()
    }

    /// Lets what is queued go (at most `deadline`) and returns the totals.
    pub fn close(self, deadline: Duration) -> ExportStats {
        self.sink.close(deadline);
        self.counters.snapshot()
    }
}

/// Export time: the Unix second the message is built.
fn export_time_s() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as u32).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::{SocketAddr, TcpListener, UdpSocket};
    use std::time::Instant;

    use super::*;
    use crate::export::ipfix::decoded::{decode, decode_stream, ports, sample_records};
    use crate::export::ipfix::transport::Transport;
    use peerscope_abi::Thresholds;

    fn encoder() -> EncoderConfig {
        EncoderConfig::new(32473, Thresholds::STUDIES)
    }

    /// Datagrams waiting on `s`, until none comes for 200 ms.
    fn datagrams(s: &UdpSocket) -> Vec<Vec<u8>> {
        s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        while let Ok(n) = s.recv(&mut buf) {
            out.push(buf[..n].to_vec());
        }
        out
    }

    #[test]
    fn test_udp_collector_that_restarts_loses_only_the_windows_it_missed() {
        let collector = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = collector.local_addr().unwrap();
        let mut t = TransportConfig::new(addr, Transport::Udp);
        t.template_refresh = Duration::ZERO;
        let mut e = Exporter::open(encoder(), &t).unwrap();
        e.export(&sample_records(30, 1000));
        let (first, _) = decode(&datagrams(&collector));
        assert_eq!(ports(&first), (1000..1030).collect::<Vec<_>>());
        drop(collector);
        for w in 0..3 {
            e.export(&sample_records(30, 2000 + 100 * w));
        }
        let back = UdpSocket::bind(addr).unwrap();
        e.export(&sample_records(30, 3000));
        // A fresh decoder: the restarted collector knows no template but the re-sent ones.
        let (after, _) = decode(&datagrams(&back));
        assert_eq!(ports(&after), (3000..3030).collect::<Vec<_>>());
        let s = e.close(Duration::ZERO);
        // Templates before each data message: as many options records as data messages.
        let messages = s.messages_sent + s.messages_dropped;
        assert_eq!(s.records_sent + s.records_dropped, 5 * 30 + messages / 2, "{s:?}");
    }

    /// Accepts one connection on `l` and reads it to its end.
    fn read_connection(l: &TcpListener) -> Vec<u8> {
        let (mut c, _) = l.accept().unwrap();
        let mut b = Vec::new();
        c.read_to_end(&mut b).unwrap();
        b
    }

    #[test]
    fn test_tcp_collector_that_goes_away_loses_nothing_and_the_caller_never_waits() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr: SocketAddr = l.local_addr().unwrap();
        let mut e = Exporter::open(encoder(), &TransportConfig::new(addr, Transport::Tcp)).unwrap();
        e.export(&sample_records(40, 1000));
        // The collector reads the first window, then goes away.
        let (mut c, _) = l.accept().unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut first = Vec::new();
        let until = Instant::now() + Duration::from_secs(10);
        while decode_stream_partial(&first) < 41 && Instant::now() < until {
            let mut buf = [0u8; 65536];
            match c.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => first.extend_from_slice(&buf[..n]),
            }
        }
        drop(c);
        drop(l);
        for w in 0..5 {
            e.export(&sample_records(40, 2000 + 100 * w));
        }
        assert_eq!(e.stats().records_dropped, 0);
        let l = TcpListener::bind(addr).unwrap();
        e.export(&sample_records(40, 3000));
        let reader = std::thread::spawn(move || read_connection(&l));
        let s = e.close(Duration::from_secs(20));
        let second = reader.join().unwrap();
        let mut got = ports(&decode_stream(&first));
        got.extend(ports(&decode_stream(&second)));
        got.sort_unstable();
        let mut want: Vec<u16> = (1000..1040).collect();
        for w in 0..5 {
            want.extend(2000 + 100 * w..2040 + 100 * w);
        }
        want.extend(3000..3040);
        assert_eq!(got, want);
        assert_eq!((s.records_dropped, s.reconnects), (0, 1), "{s:?}");
    }

    /// Data records in the whole messages of `b` so far (templates' options record included).
    fn decode_stream_partial(b: &[u8]) -> usize {
        let mut rest = b;
        let mut whole = 0;
        while rest.len() >= 4 {
            let len = u16::from_be_bytes([rest[2], rest[3]]) as usize;
            if len > rest.len() {
                break;
            }
            whole += len;
            rest = &rest[len..];
        }
        let (flows, options) = decode(&[b[..whole].to_vec()].into_iter().filter(|m| !m.is_empty()).collect::<Vec<_>>());
        flows.len() + options.len()
    }

    #[test]
    fn test_tcp_queue_is_bounded_while_no_collector_listens() {
        // A port nobody listens on: bind one, keep its number, close it.
        let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let mut t = TransportConfig::new(addr, Transport::Tcp);
        t.queue_messages = 8;
        let mut e = Exporter::open(encoder(), &t).unwrap();
        for w in 0..100 {
            e.export(&sample_records(5, 1000 + 10 * w));
        }
        let s = e.close(Duration::from_millis(100));
        // Queued at most 8 (and one in the thread's hands); the rest dropped, counted.
        assert!(s.messages_dropped >= 100 - 9, "{s:?}");
        assert_eq!(s.messages_sent, 0);
    }
}
