//! 2005-era PPLive messages, as decoded by \[M\] §II-C,E (METHODS.md §8).

pub mod channel_list;
pub mod gossip;
pub mod host_record;
pub mod http;
pub mod play_link;
pub mod tracker_reply;
mod xml_text;

use crate::ei;
use crate::error::{Error, Result};
use crate::tree::{Field, Note};
use host_record::{HostRecord, HostRecordRepr, HostRecords};

/// True if a peer list of `len` bytes is exactly its fixed part (`hosts_at` bytes)
/// plus `claimed` host records: the test that recognises one without a hint.
pub(crate) fn holds_exactly(len: usize, hosts_at: usize, claimed: usize) -> bool {
    claimed.checked_mul(HostRecord::LEN).and_then(|b| b.checked_add(hosts_at)) == Some(len)
}

/// The host records of a peer list, strictly: the count must match the records
/// and nothing may follow them.
pub(crate) fn strict_hosts(
    message: &'static str,
    hosts: HostRecords<'_>,
    claimed: usize,
) -> Result<Vec<HostRecordRepr>> {
    let present = hosts.len();
    if claimed != present || !hosts.remainder().is_empty() {
        return Err(Error::CountMismatch { message, field: "count", claimed, present });
    }
    Ok(hosts.map(|h| HostRecordRepr::parse(&h)).collect())
}

/// Appends the host subtrees of `records` (starting at `base` in the
/// payload) and the notes a peer list deserves: claimed ≠ present, a record
/// cut short, private addresses.
pub(crate) fn host_list_fields(
    records: &[u8],
    base: usize,
    claimed: usize,
    count_span: core::ops::Range<usize>,
    children: &mut Vec<Field>,
    notes: &mut Vec<Note>,
) {
    let hosts = HostRecords::new(records);
    let present = hosts.len();
    let rest = hosts.remainder();
    for (i, h) in hosts.enumerate() {
        children.push(h.to_field(base + i * HostRecord::LEN, notes));
    }
    if claimed != present {
        notes.push(Note::new(
            &ei::COUNT_MISMATCH,
            count_span.start,
            count_span.len(),
            format!("claimed {claimed} hosts, found {present}"),
        ));
    }
    if !rest.is_empty() {
        notes.push(Note::new(
            &ei::TRUNCATED_RECORD,
            base + present * HostRecord::LEN,
            rest.len(),
            format!("host record cut short: {} of {} bytes", rest.len(), HostRecord::LEN),
        ));
    }
}
