//! 2010-era peer packets: live actions 0xC0–0xCF and VOD actions 0x50–0x5F.
//!
//! ```text
//! 0       9                  11         13            29             45
//! | header | protocol version | reserved | resource id | [VOD: peer GUID] | body
//! ```
//! Live bodies decoded here:
//! * 0xC0 request-announce: block id, upload bandwidth, reserved (u32 each).
//! * 0xC1 announce: request block id (u32), block count (u16), that many
//!   sub-piece counts (u16), start block id (u32), interval (u16), bitmap
//!   length (u16), bitmap.
//! * 0xC2 request sub-piece: count (u8), count × sub-piece info (block id
//!   u32, index u16), priority (u16).
//! * 0xC3 sub-piece: sub-piece info, data length (u16), data.
//!
//! Other live actions and all VOD bodies are kept raw.

use crate::ei;
use crate::error::{Error, Result};
use crate::guid::Guid;
use crate::hf;
use crate::tree::{Field, MessageKind, Note, Tree, Value};
use crate::v2010::guid_at;
use crate::v2010::header::{emit_header, Action, PptvHeader};
use crate::wire::{le16, le32, Reader};
use crate::Generation;

const MESSAGE: &str = "2010 peer packet";

mod field {
    use core::ops::Range;
    pub const PROTOCOL_VERSION: Range<usize> = 9..11;
    pub const RESERVED: Range<usize> = 11..13;
    pub const RESOURCE_ID: Range<usize> = 13..29;
    pub const LIVE_BODY: usize = RESOURCE_ID.end;
    pub const VOD_PEER_GUID: Range<usize> = 29..45;
    pub const VOD_BODY: usize = VOD_PEER_GUID.end;

    /// Offsets from the start of a sub-piece info.
    pub mod subpiece_info {
        use core::ops::Range;
        pub const BLOCK_ID: Range<usize> = 0..4;
        pub const INDEX: Range<usize> = 4..6;
        pub const LEN: usize = INDEX.end;
    }
    /// Offsets from the start of the body, for each live action.
    pub mod request_announce {
        use core::ops::Range;
        pub const BLOCK_ID: Range<usize> = 0..4;
        pub const UPLOAD_BANDWIDTH: Range<usize> = 4..8;
        pub const RESERVED: Range<usize> = 8..12;
    }
    pub mod announce {
        use core::ops::Range;
        pub const REQUEST_BLOCK_ID: Range<usize> = 0..4;
        pub const BLOCK_COUNT: Range<usize> = 4..6;
        /// `BLOCK_COUNT` u16s, one per block.
        pub const SUBPIECE_COUNTS: usize = BLOCK_COUNT.end;
        pub const SUBPIECE_COUNT_LEN: usize = 2;
        /// Offsets from the end of the sub-piece counts.
        pub mod tail {
            use core::ops::Range;
            pub const START_BLOCK_ID: Range<usize> = 0..4;
            pub const INTERVAL: Range<usize> = 4..6;
            pub const BITMAP_LEN: Range<usize> = 6..8;
            pub const BITMAP: usize = BITMAP_LEN.end;
        }
    }
    pub mod request_subpiece {
        use core::ops::Range;
        pub const COUNT: Range<usize> = 0..1;
        /// `COUNT` sub-piece infos.
        pub const INFOS: usize = COUNT.end;
        /// Offsets from the end of the infos.
        pub const PRIORITY: Range<usize> = 0..2;
    }
    pub mod subpiece {
        use core::ops::Range;
        pub const INFO: Range<usize> = 0..super::subpiece_info::LEN;
        pub const DATA_LEN: Range<usize> = INFO.end..INFO.end + 2;
        pub const DATA: usize = DATA_LEN.end;
    }
}

/// Which block and which sub-piece in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubPieceInfo {
    pub block_id: u32,
    pub index: u16,
}

impl SubPieceInfo {
    pub const LEN: usize = field::subpiece_info::LEN;
    fn read(b: &[u8], at: usize) -> SubPieceInfo {
        use field::subpiece_info::*;
        SubPieceInfo { block_id: le32(b, at + BLOCK_ID.start), index: le16(b, at + INDEX.start) }
    }
    fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.block_id.to_le_bytes());
        out.extend_from_slice(&self.index.to_le_bytes());
    }
}

/// A decoded body, borrowing the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerBody<'a> {
    RequestAnnounce {
        block_id: u32,
        upload_bandwidth: u32,
        reserved: u32,
    },
    /// `subpiece_counts` holds the raw little-endian u16s; see [`PeerBody::subpiece_counts`].
    Announce {
        request_block_id: u32,
        subpiece_counts: &'a [u8],
        start_block_id: u32,
        interval: u16,
        bitmap: &'a [u8],
    },
    /// `infos` holds whole 6-byte sub-piece infos; see [`PeerBody::subpiece_infos`].
    RequestSubPiece {
        infos: &'a [u8],
        priority: u16,
    },
    SubPiece {
        info: SubPieceInfo,
        data: &'a [u8],
    },
    Raw(&'a [u8]),
}

impl<'a> PeerBody<'a> {
    /// The per-block sub-piece counts of an announce (empty otherwise).
    pub fn subpiece_counts(&self) -> impl Iterator<Item = u16> + 'a {
        let raw: &'a [u8] = match self {
            PeerBody::Announce { subpiece_counts, .. } => subpiece_counts,
            _ => &[],
        };
        raw.chunks_exact(field::announce::SUBPIECE_COUNT_LEN).map(|c| u16::from_le_bytes([c[0], c[1]]))
    }
    /// The requested sub-pieces of a request (empty otherwise).
    pub fn subpiece_infos(&self) -> impl Iterator<Item = SubPieceInfo> + 'a {
        let raw: &'a [u8] = match self {
            PeerBody::RequestSubPiece { infos, .. } => infos,
            _ => &[],
        };
        raw.chunks_exact(SubPieceInfo::LEN).map(|c| SubPieceInfo::read(c, 0))
    }
}

/// A read-only view of a live or VOD peer packet.
#[derive(Debug, Clone, Copy)]
pub struct PeerPacket<'a> {
    buf: &'a [u8],
    header: PptvHeader<'a>,
}

impl<'a> PeerPacket<'a> {
    /// Checks the action is live or VOD and the peer header is present.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self> {
        let header = PptvHeader::new_checked(buf)?;
        let a = header.action();
        if !a.is_live() && !a.is_vod() {
            return Err(Error::Invalid {
                message: MESSAGE,
                field: "action",
                offset: PptvHeader::ACTION.start,
                reason: format!("0x{:02x} is not a live or VOD action", u8::from(a)),
            });
        }
        let r = Reader::new(buf, MESSAGE);
        r.bytes("resource id", field::RESOURCE_ID.start, field::RESOURCE_ID.len())?;
        if a.is_vod() {
            r.bytes("peer guid", field::VOD_PEER_GUID.start, field::VOD_PEER_GUID.len())?;
        }
        Ok(PeerPacket { buf, header })
    }

    pub fn header(&self) -> PptvHeader<'a> {
        self.header
    }
    pub fn protocol_version(&self) -> u16 {
        le16(self.buf, field::PROTOCOL_VERSION.start)
    }
    pub fn reserved(&self) -> u16 {
        le16(self.buf, field::RESERVED.start)
    }
    pub fn resource_id(&self) -> Guid {
        guid_at(self.buf, field::RESOURCE_ID.start)
    }
    /// The peer GUID of a VOD packet.
    pub fn vod_peer_guid(&self) -> Option<Guid> {
        self.header.action().is_vod().then(|| guid_at(self.buf, field::VOD_PEER_GUID.start))
    }
    pub fn body_offset(&self) -> usize {
        if self.header.action().is_vod() {
            field::VOD_BODY
        } else {
            field::LIVE_BODY
        }
    }

    /// Strict decoding of the body: every length must fit exactly.
    pub fn body(&self) -> Result<PeerBody<'a>> {
        let b = self.body_offset();
        let r = Reader::new(self.buf, MESSAGE);
        let body = match self.header.action() {
            Action::LiveRequestAnnounce => {
                use field::request_announce::*;
                let block_id = r.u32_le("block id", b + BLOCK_ID.start)?;
                let upload_bandwidth = r.u32_le("upload bandwidth", b + UPLOAD_BANDWIDTH.start)?;
                let reserved = r.u32_le("reserved", b + RESERVED.start)?;
                r.expect_end(b + RESERVED.end)?;
                PeerBody::RequestAnnounce { block_id, upload_bandwidth, reserved }
            }
            Action::LiveAnnounce => {
                use field::announce::{tail::*, *};
                let request_block_id = r.u32_le("request block id", b + REQUEST_BLOCK_ID.start)?;
                let n = r.u16_le("block count", b + BLOCK_COUNT.start)? as usize;
                let counts = r.bytes("sub-piece counts", b + SUBPIECE_COUNTS, SUBPIECE_COUNT_LEN * n)?;
                let at = b + SUBPIECE_COUNTS + counts.len();
                let start_block_id = r.u32_le("start block id", at + START_BLOCK_ID.start)?;
                let interval = r.u16_le("interval", at + INTERVAL.start)?;
                let bitmap_len = r.u16_le("bitmap length", at + BITMAP_LEN.start)? as usize;
                let bitmap = r.bytes("bitmap", at + BITMAP, bitmap_len)?;
                r.expect_end(at + BITMAP + bitmap_len)?;
                PeerBody::Announce { request_block_id, subpiece_counts: counts, start_block_id, interval, bitmap }
            }
            Action::LiveRequestSubPiece => {
                use field::request_subpiece::*;
                let n = r.u8("count", b + COUNT.start)? as usize;
                let infos = r.bytes("sub-piece infos", b + INFOS, n * SubPieceInfo::LEN)?;
                let at = b + INFOS + infos.len();
                let priority = r.u16_le("priority", at + PRIORITY.start)?;
                r.expect_end(at + PRIORITY.end)?;
                PeerBody::RequestSubPiece { infos, priority }
            }
            Action::LiveSubPiece => {
                use field::subpiece::*;
                r.bytes("sub-piece info", b + INFO.start, INFO.len())?;
                let n = r.u16_le("data length", b + DATA_LEN.start)? as usize;
                let data = r.bytes("data", b + DATA, n)?;
                r.expect_end(b + DATA + n)?;
                PeerBody::SubPiece { info: SubPieceInfo::read(self.buf, b + INFO.start), data }
            }
            _ => PeerBody::Raw(&self.buf[b..]),
        };
        Ok(body)
    }

    pub fn to_tree(&self) -> Tree {
        let mut notes = Vec::new();
        let mut c = self.header.to_fields();
        c.push(Field::at(
            &hf::PPTV_PEER_PROTOCOL_VERSION,
            0,
            field::PROTOCOL_VERSION,
            Value::U16(self.protocol_version()),
        ));
        c.push(Field::at(&hf::PPTV_PEER_RESERVED, 0, field::RESERVED, Value::U16(self.reserved())));
        c.push(Field::at(&hf::PPTV_PEER_RESOURCE_ID, 0, field::RESOURCE_ID, Value::Guid(self.resource_id())));
        if let Some(g) = self.vod_peer_guid() {
            c.push(Field::at(&hf::PPTV_VOD_PEER_GUID, 0, field::VOD_PEER_GUID, Value::Guid(g)));
        }
        let b = self.body_offset();
        let len = self.buf.len();
        match self.body() {
            Ok(body) => body_fields(&body, b, &mut c, &mut notes, self.header.action()),
            Err(e) => {
                if b < len {
                    c.push(Field::new(&hf::PPTV_BODY, b, len - b, Value::Bytes(self.buf[b..].to_vec())));
                }
                let def = if matches!(e, Error::Trailing { .. }) { &ei::TRAILING_BYTES } else { &ei::TRUNCATED_RECORD };
                notes.push(Note::new(def, b, len - b, e.to_string()));
            }
        }
        let message = if self.header.action().is_vod() { MessageKind::PptvVod } else { MessageKind::PptvLive };
        Tree { generation: Generation::Pptv2010, message, fields: vec![Field::subtree(&hf::PPTV, 0, len, c)], notes }
    }
}

/// The fields of a decoded body that starts at `b`.
fn body_fields(body: &PeerBody<'_>, b: usize, c: &mut Vec<Field>, notes: &mut Vec<Note>, action: Action) {
    match *body {
        PeerBody::RequestAnnounce { block_id, upload_bandwidth, reserved } => {
            use field::request_announce::*;
            c.push(Field::at(&hf::PPTV_LIVE_BLOCK_ID, b, BLOCK_ID, Value::U32(block_id)));
            c.push(Field::at(&hf::PPTV_LIVE_UPLOAD_BANDWIDTH, b, UPLOAD_BANDWIDTH, Value::U32(upload_bandwidth)));
            c.push(Field::at(&hf::PPTV_LIVE_ANNOUNCE_RESERVED, b, RESERVED, Value::U32(reserved)));
        }
        PeerBody::Announce { .. } => announce_fields(body, b, c),
        PeerBody::RequestSubPiece { infos, priority } => {
            use field::request_subpiece::*;
            let n = infos.len() / SubPieceInfo::LEN;
            c.push(Field::at(&hf::PPTV_LIVE_REQUEST_COUNT, b, COUNT, Value::U8(n as u8)));
            for (i, s) in body.subpiece_infos().enumerate() {
                c.push(subpiece_field(s, b + INFOS + i * SubPieceInfo::LEN));
            }
            c.push(Field::at(&hf::PPTV_LIVE_PRIORITY, b + INFOS + infos.len(), PRIORITY, Value::U16(priority)));
        }
        PeerBody::SubPiece { info, data } => {
            use field::subpiece::*;
            c.push(subpiece_field(info, b + INFO.start));
            c.push(Field::at(&hf::PPTV_LIVE_DATA_LEN, b, DATA_LEN, Value::U16(data.len() as u16)));
            c.push(Field::new(&hf::PPTV_LIVE_DATA, b + DATA, data.len(), Value::Bytes(data.to_vec())));
        }
        PeerBody::Raw(raw) => {
            if !raw.is_empty() {
                c.push(Field::new(&hf::PPTV_BODY, b, raw.len(), Value::Bytes(raw.to_vec())));
                notes.push(Note::new(&ei::UNDECODED, b, raw.len(), format!("{} body not decoded", action.name())));
            }
        }
    }
}

/// A 0xC1 announce: the per-block counts, then the tail after them.
fn announce_fields(body: &PeerBody<'_>, b: usize, c: &mut Vec<Field>) {
    use field::announce::{tail::*, *};
    let PeerBody::Announce { request_block_id, subpiece_counts, start_block_id, interval, bitmap } = *body else {
        return;
    };
    c.push(Field::at(&hf::PPTV_LIVE_REQUEST_BLOCK_ID, b, REQUEST_BLOCK_ID, Value::U32(request_block_id)));
    let n = subpiece_counts.len() / SUBPIECE_COUNT_LEN;
    c.push(Field::at(&hf::PPTV_LIVE_BLOCK_COUNT, b, BLOCK_COUNT, Value::U16(n as u16)));
    for (i, v) in body.subpiece_counts().enumerate() {
        let at = b + SUBPIECE_COUNTS + i * SUBPIECE_COUNT_LEN;
        c.push(Field::new(&hf::PPTV_LIVE_SUBPIECE_COUNT, at, SUBPIECE_COUNT_LEN, Value::U16(v)));
    }
    let tail = b + SUBPIECE_COUNTS + subpiece_counts.len();
    c.push(Field::at(&hf::PPTV_LIVE_START_BLOCK_ID, tail, START_BLOCK_ID, Value::U32(start_block_id)));
    c.push(Field::at(&hf::PPTV_LIVE_INTERVAL, tail, INTERVAL, Value::U16(interval)));
    c.push(Field::at(&hf::PPTV_LIVE_BITMAP_LEN, tail, BITMAP_LEN, Value::U16(bitmap.len() as u16)));
    c.push(Field::new(&hf::PPTV_LIVE_BITMAP, tail + BITMAP, bitmap.len(), Value::Bytes(bitmap.to_vec())));
}

fn subpiece_field(s: SubPieceInfo, at: usize) -> Field {
    use field::subpiece_info::*;
    Field::subtree(
        &hf::PPTV_LIVE_SUBPIECE,
        at,
        SubPieceInfo::LEN,
        vec![
            Field::at(&hf::PPTV_LIVE_SUBPIECE_BLOCK, at, BLOCK_ID, Value::U32(s.block_id)),
            Field::at(&hf::PPTV_LIVE_SUBPIECE_INDEX, at, INDEX, Value::U16(s.index)),
        ],
    )
}

/// An owned body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerBodyRepr {
    RequestAnnounce {
        block_id: u32,
        upload_bandwidth: u32,
        reserved: u32,
    },
    Announce {
        request_block_id: u32,
        subpiece_counts: Vec<u16>,
        start_block_id: u32,
        interval: u16,
        bitmap: Vec<u8>,
    },
    RequestSubPiece {
        subpieces: Vec<SubPieceInfo>,
        priority: u16,
    },
    SubPiece {
        info: SubPieceInfo,
        data: Vec<u8>,
    },
    /// Other live actions and VOD.
    Raw(Vec<u8>),
}

/// An owned live or VOD peer packet. `checksum` is written as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerPacketRepr {
    pub checksum: u32,
    pub action: Action,
    pub transaction_id: u32,
    pub protocol_version: u16,
    pub reserved: u16,
    pub resource_id: Guid,
    /// Present exactly for VOD actions.
    pub vod_peer_guid: Option<Guid>,
    pub body: PeerBodyRepr,
}

impl PeerPacketRepr {
    pub fn parse(p: &PeerPacket<'_>) -> Result<PeerPacketRepr> {
        let body = match p.body()? {
            PeerBody::RequestAnnounce { block_id, upload_bandwidth, reserved } => {
                PeerBodyRepr::RequestAnnounce { block_id, upload_bandwidth, reserved }
            }
            ref b @ PeerBody::Announce { request_block_id, start_block_id, interval, bitmap, .. } => {
                PeerBodyRepr::Announce {
                    request_block_id,
                    subpiece_counts: b.subpiece_counts().collect(),
                    start_block_id,
                    interval,
                    bitmap: bitmap.to_vec(),
                }
            }
            ref b @ PeerBody::RequestSubPiece { priority, .. } => {
                PeerBodyRepr::RequestSubPiece { subpieces: b.subpiece_infos().collect(), priority }
            }
            PeerBody::SubPiece { info, data } => PeerBodyRepr::SubPiece { info, data: data.to_vec() },
            PeerBody::Raw(raw) => PeerBodyRepr::Raw(raw.to_vec()),
        };
        Ok(PeerPacketRepr {
            checksum: p.header.checksum(),
            action: p.header.action(),
            transaction_id: p.header.transaction_id(),
            protocol_version: p.protocol_version(),
            reserved: p.reserved(),
            resource_id: p.resource_id(),
            vod_peer_guid: p.vod_peer_guid(),
            body,
        })
    }

    /// Fails if the body does not belong to the action, the VOD peer GUID is
    /// present for a live action (or missing for VOD), or a count overflows
    /// its field.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let bad = |field: &'static str, reason: String| Error::Invalid { message: MESSAGE, field, offset: 0, reason };
        let fits = matches!(
            (&self.body, self.action),
            (PeerBodyRepr::RequestAnnounce { .. }, Action::LiveRequestAnnounce)
                | (PeerBodyRepr::Announce { .. }, Action::LiveAnnounce)
                | (PeerBodyRepr::RequestSubPiece { .. }, Action::LiveRequestSubPiece)
                | (PeerBodyRepr::SubPiece { .. }, Action::LiveSubPiece)
                | (PeerBodyRepr::Raw(_), Action::LiveOther(_) | Action::Vod(_))
        );
        if !fits {
            return Err(bad("action", format!("body does not belong to action {:?}", self.action)));
        }
        if self.vod_peer_guid.is_some() != self.action.is_vod() {
            return Err(bad("peer guid", "present exactly for VOD actions".into()));
        }
        let u16_len = |field, n: usize| u16::try_from(n).map_err(|_| bad(field, format!("{n} does not fit a u16")));
        let mut body = Vec::new();
        match &self.body {
            PeerBodyRepr::RequestAnnounce { block_id, upload_bandwidth, reserved } => {
                for v in [block_id, upload_bandwidth, reserved] {
                    body.extend_from_slice(&v.to_le_bytes());
                }
            }
            PeerBodyRepr::Announce { request_block_id, subpiece_counts, start_block_id, interval, bitmap } => {
                body.extend_from_slice(&request_block_id.to_le_bytes());
                body.extend_from_slice(&u16_len("block count", subpiece_counts.len())?.to_le_bytes());
                subpiece_counts.iter().for_each(|n| body.extend_from_slice(&n.to_le_bytes()));
                body.extend_from_slice(&start_block_id.to_le_bytes());
                body.extend_from_slice(&interval.to_le_bytes());
                body.extend_from_slice(&u16_len("bitmap length", bitmap.len())?.to_le_bytes());
                body.extend_from_slice(bitmap);
            }
            PeerBodyRepr::RequestSubPiece { subpieces, priority } => {
                let n = u8::try_from(subpieces.len()).map_err(|_| bad("count", "more than 255 sub-pieces".into()))?;
                body.push(n);
                subpieces.iter().for_each(|s| s.emit(&mut body));
                body.extend_from_slice(&priority.to_le_bytes());
            }
            PeerBodyRepr::SubPiece { info, data } => {
                info.emit(&mut body);
                body.extend_from_slice(&u16_len("data length", data.len())?.to_le_bytes());
                body.extend_from_slice(data);
            }
            PeerBodyRepr::Raw(raw) => body.extend_from_slice(raw),
        }
        emit_header(out, self.checksum, self.action, self.transaction_id);
        out.extend_from_slice(&self.protocol_version.to_le_bytes());
        out.extend_from_slice(&self.reserved.to_le_bytes());
        out.extend_from_slice(&self.resource_id.to_wire());
        if let Some(g) = self.vod_peer_guid {
            out.extend_from_slice(&g.to_wire());
        }
        out.extend_from_slice(&body);
        Ok(())
    }
}

pub fn parse(buf: &[u8]) -> Result<PeerPacketRepr> {
    PeerPacketRepr::parse(&PeerPacket::new_checked(buf)?)
}

#[cfg(test)]
mod tests;
