//! Phase one of a packet: decode it and flatten the tree into `Copy` records
//! plus a byte arena. Plain Rust only: nothing here calls into epan, so
//! owned values may be dropped freely.

use peerscope_dissector::filter::protocol_of;
use peerscope_dissector::{ei, hf, Field, Note, NoteDef, Tree, Value, ValueKind};

use crate::info;

/// Subtrees deeper than this are attached to the deepest one (the library's
/// trees are three levels deep).
pub const MAX_DEPTH: usize = 16;

/// Marks "no text" in [`Op::Field::text`].
pub const NO_TEXT: u32 = u32::MAX;

/// The protocol a packet is shown under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    Pplive,
    Pptv,
    Sopcast,
    Ppstream,
}

impl Root {
    pub const ALL: [Root; 4] = [Root::Pplive, Root::Pptv, Root::Sopcast, Root::Ppstream];

    pub fn filter_name(self) -> &'static str {
        match self {
            Root::Pplive => "pplive",
            Root::Pptv => "pptv",
            Root::Sopcast => "sopcast",
            Root::Ppstream => "ppstream",
        }
    }

    /// The Protocol column.
    pub fn column(self) -> &'static core::ffi::CStr {
        match self {
            Root::Pplive => c"PPLive",
            Root::Pptv => c"PPTV",
            Root::Sopcast => c"SOPCast",
            Root::Ppstream => c"PPStream",
        }
    }

    /// The protocol a tree is shown under (the library's, as its filters use).
    fn of(tree: &Tree) -> Root {
        match protocol_of(tree) {
            "pptv" => Root::Pptv,
            "sopcast" => Root::Sopcast,
            "ppstream" => Root::Ppstream,
            _ => Root::Pplive,
        }
    }
}

/// A field value; text and bytes live in the arena at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Val {
    None,
    Bool(bool),
    Uint(u32),
    Ipv4([u8; 4]),
    Guid([u8; 16]),
    Bytes {
        at: u32,
        len: u32,
    },
    /// NUL-terminated.
    Str {
        at: u32,
    },
}

/// One thing to add to the protocol tree, in depth-first order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `field` indexes `hf::ALL`; `depth` 0 is directly under the protocol item.
    Field { field: u16, depth: u8, offset: u32, len: u32, val: Val, text: u32 },
    /// `note` indexes `ei::ALL`; `text` is NUL-terminated in the arena.
    /// An `anchored` note follows the field it belongs to and marks that
    /// item; otherwise it is an item of its own under the protocol.
    Note { note: u16, offset: u32, len: u32, text: u32, anchored: bool },
}

/// Everything needed to show one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub root: Root,
    pub ops: Vec<Op>,
    pub arena: Vec<u8>,
    /// Info column text (NUL-terminated, in the arena).
    pub info: u32,
}

struct Builder {
    ops: Vec<Op>,
    notes: Vec<Op>,
    arena: Vec<u8>,
    payload_len: usize,
}

impl Builder {
    fn new(payload_len: usize) -> Builder {
        Builder { ops: Vec::new(), notes: Vec::new(), arena: Vec::new(), payload_len }
    }

    fn text(&mut self, s: &str) -> u32 {
        let at = self.arena.len() as u32;
        // Epan takes C strings: an interior NUL would cut the text short.
        self.arena.extend(s.bytes().map(|b| if b == 0 { b'?' } else { b }));
        self.arena.push(0);
        at
    }

    fn bytes(&mut self, b: &[u8]) -> Val {
        let at = self.arena.len() as u32;
        self.arena.extend_from_slice(b);
        Val::Bytes { at, len: b.len() as u32 }
    }

    /// Offset and length clamped to the payload, so no epan call can throw.
    fn span(&self, offset: usize, len: usize) -> (u32, u32) {
        let offset = offset.min(self.payload_len);
        (offset as u32, len.min(self.payload_len - offset) as u32)
    }

    fn field(&mut self, f: &Field, depth: usize, ordinal: Option<usize>) {
        let Some(index) = hf::ALL.iter().position(|d| core::ptr::eq(*d, f.def)) else {
            return;
        };
        let val = match &f.value {
            Value::None => Val::None,
            Value::Bool(b) => Val::Bool(*b),
            Value::U8(v) => Val::Uint(u32::from(*v)),
            Value::U16(v) => Val::Uint(u32::from(*v)),
            Value::U32(v) => Val::Uint(*v),
            Value::Ipv4(a) => Val::Ipv4(a.octets()),
            Value::Guid(g) => Val::Guid(g.to_wire()),
            Value::Bytes(b) => self.bytes(b),
            Value::Str(s) => Val::Str { at: self.text(s) },
        };
        let text = match ordinal {
            Some(n) => {
                let summary = record_summary(f);
                self.text(&format!("{} #{n}{summary}", f.def.label))
            }
            None => NO_TEXT,
        };
        let (offset, len) = self.span(f.offset, f.len);
        self.ops.push(Op::Field { field: index as u16, depth: depth.min(MAX_DEPTH - 1) as u8, offset, len, val, text });
        self.children(&f.children, depth + 1);
    }

    /// Adds siblings; repeated records get numbered labels.
    fn children(&mut self, fields: &[Field], depth: usize) {
        let mut seen: Vec<(*const peerscope_dissector::FieldDef, usize)> = Vec::new();
        for f in fields {
            let repeated =
                f.def.kind == ValueKind::None && fields.iter().filter(|g| core::ptr::eq(g.def, f.def)).count() > 1;
            let ordinal = repeated.then(|| match seen.iter_mut().find(|(d, _)| core::ptr::eq(*d, f.def)) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    seen.push((f.def, 1));
                    1
                }
            });
            self.field(f, depth, ordinal);
        }
    }

    fn note(&mut self, def: &'static NoteDef, offset: usize, len: usize, text: &str) {
        let Some(index) = ei::ALL.iter().position(|d| core::ptr::eq(*d, def)) else {
            return;
        };
        let text = self.text(text);
        let (offset, len) = self.span(offset, len);
        self.notes.push(Op::Note { note: index as u16, offset, len, text, anchored: false });
    }

    /// The smallest field holding the span `offset..offset + len` (the
    /// deepest on ties), as Wireshark dissectors attach expert info to the
    /// item concerned.
    fn anchor(&self, offset: u32, len: u32) -> Option<usize> {
        let mut best: Option<(usize, u32)> = None;
        for (i, op) in self.ops.iter().enumerate() {
            if let Op::Field { offset: o, len: l, .. } = *op {
                let holds = l > 0 && o <= offset && offset + len <= o + l;
                if holds && best.is_none_or(|(_, bl)| l <= bl) {
                    best = Some((i, l));
                }
            }
        }
        best.map(|(i, _)| i)
    }

    /// Fields with each anchored note right after its field, then the rest.
    fn merged_ops(&self) -> Vec<Op> {
        let anchors: Vec<Option<usize>> = self
            .notes
            .iter()
            .map(|n| match *n {
                Op::Note { offset, len, .. } => self.anchor(offset, len),
                Op::Field { .. } => None,
            })
            .collect();
        let mut out = Vec::with_capacity(self.ops.len() + self.notes.len());
        for (i, op) in self.ops.iter().enumerate() {
            out.push(*op);
            for (n, a) in self.notes.iter().zip(&anchors) {
                if let (Op::Note { note, offset, len, text, .. }, Some(a)) = (*n, *a) {
                    if a == i {
                        out.push(Op::Note { note, offset, len, text, anchored: true });
                    }
                }
            }
        }
        out.extend(self.notes.iter().zip(&anchors).filter(|(_, a)| a.is_none()).map(|(n, _)| *n));
        out
    }

    fn finish(mut self, root: Root, info: &str) -> Plan {
        let info = self.text(info);
        Plan { root, ops: self.merged_ops(), arena: self.arena, info }
    }
}

/// " (59.64.198.250)": the first address, GUID or text inside a record, so
/// a collapsed list still tells the records apart.
fn record_summary(f: &Field) -> String {
    f.children
        .iter()
        .find(|c| matches!(c.value, Value::Ipv4(_) | Value::Guid(_) | Value::Str(_)))
        .map(|c| format!(" ({})", c.value).replace('"', ""))
        .unwrap_or_default()
}

/// The tree under its protocol item. A top-level field that is the protocol
/// itself (`pptv`) becomes that item, so its children move up a level.
pub fn from_tree(tree: &Tree, payload_len: usize) -> Plan {
    let root = Root::of(tree);
    let mut b = Builder::new(payload_len);
    for f in &tree.fields {
        if f.def.name == root.filter_name() {
            b.children(&f.children, 0);
        } else {
            b.children(core::slice::from_ref(f), 0);
        }
    }
    for Note { def, text, offset, len } in &tree.notes {
        b.note(def, *offset, *len, text);
    }
    b.finish(root, &info::of_tree(tree))
}

#[cfg(test)]
mod tests;
