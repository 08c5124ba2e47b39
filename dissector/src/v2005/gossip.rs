//! The 2005-era gossip peer exchange: the UDP (later TCP) message a client
//! sends to the hosts of its list, carrying the channel ID; hosts answer in
//! the same format with their own neighbours.
//!
//! ```text
//! 0        4            20                 40      41
//! | header | channel ID | 20 unknown bytes | count | count × 18-byte host record |
//! ```
//! Read off \[M\]'s dump: `02 00 00 02`, the CCTV-5 GUID
//! `10 9a 0f 7d …`, twenty unexplained bytes, `03`, then three records
//! (`8c 6d 2a d4 a4 0f 48 1f …` = 140.109.42.212, UDP 4004, TCP 8008). The
//! count is a single byte: the dump's last record is labelled "Host3", the
//! byte before the first record is `03`, and every byte of the listing is
//! then accounted for with 18-byte records, as in the tracker reply. Only
//! one message was dumped, so the width of the count is an inference;
//! messages vary in size but share this format.

use crate::error::{Error, Result};
use crate::guid::Guid;
use crate::tree::{Field, MessageKind, Tree, Value};
use crate::v2005::host_record::{HostRecord, HostRecordRepr, HostRecords};
use crate::v2005::{holds_exactly, host_list_fields, strict_hosts};
use crate::wire::Reader;
use crate::{hf, Generation};

const MESSAGE: &str = "2005 gossip";

mod field {
    use core::ops::Range;
    pub const HEADER: Range<usize> = 0..4;
    pub const CHANNEL: Range<usize> = 4..20;
    pub const UNKNOWN: Range<usize> = 20..40;
    pub const COUNT: Range<usize> = 40..41;
    pub const HOSTS: usize = COUNT.end;
}

/// A read-only view of a gossip message.
#[derive(Debug, Clone, Copy)]
pub struct Gossip<'a> {
    buf: &'a [u8],
}

impl<'a> Gossip<'a> {
    pub const HEADER_LEN: usize = field::HOSTS;

    /// Checks the fixed part is present; host records may be fewer than claimed.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self> {
        let r = Reader::new(buf, MESSAGE);
        r.bytes("header", field::HEADER.start, field::HEADER.len())?;
        r.bytes("channel", field::CHANNEL.start, field::CHANNEL.len())?;
        r.bytes("unknown", field::UNKNOWN.start, field::UNKNOWN.len())?;
        r.u8("count", field::COUNT.start)?;
        Ok(Gossip { buf })
    }

    /// True if the length is exactly the fixed part plus `count` records.
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
    pub fn channel(&self) -> Guid {
        let mut g = [0u8; Guid::LEN];
        g.copy_from_slice(&self.buf[field::CHANNEL]);
        Guid(g)
    }
    pub fn unknown(&self) -> &'a [u8] {
        &self.buf[field::UNKNOWN]
    }
    pub fn count(&self) -> u8 {
        self.buf[field::COUNT.start]
    }
    pub fn hosts(&self) -> HostRecords<'a> {
        HostRecords::new(&self.buf[field::HOSTS..])
    }

    pub fn to_tree(&self) -> Tree {
        let mut notes = Vec::new();
        let mut children = vec![
            Field::at(&hf::GOSSIP_HEADER, 0, field::HEADER, Value::Bytes(self.header().to_vec())),
            Field::at(&hf::GOSSIP_CHANNEL, 0, field::CHANNEL, Value::Guid(self.channel())),
            Field::at(&hf::GOSSIP_UNKNOWN, 0, field::UNKNOWN, Value::Bytes(self.unknown().to_vec())),
            Field::at(&hf::GOSSIP_COUNT, 0, field::COUNT, Value::U8(self.count())),
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
            message: MessageKind::Gossip,
            fields: vec![Field::subtree(&hf::GOSSIP, 0, self.buf.len(), children)],
            notes,
        }
    }
}

/// An owned gossip message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GossipRepr {
    pub header: [u8; 4],
    pub channel: Guid,
    pub unknown: [u8; 20],
    /// At most 255: the count is one byte.
    pub hosts: Vec<HostRecordRepr>,
}

impl GossipRepr {
    pub const MAX_HOSTS: usize = 255;

    /// Strict: the count must match the records and nothing may follow them.
    pub fn parse(msg: &Gossip<'_>) -> Result<Self> {
        let hosts = strict_hosts(MESSAGE, msg.hosts(), msg.count() as usize)?;
        let mut header = [0u8; 4];
        header.copy_from_slice(msg.header());
        let mut unknown = [0u8; 20];
        unknown.copy_from_slice(msg.unknown());
        Ok(GossipRepr { header, channel: msg.channel(), unknown, hosts })
    }

    pub fn buffer_len(&self) -> usize {
        field::HOSTS + HostRecord::LEN * self.hosts.len()
    }

    /// Fails if there are more hosts than the one-byte count can say.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let count = u8::try_from(self.hosts.len()).map_err(|_| Error::Invalid {
            message: MESSAGE,
            field: "count",
            offset: field::COUNT.start,
            reason: format!("{} hosts do not fit a one-byte count", self.hosts.len()),
        })?;
        out.reserve(self.buffer_len());
        out.extend_from_slice(&self.header);
        out.extend_from_slice(&self.channel.to_wire());
        out.extend_from_slice(&self.unknown);
        out.push(count);
        self.hosts.iter().for_each(|h| h.emit(out));
        Ok(())
    }
}

pub fn parse(buf: &[u8]) -> Result<GossipRepr> {
    GossipRepr::parse(&Gossip::new_checked(buf)?)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ei;
    use crate::v2005::host_record::tests::arb_host;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    /// Header, channel ID, unknown bytes and count of \[M\]'s dump.
    pub const STUDY_FIXED: [u8; 41] = [
        0x02, 0x00, 0x00, 0x02, // header
        0x10, 0x9a, 0x0f, 0x7d, 0xc3, 0xf9, 0xae, 0x4a, 0xa2, 0xd6, 0x0e, 0x54, 0x63, 0x9b, 0xc7, 0x15, // channel
        0x0c, 0x30, 0xe9, 0x6f, 0x4d, 0x8f, 0x9f, 0x45, 0xbe, 0xdd, 0x42, 0xdb, 0x96, 0x9e, 0x11, 0xe7, 0x84, 0x47,
        0x6e, 0x01, // unknown
        0x03, // number of hosts
    ];
    const STUDY_HOST1: [u8; 18] =
        [0x8c, 0x6d, 0x2a, 0xd4, 0xa4, 0x0f, 0x48, 0x1f, 0, 0, 0, 0, 0x00, 0x04, 0x00, 0x00, 0x3c, 0x00];
    const STUDY_HOST3: [u8; 18] =
        [0xcb, 0xba, 0xad, 0x88, 0xa4, 0x0f, 0x48, 0x1f, 0, 0, 0, 0, 0x00, 0x04, 0x0a, 0x04, 0x2e, 0x00];

    /// The study's gossip message; host 2 (not printed) is a private address,
    /// as 5 of the 39 hosts in \[M\] were.
    pub fn study_gossip() -> Vec<u8> {
        let mut b = STUDY_FIXED.to_vec();
        b.extend_from_slice(&STUDY_HOST1);
        b.extend_from_slice(&[192, 168, 1, 20, 0xa4, 0x0f, 0x48, 0x1f, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
        b.extend_from_slice(&STUDY_HOST3);
        b
    }

    #[test]
    fn test_parse() {
        let buf = study_gossip();
        let msg = Gossip::new_checked(&buf).unwrap();
        assert!(msg.is_exact());
        assert_eq!(msg.channel().to_string(), "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}");
        assert_eq!(msg.count(), 3);
        let hosts: Vec<_> = msg.hosts().collect();
        assert_eq!(hosts[0].ip(), Ipv4Addr::new(140, 109, 42, 212));
        assert_eq!((hosts[0].udp_port(), hosts[0].tcp_port()), (4004, 8008));
        assert_eq!(hosts[2].ip(), Ipv4Addr::new(203, 186, 173, 136));
    }

    #[test]
    fn test_emit() {
        let buf = study_gossip();
        let mut out = Vec::new();
        parse(&buf).unwrap().emit(&mut out).unwrap();
        assert_eq!(out, buf);
    }

    #[test]
    fn test_tree_flags_private_host() {
        let tree = Gossip::new_checked(&study_gossip()).unwrap().to_tree();
        let ch = tree.find("pplive.gossip.channel").unwrap();
        assert_eq!((ch.offset, ch.len), (4, 16));
        let private: Vec<_> = tree.notes_named(ei::PRIVATE_ADDRESS.name).collect();
        assert_eq!(private.len(), 1);
        assert_eq!(private[0].offset, 41 + 18);
    }

    #[test]
    fn test_impossible_len() {
        assert!(matches!(
            Gossip::new_checked(&STUDY_FIXED[..40]),
            Err(Error::Truncated { field: "count", offset: 40, .. })
        ));
        assert!(matches!(Gossip::new_checked(&STUDY_FIXED[..10]), Err(Error::Truncated { field: "channel", .. })));
        // Count 3 but no records: kept by the view, rejected by the strict parse.
        assert!(matches!(parse(&STUDY_FIXED), Err(Error::CountMismatch { claimed: 3, present: 0, .. })));
    }

    #[test]
    fn test_emit_too_many_hosts() {
        let h = HostRecordRepr { ip: Ipv4Addr::LOCALHOST, udp_port: 1, tcp_port: 2, unknown: [0; 10] };
        let repr = GossipRepr { header: [0; 4], channel: Guid::default(), unknown: [0; 20], hosts: vec![h; 256] };
        assert!(repr.emit(&mut Vec::new()).is_err());
    }

    proptest! {
        #[test]
        fn prop_round_trip(header in any::<[u8; 4]>(), ch in any::<[u8; 16]>(), unknown in any::<[u8; 20]>(),
                           hosts in proptest::collection::vec(arb_host(), 0..40)) {
            let repr = GossipRepr { header, channel: Guid(ch), unknown, hosts };
            let mut out = Vec::new();
            repr.emit(&mut out).unwrap();
            prop_assert_eq!(parse(&out).unwrap(), repr);
        }

        #[test]
        fn prop_random_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(msg) = Gossip::new_checked(&b) {
                let _ = msg.to_tree();
            }
            let _ = parse(&b);
        }
    }
}
