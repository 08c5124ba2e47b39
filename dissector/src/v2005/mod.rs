//! 2005-era PPLive messages, as decoded by \[M\] §II-C,E (METHODS.md §8).

pub mod channel_list;
pub mod gossip;
pub mod host_record;
pub mod http;
pub mod play_link;
pub mod tracker_reply;
mod xml_text;

use crate::ei;
use crate::tree::{Field, Note};
use host_record::HostRecords;

/// Appends the host subtrees of `records` (starting at `base` in the
/// payload) and the notes a peer list deserves: claimed ≠ present, a record
/// cut short, private addresses.
pub(crate) fn host_list_fields(
    records: &[u8],
    base: usize,
    claimed: usize,
    count_span: (usize, usize),
    children: &mut Vec<Field>,
    notes: &mut Vec<Note>,
) {
    let hosts = HostRecords::new(records);
    let present = hosts.len();
    let rest = hosts.remainder();
    for (i, h) in hosts.enumerate() {
        children.push(h.to_field(base + i * host_record::HostRecord::LEN, notes));
    }
    if claimed != present {
        notes.push(Note::new(
            &ei::COUNT_MISMATCH,
            count_span.0,
            count_span.1,
            format!("claimed {claimed} hosts, found {present}"),
        ));
    }
    if !rest.is_empty() {
        notes.push(Note::new(
            &ei::TRUNCATED_RECORD,
            base + present * host_record::HostRecord::LEN,
            rest.len(),
            format!("host record cut short: {} of 18 bytes", rest.len()),
        ));
    }
}
