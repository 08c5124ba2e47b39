//! The 24-byte peer entry of a 2010-era tracker List response.
//!
//! ```text
//! 0    4      6        8           12            14      18        20  21  22   23   24
//! | IP | port | version | detected IP | det. port | STUN IP | STUN port | NAT | up | idle | trk |
//! ```
//! IPs are reversed on the wire (`fa c6 40 3b` is 59.64.198.250).

use std::net::Ipv4Addr;

use crate::addr::special_purpose;
use crate::ei;
use crate::error::{Error, Result};
use crate::hf;
use crate::tree::{Field, Note, Value};
use crate::v2010::{ipv4_le, put_ipv4_le};
use crate::wire::le16;

mod field {
    use core::ops::Range;
    pub const IP: Range<usize> = 0..4;
    pub const UDP_PORT: Range<usize> = 4..6;
    pub const VERSION: Range<usize> = 6..8;
    pub const DETECTED_IP: Range<usize> = 8..12;
    pub const DETECTED_PORT: Range<usize> = 12..14;
    pub const STUN_IP: Range<usize> = 14..18;
    pub const STUN_PORT: Range<usize> = 18..20;
    pub const NAT_TYPE: Range<usize> = 20..21;
    pub const UPLOAD_PRIORITY: Range<usize> = 21..22;
    pub const IDLE_MINUTES: Range<usize> = 22..23;
    pub const TRACKER_PRIORITY: Range<usize> = 23..24;
}

/// NAT type as the tracker reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NatType {
    FullCone,
    IpRestricted,
    PortRestricted,
    Symmetric,
    Public,
    Error,
    Unknown(u8),
}

impl From<u8> for NatType {
    fn from(v: u8) -> NatType {
        match v {
            0 => NatType::FullCone,
            1 => NatType::IpRestricted,
            2 => NatType::PortRestricted,
            3 => NatType::Symmetric,
            4 => NatType::Public,
            0xff => NatType::Error,
            v => NatType::Unknown(v),
        }
    }
}

impl From<NatType> for u8 {
    fn from(n: NatType) -> u8 {
        match n {
            NatType::FullCone => 0,
            NatType::IpRestricted => 1,
            NatType::PortRestricted => 2,
            NatType::Symmetric => 3,
            NatType::Public => 4,
            NatType::Error => 0xff,
            NatType::Unknown(v) => v,
        }
    }
}

/// A read-only view of one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerEntry<'a> {
    buf: &'a [u8],
}

impl<'a> PeerEntry<'a> {
    pub const LEN: usize = field::TRACKER_PRIORITY.end;

    pub fn new_checked(buf: &'a [u8]) -> Result<Self> {
        if buf.len() < Self::LEN {
            return Err(Error::Truncated {
                message: "2010 peer entry",
                field: "peer entry",
                offset: 0,
                expected: Self::LEN,
                actual: buf.len(),
            });
        }
        Ok(PeerEntry { buf: &buf[..Self::LEN] })
    }
    pub fn ip(&self) -> Ipv4Addr {
        ipv4_le(self.buf, field::IP.start)
    }
    pub fn udp_port(&self) -> u16 {
        le16(self.buf, field::UDP_PORT.start)
    }
    pub fn version(&self) -> u16 {
        le16(self.buf, field::VERSION.start)
    }
    pub fn detected_ip(&self) -> Ipv4Addr {
        ipv4_le(self.buf, field::DETECTED_IP.start)
    }
    pub fn detected_port(&self) -> u16 {
        le16(self.buf, field::DETECTED_PORT.start)
    }
    pub fn stun_ip(&self) -> Ipv4Addr {
        ipv4_le(self.buf, field::STUN_IP.start)
    }
    pub fn stun_port(&self) -> u16 {
        le16(self.buf, field::STUN_PORT.start)
    }
    pub fn nat_type(&self) -> NatType {
        NatType::from(self.buf[field::NAT_TYPE.start])
    }
    pub fn upload_priority(&self) -> u8 {
        self.buf[field::UPLOAD_PRIORITY.start]
    }
    pub fn idle_minutes(&self) -> u8 {
        self.buf[field::IDLE_MINUTES.start]
    }
    pub fn tracker_priority(&self) -> u8 {
        self.buf[field::TRACKER_PRIORITY.start]
    }

    /// The entry as a subtree; a private peer address adds a note. (Private
    /// detected or STUN addresses are normal behind NAT and are not flagged.)
    pub fn to_field(&self, o: usize, notes: &mut Vec<Note>) -> Field {
        if let Some(why) = special_purpose(self.ip()) {
            notes.push(Note::new(&ei::PRIVATE_ADDRESS, o, field::IP.len(), format!("peer {} is {why}", self.ip())));
        }
        Field::subtree(
            &hf::PPTV_PEER,
            o,
            Self::LEN,
            vec![
                Field::at(&hf::PPTV_PEER_IP, o, field::IP, Value::Ipv4(self.ip())),
                Field::at(&hf::PPTV_PEER_UDP_PORT, o, field::UDP_PORT, Value::U16(self.udp_port())),
                Field::at(&hf::PPTV_PEER_VERSION, o, field::VERSION, Value::U16(self.version())),
                Field::at(&hf::PPTV_PEER_DETECTED_IP, o, field::DETECTED_IP, Value::Ipv4(self.detected_ip())),
                Field::at(&hf::PPTV_PEER_DETECTED_PORT, o, field::DETECTED_PORT, Value::U16(self.detected_port())),
                Field::at(&hf::PPTV_PEER_STUN_IP, o, field::STUN_IP, Value::Ipv4(self.stun_ip())),
                Field::at(&hf::PPTV_PEER_STUN_PORT, o, field::STUN_PORT, Value::U16(self.stun_port())),
                Field::at(&hf::PPTV_PEER_NAT_TYPE, o, field::NAT_TYPE, Value::U8(self.nat_type().into())),
                Field::at(&hf::PPTV_PEER_UPLOAD_PRIORITY, o, field::UPLOAD_PRIORITY, Value::U8(self.upload_priority())),
                Field::at(&hf::PPTV_PEER_IDLE_MINUTES, o, field::IDLE_MINUTES, Value::U8(self.idle_minutes())),
                Field::at(
                    &hf::PPTV_PEER_TRACKER_PRIORITY,
                    o,
                    field::TRACKER_PRIORITY,
                    Value::U8(self.tracker_priority()),
                ),
            ],
        )
    }
}

/// Allocation-free iterator over whole entries.
#[derive(Debug, Clone)]
pub struct PeerEntries<'a> {
    chunks: core::slice::ChunksExact<'a, u8>,
}

impl<'a> PeerEntries<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        PeerEntries { chunks: buf.chunks_exact(PeerEntry::LEN) }
    }
    pub fn remainder(&self) -> &'a [u8] {
        self.chunks.remainder()
    }
}

impl<'a> Iterator for PeerEntries<'a> {
    type Item = PeerEntry<'a>;
    fn next(&mut self) -> Option<PeerEntry<'a>> {
        self.chunks.next().map(|buf| PeerEntry { buf })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for PeerEntries<'_> {}

/// An owned peer entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerEntryRepr {
    pub ip: Ipv4Addr,
    pub udp_port: u16,
    pub version: u16,
    pub detected_ip: Ipv4Addr,
    pub detected_port: u16,
    pub stun_ip: Ipv4Addr,
    pub stun_port: u16,
    pub nat_type: NatType,
    pub upload_priority: u8,
    pub idle_minutes: u8,
    pub tracker_priority: u8,
}

impl PeerEntryRepr {
    pub fn parse(e: &PeerEntry<'_>) -> PeerEntryRepr {
        PeerEntryRepr {
            ip: e.ip(),
            udp_port: e.udp_port(),
            version: e.version(),
            detected_ip: e.detected_ip(),
            detected_port: e.detected_port(),
            stun_ip: e.stun_ip(),
            stun_port: e.stun_port(),
            nat_type: e.nat_type(),
            upload_priority: e.upload_priority(),
            idle_minutes: e.idle_minutes(),
            tracker_priority: e.tracker_priority(),
        }
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        put_ipv4_le(out, self.ip);
        out.extend_from_slice(&self.udp_port.to_le_bytes());
        out.extend_from_slice(&self.version.to_le_bytes());
        put_ipv4_le(out, self.detected_ip);
        out.extend_from_slice(&self.detected_port.to_le_bytes());
        put_ipv4_le(out, self.stun_ip);
        out.extend_from_slice(&self.stun_port.to_le_bytes());
        out.extend_from_slice(&[self.nat_type.into(), self.upload_priority, self.idle_minutes, self.tracker_priority]);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// 59.64.198.250:4004, version 0x010C, public, detected = itself.
    pub const ENTRY: [u8; 24] = [
        0xfa, 0xc6, 0x40, 0x3b, 0xa4, 0x0f, 0x0c, 0x01, 0xfa, 0xc6, 0x40, 0x3b, 0xa4, 0x0f, 0x2e, 0x00, 0xa2, 0xd3,
        0x8c, 0x0d, 0x04, 0x02, 0x05, 0x01,
    ];

    pub fn arb_entry() -> impl Strategy<Value = PeerEntryRepr> {
        (any::<[u32; 3]>(), any::<[u16; 4]>(), any::<[u8; 4]>()).prop_map(|(ips, p, b)| PeerEntryRepr {
            ip: ips[0].into(),
            udp_port: p[0],
            version: p[1],
            detected_ip: ips[1].into(),
            detected_port: p[2],
            stun_ip: ips[2].into(),
            stun_port: p[3],
            nat_type: b[0].into(),
            upload_priority: b[1],
            idle_minutes: b[2],
            tracker_priority: b[3],
        })
    }

    #[test]
    fn test_parse() {
        let e = PeerEntry::new_checked(&ENTRY).unwrap();
        assert_eq!(e.ip(), Ipv4Addr::new(59, 64, 198, 250));
        assert_eq!((e.udp_port(), e.version()), (4004, 0x010c));
        assert_eq!(e.stun_ip(), Ipv4Addr::new(211, 162, 0, 46));
        assert_eq!(e.stun_port(), 0x0d8c);
        assert_eq!(e.nat_type(), NatType::Public);
        assert_eq!((e.upload_priority(), e.idle_minutes(), e.tracker_priority()), (2, 5, 1));
    }

    #[test]
    fn test_emit() {
        let mut out = Vec::new();
        PeerEntryRepr::parse(&PeerEntry::new_checked(&ENTRY).unwrap()).emit(&mut out);
        assert_eq!(out, ENTRY);
    }

    #[test]
    fn test_impossible_len() {
        assert!(matches!(PeerEntry::new_checked(&ENTRY[..23]), Err(Error::Truncated { expected: 24, actual: 23, .. })));
    }

    proptest! {
        #[test]
        fn prop_round_trip(e in arb_entry()) {
            let mut out = Vec::new();
            e.emit(&mut out);
            prop_assert_eq!(out.len(), PeerEntry::LEN);
            prop_assert_eq!(PeerEntryRepr::parse(&PeerEntry::new_checked(&out).unwrap()), e);
        }

        #[test]
        fn prop_random_never_panics(b in proptest::collection::vec(any::<u8>(), 0..50)) {
            if let Ok(e) = PeerEntry::new_checked(&b) {
                let _ = e.to_field(0, &mut Vec::new());
            }
        }
    }
}
