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
use crate::tree::{Field, MessageKind, Note};
use host_record::{HostRecord, HostRecordRepr, HostRecords};

/// True if a peer list of `len` bytes is exactly its fixed part (`hosts_at` bytes)
/// plus `claimed` host records: the test that recognises one without a hint.
pub(crate) fn holds_exactly(len: usize, hosts_at: usize, claimed: usize) -> bool {
    claimed.checked_mul(HostRecord::LEN).and_then(|b| b.checked_add(hosts_at)) == Some(len)
}

/// The `02 00 00 02` both of \[M\]'s dumps start with.
pub const PREFIX: [u8; 4] = [0x02, 0x00, 0x00, 0x02];

/// The 2005 peer list whose length arithmetic explains a message of
/// `full_len` bytes that starts with `head` (the whole message, or the first
/// bytes of one a capture cut short): it must start with [`PREFIX`], and
/// then either the tracker reply's count says `17 + 18 × count = full_len`
/// or the gossip message's says `41 + 18 × count = full_len`. The two never
/// both hold (17 and 41 differ modulo 18). `None` when neither does, or when
/// `head` is too short to hold the count.
pub fn peer_list_fit(head: &[u8], full_len: usize) -> Option<MessageKind> {
    if !head.starts_with(&PREFIX) {
        return None;
    }
    if tracker_reply::TrackerReply::new_checked(head).is_ok_and(|m| m.explains(full_len)) {
        return Some(MessageKind::TrackerReply);
    }
    if gossip::Gossip::new_checked(head).is_ok_and(|m| m.explains(full_len)) {
        return Some(MessageKind::Gossip);
    }
    None
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
