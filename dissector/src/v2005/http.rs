//! Bootstrap HTTP of a 2005-era client: `GET /update/pplive/update.inf` to
//! `update.pplive.com` (a 404 means no update) and `GET /web/xml/all.xml` to
//! `list.pplive.com` (the channel list). Header parsing is `httparse`'s; a
//! reply whose body is a channel list gets that list as a subtree.

use crate::ei;
use crate::error::{Error, Result};
use crate::hf;
use crate::tree::{Field, MessageKind, Note, Tree, Value};
use crate::v2005::channel_list;
use crate::Generation;

const MESSAGE: &str = "bootstrap HTTP";
const MAX_HEADERS: usize = 64;
/// `HTTP/1.x`.
const VERSION_LEN: usize = 8;

/// Which start-up step a request path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bootstrap {
    SoftwareUpdate,
    ChannelList,
    Other,
}

impl Bootstrap {
    pub const SOFTWARE_UPDATE_PATH: &'static str = "/update/pplive/update.inf";
    pub const CHANNEL_LIST_PATH: &'static str = "/web/xml/all.xml";

    pub fn from_path(path: &str) -> Bootstrap {
        match path {
            Self::SOFTWARE_UPDATE_PATH => Bootstrap::SoftwareUpdate,
            Self::CHANNEL_LIST_PATH => Bootstrap::ChannelList,
            _ => Bootstrap::Other,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Bootstrap::SoftwareUpdate => "software update check",
            Bootstrap::ChannelList => "channel list download",
            Bootstrap::Other => "other",
        }
    }
}

/// A header borrowed from the payload, with the span of its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    pub name: &'a str,
    pub value: &'a [u8],
    pub offset: usize,
    pub len: usize,
}

impl Header<'_> {
    /// Where the value starts in the payload.
    pub fn value_offset(&self) -> usize {
        (self.offset + self.len).saturating_sub(self.value.len())
    }
}

/// The start line of either direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    Request { method: &'a str, path: &'a str },
    Response { code: u16, reason: &'a str },
}

/// A parsed request or response, borrowing the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpMessage<'a> {
    pub start: StartLine<'a>,
    pub minor_version: u8,
    pub headers: Vec<Header<'a>>,
    /// Everything after the blank line (a TCP segment may cut it short).
    pub body: &'a [u8],
    pub body_offset: usize,
    /// The whole payload, for spans.
    full: &'a [u8],
}

fn invalid(field: &'static str, offset: usize, reason: impl Into<String>) -> Error {
    Error::invalid(MESSAGE, field, offset, reason)
}

fn headers<'a>(buf: &'a [u8], raw: &[httparse::Header<'a>]) -> Vec<Header<'a>> {
    raw.iter()
        .map(|h| {
            // httparse hands out sub-slices of `buf`; their address gives the
            // offset. An empty value may point anywhere, so clamp.
            let name_at = offset_in(buf, h.name.as_bytes()).unwrap_or(0);
            let end = offset_in(buf, h.value).map_or(name_at + h.name.len(), |at| at + h.value.len()).max(name_at);
            Header { name: h.name, value: h.value, offset: name_at, len: end - name_at }
        })
        .collect()
}

/// Where `sub` lies in `buf`, if it does.
fn offset_in(buf: &[u8], sub: &[u8]) -> Option<usize> {
    let at = (sub.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize);
    (at <= buf.len() && sub.len() <= buf.len() - at).then_some(at)
}

fn incomplete(buf: &[u8]) -> Error {
    invalid("headers", buf.len(), "header block incomplete (no blank line)")
}

impl<'a> HttpMessage<'a> {
    /// Parses a request (`GET …`) or a response (`HTTP/1.x …`).
    pub fn parse(buf: &'a [u8]) -> Result<HttpMessage<'a>> {
        let mut raw = [httparse::EMPTY_HEADER; MAX_HEADERS];
        if buf.starts_with(b"HTTP/") {
            let mut r = httparse::Response::new(&mut raw);
            let n = match r.parse(buf) {
                Ok(httparse::Status::Complete(n)) => n,
                Ok(httparse::Status::Partial) => return Err(incomplete(buf)),
                Err(e) => return Err(invalid("status line", 0, e.to_string())),
            };
            Ok(HttpMessage {
                start: StartLine::Response { code: r.code.unwrap_or(0), reason: r.reason.unwrap_or("") },
                minor_version: r.version.unwrap_or(0),
                headers: headers(buf, r.headers),
                body: &buf[n..],
                body_offset: n,
                full: buf,
            })
        } else {
            let mut r = httparse::Request::new(&mut raw);
            let n = match r.parse(buf) {
                Ok(httparse::Status::Complete(n)) => n,
                Ok(httparse::Status::Partial) => return Err(incomplete(buf)),
                Err(e) => return Err(invalid("request line", 0, e.to_string())),
            };
            Ok(HttpMessage {
                start: StartLine::Request { method: r.method.unwrap_or(""), path: r.path.unwrap_or("") },
                minor_version: r.version.unwrap_or(0),
                headers: headers(buf, r.headers),
                body: &buf[n..],
                body_offset: n,
                full: buf,
            })
        }
    }

    /// Where a slice handed out by httparse starts in the payload; 0 for an
    /// empty or foreign slice.
    fn offset_of(&self, sub: &[u8]) -> usize {
        offset_in(self.full, sub).unwrap_or(0)
    }

    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value)
    }

    pub fn content_length(&self) -> Option<u32> {
        core::str::from_utf8(self.header("Content-Length")?).ok()?.trim().parse().ok()
    }

    /// The bootstrap step of a request; `None` for a response.
    pub fn bootstrap(&self) -> Option<Bootstrap> {
        match self.start {
            StartLine::Request { path, .. } => Some(Bootstrap::from_path(path)),
            StartLine::Response { .. } => None,
        }
    }

    pub fn to_tree(&self) -> Tree {
        let mut notes = Vec::new();
        let mut c = Vec::new();
        let message = match self.start {
            StartLine::Request { method, path } => {
                self.request_line_fields(method, path, &mut c);
                MessageKind::HttpRequest
            }
            StartLine::Response { code, reason } => {
                self.status_line_fields(code, reason, &mut c);
                MessageKind::HttpResponse
            }
        };
        self.header_fields(&mut c, &mut notes);
        if !self.body.is_empty() {
            c.push(self.body_field(&mut notes));
        }
        let end = self.body_offset + self.body.len();
        Tree { generation: Generation::Pplive2005, message, fields: vec![Field::subtree(&hf::HTTP, 0, end, c)], notes }
    }

    /// Bootstrap step, method, path and version of `METHOD PATH HTTP/1.x`.
    fn request_line_fields(&self, method: &str, path: &str, c: &mut Vec<Field>) {
        let at = self.offset_of(path.as_bytes());
        let b = Bootstrap::from_path(path);
        c.push(Field::new(&hf::HTTP_BOOTSTRAP, at, path.len(), Value::Str(b.label().into())));
        c.push(Field::new(&hf::HTTP_METHOD, 0, method.len(), Value::Str(method.into())));
        c.push(Field::new(&hf::HTTP_PATH, at, path.len(), Value::Str(path.into())));
        // "HTTP/1.x" follows the path after one space.
        let v = at + path.len() + 1;
        let v_len =
            if self.full.get(v..v + VERSION_LEN).is_some_and(|b| b.starts_with(b"HTTP/")) { VERSION_LEN } else { 0 };
        c.push(Field::new(&hf::HTTP_VERSION, v, v_len, Value::U8(self.minor_version)));
    }

    /// Version, status code and reason of `HTTP/1.x CODE REASON`.
    fn status_line_fields(&self, code: u16, reason: &str, c: &mut Vec<Field>) {
        const STATUS: core::ops::Range<usize> = VERSION_LEN + 1..VERSION_LEN + 4;
        c.push(Field::new(&hf::HTTP_VERSION, 0, VERSION_LEN, Value::U8(self.minor_version)));
        let digits = self.full.get(STATUS).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        let (at, len) = if digits { (STATUS.start, STATUS.len()) } else { (0, 0) };
        c.push(Field::new(&hf::HTTP_STATUS, at, len, Value::U16(code)));
        let at = self.offset_of(reason.as_bytes());
        c.push(Field::new(&hf::HTTP_REASON, at, reason.len(), Value::Str(reason.into())));
    }

    /// Every header line, the Host, and the Content-Length (noting a body
    /// shorter than it says).
    fn header_fields(&self, c: &mut Vec<Field>, notes: &mut Vec<Note>) {
        for h in &self.headers {
            let line = format!("{}: {}", h.name, String::from_utf8_lossy(h.value));
            c.push(Field::new(&hf::HTTP_HEADER, h.offset, h.len, Value::Str(line)));
            if h.name.eq_ignore_ascii_case("Host") {
                let host = String::from_utf8_lossy(h.value).into_owned();
                c.push(Field::new(&hf::HTTP_HOST, h.value_offset(), h.value.len(), Value::Str(host)));
            }
        }
        if let Some(n) = self.content_length() {
            let h = self.headers.iter().find(|h| h.name.eq_ignore_ascii_case("Content-Length"));
            let (at, len) = h.map_or((0, 0), |h| (h.value_offset(), h.value.len()));
            c.push(Field::new(&hf::HTTP_CONTENT_LENGTH, at, len, Value::U32(n)));
            if (n as usize) > self.body.len() {
                notes.push(Note::new(
                    &ei::TRUNCATED_RECORD,
                    self.body_offset,
                    self.body.len(),
                    format!("body has {} of {n} bytes", self.body.len()),
                ));
            }
        }
    }

    /// The body, with a channel list decoded under it when it is one.
    fn body_field(&self, notes: &mut Vec<Note>) -> Field {
        let mut body = Field::new(&hf::HTTP_BODY, self.body_offset, self.body.len(), Value::Bytes(self.body.to_vec()));
        if self.body.trim_ascii_start().starts_with(b"<") {
            if let Ok(list) = channel_list::to_tree(self.body) {
                for mut f in list.fields {
                    f.shift(self.body_offset);
                    body.children.push(f);
                }
                notes.extend(list.notes.into_iter().map(|mut n| {
                    n.offset += self.body_offset;
                    n
                }));
            }
        }
        body
    }
}

/// An owned request or response; `emit` writes HTTP/1.x with CRLF lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRepr {
    pub start: StartLineRepr,
    pub minor_version: u8,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLineRepr {
    Request { method: String, path: String },
    Response { code: u16, reason: String },
}

impl HttpRepr {
    /// `GET path HTTP/1.1` with a `Host` header, as the client sends it.
    pub fn bootstrap_request(host: &str, path: &str) -> HttpRepr {
        HttpRepr {
            start: StartLineRepr::Request { method: "GET".into(), path: path.into() },
            minor_version: 1,
            headers: vec![("Host".into(), host.into())],
            body: Vec::new(),
        }
    }

    /// A reply with `Content-Length` set from the body.
    pub fn reply(code: u16, reason: &str, body: Vec<u8>) -> HttpRepr {
        HttpRepr {
            start: StartLineRepr::Response { code, reason: reason.into() },
            minor_version: 1,
            headers: vec![("Content-Length".into(), body.len().to_string())],
            body,
        }
    }

    pub fn parse(buf: &[u8]) -> Result<HttpRepr> {
        let m = HttpMessage::parse(buf)?;
        let headers = m
            .headers
            .iter()
            .map(|h| {
                let v = core::str::from_utf8(h.value).map_err(|_| invalid("header", h.offset, "value is not UTF-8"))?;
                Ok((h.name.to_owned(), v.to_owned()))
            })
            .collect::<Result<_>>()?;
        Ok(HttpRepr {
            start: match m.start {
                StartLine::Request { method, path } => {
                    StartLineRepr::Request { method: method.into(), path: path.into() }
                }
                StartLine::Response { code, reason } => StartLineRepr::Response { code, reason: reason.into() },
            },
            minor_version: m.minor_version,
            headers,
            body: m.body.to_vec(),
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        let line = match &self.start {
            StartLineRepr::Request { method, path } => {
                format!("{method} {path} HTTP/1.{}\r\n", self.minor_version)
            }
            StartLineRepr::Response { code, reason } => {
                format!("HTTP/1.{} {code:03} {reason}\r\n", self.minor_version)
            }
        };
        out.extend_from_slice(line.as_bytes());
        for (k, v) in &self.headers {
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v2005::channel_list::tests::STUDY_XML;
    use proptest::prelude::*;

    const UPDATE: &[u8] = b"GET /update/pplive/update.inf HTTP/1.1\r\nHost: update.pplive.com\r\nAccept: */*\r\n\r\n";

    #[test]
    fn test_parse() {
        let m = HttpMessage::parse(UPDATE).unwrap();
        assert_eq!(m.bootstrap(), Some(Bootstrap::SoftwareUpdate));
        assert_eq!(m.header("host"), Some(&b"update.pplive.com"[..]));
        let tree = m.to_tree();
        assert_eq!(tree.message, MessageKind::HttpRequest);
        let host = tree.find("pplive.http.host").unwrap();
        assert_eq!(&UPDATE[host.offset..host.offset + host.len], b"update.pplive.com");
        let path = tree.find("pplive.http.path").unwrap();
        assert_eq!(&UPDATE[path.offset..path.offset + path.len], b"/update/pplive/update.inf");
    }

    #[test]
    fn test_not_found_reply() {
        let buf = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        let m = HttpMessage::parse(buf).unwrap();
        assert_eq!(m.start, StartLine::Response { code: 404, reason: "Not Found" });
        let tree = m.to_tree();
        assert!(tree.notes.is_empty());
        let span = |name| {
            let f = tree.find(name).unwrap();
            &buf[f.offset..f.offset + f.len]
        };
        assert_eq!(span("pplive.http.status"), b"404");
        assert_eq!(span("pplive.http.reason"), b"Not Found");
        assert_eq!(span("pplive.http.version"), b"HTTP/1.1");
        assert_eq!(span("pplive.http.content_length"), b"0");
    }

    #[test]
    fn test_channel_list_reply_has_subtree() {
        let mut buf = Vec::new();
        HttpRepr::reply(200, "OK", STUDY_XML.as_bytes().to_vec()).emit(&mut buf);
        let tree = HttpMessage::parse(&buf).unwrap().to_tree();
        let g = tree.find("pplive.channel.guid").unwrap();
        assert_eq!(&buf[g.offset..g.offset + g.len], b"{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}");
        // Cut in the middle of the body: noted, not an error.
        let cut = HttpMessage::parse(&buf[..buf.len() - 10]).unwrap().to_tree();
        assert_eq!(cut.notes_named(ei::TRUNCATED_RECORD.name).count(), 1);
    }

    #[test]
    fn test_emit() {
        let mut out = Vec::new();
        HttpRepr::bootstrap_request("list.pplive.com", Bootstrap::CHANNEL_LIST_PATH).emit(&mut out);
        assert_eq!(out, b"GET /web/xml/all.xml HTTP/1.1\r\nHost: list.pplive.com\r\n\r\n");
        assert_eq!(HttpMessage::parse(&out).unwrap().bootstrap(), Some(Bootstrap::ChannelList));
    }

    #[test]
    fn test_impossible_len() {
        assert!(HttpMessage::parse(&UPDATE[..UPDATE.len() - 2]).is_err());
        assert!(HttpMessage::parse(b"").is_err());
        assert!(HttpMessage::parse(b"\x02\x00\x00\x02").is_err());
    }

    proptest! {
        #[test]
        fn prop_round_trip(path in "/[a-z0-9/._]{0,20}", code in 100u16..1000, reason in "[A-Za-z ]{0,12}",
                           headers in proptest::collection::vec(("[A-Za-z-]{1,10}", "[!-~]([ -~]{0,10}[!-~])?"), 0..5),
                           body in proptest::collection::vec(any::<u8>(), 0..40), req in any::<bool>()) {
            let start = if req {
                StartLineRepr::Request { method: "GET".into(), path }
            } else {
                StartLineRepr::Response { code, reason: reason.trim().into() }
            };
            let repr = HttpRepr { start, minor_version: 1, headers, body };
            let mut out = Vec::new();
            repr.emit(&mut out);
            prop_assert_eq!(HttpRepr::parse(&out).unwrap(), repr);
        }

        #[test]
        fn prop_random_never_panics(b in proptest::collection::vec(any::<u8>(), 0..120)) {
            if let Ok(m) = HttpMessage::parse(&b) {
                let _ = m.to_tree();
            }
            let mut s = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
            s.extend_from_slice(&b);
            if let Ok(m) = HttpMessage::parse(&s) {
                let _ = m.to_tree();
            }
        }
    }
}
