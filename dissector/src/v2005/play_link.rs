//! PlayLink URLs of the channel list:
//!
//! ```text
//! pplive://211.162.0.46:8000/tracker?source={GUID}&type=udp&chnname=CCTV-5
//!     &engname=CCTV-5&tracker=udpt://211.162.0.46:8000;tcpt://211.162.0.46:8000;
//! ```
//! Inside the XML the `&` are written `&amp;`; the scanner accepts both so
//! that spans point into the raw text, and it skips line breaks after a
//! separator (the study's listing wraps the link over lines). The tracker
//! list says whether the tracker speaks UDP (`udpt://`) and/or TCP (`tcpt://`).

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::guid::Guid;
use crate::hf;
use crate::tree::{Field, Value};

const MESSAGE: &str = "PlayLink";
const SCHEME: &str = "pplive://";

/// Transport a tracker is reached over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackerTransport {
    Udp,
    Tcp,
}

impl TrackerTransport {
    pub fn scheme(self) -> &'static str {
        match self {
            TrackerTransport::Udp => "udpt://",
            TrackerTransport::Tcp => "tcpt://",
        }
    }
    fn name(self) -> &'static str {
        match self {
            TrackerTransport::Udp => "udp",
            TrackerTransport::Tcp => "tcp",
        }
    }
}

/// One entry of the `tracker=` list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrackerAddr {
    pub transport: TrackerTransport,
    pub host: String,
    pub port: u16,
}

/// An owned, unescaped PlayLink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayLinkRepr {
    pub host: String,
    pub port: u16,
    /// Path after the port, `tracker` in every known link.
    pub path: String,
    pub source: Guid,
    /// `type=` (`udp` or `tcp`), if present.
    pub link_type: Option<String>,
    pub chnname: Option<String>,
    pub engname: Option<String>,
    pub trackers: Vec<TrackerAddr>,
    /// Query parameters this crate does not know, in order.
    pub other: Vec<(String, String)>,
}

/// A span of the raw text and the unescaped value found there.
struct Span<'a> {
    at: usize,
    raw: &'a str,
}

impl Span<'_> {
    fn value(&self) -> Result<String> {
        unescape(self.raw, self.at)
    }
}

fn unescape(raw: &str, at: usize) -> Result<String> {
    quick_xml::escape::unescape(raw).map(Cow::into_owned).map_err(|e| Error::Invalid {
        message: MESSAGE,
        field: "query value",
        offset: at,
        reason: e.to_string(),
    })
}

fn invalid(field: &'static str, offset: usize, reason: impl Into<String>) -> Error {
    Error::invalid(MESSAGE, field, offset, reason)
}

/// `host:port` starting at `at`.
fn host_port(s: &str, at: usize, field: &'static str) -> Result<(String, u16)> {
    let colon = s.rfind(':').ok_or_else(|| invalid(field, at, format!("{s:?} has no port")))?;
    let host = &s[..colon];
    let port =
        s[colon + 1..].parse::<u16>().map_err(|_| invalid(field, at + colon + 1, format!("bad port in {s:?}")))?;
    if host.is_empty() {
        return Err(invalid(field, at, "empty host"));
    }
    Ok((host.to_owned(), port))
}

/// Splits on `&amp;` or `&`; whitespace around a parameter is dropped (the
/// listing wraps lines there), so values never start or end with it.
fn split_query(q: &str, base: usize) -> Vec<Span<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i <= q.len() {
        let rest = &q[i..];
        let trimmed = rest.trim_start();
        i += rest.len() - trimmed.len();
        let end = q[i..].find('&').map_or(q.len(), |p| i + p);
        let seg = q[i..end].trim_end();
        if !seg.is_empty() {
            out.push(Span { at: base + i, raw: seg });
        }
        if end == q.len() {
            break;
        }
        i = end + if q[end..].starts_with("&amp;") { 5 } else { 1 };
    }
    out
}

/// What the scanner found, with spans for the tree.
struct Scan<'a> {
    host: (String, u16),
    path: &'a str,
    params: Vec<(Span<'a>, Span<'a>)>,
}

fn scan(text: &str) -> Result<Scan<'_>> {
    let lead = text.len() - text.trim_start().len();
    let t = text.trim_end();
    let after = t
        .get(lead..)
        .and_then(|s| s.strip_prefix(SCHEME))
        .ok_or_else(|| invalid("scheme", lead, "does not start with pplive://"))?;
    let auth_at = lead + SCHEME.len();
    let slash = after.find('/').ok_or_else(|| invalid("path", auth_at, "no path after host:port"))?;
    let host = host_port(&after[..slash], auth_at, "host")?;
    let path_and_query = &after[slash + 1..];
    let (path, query, q_at) = match path_and_query.find('?') {
        Some(p) => (&path_and_query[..p], &path_and_query[p + 1..], auth_at + slash + 1 + p + 1),
        None => (path_and_query, "", t.len()),
    };
    let mut params = Vec::new();
    for sp in split_query(query, q_at) {
        let eq = sp.raw.find('=').ok_or_else(|| invalid("query", sp.at, format!("{:?} is not key=value", sp.raw)))?;
        params.push((Span { at: sp.at, raw: &sp.raw[..eq] }, Span { at: sp.at + eq + 1, raw: &sp.raw[eq + 1..] }));
    }
    Ok(Scan { host, path, params })
}

/// `udpt://ip:port;tcpt://ip:port;` with optional whitespace between entries.
fn trackers(v: &Span<'_>) -> Result<Vec<(usize, usize, TrackerAddr)>> {
    let mut out = Vec::new();
    let mut at = v.at;
    for part in v.raw.split(';') {
        let lead = part.len() - part.trim_start().len();
        let p = part.trim();
        let start = at + lead;
        at += part.len() + 1;
        if p.is_empty() {
            continue;
        }
        let (transport, rest) = if let Some(r) = p.strip_prefix("udpt://") {
            (TrackerTransport::Udp, r)
        } else if let Some(r) = p.strip_prefix("tcpt://") {
            (TrackerTransport::Tcp, r)
        } else {
            return Err(invalid("tracker", start, format!("{p:?} is neither udpt:// nor tcpt://")));
        };
        let (host, port) = host_port(rest, start + 7, "tracker")?;
        out.push((start, p.len(), TrackerAddr { transport, host, port }));
    }
    Ok(out)
}

impl PlayLinkRepr {
    /// Parses a link, escaped (`&amp;`) or not. A missing or malformed
    /// `source` GUID or tracker entry is an error.
    pub fn parse(text: &str) -> Result<PlayLinkRepr> {
        let s = scan(text)?;
        let mut repr = PlayLinkRepr {
            host: s.host.0,
            port: s.host.1,
            path: s.path.to_owned(),
            source: Guid::default(),
            link_type: None,
            chnname: None,
            engname: None,
            trackers: Vec::new(),
            other: Vec::new(),
        };
        let mut source = None;
        for (k, v) in &s.params {
            match k.raw {
                "source" => source = Some(Guid::parse_text(v.raw).map_err(|e| invalid("source", v.at, e.to_string()))?),
                "type" => repr.link_type = Some(v.value()?),
                "chnname" => repr.chnname = Some(v.value()?),
                "engname" => repr.engname = Some(v.value()?),
                "tracker" => repr.trackers.extend(trackers(v)?.into_iter().map(|t| t.2)),
                _ => repr.other.push((k.value()?, v.value()?)),
            }
        }
        repr.source = source.ok_or_else(|| invalid("source", text.len(), "no source={GUID} parameter"))?;
        Ok(repr)
    }

    /// The unescaped link, `&` separated, parameters in canonical order.
    pub fn to_url(&self) -> String {
        let mut s = format!("{SCHEME}{}:{}/{}?source={}", self.host, self.port, self.path, self.source);
        let mut param = |k: &str, v: &str| {
            s.push('&');
            s.push_str(k);
            s.push('=');
            s.push_str(v);
        };
        if let Some(t) = &self.link_type {
            param("type", t);
        }
        if let Some(n) = &self.chnname {
            param("chnname", n);
        }
        if let Some(n) = &self.engname {
            param("engname", n);
        }
        for (k, v) in &self.other {
            param(k, v);
        }
        if !self.trackers.is_empty() {
            let list: String =
                self.trackers.iter().map(|t| format!("{}{}:{};", t.transport.scheme(), t.host, t.port)).collect();
            param("tracker", &list);
        }
        s
    }

    /// Appends the link as bytes (as it would be typed, not XML-escaped).
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.to_url().as_bytes());
    }
}

/// The PlayLink subtree for `text` found at `base` in the payload.
pub fn to_field(text: &str, base: usize) -> Result<Field> {
    let s = scan(text)?;
    let mut children = vec![
        Field::new(&hf::PLAYLINK_HOST, base, 0, Value::Str(s.host.0.clone())),
        Field::new(&hf::PLAYLINK_PORT, base, 0, Value::U16(s.host.1)),
    ];
    // Host and port spans: locate them after the scheme.
    let lead = text.len() - text.trim_start().len();
    let auth = lead + SCHEME.len();
    children[0].offset = base + auth;
    children[0].len = s.host.0.len();
    children[1].offset = base + auth + s.host.0.len() + 1;
    children[1].len = s.host.1.to_string().len();
    for (k, v) in &s.params {
        let (o, l) = (base + v.at, v.raw.len());
        match k.raw {
            "source" => {
                let g = Guid::parse_text(v.raw).map_err(|e| invalid("source", v.at, e.to_string()))?;
                children.push(Field::new(&hf::PLAYLINK_SOURCE, o, l, Value::Guid(g)));
            }
            "type" => children.push(Field::new(&hf::PLAYLINK_TYPE, o, l, Value::Str(v.value()?))),
            "chnname" => children.push(Field::new(&hf::PLAYLINK_CHNNAME, o, l, Value::Str(v.value()?))),
            "engname" => children.push(Field::new(&hf::PLAYLINK_ENGNAME, o, l, Value::Str(v.value()?))),
            "tracker" => {
                for (at, len, t) in trackers(v)? {
                    let port_len = t.port.to_string().len();
                    children.push(Field::subtree(
                        &hf::PLAYLINK_TRACKER,
                        base + at,
                        len,
                        vec![
                            Field::new(
                                &hf::PLAYLINK_TRACKER_TRANSPORT,
                                base + at,
                                7,
                                Value::Str(t.transport.name().into()),
                            ),
                            Field::new(&hf::PLAYLINK_TRACKER_HOST, base + at + 7, t.host.len(), Value::Str(t.host)),
                            Field::new(
                                &hf::PLAYLINK_TRACKER_PORT,
                                base + at + len - port_len,
                                port_len,
                                Value::U16(t.port),
                            ),
                        ],
                    ));
                }
            }
            _ => {}
        }
    }
    let trimmed = text.trim();
    Ok(Field::subtree(&hf::PLAYLINK, base + lead, trimmed.len(), children))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The PlayLink of \[M\]'s channel-list example, as wrapped in the listing.
    pub const STUDY_LINK: &str = "\npplive://211.162.0.46:8000/tracker?\nsource={7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}&amp;type=udp&amp;\nchnname=CCTV-5&amp;engname=CCTV-5&amp;tracker=udpt://211.162.0.46:8000;\ntcpt://211.162.0.46:8000;\n";

    fn study_repr() -> PlayLinkRepr {
        PlayLinkRepr {
            host: "211.162.0.46".into(),
            port: 8000,
            path: "tracker".into(),
            source: "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}".parse().unwrap(),
            link_type: Some("udp".into()),
            chnname: Some("CCTV-5".into()),
            engname: Some("CCTV-5".into()),
            trackers: vec![
                TrackerAddr { transport: TrackerTransport::Udp, host: "211.162.0.46".into(), port: 8000 },
                TrackerAddr { transport: TrackerTransport::Tcp, host: "211.162.0.46".into(), port: 8000 },
            ],
            other: vec![],
        }
    }

    #[test]
    fn test_parse() {
        assert_eq!(PlayLinkRepr::parse(STUDY_LINK).unwrap(), study_repr());
    }

    #[test]
    fn test_emit() {
        let url = study_repr().to_url();
        assert_eq!(
            url,
            "pplive://211.162.0.46:8000/tracker?source={7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}&type=udp&chnname=CCTV-5&engname=CCTV-5&tracker=udpt://211.162.0.46:8000;tcpt://211.162.0.46:8000;"
        );
        assert_eq!(PlayLinkRepr::parse(&url).unwrap(), study_repr());
    }

    #[test]
    fn test_tree_spans_point_into_raw_text() {
        let f = to_field(STUDY_LINK, 100).unwrap();
        for c in f.walk().skip(1) {
            if let Value::Str(s) = &c.value {
                if c.def.name != "pplive.playlink.tracker.transport" {
                    assert_eq!(&STUDY_LINK[c.offset - 100..c.offset - 100 + c.len], s, "{}", c.def.name);
                }
            }
        }
        let trackers: Vec<_> = f.walk().filter(|c| c.def.name == "pplive.playlink.tracker.port").collect();
        assert_eq!(trackers.len(), 2);
        assert_eq!(&STUDY_LINK[trackers[1].offset - 100..][..trackers[1].len], "8000");
    }

    #[test]
    fn test_rejects() {
        for bad in [
            "http://x:1/tracker?source={7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}",
            "pplive://x/tracker?source={7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}",
            "pplive://x:99999/tracker?source={7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}",
            "pplive://x:1/tracker?type=udp",
            "pplive://x:1/tracker?source=CCTV",
            "pplive://x:1/tracker?source={7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}&tracker=http://a:1;",
            "pplive://x:1/tracker?source={7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}&novalue",
        ] {
            assert!(PlayLinkRepr::parse(bad).is_err(), "{bad}");
        }
    }

    /// No whitespace: the scanner skips it after separators (line wraps).
    fn arb_name() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_.-]{0,12}"
    }

    /// Found by fuzzing: trailing whitespace in the last value used to be
    /// trimmed only when the value ended the text.
    #[test]
    fn test_value_whitespace_trimmed_everywhere() {
        let a = PlayLinkRepr::parse("pplive://h:1/t?source={7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}&x=CCTV-\r\r  &\r")
            .unwrap();
        assert_eq!(a.other, vec![("x".to_string(), "CCTV-".to_string())]);
        assert_eq!(PlayLinkRepr::parse(&a.to_url()).unwrap(), a);
    }

    proptest! {
        #[test]
        fn prop_round_trip(host in "[a-z0-9.]{1,15}", port in any::<u16>(), g in any::<[u8; 16]>(),
                           t in proptest::option::of(arb_name()), c in proptest::option::of(arb_name()),
                           tr in proptest::collection::vec((any::<bool>(), "[a-z0-9.]{1,15}", any::<u16>()), 0..4)) {
            let repr = PlayLinkRepr {
                host, port, path: "tracker".into(), source: Guid(g), link_type: t, chnname: c, engname: None,
                trackers: tr.into_iter().map(|(u, host, port)| TrackerAddr {
                    transport: if u { TrackerTransport::Udp } else { TrackerTransport::Tcp }, host, port }).collect(),
                other: vec![],
            };
            prop_assert_eq!(PlayLinkRepr::parse(&repr.to_url()).unwrap(), repr);
        }

        #[test]
        fn prop_random_never_panics(s in "(pplive://)?[ -~\n]{0,80}") {
            let _ = PlayLinkRepr::parse(&s);
            let _ = to_field(&s, 0);
        }
    }
}
