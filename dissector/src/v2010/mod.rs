//! 2010-era PPTV UDP messages (METHODS.md §11). All integers little-endian;
//! IPv4 addresses are host-order integers written little-endian, so their
//! bytes appear reversed on the wire.

pub mod header;
pub mod live;
pub mod peer_entry;
pub mod tracker;

use std::net::Ipv4Addr;

use crate::guid::Guid;
use crate::wire::le32;

/// A GUID at `at`; the caller has checked the length.
pub(crate) fn guid_at(b: &[u8], at: usize) -> Guid {
    let mut g = [0u8; 16];
    g.copy_from_slice(&b[at..at + 16]);
    Guid(g)
}

/// An address stored as a little-endian host-order integer.
pub(crate) fn ipv4_le(b: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::from(le32(b, at))
}

pub(crate) fn put_ipv4_le(out: &mut Vec<u8>, ip: Ipv4Addr) {
    out.extend_from_slice(&u32::from(ip).to_le_bytes());
}
