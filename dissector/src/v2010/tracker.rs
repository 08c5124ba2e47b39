//! 2010-era tracker packets: List (0x31), Leave (0x34), Report/KeepAlive (0x35).
//!
//! After the common header, `[9]` says request (1) or response (0).
//! A request continues with peer version (u16), source (u8), reserved (u8);
//! a response with an error code (u8). Bodies:
//!
//! * List request: resource id (16), peer GUID (16), requested count (u16),
//!   NAT type (u8, only from peer version 0x010C on).
//! * List response: resource id (16), count (u16), count × 24-byte peer entry.
//! * Leave request: peer GUID (16).
//! * Report response: keep-alive interval (u16), detected IP (u32, reversed),
//!   detected UDP port (u16), resource count (u16).
//! * Report request, Leave response: no public description; kept raw.
//!
//! A response with a non-zero error code and nothing after it is an error reply.

use core::ops::Range;
use std::net::Ipv4Addr;

use crate::ei;
use crate::error::{Error, Result};
use crate::guid::Guid;
use crate::hf;
use crate::tree::{Field, FieldDef, MessageKind, Note, Tree, Value};
use crate::v2010::header::{emit_header, Action, PptvHeader};
use crate::v2010::peer_entry::{PeerEntries, PeerEntry, PeerEntryRepr};
use crate::v2010::{guid_at, ipv4_le, put_ipv4_le};
use crate::wire::{le16, Reader};
use crate::Generation;

const MESSAGE: &str = "2010 tracker packet";
/// First peer version whose List request carries a NAT type.
pub const NAT_TYPE_SINCE_VERSION: u16 = 0x010C;

mod field {
    use core::ops::Range;
    pub const IS_REQUEST: usize = 9;
    // A request's prefix.
    pub const PEER_VERSION: Range<usize> = 10..12;
    pub const SOURCE: Range<usize> = 12..13;
    pub const RESERVED: Range<usize> = 13..14;
    pub const REQUEST_BODY: usize = RESERVED.end;
    // A response's prefix.
    pub const ERROR_CODE: Range<usize> = 10..11;
    pub const RESPONSE_BODY: usize = ERROR_CODE.end;

    /// Offsets from the start of the body.
    pub mod list_request {
        use core::ops::Range;
        pub const RESOURCE_ID: Range<usize> = 0..16;
        pub const PEER_GUID: Range<usize> = 16..32;
        pub const REQUESTED_COUNT: Range<usize> = 32..34;
        /// Only from peer version [`super::super::NAT_TYPE_SINCE_VERSION`] on.
        pub const NAT_TYPE: Range<usize> = 34..35;
    }
    pub mod list_response {
        use core::ops::Range;
        pub const RESOURCE_ID: Range<usize> = 0..16;
        pub const COUNT: Range<usize> = 16..18;
        pub const PEERS: usize = COUNT.end;
    }
    pub mod leave_request {
        use core::ops::Range;
        pub const PEER_GUID: Range<usize> = 0..16;
    }
    pub mod report_response {
        use core::ops::Range;
        pub const KEEPALIVE: Range<usize> = 0..2;
        pub const DETECTED_IP: Range<usize> = 2..6;
        pub const DETECTED_PORT: Range<usize> = 6..8;
        pub const RESOURCE_COUNT: Range<usize> = 8..10;
    }
}

/// A read-only view of a tracker packet (header checked, body not yet).
#[derive(Debug, Clone, Copy)]
pub struct TrackerPacket<'a> {
    buf: &'a [u8],
    header: PptvHeader<'a>,
}

/// Fields common to every tracker request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestCommon {
    pub peer_version: u16,
    pub source: u8,
    pub reserved: u8,
}

/// The decoded body of a tracker packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackerMessage {
    ListRequest {
        common: RequestCommon,
        resource_id: Guid,
        peer_guid: Guid,
        requested_count: u16,
        nat_type: Option<u8>,
    },
    ListResponse {
        error_code: u8,
        resource_id: Guid,
        peers: Vec<PeerEntryRepr>,
    },
    LeaveRequest {
        common: RequestCommon,
        peer_guid: Guid,
    },
    ReportRequest {
        common: RequestCommon,
        body: Vec<u8>,
    },
    ReportResponse {
        error_code: u8,
        keepalive_interval: u16,
        detected_ip: Ipv4Addr,
        detected_port: u16,
        resource_count: u16,
    },
    /// Any response whose body has no public description (Leave), or an
    /// error reply with no body; `body` is kept raw.
    OtherResponse {
        action: Action,
        error_code: u8,
        body: Vec<u8>,
    },
}

/// An owned tracker packet. `checksum` is written as given (not computed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerRepr {
    pub checksum: u32,
    pub transaction_id: u32,
    pub message: TrackerMessage,
}

impl<'a> TrackerPacket<'a> {
    /// Checks the header, that the action is a tracker action, and that the
    /// request/response prefix is present.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self> {
        let header = PptvHeader::new_checked(buf)?;
        if !header.action().is_tracker() {
            return Err(Error::Invalid {
                message: MESSAGE,
                field: "action",
                offset: PptvHeader::ACTION.start,
                reason: format!("0x{:02x} is not a tracker action", u8::from(header.action())),
            });
        }
        let r = Reader::new(buf, MESSAGE);
        match r.u8("is request", field::IS_REQUEST)? {
            1 => {
                r.bytes("reserved", field::RESERVED.start, field::RESERVED.len())?;
            }
            0 => {
                r.u8("error code", field::ERROR_CODE.start)?;
            }
            v => {
                return Err(Error::Invalid {
                    message: MESSAGE,
                    field: "is request",
                    offset: field::IS_REQUEST,
                    reason: format!("{v} is neither 0 nor 1"),
                })
            }
        }
        Ok(TrackerPacket { buf, header })
    }

    pub fn header(&self) -> PptvHeader<'a> {
        self.header
    }
    pub fn is_request(&self) -> bool {
        self.buf[field::IS_REQUEST] == 1
    }
    /// Request prefix, `None` for a response.
    pub fn request_common(&self) -> Option<RequestCommon> {
        self.is_request().then(|| RequestCommon {
            peer_version: le16(self.buf, field::PEER_VERSION.start),
            source: self.buf[field::SOURCE.start],
            reserved: self.buf[field::RESERVED.start],
        })
    }
    /// Error code, `None` for a request.
    pub fn error_code(&self) -> Option<u8> {
        (!self.is_request()).then(|| self.buf[field::ERROR_CODE.start])
    }
    pub fn body_offset(&self) -> usize {
        if self.is_request() {
            field::REQUEST_BODY
        } else {
            field::RESPONSE_BODY
        }
    }
    pub fn body(&self) -> &'a [u8] {
        &self.buf[self.body_offset()..]
    }

    /// A response with a non-zero error code and no body.
    fn is_error_reply(&self) -> bool {
        self.error_code().is_some_and(|e| e != 0) && self.body().is_empty()
    }

    /// The length of a List request body for this peer version.
    fn list_request_len(common: &RequestCommon) -> usize {
        use field::list_request::*;
        if common.peer_version >= NAT_TYPE_SINCE_VERSION {
            NAT_TYPE.end
        } else {
            REQUESTED_COUNT.end
        }
    }

    /// For a List response: resource id, claimed count and the whole entries
    /// present (allocation-free).
    pub fn list_response(&self) -> Result<(Guid, u16, PeerEntries<'a>)> {
        use field::list_response::*;
        let b = self.body_offset();
        let r = Reader::new(self.buf, MESSAGE);
        r.bytes("resource id", b + RESOURCE_ID.start, RESOURCE_ID.len())?;
        let count = r.u16_le("count", b + COUNT.start)?;
        Ok((guid_at(self.buf, b + RESOURCE_ID.start), count, PeerEntries::new(&self.buf[b + PEERS..])))
    }

    /// True if the body has a publicly described layout and fits it exactly
    /// (what [`Self::message`] would accept, minus the raw-bodied Report
    /// request and Leave response). Does not allocate.
    pub fn fits_described_layout(&self) -> bool {
        let body = self.body();
        let len = body.len();
        if self.is_error_reply() {
            return true;
        }
        match (self.header.action(), self.request_common()) {
            (Action::TrackerList, Some(c)) => len == Self::list_request_len(&c),
            (Action::TrackerLeave, Some(_)) => len == field::leave_request::PEER_GUID.end,
            (_, Some(_)) => false,
            (Action::TrackerList, None) => {
                use field::list_response::*;
                len >= PEERS && len - PEERS == PeerEntry::LEN * usize::from(le16(body, COUNT.start))
            }
            (Action::TrackerReport, None) => len == field::report_response::RESOURCE_COUNT.end,
            _ => false,
        }
    }

    /// Strict decoding of the body.
    pub fn message(&self) -> Result<TrackerMessage> {
        let r = Reader::new(self.buf, MESSAGE);
        let b = self.body_offset();
        let action = self.header.action();
        if let Some(error_code) = self.error_code().filter(|_| self.is_error_reply()) {
            return Ok(TrackerMessage::OtherResponse { action, error_code, body: Vec::new() });
        }
        let m = match (action, self.request_common(), self.error_code()) {
            (Action::TrackerList, Some(common), _) => {
                use field::list_request::*;
                r.bytes("resource id", b + RESOURCE_ID.start, RESOURCE_ID.len())?;
                r.bytes("peer guid", b + PEER_GUID.start, PEER_GUID.len())?;
                let requested_count = r.u16_le("requested count", b + REQUESTED_COUNT.start)?;
                let nat_type = if common.peer_version >= NAT_TYPE_SINCE_VERSION {
                    Some(r.u8("nat type", b + NAT_TYPE.start)?)
                } else {
                    None
                };
                r.expect_end(b + Self::list_request_len(&common))?;
                TrackerMessage::ListRequest {
                    common,
                    resource_id: guid_at(self.buf, b + RESOURCE_ID.start),
                    peer_guid: guid_at(self.buf, b + PEER_GUID.start),
                    requested_count,
                    nat_type,
                }
            }
            (Action::TrackerLeave, Some(common), _) => {
                use field::leave_request::*;
                r.bytes("peer guid", b + PEER_GUID.start, PEER_GUID.len())?;
                r.expect_end(b + PEER_GUID.end)?;
                TrackerMessage::LeaveRequest { common, peer_guid: guid_at(self.buf, b + PEER_GUID.start) }
            }
            (Action::TrackerReport, Some(common), _) => {
                TrackerMessage::ReportRequest { common, body: self.body().to_vec() }
            }
            (Action::TrackerList, None, Some(error_code)) => {
                let (resource_id, count, entries) = self.list_response()?;
                if entries.len() != count as usize || !entries.remainder().is_empty() {
                    return Err(Error::CountMismatch {
                        message: MESSAGE,
                        field: "count",
                        claimed: count as usize,
                        present: entries.len(),
                    });
                }
                let peers = entries.map(|e| PeerEntryRepr::parse(&e)).collect();
                TrackerMessage::ListResponse { error_code, resource_id, peers }
            }
            (Action::TrackerReport, None, Some(error_code)) => {
                use field::report_response::*;
                let keepalive_interval = r.u16_le("keep-alive interval", b + KEEPALIVE.start)?;
                r.bytes("detected ip", b + DETECTED_IP.start, DETECTED_IP.len())?;
                let detected_port = r.u16_le("detected port", b + DETECTED_PORT.start)?;
                let resource_count = r.u16_le("resource count", b + RESOURCE_COUNT.start)?;
                r.expect_end(b + RESOURCE_COUNT.end)?;
                TrackerMessage::ReportResponse {
                    error_code,
                    keepalive_interval,
                    detected_ip: ipv4_le(self.buf, b + DETECTED_IP.start),
                    detected_port,
                    resource_count,
                }
            }
            (_, None, Some(error_code)) => {
                TrackerMessage::OtherResponse { action, error_code, body: self.body().to_vec() }
            }
            // new_checked guarantees one of request/response.
            _ => {
                return Err(Error::Invalid {
                    message: MESSAGE,
                    field: "is request",
                    offset: field::IS_REQUEST,
                    reason: "unreachable".into(),
                })
            }
        };
        Ok(m)
    }

    /// Lax tree: fixed fields that are present, peers that are present, notes
    /// for what is missing or extra.
    pub fn to_tree(&self) -> Tree {
        let mut notes = Vec::new();
        let mut c = self.header.to_fields();
        self.prefix_fields(&mut c);
        let len = self.buf.len();
        let mut body = LaxBody { buf: self.buf, base: self.body_offset(), fields: &mut c, end: self.body_offset() };
        let action = self.header.action();
        let complete = match (action, self.request_common()) {
            _ if self.is_error_reply() => true,
            (Action::TrackerList, Some(common)) => list_request_fields(&mut body, &common),
            (Action::TrackerLeave, Some(_)) => {
                body.add(&hf::PPTV_TRACKER_PEER_GUID, field::leave_request::PEER_GUID, guid)
            }
            (Action::TrackerList, None) => list_response_fields(&mut body, &mut notes),
            (Action::TrackerReport, None) => report_response_fields(&mut body),
            _ => {
                body.raw(&mut notes, &format!("{} body not publicly described", action.name()));
                true
            }
        };
        let end = body.end;
        if !complete {
            notes.push(Note::new(&ei::TRUNCATED_RECORD, end, len - end, format!("{} ends early", action.name())));
        } else if end < len {
            notes.push(Note::new(
                &ei::TRAILING_BYTES,
                end,
                len - end,
                format!("{} bytes after the last field", len - end),
            ));
        }
        Tree {
            generation: Generation::Pptv2010,
            message: MessageKind::PptvTracker,
            fields: vec![Field::subtree(&hf::PPTV, 0, len, c)],
            notes,
        }
    }

    /// Is-request, then the request's or the response's prefix.
    fn prefix_fields(&self, c: &mut Vec<Field>) {
        c.push(Field::new(&hf::PPTV_TRACKER_IS_REQUEST, field::IS_REQUEST, 1, Value::Bool(self.is_request())));
        if let Some(rc) = self.request_common() {
            c.push(Field::at(&hf::PPTV_TRACKER_PEER_VERSION, 0, field::PEER_VERSION, Value::U16(rc.peer_version)));
            c.push(Field::at(&hf::PPTV_TRACKER_SOURCE, 0, field::SOURCE, Value::U8(rc.source)));
            c.push(Field::at(&hf::PPTV_TRACKER_RESERVED, 0, field::RESERVED, Value::U8(rc.reserved)));
        }
        if let Some(e) = self.error_code() {
            c.push(Field::at(&hf::PPTV_TRACKER_ERROR_CODE, 0, field::ERROR_CODE, Value::U8(e)));
        }
    }
}

/// The fixed fields of a body, added laxly: each while the payload holds it.
struct LaxBody<'a, 'f> {
    buf: &'a [u8],
    base: usize,
    fields: &'f mut Vec<Field>,
    /// The end of the last field added.
    end: usize,
}

impl LaxBody<'_, '_> {
    /// Adds the field at `range` of the body, its value read from exactly its
    /// bytes; false if the payload ends first.
    fn add(&mut self, def: &'static FieldDef, range: Range<usize>, value: fn(&[u8]) -> Value) -> bool {
        let (start, end) = (self.base + range.start, self.base + range.end);
        let Some(bytes) = self.buf.get(start..end) else { return false };
        self.fields.push(Field::new(def, start, range.len(), value(bytes)));
        self.end = self.end.max(end);
        true
    }

    /// The whole body raw, with a note saying why.
    fn raw(&mut self, notes: &mut Vec<Note>, why: &str) {
        let len = self.buf.len();
        if self.base < len {
            let rest = &self.buf[self.base..];
            self.fields.push(Field::new(&hf::PPTV_BODY, self.base, rest.len(), Value::Bytes(rest.to_vec())));
            notes.push(Note::new(&ei::UNDECODED, self.base, rest.len(), why));
        }
        self.end = len;
    }
}

fn guid(b: &[u8]) -> Value {
    Value::Guid(guid_at(b, 0))
}
fn u16_le(b: &[u8]) -> Value {
    Value::U16(le16(b, 0))
}

fn list_request_fields(body: &mut LaxBody<'_, '_>, common: &RequestCommon) -> bool {
    use field::list_request::*;
    let ok = body.add(&hf::PPTV_TRACKER_RESOURCE_ID, RESOURCE_ID, guid)
        && body.add(&hf::PPTV_TRACKER_PEER_GUID, PEER_GUID, guid)
        && body.add(&hf::PPTV_TRACKER_REQUESTED_COUNT, REQUESTED_COUNT, u16_le);
    if ok && common.peer_version >= NAT_TYPE_SINCE_VERSION {
        return body.add(&hf::PPTV_TRACKER_NAT_TYPE, NAT_TYPE, |b| Value::U8(b[0]));
    }
    ok
}

/// Resource id, count, the whole entries present; notes for a count that
/// disagrees and an entry cut short.
fn list_response_fields(body: &mut LaxBody<'_, '_>, notes: &mut Vec<Note>) -> bool {
    use field::list_response::*;
    if !(body.add(&hf::PPTV_TRACKER_RESOURCE_ID, RESOURCE_ID, guid) && body.add(&hf::PPTV_TRACKER_COUNT, COUNT, u16_le))
    {
        return false;
    }
    let b = body.base;
    let claimed = usize::from(le16(body.buf, b + COUNT.start));
    let entries = PeerEntries::new(&body.buf[b + PEERS..]);
    let present = entries.len();
    let rest = entries.remainder().len();
    for (i, e) in entries.enumerate() {
        body.fields.push(e.to_field(b + PEERS + i * PeerEntry::LEN, notes));
    }
    if claimed != present {
        notes.push(Note::new(
            &ei::COUNT_MISMATCH,
            b + COUNT.start,
            COUNT.len(),
            format!("claimed {claimed} peers, found {present}"),
        ));
    }
    let len = body.buf.len();
    if rest > 0 {
        notes.push(Note::new(
            &ei::TRUNCATED_RECORD,
            len - rest,
            rest,
            format!("peer entry cut short: {rest} of {} bytes", PeerEntry::LEN),
        ));
    }
    body.end = len;
    true
}

fn report_response_fields(body: &mut LaxBody<'_, '_>) -> bool {
    use field::report_response::*;
    body.add(&hf::PPTV_TRACKER_KEEPALIVE, KEEPALIVE, u16_le)
        && body.add(&hf::PPTV_TRACKER_DETECTED_IP, DETECTED_IP, |b| Value::Ipv4(ipv4_le(b, 0)))
        && body.add(&hf::PPTV_TRACKER_DETECTED_PORT, DETECTED_PORT, u16_le)
        && body.add(&hf::PPTV_TRACKER_RESOURCE_COUNT, RESOURCE_COUNT, u16_le)
}

impl TrackerRepr {
    pub fn parse(p: &TrackerPacket<'_>) -> Result<TrackerRepr> {
        Ok(TrackerRepr {
            checksum: p.header.checksum(),
            transaction_id: p.header.transaction_id(),
            message: p.message()?,
        })
    }

    pub fn action(&self) -> Action {
        match &self.message {
            TrackerMessage::ListRequest { .. } | TrackerMessage::ListResponse { .. } => Action::TrackerList,
            TrackerMessage::LeaveRequest { .. } => Action::TrackerLeave,
            TrackerMessage::ReportRequest { .. } | TrackerMessage::ReportResponse { .. } => Action::TrackerReport,
            TrackerMessage::OtherResponse { action, .. } => *action,
        }
    }

    /// Fails where a value cannot be written as parsed back: more than
    /// 65535 peers, a NAT type that disagrees with the peer version, an
    /// `OtherResponse` that a strict parse would read as another message.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<()> {
        let bad = |field: &'static str, reason: &str| Error::Invalid {
            message: MESSAGE,
            field,
            offset: 0,
            reason: reason.into(),
        };
        let req = |out: &mut Vec<u8>, c: &RequestCommon| {
            out.push(1);
            out.extend_from_slice(&c.peer_version.to_le_bytes());
            out.extend_from_slice(&[c.source, c.reserved]);
        };
        let mut body = Vec::new();
        match &self.message {
            TrackerMessage::ListRequest { common, resource_id, peer_guid, requested_count, nat_type } => {
                if nat_type.is_some() != (common.peer_version >= NAT_TYPE_SINCE_VERSION) {
                    return Err(bad("nat type", "present exactly when peer version >= 0x010C"));
                }
                req(&mut body, common);
                body.extend_from_slice(&resource_id.to_wire());
                body.extend_from_slice(&peer_guid.to_wire());
                body.extend_from_slice(&requested_count.to_le_bytes());
                body.extend(nat_type);
            }
            TrackerMessage::ListResponse { error_code, resource_id, peers } => {
                let n = u16::try_from(peers.len()).map_err(|_| bad("count", "more than 65535 peers"))?;
                body.extend_from_slice(&[0, *error_code]);
                body.extend_from_slice(&resource_id.to_wire());
                body.extend_from_slice(&n.to_le_bytes());
                peers.iter().for_each(|p| p.emit(&mut body));
            }
            TrackerMessage::LeaveRequest { common, peer_guid } => {
                req(&mut body, common);
                body.extend_from_slice(&peer_guid.to_wire());
            }
            TrackerMessage::ReportRequest { common, body: raw } => {
                req(&mut body, common);
                body.extend_from_slice(raw);
            }
            TrackerMessage::ReportResponse {
                error_code,
                keepalive_interval,
                detected_ip,
                detected_port,
                resource_count,
            } => {
                body.extend_from_slice(&[0, *error_code]);
                body.extend_from_slice(&keepalive_interval.to_le_bytes());
                put_ipv4_le(&mut body, *detected_ip);
                body.extend_from_slice(&detected_port.to_le_bytes());
                body.extend_from_slice(&resource_count.to_le_bytes());
            }
            TrackerMessage::OtherResponse { action, error_code, body: raw } => {
                let decodable = matches!(action, Action::TrackerList | Action::TrackerReport);
                if !action.is_tracker() || (decodable && !(raw.is_empty() && *error_code != 0)) {
                    return Err(bad("action", "OtherResponse would be read back as another message"));
                }
                body.extend_from_slice(&[0, *error_code]);
                body.extend_from_slice(raw);
            }
        }
        emit_header(out, self.checksum, self.action(), self.transaction_id);
        out.extend_from_slice(&body);
        Ok(())
    }
}

pub fn parse(buf: &[u8]) -> Result<TrackerRepr> {
    TrackerRepr::parse(&TrackerPacket::new_checked(buf)?)
}

#[cfg(test)]
mod tests;
