//! tcpdump and tshark as independent readers of the same traffic.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A tcpdump capturing an interface of a namespace to a pcap file.
pub struct Capture {
    child: Child,
    pub path: PathBuf,
}

impl Capture {
    /// Starts tcpdump and waits until it is listening.
    pub fn start(ns: &str, iface: &str, path: &Path) -> Capture {
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns, "tcpdump", "-i", iface, "-n", "-U", "--immediate-mode", "-s", "0", "-w"])
            .arg(path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting tcpdump");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match lines.next() {
                Some(Ok(l)) if l.contains("listening on") => break,
                Some(Ok(_)) if Instant::now() < deadline => continue,
                other => panic!("tcpdump did not start: {other:?}"),
            }
        }
        // Drain the rest in the background so tcpdump never blocks on stderr.
        std::thread::spawn(move || for _ in lines {});
        Capture { child, path: path.to_path_buf() }
    }

    /// Stops tcpdump (SIGINT flushes the file) and returns the pcap path.
    pub fn stop(mut self) -> PathBuf {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGINT,
        );
        let _ = self.child.wait();
        self.path.clone()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directional TCP/UDP flow as tshark names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TsharkFlow {
    pub proto: u8,
    pub src: String,
    pub dst: String,
    pub sport: u16,
    pub dport: u16,
}

/// Per-flow (packets, IP bytes) of the TCP and UDP packets of a pcap, read by tshark.
pub fn tshark_flows(pcap: &Path) -> HashMap<TsharkFlow, (u64, u64)> {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(pcap)
        .args(["-Y", "(tcp || udp) && !icmp && !icmpv6", "-T", "fields", "-E", "separator=,", "-E", "occurrence=f"])
        .args(["-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "ip.len", "-e", "ipv6.plen"])
        .args(["-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "udp.srcport", "-e", "udp.dstport"])
        .output()
        .expect("running tshark");
    assert!(out.status.success(), "tshark: {}", String::from_utf8_lossy(&out.stderr));
    let mut flows: HashMap<TsharkFlow, (u64, u64)> = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 10 {
            continue;
        }
        let (src, dst, len) = if !f[0].is_empty() {
            (f[0], f[1], f[4].parse::<u64>().unwrap())
        } else {
            (f[2], f[3], 40 + f[5].parse::<u64>().unwrap())
        };
        let (proto, sport, dport) = if !f[6].is_empty() { (6, f[6], f[7]) } else { (17, f[8], f[9]) };
        let key = TsharkFlow {
            proto,
            src: src.to_string(),
            dst: dst.to_string(),
            sport: sport.parse().unwrap(),
            dport: dport.parse().unwrap(),
        };
        let e = flows.entry(key).or_default();
        e.0 += 1;
        e.1 += len;
    }
    flows
}
