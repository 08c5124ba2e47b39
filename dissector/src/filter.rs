//! Display filters over a [`Tree`], with Wireshark 4.0's semantics for the
//! part of its language they support:
//!
//! * a field or protocol name alone tests presence (`pplive.gossip`, `pptv`,
//!   an expert note's name such as `peerscope.expert.count_mismatch`);
//! * comparisons `==` `!=` `~=` `<` `<=` `>` `>=` (or `eq` `ne` `any_ne` `lt`
//!   `le` `gt` `ge`) and `contains`; `==` and the order tests hold when any
//!   occurrence of the field does, `!=` when the field is present and none
//!   equals, `~=` when some occurrence differs;
//! * values by the field's type: integers in decimal, `0x` hex or `0` octal
//!   (or a value name, `pptv.action == "Tracker List"`); booleans `0` `1`
//!   `true` `false` in any case; IPv4 addresses, with `/prefix` for `==`;
//!   GUIDs with or without braces; bytes as `02:00:00:02`, `02-00-00-02` or
//!   `02000002`; strings quoted (`"…"`, with `\"`, `\\`, `\xNN` escapes) or
//!   bare, compared case-sensitively;
//! * `&&` `||` `!` (or `and` `or` `not`) and parentheses.
//!
//! An unknown field is an error, as in tshark, and so is a comparison the
//! field's type does not allow (a subtree label compared with `==`).

use core::fmt;
use std::net::Ipv4Addr;

use crate::ei;
use crate::guid::Guid;
use crate::hf;
use crate::tree::{FieldDef, Tree, Value, ValueKind};

/// Why a filter was refused; the message is tshark's where it has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad filter {filter:?}: {reason}")]
pub struct FilterError {
    pub filter: String,
    pub reason: String,
}

/// What a name in a filter refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Name {
    Field(&'static FieldDef),
    /// `pplive` (every 2005 message, and undecided ones) or `pptv`.
    Protocol(&'static str),
    /// An expert note kind: present when the tree has such a note.
    Note(&'static str),
}

impl Name {
    fn lookup(s: &str) -> Option<Name> {
        if let Some(d) = hf::ALL.iter().find(|d| d.name == s) {
            // `pptv` is both the protocol and its top field: the same test.
            return Some(Name::Field(d));
        }
        if let Some(p) = ["pplive", "sopcast", "ppstream"].into_iter().find(|p| *p == s) {
            return Some(Name::Protocol(p));
        }
        ei::ALL.iter().find(|d| d.name == s).map(|d| Name::Note(d.name))
    }

    fn text(&self) -> &'static str {
        match self {
            Name::Field(d) => d.name,
            Name::Protocol(p) | Name::Note(p) => p,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    AnyNe,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::AnyNe => "~=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "contains",
        }
    }
}

/// A value, parsed for the field it is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Literal {
    Uint(u64),
    /// A number the field cannot hold (negative): compares unequal to all.
    OutOfRange,
    Bool(bool),
    Ipv4 {
        addr: Ipv4Addr,
        prefix: u8,
    },
    Guid(Guid),
    Bytes(Vec<u8>),
    /// Compared byte for byte with the field's UTF-8 text.
    Str(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    Present(Name),
    Compare(Name, Op, Literal),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// A parsed display filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    /// A quoted string's bytes: `\xNN` is that byte, other characters their UTF-8.
    Quoted(Vec<u8>),
    Op(Op),
    And,
    Or,
    Not,
    Open,
    Close,
}

fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-' | '/' | '{' | '}')
}

fn unquote(chars: &mut core::iter::Peekable<core::str::Chars<'_>>) -> Result<Vec<u8>, String> {
    let mut s = Vec::new();
    let push = |s: &mut Vec<u8>, c: char| s.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    loop {
        match chars.next() {
            None => return Err("unterminated string".into()),
            Some('"') => return Ok(s),
            Some('\\') => match chars.next() {
                Some('x') => {
                    let hex: String = (0..2).filter_map(|_| chars.next()).collect();
                    let b = u8::from_str_radix(&hex, 16).map_err(|_| format!("bad escape \\x{hex}"))?;
                    s.push(b);
                }
                Some('n') => s.push(b'\n'),
                Some('r') => s.push(b'\r'),
                Some('t') => s.push(b'\t'),
                Some(c @ ('"' | '\\')) => push(&mut s, c),
                Some(c) => return Err(format!("bad escape \\{c}")),
                None => return Err("unterminated string".into()),
            },
            Some(c) => push(&mut s, c),
        }
    }
}

fn tokens(s: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        let two: String = chars.clone().take(2).collect();
        let tok = match (c, two.as_str()) {
            (c, _) if c.is_whitespace() => {
                chars.next();
                continue;
            }
            (_, "&&") => Token::And,
            (_, "||") => Token::Or,
            (_, "==") => Token::Op(Op::Eq),
            (_, "!=") => Token::Op(Op::Ne),
            (_, "~=") => Token::Op(Op::AnyNe),
            (_, "<=") => Token::Op(Op::Le),
            (_, ">=") => Token::Op(Op::Ge),
            ('<', _) => Token::Op(Op::Lt),
            ('>', _) => Token::Op(Op::Gt),
            ('!', _) => Token::Not,
            ('(', _) => Token::Open,
            (')', _) => Token::Close,
            ('"', _) => {
                chars.next();
                out.push(Token::Quoted(unquote(&mut chars)?));
                continue;
            }
            (c, _) if word_char(c) => {
                let mut w = String::new();
                while let Some(&c) = chars.peek().filter(|c| word_char(**c)) {
                    w.push(c);
                    chars.next();
                }
                out.push(match w.as_str() {
                    "and" => Token::And,
                    "or" => Token::Or,
                    "not" => Token::Not,
                    "eq" => Token::Op(Op::Eq),
                    "ne" => Token::Op(Op::Ne),
                    "any_ne" => Token::Op(Op::AnyNe),
                    "lt" => Token::Op(Op::Lt),
                    "le" => Token::Op(Op::Le),
                    "gt" => Token::Op(Op::Gt),
                    "ge" => Token::Op(Op::Ge),
                    "contains" => Token::Op(Op::Contains),
                    _ => Token::Word(w),
                });
                continue;
            }
            (c, _) => return Err(format!("\"{c}\" was unexpected in this context")),
        };
        let n = if matches!(tok, Token::Op(Op::Lt | Op::Gt) | Token::Not | Token::Open | Token::Close) { 1 } else { 2 };
        for _ in 0..n {
            chars.next();
        }
        out.push(tok);
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.at)
    }
    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.not()?;
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            e = Expr::And(Box::new(e), Box::new(self.not()?));
        }
        Ok(e)
    }

    fn not(&mut self) -> Result<Expr, String> {
        if self.peek() == Some(&Token::Not) {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Open) => {
                let e = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(e),
                    _ => Err("missing \")\"".into()),
                }
            }
            Some(Token::Word(w)) => {
                let name = Name::lookup(&w).ok_or_else(|| format!("{w} is neither a field nor a protocol name."))?;
                let Some(Token::Op(op)) = self.peek().cloned() else { return Ok(Expr::Present(name)) };
                self.at += 1;
                let (value, quoted) = match self.next() {
                    Some(Token::Word(v)) => (v.into_bytes(), false),
                    Some(Token::Quoted(v)) => (v, true),
                    _ => return Err(format!("expected a value after {}", op.symbol())),
                };
                Ok(Expr::Compare(name, op, literal(name, op, &value, quoted)?))
            }
            Some(t) => Err(format!("{t:?} was unexpected in this context")),
            None => Err("the filter ends too soon".into()),
        }
    }
}

fn parse_uint(s: &str) -> Option<u64> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

fn parse_bytes(s: &str) -> Option<Vec<u8>> {
    let hex: String = if s.contains([':', '-', '.']) {
        let parts: Vec<&str> = s.split([':', '-', '.']).collect();
        if parts.iter().any(|p| p.len() != 2) {
            return None;
        }
        parts.concat()
    } else {
        s.to_string()
    };
    if hex.is_empty() || !hex.len().is_multiple_of(2) || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok()).collect()
}

fn literal(name: Name, op: Op, raw: &[u8], quoted: bool) -> Result<Literal, String> {
    let lossy = String::from_utf8_lossy(raw);
    let v: &str = &lossy;
    let Name::Field(def) = name else {
        return Err(format!("{} (type=Protocol) cannot participate in {} comparison.", name.text(), op.symbol()));
    };
    let bad = |what: &str| format!("\"{v}\" is not a valid {what}.");
    let kind = def.kind;
    if op == Op::Contains && !matches!(kind, ValueKind::Str | ValueKind::Bytes) {
        return Err(format!("{} (type={kind:?}) cannot participate in 'contains' comparison.", def.name));
    }
    let ordered = matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge);
    match kind {
        ValueKind::None => Err(format!("{} (type=Label) cannot participate in {} comparison.", def.name, op.symbol())),
        ValueKind::U8 | ValueKind::U16 | ValueKind::U32 => {
            if let Some((k, _)) = def.vals.iter().find(|(_, n)| *n == v) {
                return Ok(Literal::Uint(u64::from(*k)));
            }
            if let Some(neg) = v.strip_prefix('-') {
                return parse_uint(neg).map(|_| Literal::OutOfRange).ok_or_else(|| bad("number"));
            }
            parse_uint(v).map(Literal::Uint).ok_or_else(|| bad("number"))
        }
        ValueKind::Bool => {
            if ordered {
                return Err(format!("{} (type=Boolean) cannot participate in {} comparison.", def.name, op.symbol()));
            }
            match v.to_ascii_lowercase().as_str() {
                "1" | "true" => Ok(Literal::Bool(true)),
                "0" | "false" => Ok(Literal::Bool(false)),
                _ => Err(format!("\"{v}\" is not a valid boolean.")),
            }
        }
        ValueKind::Ipv4 => {
            let (a, p) = v.split_once('/').map_or((v, None), |(a, p)| (a, Some(p)));
            let addr: Ipv4Addr = a.parse().map_err(|_| bad("IPv4 address"))?;
            let prefix = match p {
                None => 32,
                Some(p) => p.parse::<u8>().ok().filter(|p| *p <= 32).ok_or_else(|| bad("IPv4 prefix"))?,
            };
            Ok(Literal::Ipv4 { addr, prefix })
        }
        ValueKind::Guid => {
            if quoted || ordered {
                return Err(format!("Globally Unique Identifier cannot be converted from a string (\"{v}\")."));
            }
            Guid::parse_text(v).map(Literal::Guid).map_err(|_| bad("GUID"))
        }
        ValueKind::Bytes => {
            if quoted {
                return Ok(Literal::Bytes(raw.to_vec()));
            }
            parse_bytes(v).map(Literal::Bytes).ok_or_else(|| bad("byte string"))
        }
        ValueKind::Str => Ok(Literal::Str(raw.to_vec())),
    }
}

impl Filter {
    pub fn parse(s: &str) -> Result<Filter, FilterError> {
        let err = |reason: String| FilterError { filter: s.to_string(), reason };
        let toks = tokens(s).map_err(err)?;
        if toks.is_empty() {
            return Err(err("the filter is empty".into()));
        }
        let mut p = Parser { toks, at: 0 };
        let expr = p.or().map_err(err)?;
        if let Some(t) = p.peek() {
            return Err(err(format!("{t:?} was unexpected in this context")));
        }
        Ok(Filter { expr })
    }

    /// True if `tree` passes the filter.
    pub fn matches(&self, tree: &Tree) -> bool {
        eval(&self.expr, tree)
    }
}

/// The protocol a tree is shown under: `pptv` for 2010 packets, `sopcast`
/// or `ppstream` for those applications' identified payloads, else `pplive`.
pub fn protocol_of(tree: &Tree) -> &'static str {
    if tree.message == crate::MessageKind::Identified {
        return match tree.find(hf::ID_APP.name).map(|f| &f.value) {
            Some(Value::Str(a)) if a == crate::App::SopCast.name() => "sopcast",
            Some(Value::Str(a)) if a == crate::App::PpStream.name() => "ppstream",
            _ => "pplive",
        };
    }
    match tree.generation {
        Some(crate::Generation::Pptv2010) => "pptv",
        _ => "pplive",
    }
}

fn eval(e: &Expr, tree: &Tree) -> bool {
    match e {
        Expr::Present(Name::Field(d)) => present(tree, d),
        Expr::Present(Name::Protocol(p)) => protocol_of(tree) == *p,
        Expr::Present(Name::Note(n)) => tree.notes.iter().any(|x| x.def.name == *n),
        Expr::Compare(Name::Field(d), op, lit) => {
            let mut values = tree.find_all(d.name).map(|f| &f.value).peekable();
            match op {
                Op::Ne => values.peek().is_some() && values.all(|v| !compare(v, Op::Eq, lit)),
                Op::AnyNe => values.any(|v| !compare(v, Op::Eq, lit)),
                op => values.any(|v| compare(v, *op, lit)),
            }
        }
        Expr::Compare(..) => false,
        Expr::Not(x) => !eval(x, tree),
        Expr::And(a, b) => eval(a, tree) && eval(b, tree),
        Expr::Or(a, b) => eval(a, tree) || eval(b, tree),
    }
}

/// `pptv` names the protocol item: present in every 2010 tree.
fn present(tree: &Tree, d: &FieldDef) -> bool {
    tree.find(d.name).is_some() || (d.name == hf::PPTV.name && protocol_of(tree) == "pptv")
}

fn ordered<T: Ord>(a: T, op: Op, b: T) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
        _ => false,
    }
}

fn compare(v: &Value, op: Op, lit: &Literal) -> bool {
    let contains = |hay: &[u8], needle: &[u8]| needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle);
    match (v, lit) {
        (Value::U8(_) | Value::U16(_) | Value::U32(_), Literal::Uint(n)) => {
            let x = match *v {
                Value::U8(x) => u64::from(x),
                Value::U16(x) => u64::from(x),
                Value::U32(x) => u64::from(x),
                _ => return false,
            };
            ordered(x, op, *n)
        }
        (_, Literal::OutOfRange) => false,
        (Value::Bool(b), Literal::Bool(l)) => op == Op::Eq && b == l,
        (Value::Ipv4(a), Literal::Ipv4 { addr, prefix }) if op == Op::Eq => {
            let mask = if *prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
            u32::from(*a) & mask == u32::from(*addr) & mask
        }
        (Value::Ipv4(a), Literal::Ipv4 { addr, .. }) => ordered(u32::from(*a), op, u32::from(*addr)),
        (Value::Guid(g), Literal::Guid(l)) => op == Op::Eq && g == l,
        (Value::Bytes(b), Literal::Bytes(l)) if op == Op::Contains => contains(b, l),
        (Value::Bytes(b), Literal::Bytes(l)) => ordered(b.as_slice(), op, l.as_slice()),
        (Value::Str(s), Literal::Str(l)) if op == Op::Contains => contains(s.as_bytes(), l),
        (Value::Str(s), Literal::Str(l)) => ordered(s.as_bytes(), op, l.as_slice()),
        _ => false,
    }
}

impl fmt::Display for Filter {
    /// The filter in a canonical form that parses back to the same filter.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn lit(f: &mut fmt::Formatter<'_>, l: &Literal) -> fmt::Result {
            match l {
                Literal::Uint(n) => write!(f, "{n}"),
                Literal::OutOfRange => write!(f, "-1"),
                Literal::Bool(b) => write!(f, "{}", u8::from(*b)),
                Literal::Ipv4 { addr, prefix } => write!(f, "{addr}/{prefix}"),
                Literal::Guid(g) => write!(f, "{g}"),
                Literal::Bytes(b) if b.is_empty() => write!(f, "\"\""),
                Literal::Bytes(b) => {
                    let hex: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
                    write!(f, "{}", hex.join(":"))
                }
                Literal::Str(s) => {
                    f.write_str("\"")?;
                    for &b in s {
                        match b {
                            b'"' | b'\\' => write!(f, "\\{}", b as char)?,
                            0x20..=0x7e => write!(f, "{}", b as char)?,
                            b => write!(f, "\\x{b:02x}")?,
                        }
                    }
                    f.write_str("\"")
                }
            }
        }
        fn expr(f: &mut fmt::Formatter<'_>, e: &Expr) -> fmt::Result {
            match e {
                Expr::Present(n) => f.write_str(n.text()),
                Expr::Compare(n, op, l) => {
                    write!(f, "{} {} ", n.text(), op.symbol())?;
                    lit(f, l)
                }
                Expr::Not(x) => {
                    f.write_str("!(")?;
                    expr(f, x)?;
                    f.write_str(")")
                }
                Expr::And(a, b) | Expr::Or(a, b) => {
                    f.write_str("(")?;
                    expr(f, a)?;
                    f.write_str(if matches!(e, Expr::And(..)) { ") && (" } else { ") || (" })?;
                    expr(f, b)?;
                    f.write_str(")")
                }
            }
        }
        expr(f, &self.expr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v2005::tracker_reply::tests::study_reply;
    use crate::{dissect, Hint};

    fn tree() -> Tree {
        dissect(&study_reply(), Hint::Auto).unwrap()
    }

    fn yes(f: &str) -> bool {
        Filter::parse(f).unwrap_or_else(|e| panic!("{e}")).matches(&tree())
    }

    #[test]
    fn test_presence_and_protocols() {
        assert!(yes("pplive"));
        assert!(!yes("pptv"));
        assert!(yes("pplive.tracker"));
        assert!(!yes("pplive.gossip"));
        assert!(yes("not pplive.gossip") && yes("!pplive.gossip") && yes("!(pplive.gossip)"));
    }

    #[test]
    fn test_numbers_in_every_base() {
        assert!(yes("pplive.tracker.count == 50"));
        assert!(yes("pplive.tracker.count == 0x32"));
        assert!(yes("pplive.tracker.count == 062"));
        assert!(yes("pplive.tracker.count eq 50 and pplive.tracker.count > 49 && pplive.tracker.count <= 50"));
        assert!(!yes("pplive.tracker.count == -50"));
        assert!(Filter::parse("pplive.tracker.count == 1e1").is_err());
    }

    #[test]
    fn test_any_all_semantics() {
        // Hosts 2..49 share an address, hosts 1 and 50 differ.
        assert!(yes("pplive.host.ip == 59.64.198.250"));
        assert!(!yes("pplive.host.ip != 59.64.198.250"), "!= is: present, and none equal");
        assert!(yes("pplive.host.ip ~= 59.64.198.250"), "~= is: some differ");
        assert!(yes("pplive.host.ip != 10.0.0.1"));
        assert!(!yes("pplive.gossip.count != 3"), "absent: != is false");
        assert!(yes("pplive.host.ip == 59.64.0.0/16"));
        assert!(yes("pplive.host.ip > 59.64.198.249"));
    }

    #[test]
    fn test_bytes_strings_guids_booleans() {
        assert!(yes("pplive.tracker.header contains 98:00"));
        assert!(yes("pplive.tracker.header contains \"\\x98\\x00\""));
        assert!(yes("pplive.host.unknown == 00:00:00:00:18:00:07:00:35:00"));
        assert!(yes("pplive.host.unknown == 00000000180007003500"));
        assert!(yes("pplive.host.unknown contains 35-00"));
        let f = Filter::parse("pplive.gossip.channel == {7d0f9a10-f9c3-4aae-a2d6-0e54639bc715}").unwrap();
        let g = dissect(&crate::v2005::gossip::tests::study_gossip(), Hint::Auto).unwrap();
        assert!(f.matches(&g));
        assert!(Filter::parse("pplive.gossip.channel == 7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715").unwrap().matches(&g));
        assert!(Filter::parse("pplive.gossip.channel == \"7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715\"").is_err());
        for b in ["0", "false", "False", "FALSE"] {
            assert!(Filter::parse(&format!("pptv.tracker.is_request == {b}")).is_ok());
        }
        assert!(Filter::parse("pptv.tracker.is_request == 2").is_err());
        assert!(Filter::parse("pptv.action == \"Tracker List\"").is_ok());
        let http = dissect(b"GET /web/xml/all.xml HTTP/1.1\r\nHost: list.pplive.com\r\n\r\n", Hint::Auto).unwrap();
        let m = |f: &str| Filter::parse(f).unwrap().matches(&http);
        assert!(m("pplive.http.host == \"list.pplive.com\""));
        assert!(m("pplive.http.host == list.pplive.com"));
        assert!(!m("pplive.http.host == \"LIST.pplive.com\""), "strings compare case-sensitively");
        assert!(m("pplive.http.path contains \"all.xml\""));
    }

    #[test]
    fn test_errors_are_tsharks() {
        for (f, why) in [
            ("pplive.nonexistent", "is neither a field nor a protocol name"),
            ("pplive.host == 1", "cannot participate in == comparison"),
            ("pplive.tracker.count contains 1", "cannot participate in 'contains' comparison"),
            ("", "empty"),
            ("pplive.tracker.count ==", "expected a value"),
            ("(pplive", "missing"),
            ("pplive &&", "ends too soon"),
            ("pplive pptv", "unexpected"),
            ("pplive.http.host == \"open", "unterminated"),
        ] {
            let e = Filter::parse(f).expect_err(f);
            assert!(e.reason.contains(why), "{f:?}: {e}");
        }
    }

    #[test]
    fn test_notes_are_fields() {
        let mut r = study_reply();
        r.truncate(r.len() - 18);
        let t = dissect(&r, Hint::TrackerReply2005).unwrap();
        assert!(Filter::parse("peerscope.expert.count_mismatch").unwrap().matches(&t));
        assert!(!Filter::parse("peerscope.expert.private_address").unwrap().matches(&t));
    }

    #[test]
    fn test_display_parses_back() {
        for f in [
            "pplive.host.ip == 59.64.198.0/24 || !(pplive.tracker.count < 3)",
            "pplive.http.host contains \"a\\\"b\"",
            "pplive.host.unknown == 00:01 && pptv.tracker.is_request == true",
        ] {
            let p = Filter::parse(f).unwrap();
            assert_eq!(Filter::parse(&p.to_string()).unwrap(), p, "{p}");
        }
    }
}
