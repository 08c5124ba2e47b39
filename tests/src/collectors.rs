//! Real IPFIX collectors for the export tests: nfdump's `nfcapd` (started in a
//! namespace or here, stopped with SIGTERM so that it writes its file) and `nfdump`
//! reading what it stored.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::netns::ChildGuard;

/// A running nfcapd.
pub struct Nfcapd(ChildGuard);

/// Whether something listens on UDP `port` (of this thread's namespace).
fn listening(port: u16) -> bool {
    let hex = format!(":{port:04X}");
    ["/proc/thread-self/net/udp", "/proc/thread-self/net/udp6"].iter().any(|f| {
        std::fs::read_to_string(f)
            .unwrap_or_default()
            .lines()
            .any(|l| l.split_whitespace().nth(1).is_some_and(|a| a.ends_with(&hex)))
    })
}

impl Nfcapd {
    /// nfcapd on 127.0.0.1:`port`, in namespace `ns` when given, storing into `dir`;
    /// returns once it listens (bounded wait).
    pub fn start(ns: Option<&str>, dir: &Path, port: u16) -> Nfcapd {
        let mut c = match ns {
            Some(ns) => {
                let mut c = Command::new("nsenter");
                c.arg(format!("--net=/run/netns/{ns}")).arg("nfcapd");
                c
            }
            None => Command::new("nfcapd"),
        };
        let child = c
            .arg("-w")
            .arg(dir)
            .args(["-b", "127.0.0.1", "-p", &port.to_string(), "-t", "3600"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting nfcapd");
        let g = Nfcapd(ChildGuard(Some(child)));
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let up = match ns {
                Some(ns) => crate::in_netns(ns, move || listening(port)),
                None => listening(port),
            };
            if up {
                return g;
            }
            assert!(Instant::now() < until, "nfcapd does not listen on UDP {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM (it writes its file) and a bounded wait.
    pub fn stop(mut self) {
        let mut c = self.0.take();
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(c.id() as i32), nix::sys::signal::Signal::SIGTERM);
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            if c.try_wait().unwrap().is_some() {
                let _ = c.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let _ = c.wait();
        panic!("nfcapd did not stop on SIGTERM");
    }
}

/// One record as nfdump shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NfRecord {
    pub proto: u8,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// flowStart, Unix ms.
    pub start_ms: u64,
    pub packets: u64,
    pub bytes: u64,
}

/// Every record nfdump reads from the files in `dir`.
pub fn nfdump(dir: &Path) -> Vec<NfRecord> {
    let out = Command::new("nfdump")
        .env("TZ", "UTC")
        .arg("-R")
        .arg(dir)
        .args(["-6", "-q", "-N", "-o", "fmt:%pr|%sa|%sp|%da|%dp|%ts|%pkt|%byt"])
        .output()
        .expect("running nfdump");
    assert!(out.status.success(), "nfdump: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('|').map(str::trim).collect();
            assert_eq!(f.len(), 8, "{l}");
            let proto = match f[0] {
                "TCP" => 6,
                "UDP" => 17,
                p => p.parse().unwrap_or_else(|_| panic!("protocol {p} in {l}")),
            };
            let ip = |a: &str| a.parse::<IpAddr>().unwrap_or_else(|_| panic!("address {a} in {l}"));
            // ICMP shows type.code where ports would be.
            let port = |p: &str| match proto {
                6 | 17 => p.parse().unwrap_or_else(|_| panic!("port {p} in {l}")),
                _ => 0,
            };
            NfRecord {
                proto,
                src: SocketAddr::new(ip(f[1]), port(f[2])),
                dst: SocketAddr::new(ip(f[3]), port(f[4])),
                start_ms: utc_ms(f[5]),
                packets: f[6].parse().unwrap(),
                bytes: f[7].parse().unwrap(),
            }
        })
        .collect()
}

/// `2023-11-14 22:13:20.100` (UTC) in Unix ms.
fn utc_ms(s: &str) -> u64 {
    let out = Command::new("date").env("TZ", "UTC").args(["-d", s, "+%s%3N"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or_else(|_| panic!("time {s}"))
}
