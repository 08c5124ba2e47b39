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

use std::net::Ipv4Addr;

use crate::ei;
use crate::error::{Error, Result};
use crate::guid::Guid;
use crate::hf;
use crate::tree::{Field, MessageKind, Note, Tree, Value};
use crate::v2010::header::{emit_header, Action, PptvHeader};
use crate::v2010::peer_entry::{PeerEntries, PeerEntry, PeerEntryRepr};
use crate::v2010::{guid_at, ipv4_le, put_ipv4_le};
use crate::wire::{le16, Reader};
use crate::Generation;

const MESSAGE: &str = "2010 tracker packet";
/// First peer version whose List request carries a NAT type.
pub const NAT_TYPE_SINCE_VERSION: u16 = 0x010C;

mod field {
    pub const IS_REQUEST: usize = 9;
    pub const PEER_VERSION: usize = 10;
    pub const SOURCE: usize = 12;
    pub const RESERVED: usize = 13;
    pub const REQUEST_BODY: usize = 14;
    pub const ERROR_CODE: usize = 10;
    pub const RESPONSE_BODY: usize = 11;
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
                offset: 4,
                reason: format!("0x{:02x} is not a tracker action", u8::from(header.action())),
            });
        }
        let r = Reader::new(buf, MESSAGE);
        match r.u8("is request", field::IS_REQUEST)? {
            1 => {
                r.bytes("reserved", field::RESERVED, 1)?;
            }
            0 => {
                r.u8("error code", field::ERROR_CODE)?;
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
            peer_version: le16(self.buf, field::PEER_VERSION),
            source: self.buf[field::SOURCE],
            reserved: self.buf[field::RESERVED],
        })
    }
    /// Error code, `None` for a request.
    pub fn error_code(&self) -> Option<u8> {
        (!self.is_request()).then(|| self.buf[field::ERROR_CODE])
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

    /// For a List response: resource id, claimed count and the whole entries
    /// present (allocation-free).
    pub fn list_response(&self) -> Result<(Guid, u16, PeerEntries<'a>)> {
        let b = self.body_offset();
        let r = Reader::new(self.buf, MESSAGE);
        r.bytes("resource id", b, 16)?;
        let count = r.u16_le("count", b + 16)?;
        Ok((guid_at(self.buf, b), count, PeerEntries::new(&self.buf[b + 18..])))
    }

    /// True if the body has a publicly described layout and fits it exactly
    /// (what [`Self::message`] would accept, minus the raw-bodied Report
    /// request and Leave response). Does not allocate.
    pub fn fits_described_layout(&self) -> bool {
        let (b, len) = (self.body_offset(), self.buf.len());
        match (self.header.action(), self.request_common(), self.error_code()) {
            (Action::TrackerList, Some(c), _) => len == b + 34 + usize::from(c.peer_version >= NAT_TYPE_SINCE_VERSION),
            (Action::TrackerLeave, Some(_), _) => len == b + 16,
            (_, Some(_), _) => false,
            (_, None, Some(e)) if e != 0 && len == b => true,
            (Action::TrackerList, None, _) => {
                len >= b + 18 && len - (b + 18) == PeerEntry::LEN * usize::from(le16(self.buf, b + 16))
            }
            (Action::TrackerReport, None, _) => len == b + 10,
            _ => false,
        }
    }

    /// Strict decoding of the body.
    pub fn message(&self) -> Result<TrackerMessage> {
        let r = Reader::new(self.buf, MESSAGE);
        let b = self.body_offset();
        let action = self.header.action();
        let m = match (action, self.request_common(), self.error_code()) {
            (Action::TrackerList, Some(common), _) => {
                r.bytes("resource id", b, 16)?;
                r.bytes("peer guid", b + 16, 16)?;
                let requested_count = r.u16_le("requested count", b + 32)?;
                let nat_type =
                    if common.peer_version >= NAT_TYPE_SINCE_VERSION { Some(r.u8("nat type", b + 34)?) } else { None };
                r.expect_end(b + 34 + nat_type.map_or(0, |_| 1))?;
                TrackerMessage::ListRequest {
                    common,
                    resource_id: guid_at(self.buf, b),
                    peer_guid: guid_at(self.buf, b + 16),
                    requested_count,
                    nat_type,
                }
            }
            (Action::TrackerLeave, Some(common), _) => {
                r.bytes("peer guid", b, 16)?;
                r.expect_end(b + 16)?;
                TrackerMessage::LeaveRequest { common, peer_guid: guid_at(self.buf, b) }
            }
            (Action::TrackerReport, Some(common), _) => {
                TrackerMessage::ReportRequest { common, body: self.body().to_vec() }
            }
            (_, None, Some(error_code)) if error_code != 0 && self.body().is_empty() => {
                TrackerMessage::OtherResponse { action, error_code, body: Vec::new() }
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
                let keepalive_interval = r.u16_le("keep-alive interval", b)?;
                r.bytes("detected ip", b + 2, 4)?;
                let detected_port = r.u16_le("detected port", b + 6)?;
                let resource_count = r.u16_le("resource count", b + 8)?;
                r.expect_end(b + 10)?;
                TrackerMessage::ReportResponse {
                    error_code,
                    keepalive_interval,
                    detected_ip: ipv4_le(self.buf, b + 2),
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
                    offset: 9,
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
        c.push(Field::new(&hf::PPTV_TRACKER_IS_REQUEST, 9, 1, Value::Bool(self.is_request())));
        if let Some(rc) = self.request_common() {
            c.push(Field::new(&hf::PPTV_TRACKER_PEER_VERSION, 10, 2, Value::U16(rc.peer_version)));
            c.push(Field::new(&hf::PPTV_TRACKER_SOURCE, 12, 1, Value::U8(rc.source)));
            c.push(Field::new(&hf::PPTV_TRACKER_RESERVED, 13, 1, Value::U8(rc.reserved)));
        }
        if let Some(e) = self.error_code() {
            c.push(Field::new(&hf::PPTV_TRACKER_ERROR_CODE, 10, 1, Value::U8(e)));
        }
        let b = self.body_offset();
        let len = self.buf.len();
        let mut end = b;
        let mut fixed = |c: &mut Vec<Field>, def, at: usize, n: usize, v: &dyn Fn() -> Value| {
            if at + n <= len {
                c.push(Field::new(def, at, n, v()));
                end = end.max(at + n);
                true
            } else {
                false
            }
        };
        let buf = self.buf;
        let complete = match (self.header.action(), self.is_request()) {
            (Action::TrackerList, true) => {
                let mut ok = fixed(&mut c, &hf::PPTV_TRACKER_RESOURCE_ID, b, 16, &|| Value::Guid(guid_at(buf, b)))
                    && fixed(&mut c, &hf::PPTV_TRACKER_PEER_GUID, b + 16, 16, &|| Value::Guid(guid_at(buf, b + 16)))
                    && fixed(&mut c, &hf::PPTV_TRACKER_REQUESTED_COUNT, b + 32, 2, &|| Value::U16(le16(buf, b + 32)));
                if ok && le16(buf, 10) >= NAT_TYPE_SINCE_VERSION {
                    ok = fixed(&mut c, &hf::PPTV_TRACKER_NAT_TYPE, b + 34, 1, &|| Value::U8(buf[b + 34]));
                }
                ok
            }
            (Action::TrackerLeave, true) => {
                fixed(&mut c, &hf::PPTV_TRACKER_PEER_GUID, b, 16, &|| Value::Guid(guid_at(buf, b)))
            }
            (_, false) if self.error_code() != Some(0) && self.body().is_empty() => true,
            (Action::TrackerList, false) => {
                let ok = fixed(&mut c, &hf::PPTV_TRACKER_RESOURCE_ID, b, 16, &|| Value::Guid(guid_at(buf, b)))
                    && fixed(&mut c, &hf::PPTV_TRACKER_COUNT, b + 16, 2, &|| Value::U16(le16(buf, b + 16)));
                if ok {
                    let claimed = le16(buf, b + 16) as usize;
                    let entries = PeerEntries::new(&buf[b + 18..]);
                    let present = entries.len();
                    let rest = entries.remainder().len();
                    for (i, e) in entries.enumerate() {
                        c.push(e.to_field(b + 18 + i * PeerEntry::LEN, &mut notes));
                    }
                    if claimed != present {
                        notes.push(Note::new(
                            &ei::COUNT_MISMATCH,
                            b + 16,
                            2,
                            format!("claimed {claimed} peers, found {present}"),
                        ));
                    }
                    if rest > 0 {
                        notes.push(Note::new(
                            &ei::TRUNCATED_RECORD,
                            len - rest,
                            rest,
                            format!("peer entry cut short: {rest} of 24 bytes"),
                        ));
                    }
                    end = len;
                }
                ok
            }
            (Action::TrackerReport, false) => {
                fixed(&mut c, &hf::PPTV_TRACKER_KEEPALIVE, b, 2, &|| Value::U16(le16(buf, b)))
                    && fixed(&mut c, &hf::PPTV_TRACKER_DETECTED_IP, b + 2, 4, &|| Value::Ipv4(ipv4_le(buf, b + 2)))
                    && fixed(&mut c, &hf::PPTV_TRACKER_DETECTED_PORT, b + 6, 2, &|| Value::U16(le16(buf, b + 6)))
                    && fixed(&mut c, &hf::PPTV_TRACKER_RESOURCE_COUNT, b + 8, 2, &|| Value::U16(le16(buf, b + 8)))
            }
            _ => {
                if b < len {
                    c.push(Field::new(&hf::PPTV_BODY, b, len - b, Value::Bytes(buf[b..].to_vec())));
                    notes.push(Note::new(
                        &ei::UNDECODED,
                        b,
                        len - b,
                        format!("{} body not publicly described", self.header.action().name()),
                    ));
                }
                end = len;
                true
            }
        };
        if !complete {
            notes.push(Note::new(
                &ei::TRUNCATED_RECORD,
                end,
                len - end,
                format!("{} ends early", self.header.action().name()),
            ));
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
