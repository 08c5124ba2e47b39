//! The flow key and per-flow counters ([M] §III-A..C, METHODS §1–2).

use bytemuck::{Pod, Zeroable};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::classify::{classify, is_large, PacketClass, Thresholds};
use crate::clock::{KernelNs, Stamp, UnixNs};

/// Address family tags carried in [`FlowKey::family`].
pub const FAMILY_V4: u8 = 4;
pub const FAMILY_V6: u8 = 6;

/// A directional flow: `{protocol, source, destination, source port, destination port}`.
///
/// IPv4 addresses are stored IPv4-mapped (`::ffff:a.b.c.d`) so both families share
/// one key. Ports are in host byte order; they are 0 for protocols without ports and
/// for non-first IP fragments, which carry no transport header: such fragments are
/// counted under their address pair with ports 0.
/// 8-byte aligned so the kernel program copies and compares it in 8-byte words; a
/// byte-aligned key is handled byte by byte by the BPF backend (40 stack slots).
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Pod, Zeroable)]
pub struct FlowKey {
    pub src_addr: [u8; 16],
    pub dst_addr: [u8; 16],
    pub src_port: u16,
    pub dst_port: u16,
    /// IP protocol number (6 TCP, 17 UDP, anything else with ports 0).
    pub proto: u8,
    /// [`FAMILY_V4`] or [`FAMILY_V6`].
    pub family: u8,
    pub _pad: [u8; 2],
}

const _: () = assert!(core::mem::size_of::<FlowKey>() == 40);
const _: () = assert!(core::mem::align_of::<FlowKey>() == 8);

impl FlowKey {
    /// Builds a key from IPv4 addresses given as network-order bytes.
    #[inline(always)]
    pub fn v4(proto: u8, src: [u8; 4], dst: [u8; 4], src_port: u16, dst_port: u16) -> Self {
        FlowKey {
            src_addr: v4_mapped(src),
            dst_addr: v4_mapped(dst),
            src_port,
            dst_port,
            proto,
            family: FAMILY_V4,
            _pad: [0; 2],
        }
    }

    #[inline(always)]
    pub fn v6(proto: u8, src: [u8; 16], dst: [u8; 16], src_port: u16, dst_port: u16) -> Self {
        FlowKey { src_addr: src, dst_addr: dst, src_port, dst_port, proto, family: FAMILY_V6, _pad: [0; 2] }
    }

    /// Builds a key from `IpAddr`s; mixed families are stored as given (IPv4 mapped).
    pub fn new(proto: u8, src: IpAddr, src_port: u16, dst: IpAddr, dst_port: u16) -> Self {
        let family = if src.is_ipv4() { FAMILY_V4 } else { FAMILY_V6 };
        FlowKey {
            src_addr: addr_bytes(src),
            dst_addr: addr_bytes(dst),
            src_port,
            dst_port,
            proto,
            family,
            _pad: [0; 2],
        }
    }

    pub fn src_ip(&self) -> IpAddr {
        self.ip(&self.src_addr)
    }

    pub fn dst_ip(&self) -> IpAddr {
        self.ip(&self.dst_addr)
    }

    /// The key as five words, the way the kernel hashes and compares it.
    #[inline(always)]
    pub fn words(&self) -> &[u64; 5] {
        // SAFETY: 40 bytes, 8-byte aligned, no padding (asserted above).
        unsafe { &*(self as *const Self as *const [u64; 5]) }
    }

    /// The same flow seen from the other end.
    pub fn reversed(&self) -> Self {
        FlowKey {
            src_addr: self.dst_addr,
            dst_addr: self.src_addr,
            src_port: self.dst_port,
            dst_port: self.src_port,
            ..*self
        }
    }

    fn ip(&self, bytes: &[u8; 16]) -> IpAddr {
        let v6 = Ipv6Addr::from(*bytes);
        if self.family == FAMILY_V4 {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
        }
        IpAddr::V6(v6)
    }
}

#[inline(always)]
fn v4_mapped(a: [u8; 4]) -> [u8; 16] {
    // Built from two words, which the BPF backend stores with two 8-byte writes.
    let hi = u64::from_ne_bytes([0, 0, 0xff, 0xff, a[0], a[1], a[2], a[3]]);
    bytemuck::cast([0u64, hi])
}

fn addr_bytes(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v4) => v4_mapped(v4.octets()),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// Convenience for tests and the pcap path.
pub fn ipv4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// TCP flags a flow has shown (bits of [`FlowStats::tcp_flags`]).
pub struct TcpFlags;

impl TcpFlags {
    pub const FIN: u32 = 0x01;
    pub const SYN: u32 = 0x02;
    pub const RST: u32 = 0x04;
    pub const ACK: u32 = 0x10;
    /// The flags peerscope keeps (SYN, FIN, RST).
    pub const KEPT: u32 = Self::FIN | Self::SYN | Self::RST;
}

/// Counters of one flow. Per-class arrays are indexed by [`PacketClass`].
///
/// Generic over the clock of its timestamps: the kernel's table holds
/// `FlowStats<KernelNs>`; the pcap path and the measurement engine use
/// `FlowStats<UnixNs>`, and the agent converts with [`FlowStats::map_clock`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowStats<T: Stamp> {
    /// Packets per class (ack, control, data).
    pub packets: [u64; 3],
    /// IP bytes (IP total length) per class.
    pub bytes: [u64; 3],
    /// Transport payload bytes (after the TCP/UDP header) over all classes.
    pub payload_bytes: u64,
    /// Packets above the "large" threshold ([H]'s video packets) ...
    pub large_packets: u64,
    /// ... their IP bytes ...
    pub large_bytes: u64,
    /// ... and their transport payload bytes.
    pub large_payload_bytes: u64,
    /// Time of the first and last packet on the clock `T`; unset (zero) before the
    /// first packet.
    pub first_seen: T,
    pub last_seen: T,
    /// OR of the [`TcpFlags::KEPT`] flags seen.
    pub tcp_flags: u32,
    /// Segments with SYN set and ACK clear (connection attempts, [H]'s "total IPs").
    pub syn_packets: u32,
}

// SAFETY: `#[repr(C)]`, every field is Pod (`T: Stamp` is sealed to the two
// transparent `u64` stamps), and the size asserts below show there is no padding:
// 10 × u64 + 2 stamps of 8 bytes + 2 × u32 = 104 bytes.
unsafe impl<T: Stamp> Zeroable for FlowStats<T> {}
// SAFETY: as above.
unsafe impl<T: Stamp> Pod for FlowStats<T> {}

const _: () = assert!(core::mem::size_of::<FlowStats<KernelNs>>() == 104);
const _: () = assert!(core::mem::align_of::<FlowStats<KernelNs>>() == 8);
const _: () = assert!(core::mem::size_of::<FlowStats<UnixNs>>() == 104);
const _: () = assert!(core::mem::align_of::<FlowStats<UnixNs>>() == 8);

/// What the classifier learnt of one wire packet, stamped on the clock `T`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketObservation<T: Stamp> {
    pub class: PacketClass,
    pub ip_len: u32,
    pub payload_len: u32,
    pub large: bool,
    /// Raw TCP flags byte (0 for other protocols).
    pub tcp_flags: u8,
    pub ts: T,
}

impl<T: Stamp> PacketObservation<T> {
    /// Classifies a packet: the one place both paths turn lengths into an observation.
    #[inline(always)]
    pub fn new(t: &Thresholds, proto: u8, ip_len: u32, payload_len: u32, tcp_flags: u8, ts: T) -> Self {
        PacketObservation {
            class: classify(t, proto, ip_len, payload_len),
            ip_len,
            payload_len,
            large: is_large(t, ip_len),
            tcp_flags,
            ts,
        }
    }
}

impl<T: Stamp> FlowStats<T> {
    /// Adds `count` identical wire packets (a GSO super-packet contributes several).
    #[inline(always)]
    pub fn record_n(&mut self, o: &PacketObservation<T>, count: u32) {
        let n = count as u64;
        let c = o.class as usize;
        if c < PacketClass::COUNT {
            self.packets[c] += n;
            self.bytes[c] += n * o.ip_len as u64;
        }
        self.payload_bytes += n * o.payload_len as u64;
        if o.large {
            self.large_packets += n;
            self.large_bytes += n * o.ip_len as u64;
            self.large_payload_bytes += n * o.payload_len as u64;
        }
        if !self.first_seen.is_set() || o.ts < self.first_seen {
            self.first_seen = o.ts;
        }
        if o.ts > self.last_seen {
            self.last_seen = o.ts;
        }
        let f = o.tcp_flags as u32;
        self.tcp_flags |= f & TcpFlags::KEPT;
        if f & TcpFlags::SYN != 0 && f & TcpFlags::ACK == 0 {
            self.syn_packets += count;
        }
    }

    #[inline(always)]
    pub fn record(&mut self, o: &PacketObservation<T>) {
        self.record_n(o, 1)
    }

    /// Folds another set of counters for the same flow in (per-CPU values, or a
    /// later delta): counts add, first/last seen widen, flags OR.
    pub fn merge(&mut self, o: &FlowStats<T>) {
        for i in 0..PacketClass::COUNT {
            self.packets[i] += o.packets[i];
            self.bytes[i] += o.bytes[i];
        }
        self.payload_bytes += o.payload_bytes;
        self.large_packets += o.large_packets;
        self.large_bytes += o.large_bytes;
        self.large_payload_bytes += o.large_payload_bytes;
        if o.first_seen.is_set() && (!self.first_seen.is_set() || o.first_seen < self.first_seen) {
            self.first_seen = o.first_seen;
        }
        self.last_seen = self.last_seen.max(o.last_seen);
        self.tcp_flags |= o.tcp_flags;
        self.syn_packets += o.syn_packets;
    }

    /// What was added since `earlier` (counters only grow; a smaller value means the
    /// flow was removed and re-created, so the whole of `self` is new).
    pub fn since(&self, earlier: &FlowStats<T>) -> FlowStats<T> {
        if self.total_packets() < earlier.total_packets() {
            return *self;
        }
        let mut d = *self;
        for i in 0..PacketClass::COUNT {
            d.packets[i] = self.packets[i] - earlier.packets[i].min(self.packets[i]);
            d.bytes[i] = self.bytes[i] - earlier.bytes[i].min(self.bytes[i]);
        }
        d.payload_bytes = self.payload_bytes.saturating_sub(earlier.payload_bytes);
        d.large_packets = self.large_packets.saturating_sub(earlier.large_packets);
        d.large_bytes = self.large_bytes.saturating_sub(earlier.large_bytes);
        d.large_payload_bytes = self.large_payload_bytes.saturating_sub(earlier.large_payload_bytes);
        d.syn_packets = self.syn_packets.saturating_sub(earlier.syn_packets);
        d
    }

    pub fn total_packets(&self) -> u64 {
        self.packets.iter().sum()
    }

    pub fn total_bytes(&self) -> u64 {
        self.bytes.iter().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.total_packets() == 0
    }

    /// The same counters with their timestamps read on another clock; an unset stamp
    /// stays unset whatever `f` does with zero.
    pub fn map_clock<U: Stamp>(&self, f: impl Fn(T) -> U) -> FlowStats<U> {
        let conv = |t: T| if t.is_set() { f(t) } else { U::default() };
        FlowStats {
            packets: self.packets,
            bytes: self.bytes,
            payload_bytes: self.payload_bytes,
            large_packets: self.large_packets,
            large_bytes: self.large_bytes,
            large_payload_bytes: self.large_payload_bytes,
            first_seen: conv(self.first_seen),
            last_seen: conv(self.last_seen),
            tcp_flags: self.tcp_flags,
            syn_packets: self.syn_packets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{IPPROTO_TCP, IPPROTO_UDP};

    #[test]
    fn test_record_counts_class_bytes_and_flags() {
        let t = Thresholds::STUDIES;
        let mut s = FlowStats::default();
        s.record(&PacketObservation::new(&t, IPPROTO_TCP, 40, 0, 0x02, KernelNs(5)));
        s.record(&PacketObservation::new(&t, IPPROTO_TCP, 1400, 1360, 0x10, KernelNs(7)));
        s.record(&PacketObservation::new(&t, IPPROTO_TCP, 200, 160, 0x11, KernelNs(6)));
        assert_eq!(s.packets, [1, 1, 1]);
        assert_eq!(s.bytes, [40, 200, 1400]);
        assert_eq!(s.payload_bytes, 1520);
        assert_eq!((s.large_packets, s.large_bytes, s.large_payload_bytes), (1, 1400, 1360));
        assert_eq!((s.first_seen, s.last_seen), (KernelNs(5), KernelNs(7)));
        assert_eq!(s.tcp_flags, TcpFlags::SYN | TcpFlags::FIN);
        assert_eq!(s.syn_packets, 1);
    }

    #[test]
    fn test_record_n_multiplies() {
        let t = Thresholds::STUDIES;
        let mut s = FlowStats::default();
        s.record_n(&PacketObservation::new(&t, IPPROTO_UDP, 1500, 1472, 0, KernelNs(1)), 4);
        assert_eq!(s.packets[PacketClass::Data as usize], 4);
        assert_eq!(s.bytes[PacketClass::Data as usize], 6000);
        assert_eq!(s.large_packets, 4);
    }

    #[test]
    fn test_merge_and_since_are_inverse() {
        let t = Thresholds::STUDIES;
        let mut a = FlowStats::default();
        a.record(&PacketObservation::new(&t, IPPROTO_UDP, 100, 72, 0, UnixNs(10)));
        let mut b = a;
        b.record(&PacketObservation::new(&t, IPPROTO_UDP, 1300, 1272, 0, UnixNs(20)));
        let d = b.since(&a);
        assert_eq!(d.packets, [0, 0, 1]);
        assert_eq!(d.payload_bytes, 1272);
        let mut again = a;
        again.merge(&d);
        assert_eq!(again.packets, b.packets);
        assert_eq!(again.bytes, b.bytes);
        assert_eq!(again.last_seen, UnixNs(20));
    }

    #[test]
    fn test_map_clock_converts_set_stamps_only() {
        let t = Thresholds::STUDIES;
        let mut k = FlowStats::default();
        k.record(&PacketObservation::new(&t, IPPROTO_UDP, 100, 72, 0, KernelNs(10)));
        let u = k.map_clock(|KernelNs(n)| UnixNs(n + 1000));
        assert_eq!((u.first_seen, u.last_seen), (UnixNs(1010), UnixNs(1010)));
        assert_eq!((u.packets, u.payload_bytes), (k.packets, k.payload_bytes));
        let unset = FlowStats::<KernelNs>::default().map_clock(|KernelNs(n)| UnixNs(n + 1000));
        assert_eq!(unset.first_seen, UnixNs(0), "zero means no packet, on every clock");
    }

    #[test]
    fn test_key_round_trips_addresses() {
        let k = FlowKey::new(17, ipv4(192, 0, 2, 1), 4004, ipv4(198, 51, 100, 7), 8008);
        assert_eq!(k, FlowKey::v4(17, [192, 0, 2, 1], [198, 51, 100, 7], 4004, 8008));
        assert_eq!(k.src_ip(), ipv4(192, 0, 2, 1));
        assert_eq!(k.reversed().src_ip(), ipv4(198, 51, 100, 7));
        assert_eq!(k.reversed().src_port, 8008);
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let k6 = FlowKey::new(6, v6, 1, v6, 2);
        assert_eq!(k6.dst_ip(), v6);
    }
}
