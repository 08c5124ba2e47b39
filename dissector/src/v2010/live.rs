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
    pub const PROTOCOL_VERSION: usize = 9;
    pub const RESERVED: usize = 11;
    pub const RESOURCE_ID: usize = 13;
    pub const LIVE_BODY: usize = 29;
    pub const VOD_PEER_GUID: usize = 29;
    pub const VOD_BODY: usize = 45;
}

/// Which block and which sub-piece in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubPieceInfo {
    pub block_id: u32,
    pub index: u16,
}

impl SubPieceInfo {
    pub const LEN: usize = 6;
    fn read(b: &[u8], at: usize) -> SubPieceInfo {
        SubPieceInfo { block_id: le32(b, at), index: le16(b, at + 4) }
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
        raw.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]))
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
                offset: 4,
                reason: format!("0x{:02x} is not a live or VOD action", u8::from(a)),
            });
        }
        let r = Reader::new(buf, MESSAGE);
        r.bytes("resource id", field::RESOURCE_ID, 16)?;
        if a.is_vod() {
            r.bytes("peer guid", field::VOD_PEER_GUID, 16)?;
        }
        Ok(PeerPacket { buf, header })
    }

    pub fn header(&self) -> PptvHeader<'a> {
        self.header
    }
    pub fn protocol_version(&self) -> u16 {
        le16(self.buf, field::PROTOCOL_VERSION)
    }
    pub fn reserved(&self) -> u16 {
        le16(self.buf, field::RESERVED)
    }
    pub fn resource_id(&self) -> Guid {
        guid_at(self.buf, field::RESOURCE_ID)
    }
    /// The peer GUID of a VOD packet.
    pub fn vod_peer_guid(&self) -> Option<Guid> {
        self.header.action().is_vod().then(|| guid_at(self.buf, field::VOD_PEER_GUID))
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
                let block_id = r.u32_le("block id", b)?;
                let upload_bandwidth = r.u32_le("upload bandwidth", b + 4)?;
                let reserved = r.u32_le("reserved", b + 8)?;
                r.expect_end(b + 12)?;
                PeerBody::RequestAnnounce { block_id, upload_bandwidth, reserved }
            }
            Action::LiveAnnounce => {
                let request_block_id = r.u32_le("request block id", b)?;
                let n = r.u16_le("block count", b + 4)? as usize;
                let counts = r.bytes("sub-piece counts", b + 6, 2 * n)?;
                let at = b + 6 + 2 * n;
                let start_block_id = r.u32_le("start block id", at)?;
                let interval = r.u16_le("interval", at + 4)?;
                let bitmap_len = r.u16_le("bitmap length", at + 6)? as usize;
                let bitmap = r.bytes("bitmap", at + 8, bitmap_len)?;
                r.expect_end(at + 8 + bitmap_len)?;
                PeerBody::Announce { request_block_id, subpiece_counts: counts, start_block_id, interval, bitmap }
            }
            Action::LiveRequestSubPiece => {
                let n = r.u8("count", b)? as usize;
                let infos = r.bytes("sub-piece infos", b + 1, n * SubPieceInfo::LEN)?;
                let at = b + 1 + n * SubPieceInfo::LEN;
                let priority = r.u16_le("priority", at)?;
                r.expect_end(at + 2)?;
                PeerBody::RequestSubPiece { infos, priority }
            }
            Action::LiveSubPiece => {
                r.bytes("sub-piece info", b, SubPieceInfo::LEN)?;
                let n = r.u16_le("data length", b + 6)? as usize;
                let data = r.bytes("data", b + 8, n)?;
                r.expect_end(b + 8 + n)?;
                PeerBody::SubPiece { info: SubPieceInfo::read(self.buf, b), data }
            }
            _ => PeerBody::Raw(&self.buf[b..]),
        };
        Ok(body)
    }

    pub fn to_tree(&self) -> Tree {
        let mut notes = Vec::new();
        let mut c = self.header.to_fields();
        c.push(Field::new(&hf::PPTV_PEER_PROTOCOL_VERSION, 9, 2, Value::U16(self.protocol_version())));
        c.push(Field::new(&hf::PPTV_PEER_RESERVED, 11, 2, Value::U16(self.reserved())));
        c.push(Field::new(&hf::PPTV_PEER_RESOURCE_ID, 13, 16, Value::Guid(self.resource_id())));
        if let Some(g) = self.vod_peer_guid() {
            c.push(Field::new(&hf::PPTV_VOD_PEER_GUID, 29, 16, Value::Guid(g)));
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

fn body_fields(body: &PeerBody<'_>, b: usize, c: &mut Vec<Field>, notes: &mut Vec<Note>, action: Action) {
    match *body {
        PeerBody::RequestAnnounce { block_id, upload_bandwidth, reserved } => {
            c.push(Field::new(&hf::PPTV_LIVE_BLOCK_ID, b, 4, Value::U32(block_id)));
            c.push(Field::new(&hf::PPTV_LIVE_UPLOAD_BANDWIDTH, b + 4, 4, Value::U32(upload_bandwidth)));
            c.push(Field::new(&hf::PPTV_LIVE_ANNOUNCE_RESERVED, b + 8, 4, Value::U32(reserved)));
        }
        PeerBody::Announce { request_block_id, subpiece_counts, start_block_id, interval, bitmap } => {
            c.push(Field::new(&hf::PPTV_LIVE_REQUEST_BLOCK_ID, b, 4, Value::U32(request_block_id)));
            let n = subpiece_counts.len() / 2;
            c.push(Field::new(&hf::PPTV_LIVE_BLOCK_COUNT, b + 4, 2, Value::U16(n as u16)));
            for (i, v) in body.subpiece_counts().enumerate() {
                c.push(Field::new(&hf::PPTV_LIVE_SUBPIECE_COUNT, b + 6 + 2 * i, 2, Value::U16(v)));
            }
            let at = b + 6 + 2 * n;
            c.push(Field::new(&hf::PPTV_LIVE_START_BLOCK_ID, at, 4, Value::U32(start_block_id)));
            c.push(Field::new(&hf::PPTV_LIVE_INTERVAL, at + 4, 2, Value::U16(interval)));
            c.push(Field::new(&hf::PPTV_LIVE_BITMAP_LEN, at + 6, 2, Value::U16(bitmap.len() as u16)));
            c.push(Field::new(&hf::PPTV_LIVE_BITMAP, at + 8, bitmap.len(), Value::Bytes(bitmap.to_vec())));
        }
        PeerBody::RequestSubPiece { infos, priority } => {
            let n = infos.len() / SubPieceInfo::LEN;
            c.push(Field::new(&hf::PPTV_LIVE_REQUEST_COUNT, b, 1, Value::U8(n as u8)));
            for (i, s) in body.subpiece_infos().enumerate() {
                c.push(subpiece_field(s, b + 1 + i * SubPieceInfo::LEN));
            }
            c.push(Field::new(&hf::PPTV_LIVE_PRIORITY, b + 1 + infos.len(), 2, Value::U16(priority)));
        }
        PeerBody::SubPiece { info, data } => {
            c.push(subpiece_field(info, b));
            c.push(Field::new(&hf::PPTV_LIVE_DATA_LEN, b + 6, 2, Value::U16(data.len() as u16)));
            c.push(Field::new(&hf::PPTV_LIVE_DATA, b + 8, data.len(), Value::Bytes(data.to_vec())));
        }
        PeerBody::Raw(raw) => {
            if !raw.is_empty() {
                c.push(Field::new(&hf::PPTV_BODY, b, raw.len(), Value::Bytes(raw.to_vec())));
                notes.push(Note::new(&ei::UNDECODED, b, raw.len(), format!("{} body not decoded", action.name())));
            }
        }
    }
}

fn subpiece_field(s: SubPieceInfo, at: usize) -> Field {
    Field::subtree(
        &hf::PPTV_LIVE_SUBPIECE,
        at,
        SubPieceInfo::LEN,
        vec![
            Field::new(&hf::PPTV_LIVE_SUBPIECE_BLOCK, at, 4, Value::U32(s.block_id)),
            Field::new(&hf::PPTV_LIVE_SUBPIECE_INDEX, at + 4, 2, Value::U16(s.index)),
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
