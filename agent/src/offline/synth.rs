//! A small pcap writer for tests and benchmarks: builds IPv4/IPv6 TCP/UDP packets of
//! chosen IP lengths at chosen times, wraps them in a chosen link layer and writes a
//! nanosecond pcap.
//!
//! ```
//! use peerscope::offline::synth::{SynthPcap, Link};
//! let mut p = SynthPcap::new(Link::Ethernet);
//! let (a, x) = ("192.0.2.1:4004".parse().unwrap(), "198.51.100.7:8008".parse().unwrap());
//! p.udp(1_000_000_000, a, x, 1300); // a 1300-byte IP packet at t = 1 s
//! let bytes = p.to_bytes();
//! assert!(bytes.len() > 24 + 1300);
//! ```

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use etherparse::PacketBuilder;
use pcap_file::DataLink;

/// TCP flag bits, as on the wire.
pub mod tcp {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

/// The link layer frames are wrapped in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    Ethernet,
    /// Ethernet with one 802.1Q tag.
    EthernetVlan,
    LinuxSll,
    LinuxSll2,
    RawIp,
}

impl Link {
    fn datalink(self) -> DataLink {
        match self {
            Link::Ethernet | Link::EthernetVlan => DataLink::ETHERNET,
            Link::LinuxSll => DataLink::LINUX_SLL,
            Link::LinuxSll2 => DataLink::LINUX_SLL2,
            Link::RawIp => DataLink::RAW,
        }
    }

    fn wrap(self, ip: &[u8], v6: bool) -> Vec<u8> {
        let et: [u8; 2] = if v6 { [0x86, 0xdd] } else { [0x08, 0x00] };
        let mut f = Vec::with_capacity(ip.len() + 20);
        match self {
            Link::Ethernet => {
                f.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
                f.extend_from_slice(&et);
            }
            Link::EthernetVlan => {
                f.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0x00, 0x2a]);
                f.extend_from_slice(&et);
            }
            Link::LinuxSll => {
                // packet type, ARPHRD_ETHER, address length 6, address, 2 bytes pad, protocol
                f.extend_from_slice(&[0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
                f.extend_from_slice(&et);
            }
            Link::LinuxSll2 => {
                f.extend_from_slice(&et);
                f.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
            }
            Link::RawIp => {}
        }
        f.extend_from_slice(ip);
        f
    }
}

/// Packets to write, in the order added.
#[derive(Clone, Debug)]
pub struct SynthPcap {
    link: Link,
    snaplen: u32,
    frames: Vec<(u64, Vec<u8>)>,
}

const IPV4_HDR: usize = 20;
const IPV6_HDR: usize = 40;
const UDP_HDR: usize = 8;
const TCP_HDR: usize = 20;

fn ip_hdr(a: &SocketAddr) -> usize {
    if a.is_ipv4() {
        IPV4_HDR
    } else {
        IPV6_HDR
    }
}

impl SynthPcap {
    pub fn new(link: Link) -> Self {
        SynthPcap { link, snaplen: 0, frames: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// A UDP packet of `ip_len` bytes of IP total length (at least the headers).
    pub fn udp(&mut self, ts_ns: u64, src: SocketAddr, dst: SocketAddr, ip_len: usize) -> &mut Self {
        let payload = vec![0u8; ip_len.saturating_sub(ip_hdr(&src) + UDP_HDR)];
        let b = ip_builder(src.ip(), dst.ip()).udp(src.port(), dst.port());
        let mut ip = Vec::with_capacity(b.size(payload.len()));
        b.write(&mut ip, &payload).expect("writing to a Vec");
        self.push(ts_ns, &ip, src.is_ipv6())
    }

    /// A TCP segment (20-byte header) of `ip_len` bytes with the given flags.
    pub fn tcp(&mut self, ts_ns: u64, src: SocketAddr, dst: SocketAddr, flags: u8, ip_len: usize) -> &mut Self {
        let payload = vec![0u8; ip_len.saturating_sub(ip_hdr(&src) + TCP_HDR)];
        let mut b = ip_builder(src.ip(), dst.ip()).tcp(src.port(), dst.port(), 1, 65535);
        if flags & tcp::SYN != 0 {
            b = b.syn();
        }
        if flags & tcp::ACK != 0 {
            b = b.ack(1);
        }
        if flags & tcp::FIN != 0 {
            b = b.fin();
        }
        if flags & tcp::RST != 0 {
            b = b.rst();
        }
        if flags & tcp::PSH != 0 {
            b = b.psh();
        }
        let mut ip = Vec::with_capacity(b.size(payload.len()));
        b.write(&mut ip, &payload).expect("writing to a Vec");
        self.push(ts_ns, &ip, src.is_ipv6())
    }

    /// `n` UDP packets of `ip_len` bytes, `gap_ns` apart, from `ts_ns` on.
    pub fn udp_train(
        &mut self,
        ts_ns: u64,
        gap_ns: u64,
        n: usize,
        src: SocketAddr,
        dst: SocketAddr,
        ip_len: usize,
    ) -> &mut Self {
        for i in 0..n {
            self.udp(ts_ns + i as u64 * gap_ns, src, dst, ip_len);
        }
        self
    }

    /// `n` TCP segments (ACK set) of `ip_len` bytes, `gap_ns` apart.
    pub fn tcp_train(
        &mut self,
        ts_ns: u64,
        gap_ns: u64,
        n: usize,
        src: SocketAddr,
        dst: SocketAddr,
        ip_len: usize,
    ) -> &mut Self {
        for i in 0..n {
            self.tcp(ts_ns + i as u64 * gap_ns, src, dst, tcp::ACK, ip_len);
        }
        self
    }

    /// A frame given as raw IP bytes.
    pub fn raw_ip(&mut self, ts_ns: u64, ip: &[u8]) -> &mut Self {
        let v6 = ip.first().is_some_and(|b| b >> 4 == 6);
        self.push(ts_ns, ip, v6)
    }

    fn push(&mut self, ts_ns: u64, ip: &[u8], v6: bool) -> &mut Self {
        self.frames.push((ts_ns, self.link.wrap(ip, v6)));
        self
    }

    /// Frames longer than `snaplen` are cut to it when written (their original
    /// length is kept), as `tcpdump -s` does. 0 means no limit.
    pub fn snaplen(&mut self, snaplen: u32) -> &mut Self {
        self.snaplen = snaplen;
        self
    }

    /// Writes a little-endian pcap with nanosecond timestamps.
    pub fn write_to<W: Write>(&self, mut w: W) -> std::io::Result<()> {
        let snap = if self.snaplen == 0 { 262_144 } else { self.snaplen };
        w.write_all(&0xa1b2_3c4du32.to_le_bytes())?;
        w.write_all(&2u16.to_le_bytes())?;
        w.write_all(&4u16.to_le_bytes())?;
        w.write_all(&[0u8; 8])?;
        w.write_all(&snap.to_le_bytes())?;
        w.write_all(&u32::from(self.link.datalink()).to_le_bytes())?;
        for (ts, f) in &self.frames {
            let cut = &f[..f.len().min(snap as usize)];
            for v in [(ts / 1_000_000_000) as u32, (ts % 1_000_000_000) as u32, cut.len() as u32, f.len() as u32] {
                w.write_all(&v.to_le_bytes())?;
            }
            w.write_all(cut)?;
        }
        Ok(())
    }

    /// Writes a pcapng: one interface, timestamps in microseconds (the format's
    /// default resolution) or, with `nanoseconds`, with `if_tsresol` = 9.
    pub fn write_pcapng_to<W: Write>(&self, w: W, nanoseconds: bool) -> Result<(), pcap_file::PcapError> {
        use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
        use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
        use pcap_file::pcapng::{Block, PcapNgWriter};
        let snap = if self.snaplen == 0 { usize::MAX } else { self.snaplen as usize };
        let mut pw = PcapNgWriter::new(w)?;
        let options = if nanoseconds { vec![InterfaceDescriptionOption::IfTsResol(9)] } else { vec![] };
        pw.write_block(&Block::InterfaceDescription(InterfaceDescriptionBlock {
            linktype: self.link.datalink(),
            snaplen: self.snaplen,
            options,
        }))?;
        for (ts, f) in &self.frames {
            // pcap-file writes the Duration's nanosecond count as raw units.
            let units = if nanoseconds { *ts } else { *ts / 1000 };
            let epb = EnhancedPacketBlock {
                interface_id: 0,
                timestamp: Duration::from_nanos(units),
                original_len: f.len() as u32,
                data: std::borrow::Cow::Borrowed(&f[..f.len().min(snap)]),
                options: vec![],
            };
            pw.write_block(&Block::EnhancedPacket(epb))?;
        }
        Ok(())
    }

    pub fn to_pcapng_bytes(&self, nanoseconds: bool) -> Vec<u8> {
        let mut v = Vec::new();
        self.write_pcapng_to(&mut v, nanoseconds).expect("writing to a Vec");
        v
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.write_to(&mut v).expect("writing to a Vec");
        v
    }

    pub fn write_file(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.to_bytes())
    }
}

fn ip_builder(src: IpAddr, dst: IpAddr) -> etherparse::PacketBuilderStep<etherparse::IpHeaders> {
    use etherparse::{IpHeaders, IpNumber, Ipv4Header, Ipv6Header};
    let h = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => IpHeaders::Ipv4(
            Ipv4Header::new(0, 64, IpNumber::UDP, s.octets(), d.octets()).expect("zero payload fits"),
            Default::default(),
        ),
        (s, d) => {
            let to6 = |a: IpAddr| match a {
                IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
                IpAddr::V6(v6) => v6.octets(),
            };
            IpHeaders::Ipv6(
                Ipv6Header {
                    traffic_class: 0,
                    flow_label: Default::default(),
                    payload_length: 0,
                    next_header: IpNumber::UDP,
                    hop_limit: 64,
                    source: to6(s),
                    destination: to6(d),
                },
                Default::default(),
            )
        }
    };
    PacketBuilder::ip(h)
}
