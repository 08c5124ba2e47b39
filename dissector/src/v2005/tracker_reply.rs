//! The 2005-era tracker peer-list reply, as \[M\] dumped it.
//!
//! ```text
//! 0                     13             17
//! | 13 bytes, unknown   | count BE u32 | count × 18-byte host record |
//! ```
//! The dump's header is `02 00 00 02 99 58 98 00 2d 5a 98 00 02 | 00 00 00 32`
//! (50 hosts). Only the count is understood; the rest is shown raw.

use crate::error::Result;
use crate::tree::{Field, MessageKind, Tree, Value};
use crate::v2005::host_record::{HostRecord, HostRecordRepr, HostRecords};
use crate::v2005::{holds_exactly, host_list_fields, strict_hosts};
use crate::wire::{be32, Reader};
use crate::{hf, Generation};

const MESSAGE: &str = "2005 tracker reply";

mod field {
    use core::ops::Range;
    pub const HEADER: Range<usize> = 0..13;
    pub const COUNT: Range<usize> = 13..17;
    pub const HOSTS: usize = 17;
}

/// A read-only view of a tracker reply.
#[derive(Debug, Clone, Copy)]
pub struct TrackerReply<'a> {
    buf: &'a [u8],
}

impl<'a> TrackerReply<'a> {
    pub const HEADER_LEN: usize = field::HOSTS;

    /// Checks the fixed header is present. Host records may be fewer than
    /// claimed (captures were cut at 128 bytes); compare [`Self::count`] with
    /// [`Self::hosts`].
    pub fn new_checked(buf: &'a [u8]) -> Result<Self> {
        let r = Reader::new(buf, MESSAGE);
        r.bytes("header", 0, field::HEADER.len())?;
        r.bytes("count", field::COUNT.start, field::COUNT.len())?;
        Ok(TrackerReply { buf })
    }

    /// True if the length is exactly header + `count` records: the test used
    /// to recognise this message without a hint.
    pub fn is_exact(&self) -> bool {
        self.explains(self.buf.len())
    }

    /// True if the count says the whole message is `full_len` bytes long
    /// (the view may hold only its first bytes).
    pub fn explains(&self, full_len: usize) -> bool {
        holds_exactly(full_len, field::HOSTS, self.count() as usize)
    }

    pub fn header(&self) -> &'a [u8] {
        &self.buf[field::HEADER]
    }
    pub fn count(&self) -> u32 {
        be32(self.buf, field::COUNT.start)
    }
    /// The whole host records present.
    pub fn hosts(&self) -> HostRecords<'a> {
        HostRecords::new(&self.buf[field::HOSTS..])
    }

    pub fn to_tree(&self) -> Tree {
        let mut notes = Vec::new();
        let mut children = vec![
            Field::at(&hf::TRACKER_HEADER, 0, field::HEADER, Value::Bytes(self.header().to_vec())),
            Field::at(&hf::TRACKER_COUNT, 0, field::COUNT, Value::U32(self.count())),
        ];
        host_list_fields(
            &self.buf[field::HOSTS..],
            field::HOSTS,
            self.count() as usize,
            field::COUNT,
            &mut children,
            &mut notes,
        );
        Tree {
            generation: Generation::Pplive2005,
            message: MessageKind::TrackerReply,
            fields: vec![Field::subtree(&hf::TRACKER, 0, self.buf.len(), children)],
            notes,
        }
    }
}

/// An owned tracker reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerReplyRepr {
    pub header: [u8; 13],
    pub hosts: Vec<HostRecordRepr>,
}

impl TrackerReplyRepr {
    /// Strict: the count must match the records and nothing may follow them.
    pub fn parse(msg: &TrackerReply<'_>) -> Result<Self> {
        let hosts = strict_hosts(MESSAGE, msg.hosts(), msg.count() as usize)?;
        let mut header = [0u8; 13];
        header.copy_from_slice(msg.header());
        Ok(TrackerReplyRepr { header, hosts })
    }

    pub fn buffer_len(&self) -> usize {
        field::HOSTS + HostRecord::LEN * self.hosts.len()
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.reserve(self.buffer_len());
        out.extend_from_slice(&self.header);
        // A Vec cannot hold more than u32::MAX 18-byte records in practice.
        out.extend_from_slice(&(self.hosts.len() as u32).to_be_bytes());
        self.hosts.iter().for_each(|h| h.emit(out));
    }
}

/// Used by `dissect` and tests: the tree or the strict error.
pub fn parse(buf: &[u8]) -> Result<TrackerReplyRepr> {
    TrackerReplyRepr::parse(&TrackerReply::new_checked(buf)?)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ei;
    use crate::error::Error;
    use crate::v2005::host_record::tests::{arb_host, STUDY_HOST1};
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    pub const STUDY_HEADER: [u8; 17] =
        [0x02, 0x00, 0x00, 0x02, 0x99, 0x58, 0x98, 0x00, 0x2d, 0x5a, 0x98, 0x00, 0x02, 0x00, 0x00, 0x00, 0x32];
    const STUDY_HOST2: [u8; 18] =
        [0xda, 0xbe, 0x31, 0xad, 0xa4, 0x0f, 0x48, 0x1f, 0, 0, 0, 0, 0x00, 0x00, 0x34, 0x07, 0x01, 0x00];
    const STUDY_HOST50: [u8; 18] =
        [0xda, 0xbf, 0x29, 0x6c, 0xa4, 0x0f, 0x48, 0x1f, 0, 0, 0, 0, 0xb4, 0xef, 0x08, 0x00, 0x34, 0x00];

    /// The study's reply: the printed header and hosts 1, 2 and 50; hosts
    /// 3..49 (not printed) are copies of host 2.
    pub fn study_reply() -> Vec<u8> {
        let mut b = STUDY_HEADER.to_vec();
        b.extend_from_slice(&STUDY_HOST1);
        for _ in 2..50 {
            b.extend_from_slice(&STUDY_HOST2);
        }
        b.extend_from_slice(&STUDY_HOST50);
        b
    }

    #[test]
    fn test_parse() {
        let buf = study_reply();
        let msg = TrackerReply::new_checked(&buf).unwrap();
        assert_eq!(msg.count(), 50);
        assert!(msg.is_exact());
        let hosts: Vec<_> = msg.hosts().collect();
        assert_eq!(hosts.len(), 50);
        assert_eq!(hosts[0].ip(), Ipv4Addr::new(59, 64, 198, 250));
        assert_eq!((hosts[0].udp_port(), hosts[0].tcp_port()), (4004, 8008));
        assert_eq!(hosts[1].ip(), Ipv4Addr::new(218, 190, 49, 173));
        assert_eq!(hosts[49].ip(), Ipv4Addr::new(218, 191, 41, 108));
        let repr = parse(&buf).unwrap();
        assert_eq!(repr.hosts.len(), 50);
    }

    #[test]
    fn test_emit() {
        let buf = study_reply();
        let mut out = Vec::new();
        parse(&buf).unwrap().emit(&mut out);
        assert_eq!(out, buf);
    }

    #[test]
    fn test_tree() {
        let tree = TrackerReply::new_checked(&study_reply()).unwrap().to_tree();
        assert_eq!(tree.find("pplive.tracker.count").unwrap().value, Value::U32(50));
        let ip = tree.find("pplive.host.ip").unwrap();
        assert_eq!((ip.offset, ip.len, &ip.value), (17, 4, &Value::Ipv4(Ipv4Addr::new(59, 64, 198, 250))));
        assert_eq!(tree.find("pplive.host.udp_port").unwrap().value, Value::U16(4004));
        assert_eq!(tree.find("pplive.host.tcp_port").unwrap().offset, 23);
        assert_eq!(tree.find_all("pplive.host").count(), 50);
        assert!(tree.notes.is_empty(), "{:?}", tree.notes);
    }

    /// The reply as printed (header and three hosts) claims 50.
    #[test]
    fn test_truncated_capture_notes() {
        let mut buf = STUDY_HEADER.to_vec();
        for h in [STUDY_HOST1, STUDY_HOST2, STUDY_HOST50] {
            buf.extend_from_slice(&h);
        }
        buf.extend_from_slice(&[0x0a, 0x00]);
        let msg = TrackerReply::new_checked(&buf).unwrap();
        assert!(!msg.is_exact());
        let tree = msg.to_tree();
        assert_eq!(tree.find_all("pplive.host").count(), 3);
        assert_eq!(tree.notes_named(ei::COUNT_MISMATCH.name).count(), 1);
        assert_eq!(tree.notes_named(ei::TRUNCATED_RECORD.name).count(), 1);
        assert!(matches!(parse(&buf), Err(Error::CountMismatch { claimed: 50, present: 3, .. })));
    }

    #[test]
    fn test_impossible_len() {
        assert!(matches!(TrackerReply::new_checked(&STUDY_HEADER[..16]), Err(Error::Truncated { field: "count", .. })));
        assert!(matches!(TrackerReply::new_checked(&[]), Err(Error::Truncated { field: "header", .. })));
    }

    proptest! {
        #[test]
        fn prop_round_trip(header in any::<[u8; 13]>(), hosts in proptest::collection::vec(arb_host(), 0..60)) {
            let repr = TrackerReplyRepr { header, hosts };
            let mut out = Vec::new();
            repr.emit(&mut out);
            prop_assert_eq!(out.len(), repr.buffer_len());
            prop_assert_eq!(parse(&out).unwrap(), repr);
        }

        #[test]
        fn prop_random_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(msg) = TrackerReply::new_checked(&b) {
                let _ = msg.to_tree();
                let _ = msg.is_exact();
            }
            let _ = parse(&b);
        }
    }
}
