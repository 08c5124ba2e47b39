//! PPLive control messages seen on the wire, decoded with the dissector library:
//! channels, trackers and peers learned from peer lists ([M] §II-C,E), and how many
//! learned peers became parents or children ([M] saw ~1% and ~2%). Fed by the
//! kernel's control-packet samples live and by every control packet offline.

pub mod capture;
pub mod ledger;
pub mod message;
pub mod tcp;

pub use ledger::{ControlLedger, ControlSummary};
pub use message::{decode, decode_sample, ControlMessage};
