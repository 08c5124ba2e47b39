//! The 18-byte host record of 2005-era tracker replies and gossip messages.
//!
//! ```text
//! 0      4        6        8                  18
//! | IPv4 | UDP LE | TCP LE | 10 unknown bytes |
//! ```
//! `3b 40 c6 fa a4 0f 48 1f …` is 59.64.198.250, UDP 4004, TCP 8008. The
//! ports are little-endian while the address is in network order; the last
//! ten bytes are kept raw because no source explains them.

use std::net::Ipv4Addr;

use crate::addr::special_purpose;
use crate::ei;
use crate::error::{Error, Result};
use crate::hf;
use crate::tree::{Field, Note, Value};
use crate::wire::le16;

mod field {
    use core::ops::Range;
    pub const IP: Range<usize> = 0..4;
    pub const UDP_PORT: Range<usize> = 4..6;
    pub const TCP_PORT: Range<usize> = 6..8;
    pub const UNKNOWN: Range<usize> = 8..18;
}

/// A read-only view of one host record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostRecord<'a> {
    buf: &'a [u8],
}

impl<'a> HostRecord<'a> {
    pub const LEN: usize = field::UNKNOWN.end;

    /// Checks that at least [`Self::LEN`] bytes are present; extra bytes are ignored.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self> {
        if buf.len() < Self::LEN {
            return Err(Error::Truncated {
                message: "host record",
                field: "host record",
                offset: 0,
                expected: Self::LEN,
                actual: buf.len(),
            });
        }
        Ok(HostRecord { buf: &buf[..Self::LEN] })
    }

    pub fn ip(&self) -> Ipv4Addr {
        let b = &self.buf[field::IP];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }
    pub fn udp_port(&self) -> u16 {
        le16(self.buf, field::UDP_PORT.start)
    }
    pub fn tcp_port(&self) -> u16 {
        le16(self.buf, field::TCP_PORT.start)
    }
    pub fn unknown(&self) -> &'a [u8] {
        &self.buf[field::UNKNOWN]
    }
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// The record as a subtree at `offset`; a private address adds a note.
    pub fn to_field(&self, offset: usize, notes: &mut Vec<Note>) -> Field {
        let ip = self.ip();
        if let Some(why) = special_purpose(ip) {
            notes.push(Note::new(&ei::PRIVATE_ADDRESS, offset, field::IP.len(), format!("host {ip} is {why}")));
        }
        Field::subtree(
            &hf::HOST,
            offset,
            Self::LEN,
            vec![
                Field::at(&hf::HOST_IP, offset, field::IP, Value::Ipv4(ip)),
                Field::at(&hf::HOST_UDP_PORT, offset, field::UDP_PORT, Value::U16(self.udp_port())),
                Field::at(&hf::HOST_TCP_PORT, offset, field::TCP_PORT, Value::U16(self.tcp_port())),
                Field::at(&hf::HOST_UNKNOWN, offset, field::UNKNOWN, Value::Bytes(self.unknown().to_vec())),
            ],
        )
    }
}

/// Allocation-free iterator over the whole records of a byte run.
#[derive(Debug, Clone)]
pub struct HostRecords<'a> {
    chunks: core::slice::ChunksExact<'a, u8>,
}

impl<'a> HostRecords<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        HostRecords { chunks: buf.chunks_exact(HostRecord::LEN) }
    }
    /// Bytes after the last whole record (a record cut short).
    pub fn remainder(&self) -> &'a [u8] {
        self.chunks.remainder()
    }
}

impl<'a> Iterator for HostRecords<'a> {
    type Item = HostRecord<'a>;
    fn next(&mut self) -> Option<HostRecord<'a>> {
        self.chunks.next().map(|buf| HostRecord { buf })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for HostRecords<'_> {}

/// An owned host record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostRecordRepr {
    pub ip: Ipv4Addr,
    pub udp_port: u16,
    pub tcp_port: u16,
    pub unknown: [u8; 10],
}

impl HostRecordRepr {
    pub fn parse(rec: &HostRecord<'_>) -> HostRecordRepr {
        let mut unknown = [0u8; 10];
        unknown.copy_from_slice(rec.unknown());
        HostRecordRepr { ip: rec.ip(), udp_port: rec.udp_port(), tcp_port: rec.tcp_port(), unknown }
    }

    pub const fn buffer_len(&self) -> usize {
        HostRecord::LEN
    }

    /// Appends the 18 wire bytes.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ip.octets());
        out.extend_from_slice(&self.udp_port.to_le_bytes());
        out.extend_from_slice(&self.tcp_port.to_le_bytes());
        out.extend_from_slice(&self.unknown);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Host 1 of the tracker reply dump in \[M\].
    pub const STUDY_HOST1: [u8; 18] =
        [0x3b, 0x40, 0xc6, 0xfa, 0xa4, 0x0f, 0x48, 0x1f, 0, 0, 0, 0, 0x18, 0x00, 0x07, 0x00, 0x35, 0x00];

    pub fn arb_host() -> impl Strategy<Value = HostRecordRepr> {
        (any::<[u8; 4]>(), any::<u16>(), any::<u16>(), any::<[u8; 10]>()).prop_map(
            |(ip, udp_port, tcp_port, unknown)| HostRecordRepr { ip: Ipv4Addr::from(ip), udp_port, tcp_port, unknown },
        )
    }

    #[test]
    fn test_parse() {
        let rec = HostRecord::new_checked(&STUDY_HOST1).unwrap();
        assert_eq!(rec.ip(), Ipv4Addr::new(59, 64, 198, 250));
        assert_eq!(rec.udp_port(), 4004);
        assert_eq!(rec.tcp_port(), 8008);
        assert_eq!(rec.unknown(), &[0, 0, 0, 0, 0x18, 0x00, 0x07, 0x00, 0x35, 0x00]);
    }

    #[test]
    fn test_emit() {
        let repr = HostRecordRepr::parse(&HostRecord::new_checked(&STUDY_HOST1).unwrap());
        let mut out = Vec::new();
        repr.emit(&mut out);
        assert_eq!(out, STUDY_HOST1);
    }

    #[test]
    fn test_impossible_len() {
        assert!(matches!(
            HostRecord::new_checked(&STUDY_HOST1[..17]),
            Err(Error::Truncated { expected: 18, actual: 17, .. })
        ));
    }

    #[test]
    fn test_records_remainder() {
        let mut two = STUDY_HOST1.repeat(2);
        two.extend_from_slice(&[1, 2, 3]);
        let recs = HostRecords::new(&two);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs.remainder(), &[1, 2, 3]);
    }

    #[test]
    fn test_private_address_note() {
        let mut b = STUDY_HOST1;
        b[..4].copy_from_slice(&[192, 168, 0, 7]);
        let mut notes = Vec::new();
        HostRecord::new_checked(&b).unwrap().to_field(17, &mut notes);
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].def.name, ei::PRIVATE_ADDRESS.name);
        assert_eq!((notes[0].offset, notes[0].len), (17, 4));
    }

    proptest! {
        #[test]
        fn prop_round_trip(repr in arb_host()) {
            let mut out = Vec::new();
            repr.emit(&mut out);
            prop_assert_eq!(HostRecordRepr::parse(&HostRecord::new_checked(&out).unwrap()), repr);
        }

        #[test]
        fn prop_random_never_panics(b in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(rec) = HostRecord::new_checked(&b) {
                let _ = rec.to_field(0, &mut Vec::new());
            }
        }
    }
}
