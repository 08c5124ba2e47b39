//! Sending messages to a collector without ever blocking the caller (the poll loop).
//!
//! - UDP: one datagram per message from a non-blocking socket; the templates are
//!   sent first and again on a schedule (RFC 7011 §8.4: a UDP collector that
//!   restarts has lost them), so a collector that comes back decodes again after at
//!   most one refresh interval. A datagram the socket refuses is counted as dropped.
//! - TCP: messages go through a bounded queue to a thread that holds the
//!   connection, reconnects with back-off when it breaks, and starts each
//!   connection (a new transport session) with the templates. A message that could
//!   not be written is written again on the next connection; a full queue drops the
//!   newest messages, counted.
//!
//! Each transport session numbers its data records itself (RFC 7011 §3.1).

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::message::Message;

/// Which transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Transport {
    #[default]
    Udp,
    Tcp,
}

impl std::str::FromStr for Transport {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "udp" => Ok(Transport::Udp),
            "tcp" => Ok(Transport::Tcp),
            _ => Err(format!("{s:?}: udp or tcp")),
        }
    }
}

/// What the exporter sent and lost, for the agent's notes and tests.
#[derive(Debug, Default)]
pub struct Counters {
    pub messages_sent: AtomicU64,
    pub records_sent: AtomicU64,
    pub bytes_sent: AtomicU64,
    /// Messages the socket refused (UDP) or the full queue (TCP) left out.
    pub messages_dropped: AtomicU64,
    pub records_dropped: AtomicU64,
    /// TCP connections made after the first.
    pub reconnects: AtomicU64,
}

/// A copy of [`Counters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportStats {
    pub messages_sent: u64,
    pub records_sent: u64,
    pub bytes_sent: u64,
    pub messages_dropped: u64,
    pub records_dropped: u64,
    pub reconnects: u64,
}

impl Counters {
    pub fn snapshot(&self) -> ExportStats {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ExportStats {
            messages_sent: l(&self.messages_sent),
            records_sent: l(&self.records_sent),
            bytes_sent: l(&self.bytes_sent),
            messages_dropped: l(&self.messages_dropped),
            records_dropped: l(&self.records_dropped),
            reconnects: l(&self.reconnects),
        }
    }

    fn sent(&self, m: &Message) {
        self.messages_sent.fetch_add(1, Ordering::Relaxed);
        self.records_sent.fetch_add(m.data_records as u64, Ordering::Relaxed);
        self.bytes_sent.fetch_add(m.bytes.len() as u64, Ordering::Relaxed);
    }

    fn dropped(&self, m: &Message) {
        self.messages_dropped.fetch_add(1, Ordering::Relaxed);
        self.records_dropped.fetch_add(m.data_records as u64, Ordering::Relaxed);
    }
}

/// How the transport behaves.
#[derive(Clone, Debug)]
pub struct TransportConfig {
    pub collector: SocketAddr,
    pub transport: Transport,
    /// UDP: the templates again after this long.
    pub template_refresh: Duration,
    /// UDP: at most this many datagrams per second (0: unpaced); offline exports,
    /// which produce messages faster than a collector reads them, pace.
    pub max_messages_per_s: u32,
    /// TCP: messages waiting for the connection, at most.
    pub queue_messages: usize,
}

impl TransportConfig {
    pub fn new(collector: SocketAddr, transport: Transport) -> Self {
        TransportConfig {
            collector,
            transport,
            template_refresh: Duration::from_secs(30),
            max_messages_per_s: 0,
            queue_messages: 1024,
        }
    }
}

/// An open transport.
pub enum Sink {
    Udp(UdpSink),
    Tcp(TcpSink),
}

impl Sink {
    /// `templates`: what starts each session (and, on UDP, is re-sent).
    pub fn open(cfg: &TransportConfig, templates: Message, counters: Arc<Counters>) -> io::Result<Sink> {
        Ok(match cfg.transport {
            Transport::Udp => Sink::Udp(UdpSink::open(cfg, templates, counters)?),
            Transport::Tcp => Sink::Tcp(TcpSink::open(cfg, templates, counters)),
        })
    }

    /// Sends or queues `m`; never blocks (beyond UDP pacing, when asked for).
    pub fn send(&mut self, m: Message) {
        match self {
            Sink::Udp(u) => u.send(m),
            Sink::Tcp(t) => t.send(m),
        }
    }

    /// Lets the queued messages go, for at most `deadline` (TCP).
    pub fn close(self, deadline: Duration) {
        if let Sink::Tcp(t) = self {
            t.close(deadline)
        }
    }
}

pub struct UdpSink {
    socket: UdpSocket,
    templates: Message,
    refresh: Duration,
    templates_at: Option<Instant>,
    sequence: u32,
    gap: Option<Duration>,
    last_send: Option<Instant>,
    counters: Arc<Counters>,
}

impl UdpSink {
    fn open(cfg: &TransportConfig, templates: Message, counters: Arc<Counters>) -> io::Result<Self> {
        let local: SocketAddr = if cfg.collector.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
        let socket = UdpSocket::bind(local)?;
        socket.connect(cfg.collector)?;
        socket.set_nonblocking(true)?;
        let gap = (cfg.max_messages_per_s > 0).then(|| Duration::from_secs(1) / cfg.max_messages_per_s);
        Ok(UdpSink {
            socket,
            templates,
            refresh: cfg.template_refresh,
            templates_at: None,
            sequence: 0,
            gap,
            last_send: None,
            counters,
        })
    }

    fn send(&mut self, m: Message) {
        if self.templates_at.is_none_or(|t| t.elapsed() >= self.refresh) {
            self.templates_at = Some(Instant::now());
            let t = self.templates.clone();
            self.datagram(t);
        }
        self.datagram(m);
    }

    fn datagram(&mut self, mut m: Message) {
        if let (Some(gap), Some(last)) = (self.gap, self.last_send) {
            if let Some(wait) = gap.checked_sub(last.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        self.last_send = Some(Instant::now());
        m.stamp(self.sequence);
        // The sequence counts every record exported, sent or not: a collector sees
        // the gap of a lost message.
        self.sequence = self.sequence.wrapping_add(m.data_records);
        let mut sent = self.socket.send(&m.bytes);
        // A connected UDP socket reports an earlier datagram's ICMP "port
        // unreachable" on the next send, which it did not send: once more.
        if matches!(&sent, Err(e) if e.kind() == io::ErrorKind::ConnectionRefused) {
            sent = self.socket.send(&m.bytes);
        }
        match sent {
            Ok(_) => self.counters.sent(&m),
            Err(_) => self.counters.dropped(&m),
        }
    }
}

pub struct TcpSink {
    tx: Option<SyncSender<Message>>,
    done: Receiver<()>,
    give_up: Arc<AtomicBool>,
    counters: Arc<Counters>,
}

impl TcpSink {
    fn open(cfg: &TransportConfig, templates: Message, counters: Arc<Counters>) -> Self {
        let (tx, rx) = mpsc::sync_channel(cfg.queue_messages.max(1));
        let (done_tx, done) = mpsc::channel();
        let give_up = Arc::new(AtomicBool::new(false));
        let mut conn = Connection {
            addr: cfg.collector,
            templates,
            stream: None,
            sequence: 0,
            connected_once: false,
            give_up: give_up.clone(),
            counters: counters.clone(),
        };
        std::thread::Builder::new()
            .name("ipfix-tcp".into())
            .spawn(move || {
                conn.run(rx);
                let _ = done_tx.send(());
            })
            .expect("spawning the IPFIX thread");
        TcpSink { tx: Some(tx), done, give_up, counters }
    }

    fn send(&mut self, m: Message) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(m) {
            Ok(()) => {}
            Err(TrySendError::Full(m) | TrySendError::Disconnected(m)) => self.counters.dropped(&m),
        }
    }

    fn close(mut self, deadline: Duration) {
        self.tx.take();
        if let Err(RecvTimeoutError::Timeout) = self.done.recv_timeout(deadline) {
            self.give_up.store(true, Ordering::Relaxed);
        }
    }
}

impl Drop for TcpSink {
    fn drop(&mut self) {
        // Dropped without close: the thread stops at its next wait.
        if self.tx.is_some() {
            self.give_up.store(true, Ordering::Relaxed);
        }
    }
}

/// The TCP thread's state.
struct Connection {
    addr: SocketAddr,
    templates: Message,
    stream: Option<TcpStream>,
    sequence: u32,
    connected_once: bool,
    give_up: Arc<AtomicBool>,
    counters: Arc<Counters>,
}

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

impl Connection {
    fn run(&mut self, rx: Receiver<Message>) {
        let mut backoff = BACKOFF_MIN;
        // Messages received but not yet written: on the next connection.
        let mut pending: Option<Message> = None;
        loop {
            if self.give_up.load(Ordering::Relaxed) {
                if let Some(m) = pending.take() {
                    self.counters.dropped(&m);
                }
                for m in rx.try_iter() {
                    self.counters.dropped(&m);
                }
                return;
            }
            let m = match pending.take() {
                Some(m) => m,
                None => match rx.recv_timeout(Duration::from_millis(200)) {
                    Ok(m) => m,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => return,
                },
            };
            if self.stream.is_none() || self.peer_closed() {
                self.stream = None;
                if self.connect().is_err() {
                    pending = Some(m);
                    self.sleep(backoff);
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    continue;
                }
                backoff = BACKOFF_MIN;
            }
            match self.write(m.clone()) {
                Ok(()) => self.counters.sent(&m),
                Err(_) => {
                    self.stream = None;
                    pending = Some(m);
                }
            }
        }
    }

    /// Waits `d`, in steps, unless told to give up.
    fn sleep(&self, d: Duration) {
        let until = Instant::now() + d;
        while Instant::now() < until && !self.give_up.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(20).min(until - Instant::now()));
        }
    }

    fn connect(&mut self) -> io::Result<()> {
        let s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1))?;
        s.set_nodelay(true)?;
        s.set_write_timeout(Some(Duration::from_secs(2)))?;
        self.stream = Some(s);
        if self.connected_once {
            self.counters.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        self.connected_once = true;
        // A new session: its own sequence, the templates first.
        self.sequence = 0;
        let t = self.templates.clone();
        self.write(t).inspect_err(|_| self.stream = None)
    }

    /// The collector closed its end (a FIN waits to be read): writing now would
    /// be lost without an error.
    fn peer_closed(&self) -> bool {
        let Some(s) = &self.stream else { return true };
        if s.set_nonblocking(true).is_err() {
            return true;
        }
        let closed = match s.peek(&mut [0u8; 1]) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => e.kind() != io::ErrorKind::WouldBlock,
        };
        closed || s.set_nonblocking(false).is_err()
    }

    fn write(&mut self, mut m: Message) -> io::Result<()> {
        let s = self.stream.as_mut().ok_or(io::ErrorKind::NotConnected)?;
        m.stamp(self.sequence);
        s.write_all(&m.bytes)?;
        self.sequence = self.sequence.wrapping_add(m.data_records);
        Ok(())
    }
}
