//! The Wireshark-style output model: a tree of typed fields with byte spans,
//! plus expert notes. Every field and note points at its registered definition
//! in [`crate::hf`] / [`crate::ei`], so a Wireshark plugin can register `hf` and
//! `ei` entries from those lists and map a [`Tree`] onto `proto_tree_add_*`.

use core::fmt;
use std::net::Ipv4Addr;

use crate::guid::Guid;
use crate::Generation;

/// The type of a field's value (the `FT_*` of a Wireshark `hf` entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// A subtree label with no value of its own (`FT_NONE`).
    None,
    Bool,
    U8,
    U16,
    U32,
    Ipv4,
    Guid,
    Bytes,
    Str,
}

/// How an integer is best shown (`BASE_DEC` / `BASE_HEX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Base {
    None,
    Dec,
    Hex,
}

/// A registered field: filter name, human label, value type.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FieldDef {
    /// Dotted display-filter name, e.g. `pplive.host.ip`.
    pub name: &'static str,
    pub label: &'static str,
    pub kind: ValueKind,
    pub base: Base,
    /// Names for integer values (a Wireshark `value_string`); empty if none.
    pub vals: &'static [(u32, &'static str)],
}

impl FieldDef {
    /// The name of an integer value, if registered.
    pub fn value_name(&self, v: &Value) -> Option<&'static str> {
        let n = match *v {
            Value::U8(n) => u32::from(n),
            Value::U16(n) => u32::from(n),
            Value::U32(n) => n,
            _ => return None,
        };
        self.vals.iter().find(|(k, _)| *k == n).map(|(_, name)| *name)
    }
}

/// A decoded value. Owned, since trees are for display, not the fast path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    None,
    Bool(bool),
    U8(u8),
    U16(u16),
    U32(u32),
    Ipv4(Ipv4Addr),
    Guid(Guid),
    Bytes(Vec<u8>),
    Str(String),
}

impl Value {
    pub fn kind(&self) -> ValueKind {
        match self {
            Value::None => ValueKind::None,
            Value::Bool(_) => ValueKind::Bool,
            Value::U8(_) => ValueKind::U8,
            Value::U16(_) => ValueKind::U16,
            Value::U32(_) => ValueKind::U32,
            Value::Ipv4(_) => ValueKind::Ipv4,
            Value::Guid(_) => ValueKind::Guid,
            Value::Bytes(_) => ValueKind::Bytes,
            Value::Str(_) => ValueKind::Str,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::U8(v) => write!(f, "{v}"),
            Value::U16(v) => write!(f, "{v}"),
            Value::U32(v) => write!(f, "{v}"),
            Value::Ipv4(a) => write!(f, "{a}"),
            Value::Guid(g) => write!(f, "{g}"),
            Value::Bytes(b) => {
                for (i, byte) in b.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{byte:02x}")?;
                }
                Ok(())
            }
            Value::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// One node of the tree. `offset`/`len` are relative to the payload given to
/// [`crate::dissect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub def: &'static FieldDef,
    pub offset: usize,
    pub len: usize,
    pub value: Value,
    pub children: Vec<Field>,
}

impl Field {
    pub fn new(def: &'static FieldDef, offset: usize, len: usize, value: Value) -> Field {
        debug_assert_eq!(def.kind, value.kind(), "field {} registered with another type", def.name);
        Field { def, offset, len, value, children: Vec::new() }
    }

    /// A field over `range` of a structure that starts at `base` in the
    /// payload: layouts name their fields' ranges once, in their `mod field`.
    pub fn at(def: &'static FieldDef, base: usize, range: core::ops::Range<usize>, value: Value) -> Field {
        Field::new(def, base + range.start, range.len(), value)
    }

    /// A subtree node with no value.
    pub fn subtree(def: &'static FieldDef, offset: usize, len: usize, children: Vec<Field>) -> Field {
        Field { def, offset, len, value: Value::None, children }
    }

    /// Moves this field and all below it by `by` bytes (for embedded messages).
    pub fn shift(&mut self, by: usize) {
        self.offset += by;
        self.children.iter_mut().for_each(|c| c.shift(by));
    }

    /// Depth-first iterator over this field and all below it.
    pub fn walk(&self) -> impl Iterator<Item = &Field> {
        let mut stack = vec![self];
        core::iter::from_fn(move || {
            let f = stack.pop()?;
            stack.extend(f.children.iter().rev());
            Some(f)
        })
    }
}

/// Expert-info severity, as Wireshark's `PI_CHAT` .. `PI_ERROR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Chat,
    Note,
    Warn,
    Error,
}

/// A registered kind of expert note.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NoteDef {
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
}

/// One expert note attached to a span of the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub def: &'static NoteDef,
    pub text: String,
    pub offset: usize,
    pub len: usize,
}

impl Note {
    pub fn new(def: &'static NoteDef, offset: usize, len: usize, text: impl Into<String>) -> Note {
        Note { def, text: text.into(), offset, len }
    }
}

/// Which message a payload was decoded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    TrackerReply,
    Gossip,
    ChannelList,
    PlayLink,
    HttpRequest,
    HttpResponse,
    PptvTracker,
    PptvLive,
    PptvVod,
    /// A 2010-era header whose action this crate does not decode further.
    PptvOther,
}

/// The result of [`crate::dissect`]: what was decoded, the fields, the notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    /// The generation the payload was decoded as (bootstrap HTTP and the
    /// channel list are 2005-era).
    pub generation: Generation,
    pub message: MessageKind,
    pub fields: Vec<Field>,
    pub notes: Vec<Note>,
}

impl Tree {
    /// All fields, depth first.
    pub fn walk(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().flat_map(Field::walk)
    }

    /// The first field with this filter name.
    pub fn find(&self, name: &str) -> Option<&Field> {
        self.walk().find(|f| f.def.name == name)
    }

    /// Every field with this filter name, in payload order.
    pub fn find_all<'t>(&'t self, name: &'t str) -> impl Iterator<Item = &'t Field> + 't {
        self.walk().filter(move |f| f.def.name == name)
    }

    /// Notes of this kind.
    pub fn notes_named<'t>(&'t self, name: &'t str) -> impl Iterator<Item = &'t Note> + 't {
        self.notes.iter().filter(move |n| n.def.name == name)
    }
}

impl fmt::Display for Tree {
    /// An indented text rendering, like `tshark -V`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn field(f: &mut fmt::Formatter<'_>, x: &Field, depth: usize) -> fmt::Result {
            let pad = "    ".repeat(depth);
            match &x.value {
                Value::None => write!(f, "{pad}{} [{}+{}]", x.def.label, x.offset, x.len)?,
                Value::U8(v) if x.def.base == Base::Hex => write!(f, "{pad}{}: 0x{v:02x}", x.def.label)?,
                Value::U16(v) if x.def.base == Base::Hex => write!(f, "{pad}{}: 0x{v:04x}", x.def.label)?,
                Value::U32(v) if x.def.base == Base::Hex => write!(f, "{pad}{}: 0x{v:08x}", x.def.label)?,
                v => write!(f, "{pad}{}: {v}", x.def.label)?,
            }
            match x.def.value_name(&x.value) {
                Some(name) => writeln!(f, " ({name})")?,
                None => writeln!(f)?,
            }
            x.children.iter().try_for_each(|c| field(f, c, depth + 1))
        }
        writeln!(f, "{:?} ({})", self.message, self.generation)?;
        self.fields.iter().try_for_each(|x| field(f, x, 1))?;
        for n in &self.notes {
            writeln!(f, "    [{:?}] {} [{}+{}]", n.def.severity, n.text, n.offset, n.len)?;
        }
        Ok(())
    }
}
