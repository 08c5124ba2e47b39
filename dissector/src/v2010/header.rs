//! The common header of every 2010-era PPTV UDP packet:
//!
//! ```text
//! 0          4        5                 9
//! | checksum | action | transaction id  | …
//! ```
//! The checksum covers the rest of the datagram; its algorithm is not
//! publicly confirmed, so it is shown and never verified.

use crate::error::Result;
use crate::hf;
use crate::tree::{Field, Value};
use crate::wire::{le32, Reader};

mod field {
    use core::ops::Range;
    pub const CHECKSUM: Range<usize> = 0..4;
    pub const ACTION: Range<usize> = 4..5;
    pub const TRANSACTION_ID: Range<usize> = 5..9;
    pub const PAYLOAD: usize = TRANSACTION_ID.end;
}

/// The action byte, with the ranges this crate knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// 0x31: peer list for a resource.
    TrackerList,
    /// 0x34: the peer leaves.
    TrackerLeave,
    /// 0x35: report / keep-alive.
    TrackerReport,
    /// 0xC0
    LiveRequestAnnounce,
    /// 0xC1
    LiveAnnounce,
    /// 0xC2
    LiveRequestSubPiece,
    /// 0xC3
    LiveSubPiece,
    /// 0xC4–0xCF: other live peer actions, body not decoded.
    LiveOther(u8),
    /// 0x50–0x5F: VOD peer actions, header decoded, body not.
    Vod(u8),
    Unknown(u8),
}

impl From<u8> for Action {
    fn from(v: u8) -> Action {
        match v {
            0x31 => Action::TrackerList,
            0x34 => Action::TrackerLeave,
            0x35 => Action::TrackerReport,
            0xC0 => Action::LiveRequestAnnounce,
            0xC1 => Action::LiveAnnounce,
            0xC2 => Action::LiveRequestSubPiece,
            0xC3 => Action::LiveSubPiece,
            0xC4..=0xCF => Action::LiveOther(v),
            0x50..=0x5F => Action::Vod(v),
            _ => Action::Unknown(v),
        }
    }
}

impl From<Action> for u8 {
    fn from(a: Action) -> u8 {
        match a {
            Action::TrackerList => 0x31,
            Action::TrackerLeave => 0x34,
            Action::TrackerReport => 0x35,
            Action::LiveRequestAnnounce => 0xC0,
            Action::LiveAnnounce => 0xC1,
            Action::LiveRequestSubPiece => 0xC2,
            Action::LiveSubPiece => 0xC3,
            Action::LiveOther(v) | Action::Vod(v) | Action::Unknown(v) => v,
        }
    }
}

impl Action {
    pub fn is_tracker(self) -> bool {
        matches!(self, Action::TrackerList | Action::TrackerLeave | Action::TrackerReport)
    }
    pub fn is_live(self) -> bool {
        matches!(
            self,
            Action::LiveRequestAnnounce
                | Action::LiveAnnounce
                | Action::LiveRequestSubPiece
                | Action::LiveSubPiece
                | Action::LiveOther(_)
        )
    }
    pub fn is_vod(self) -> bool {
        matches!(self, Action::Vod(_))
    }
    pub fn name(self) -> &'static str {
        match self {
            Action::TrackerList => "tracker List",
            Action::TrackerLeave => "tracker Leave",
            Action::TrackerReport => "tracker Report/KeepAlive",
            Action::LiveRequestAnnounce => "live request-announce",
            Action::LiveAnnounce => "live announce",
            Action::LiveRequestSubPiece => "live request sub-piece",
            Action::LiveSubPiece => "live sub-piece",
            Action::LiveOther(_) => "live (other)",
            Action::Vod(_) => "VOD",
            Action::Unknown(_) => "unknown",
        }
    }
}

/// A read-only view of the common header.
#[derive(Debug, Clone, Copy)]
pub struct PptvHeader<'a> {
    buf: &'a [u8],
}

impl<'a> PptvHeader<'a> {
    pub const LEN: usize = field::PAYLOAD;

    pub fn new_checked(buf: &'a [u8]) -> Result<Self> {
        Reader::new(buf, "2010 PPTV header").bytes(
            "transaction id",
            field::TRANSACTION_ID.start,
            field::TRANSACTION_ID.len(),
        )?;
        Ok(PptvHeader { buf })
    }
    pub fn checksum(&self) -> u32 {
        le32(self.buf, field::CHECKSUM.start)
    }
    pub fn action(&self) -> Action {
        Action::from(self.buf[field::ACTION.start])
    }
    pub fn transaction_id(&self) -> u32 {
        le32(self.buf, field::TRANSACTION_ID.start)
    }
    /// Everything after the transaction id.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[field::PAYLOAD..]
    }

    /// Where the action byte is, for notes about it.
    pub const ACTION: core::ops::Range<usize> = field::ACTION;

    pub fn to_fields(&self) -> Vec<Field> {
        vec![
            Field::at(&hf::PPTV_CHECKSUM, 0, field::CHECKSUM, Value::U32(self.checksum())),
            Field::at(&hf::PPTV_ACTION, 0, field::ACTION, Value::U8(self.action().into())),
            Field::at(&hf::PPTV_TRANSACTION_ID, 0, field::TRANSACTION_ID, Value::U32(self.transaction_id())),
        ]
    }
}

/// Appends the 9 header bytes.
pub fn emit_header(out: &mut Vec<u8>, checksum: u32, action: Action, transaction_id: u32) {
    out.extend_from_slice(&checksum.to_le_bytes());
    out.push(action.into());
    out.extend_from_slice(&transaction_id.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn test_parse() {
        let b = [0x78, 0x56, 0x34, 0x12, 0x31, 0x01, 0, 0, 0, 0xaa];
        let h = PptvHeader::new_checked(&b).unwrap();
        assert_eq!((h.checksum(), h.action(), h.transaction_id()), (0x1234_5678, Action::TrackerList, 1));
        assert_eq!(h.payload(), &[0xaa]);
    }

    #[test]
    fn test_emit() {
        let mut out = Vec::new();
        emit_header(&mut out, 0x1234_5678, Action::LiveSubPiece, 7);
        assert_eq!(out, [0x78, 0x56, 0x34, 0x12, 0xc3, 7, 0, 0, 0]);
    }

    #[test]
    fn test_impossible_len() {
        assert!(matches!(
            PptvHeader::new_checked(&[0; 8]),
            Err(Error::Truncated { field: "transaction id", offset: 5, expected: 4, actual: 3, .. })
        ));
    }

    #[test]
    fn test_action_round_trip() {
        for v in 0..=255u8 {
            assert_eq!(u8::from(Action::from(v)), v);
        }
    }
}
