//! tshark as the reference reader of captures: per directional flow, the packets and
//! IP bytes it sees, taken from `tshark -T fields` (every field of every layer), so
//! that peerscope's frame parser can be checked frame by frame against Wireshark's
//! dissectors on any capture, of any link type and encapsulation.
//!
//! The rules applied to tshark's fields are peerscope's documented accounting
//! (`peerscope_abi::parse`), stated in Wireshark's terms:
//! - a frame counts when it has an IPv4 or IPv6 layer; its flow is that layer's
//!   addresses, its protocol (IPv6: the header after the extension headers), and the
//!   ports of a TCP or UDP layer directly above it;
//! - ports are 0 when that TCP header's length is missing (the header was cut), or
//!   bogus or beyond the IP packet, as Wireshark flags it;
//! - IP bytes are the header's claim (`ip.len`, 40 + `ipv6.plen`), bounded by the
//!   packet length Wireshark names when it reports the claim exceeding it;
//! - with decapsulation, a frame whose IP layer carries a GRE, GTP-U or VXLAN layer
//!   or a second IP layer directly counts in that inner IP layer's flow, named by the
//!   tunnel.

use std::{
    collections::{BTreeMap, HashMap},
    net::IpAddr,
    path::Path,
    process::Command,
};

/// A directional flow as tshark's fields give it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Flow {
    pub tunnel: Option<&'static str>,
    pub proto: u8,
    pub src: IpAddr,
    pub sport: u16,
    pub dst: IpAddr,
    pub dport: u16,
}

/// Packets and IP bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub packets: u64,
    pub bytes: u64,
}

/// Per-flow counts of a capture, and the frames tshark saw.
#[derive(Debug, Default)]
pub struct Reading {
    pub flows: BTreeMap<Flow, Counts>,
    pub frames: u64,
}

const FIELDS: [&str; 19] = [
    "frame.protocols",
    "ip.src",
    "ip.dst",
    "ip.len",
    "ip.proto",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.plen",
    "ipv6.nxt",
    "ipv6.hopopts.nxt",
    "ipv6.routing.nxt",
    "ipv6.fraghdr.nxt",
    "ipv6.dstopts.nxt",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.hdr_len",
    "udp.srcport",
    "udp.dstport",
    "_ws.expert.message",
];

const IPV6_EXTENSIONS: [&str; 4] = ["ipv6.hopopts", "ipv6.routing", "ipv6.fraghdr", "ipv6.dstopts"];

/// tshark's reading of a capture: one line of fields per frame.
pub struct Dump {
    lines: Vec<String>,
    /// tshark's complaint when it stopped early (a damaged file): the frames before
    /// were read.
    pub error: Option<String>,
}

/// Runs tshark on `pcap` (IP reassembly off: peerscope counts fragments as they come;
/// peerscope's own Wireshark plugin off: it changes no IP field, and the reference is
/// stock Wireshark).
pub fn read(pcap: &Path) -> Dump {
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-r"]).arg(pcap);
    for pref in ["ip.defragment:FALSE", "ipv6.defragment:FALSE", "tcp.desegment_tcp_streams:FALSE"] {
        cmd.args(["-o", pref]);
    }
    cmd.args(["--disable-protocol", "pplive", "--disable-protocol", "pptv"]);
    cmd.args(["-T", "fields", "-E", "occurrence=a", "-E", "separator=/t", "-E", "aggregator=|"]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("running tshark");
    let error = (!out.status.success()).then(|| {
        let e = String::from_utf8_lossy(&out.stderr);
        e.lines().filter(|l| !l.starts_with("Running as user")).collect::<Vec<_>>().join(" ")
    });
    Dump { lines: String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect(), error }
}

impl Dump {
    /// Per-flow counts, with or without decapsulation.
    pub fn flows(&self, decap: bool) -> Reading {
        let mut r = Reading::default();
        for line in &self.lines {
            r.frames += 1;
            let cols: Vec<Vec<&str>> =
                line.split('\t').map(|c| if c.is_empty() { vec![] } else { c.split('|').collect() }).collect();
            if let Some((flow, bytes)) = Frame::new(&cols).flow(decap) {
                let c = r.flows.entry(flow).or_default();
                c.packets += 1;
                c.bytes += bytes;
            }
        }
        r
    }
}

/// One frame's fields, by name; each a list of values, one per layer that has it.
struct Frame<'a> {
    fields: HashMap<&'static str, &'a [&'a str]>,
    layers: Vec<&'a str>,
}

impl<'a> Frame<'a> {
    fn new(cols: &'a [Vec<&'a str>]) -> Self {
        let fields: HashMap<&'static str, &[&str]> = FIELDS.iter().zip(cols).map(|(n, v)| (*n, v.as_slice())).collect();
        let layers = fields.get("frame.protocols").and_then(|v| v.first()).map_or(vec![], |p| p.split(':').collect());
        Frame { fields, layers }
    }

    fn get(&self, field: &str, occurrence: usize) -> Option<&'a str> {
        self.fields.get(field).and_then(|v| v.get(occurrence)).copied()
    }

    fn num<T: std::str::FromStr>(&self, field: &str, occurrence: usize) -> Option<T> {
        self.get(field, occurrence).and_then(|v| v.parse().ok())
    }

    /// How many layers named `name` come before layer `i`: the occurrence of its fields.
    fn occurrence(&self, i: usize) -> usize {
        self.layers[..i].iter().filter(|l| **l == self.layers[i]).count()
    }

    /// The layer after `i`, past IPv6 extension headers.
    fn above(&self, i: usize) -> Option<(usize, &'a str)> {
        (i + 1..self.layers.len()).map(|j| (j, self.layers[j])).find(|(_, l)| !IPV6_EXTENSIONS.contains(l))
    }

    fn flow(&self, decap: bool) -> Option<(Flow, u64)> {
        let outer = self.layers.iter().position(|l| *l == "ip" || *l == "ipv6")?;
        if decap {
            if let Some((tunnel, inner)) = self.tunnel(outer) {
                if let Some((mut flow, bytes)) = self.ip_flow(inner) {
                    flow.tunnel = Some(tunnel);
                    return Some((flow, bytes));
                }
            }
        }
        self.ip_flow(outer)
    }

    /// The tunnel an IP layer carries, and the inner IP layer.
    fn tunnel(&self, ip: usize) -> Option<(&'static str, usize)> {
        let (next, name) = self.above(ip)?;
        let inner_ip = |from: usize| (from..self.layers.len()).find(|j| matches!(self.layers[*j], "ip" | "ipv6"));
        let kind = match name {
            "ip" => return Some(("ipip", next)),
            "ipv6" => return Some(("6in4", next)),
            "gre" => "gre",
            "udp" => match self.layers.get(next + 1).copied() {
                Some("gtp") => "gtp-u",
                Some("vxlan") => "vxlan",
                _ => return None,
            },
            _ => return None,
        };
        Some((kind, inner_ip(next + 1)?))
    }

    /// The flow of the IP layer at `i`, and its IP bytes.
    fn ip_flow(&self, i: usize) -> Option<(Flow, u64)> {
        let n = self.occurrence(i);
        let (src, dst, proto, claim) = if self.layers[i] == "ip" {
            (
                self.get("ip.src", n)?,
                self.get("ip.dst", n)?,
                self.num::<u8>("ip.proto", n)?,
                self.num::<u64>("ip.len", n)?,
            )
        } else {
            let plen = self.num::<u64>("ipv6.plen", n)?;
            (self.get("ipv6.src", n)?, self.get("ipv6.dst", n)?, self.ipv6_proto(i)?, 40 + plen)
        };
        let bytes = self.bounded(claim);
        let (sport, dport) = match self.above(i) {
            Some((t, "tcp")) => self.tcp_ports(self.occurrence(t)),
            Some((u, "udp")) => {
                let m = self.occurrence(u);
                (self.num("udp.srcport", m).unwrap_or(0), self.num("udp.dstport", m).unwrap_or(0))
            }
            _ => (0, 0),
        };
        let flow = Flow { tunnel: None, proto, src: src.parse().ok()?, sport, dst: dst.parse().ok()?, dport };
        Some((flow, bytes))
    }

    fn tcp_ports(&self, m: usize) -> (u16, u16) {
        // Wireshark's flags of a TCP header shorter than 20 bytes, or longer than the
        // IP packet has room for.
        let bogus = self.experts().any(|e| e.starts_with("Bogus TCP header length") || e.starts_with("Short segment"));
        match self.num::<u32>("tcp.hdr_len", m) {
            Some(len) if len >= 20 && !bogus => {
                (self.num("tcp.srcport", m).unwrap_or(0), self.num("tcp.dstport", m).unwrap_or(0))
            }
            _ => (0, 0),
        }
    }

    /// The transport protocol of the IPv6 layer at `i`: the next header after its
    /// extension headers.
    fn ipv6_proto(&self, i: usize) -> Option<u8> {
        let mut next = self.num::<u8>("ipv6.nxt", self.occurrence(i))?;
        let mut j = i + 1;
        while let Some(ext) = self.layers.get(j).filter(|l| IPV6_EXTENSIONS.contains(l)) {
            next = self.num(&format!("{ext}.nxt"), self.occurrence(j))?;
            j += 1;
        }
        Some(next)
    }

    fn experts(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.fields.get("_ws.expert.message").into_iter().flat_map(|v| v.iter().copied())
    }

    /// The IP length claimed, bounded by the packet length Wireshark names when it
    /// reports that the claim exceeds it ("... exceeds packet length (48 bytes)").
    fn bounded(&self, claim: u64) -> u64 {
        self.experts()
            .filter(|e| e.contains("length exceeds"))
            .filter_map(|e| e.rsplit_once('(').and_then(|(_, n)| n.split(' ').next()?.parse::<u64>().ok()))
            .next()
            .map_or(claim, |frame| claim.min(frame))
    }
}
