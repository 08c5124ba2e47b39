//! The length-prefixed TCP message of the DPI rules (METHODS.md §10):
//!
//! ```text
//! 0                 4        6      8             12
//! | length, BE u32  | 21 00  | ?? ?? | 98 ab 01 02 | …
//! ```
//! The length counts the bytes after it. Nothing public describes the body,
//! so it is shown raw.

use crate::ei;
use crate::hf;
use crate::tree::{Field, MessageKind, Note, Tree, Value};
use crate::wire::be32;
use crate::Generation;

mod field {
    use core::ops::Range;
    pub const LENGTH: Range<usize> = 0..4;
    pub const BODY: usize = LENGTH.end;
    /// The marker bytes the rule tests, from the start of the message.
    pub const KIND: Range<usize> = 4..6;
    pub const MAGIC: Range<usize> = 8..12;
}

/// The shortest message the rule can match.
pub const MIN_LEN: usize = field::MAGIC.end;

/// The length of the whole message whose first bytes are `head`, if they
/// carry the markers (`None` before 12 bytes have arrived, or when they do
/// not): what TCP reassembly waits for.
pub fn message_len(head: &[u8]) -> Option<usize> {
    let marked = head.get(field::KIND) == Some(&[0x21, 0x00][..])
        && head.get(field::MAGIC) == Some(&[0x98, 0xab, 0x01, 0x02][..]);
    marked.then(|| field::BODY + be32(head, field::LENGTH.start) as usize)
}

/// True if `p` is exactly one such message.
pub fn fits(p: &[u8]) -> bool {
    message_len(p) == Some(p.len())
}

/// The message as a tree: the length, the body raw.
pub fn to_tree(p: &[u8]) -> Tree {
    let mut fields = Vec::new();
    let mut notes = Vec::new();
    if p.len() >= field::BODY {
        fields.push(Field::at(&hf::TCP_LENGTH, 0, field::LENGTH, Value::U32(be32(p, field::LENGTH.start))));
        let body = &p[field::BODY..];
        fields.push(Field::new(&hf::TCP_BODY, field::BODY, body.len(), Value::Bytes(body.to_vec())));
        notes.push(Note::new(&ei::UNDECODED, field::BODY, body.len(), "TCP message body not publicly described"));
    }
    Tree {
        generation: Some(Generation::Pplive2005),
        message: MessageKind::TcpFrame,
        fields: vec![Field::subtree(&hf::TCP, 0, p.len(), fields)],
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_length_and_fit() {
        let mut m = vec![0, 0, 0, 12, 0x21, 0x00, 5, 6, 0x98, 0xab, 0x01, 0x02, 1, 2, 3, 4];
        assert_eq!(message_len(&m[..12]), Some(16));
        assert!(fits(&m));
        assert_eq!(message_len(&m[..11]), None);
        let t = to_tree(&m);
        assert_eq!(t.find("pplive.tcp.length").unwrap().value, Value::U32(12));
        assert_eq!(t.find("pplive.tcp.body").unwrap().offset, 4);
        m[9] = 0xac;
        assert_eq!(message_len(&m), None);
    }
}
