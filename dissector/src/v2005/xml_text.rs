//! The channel list as text. The client wrote Chinese channel names, so a
//! real `all.xml` may be GB2312/GBK rather than UTF-8: a document that is not
//! UTF-8 is decoded with the encoding its XML declaration names (GB18030,
//! the superset of GBK and GB2312, if it names none), keeping a map from
//! decoded offsets back to payload offsets so tree spans stay true.

use std::borrow::Cow;

use encoding_rs::{CoderResult, Encoding, GB18030};

use crate::error::{Error, Result};

/// Decoded text and, if decoding changed offsets, the way back.
#[derive(Debug)]
pub(crate) struct XmlText<'a> {
    pub text: Cow<'a, str>,
    /// `(decoded offset, payload offset)` at every decoded character start,
    /// increasing; `None` when the payload was UTF-8.
    map: Option<Vec<(usize, usize)>>,
    payload_len: usize,
}

/// The `encoding="…"` of an XML declaration at the start of `buf`.
fn declared_encoding(buf: &[u8]) -> Option<&'static Encoding> {
    let head = &buf[..buf.len().min(200)];
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = &head[..end];
    let at = decl.windows(8).position(|w| w == b"encoding")? + 8;
    let rest = &decl[at..];
    let q = rest.iter().position(|&b| b == b'"' || b == b'\'')?;
    let quote = rest[q];
    let value = &rest[q + 1..];
    let close = value.iter().position(|&b| b == quote)?;
    Encoding::for_label(&value[..close])
}

impl<'a> XmlText<'a> {
    pub fn decode(buf: &'a [u8]) -> Result<XmlText<'a>> {
        if let Ok(text) = core::str::from_utf8(buf) {
            return Ok(XmlText { text: Cow::Borrowed(text), map: None, payload_len: buf.len() });
        }
        let encoding = declared_encoding(buf).filter(|e| *e != encoding_rs::UTF_8).unwrap_or(GB18030);
        let mut decoder = encoding.new_decoder_without_bom_handling();
        let mut text = String::with_capacity(buf.len() * 3 / 2);
        let mut map = Vec::with_capacity(buf.len());
        // One byte at a time, so each decoded character can be traced to the
        // payload byte that started it.
        let mut seq_start = 0;
        for i in 0..buf.len() {
            let before = text.len();
            let last = i + 1 == buf.len();
            text.reserve(decoder.max_utf8_buffer_length(1).unwrap_or(16));
            let (result, _, _) = decoder.decode_to_string(&buf[i..=i], &mut text, last);
            if result != CoderResult::InputEmpty {
                return Err(Error::Invalid {
                    message: "channel list",
                    field: "document",
                    offset: i,
                    reason: format!("cannot decode as {}", encoding.name()),
                });
            }
            if text.len() > before {
                map.push((before, seq_start));
                seq_start = i + 1;
            }
        }
        Ok(XmlText { text: Cow::Owned(text), map: Some(map), payload_len: buf.len() })
    }

    /// The payload offset of a decoded offset.
    pub fn payload_offset(&self, decoded: usize) -> usize {
        let Some(map) = &self.map else { return decoded };
        if decoded >= self.text.len() {
            return self.payload_len;
        }
        match map.binary_search_by_key(&decoded, |&(d, _)| d) {
            Ok(i) => map[i].1,
            Err(i) => map.get(i.wrapping_sub(1)).map_or(0, |&(_, p)| p),
        }
    }

    /// Maps a decoded span `[offset, offset + len)` to the payload.
    pub fn payload_span(&self, offset: usize, len: usize) -> (usize, usize) {
        let start = self.payload_offset(offset);
        let end = self.payload_offset(offset + len).max(start);
        (start, end - start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "CCTV-5 体育" in GBK: 体 = cc e5, 育 = d3 fd.
    const GBK: &[u8] =
        b"<?xml version=\"1.0\" encoding=\"gb2312\"?><root><channel><ChannelName>CCTV-5 \xcc\xe5\xd3\xfd</ChannelName></channel></root>";

    #[test]
    fn test_decode_gbk_with_offsets() {
        let t = XmlText::decode(GBK).unwrap();
        let name_at = t.text.find("CCTV-5 体育").unwrap();
        assert_eq!(t.payload_offset(name_at), GBK.windows(6).position(|w| w == b"CCTV-5").unwrap());
        let ti = t.text.find('育').unwrap();
        assert_eq!(&GBK[t.payload_offset(ti)..][..2], b"\xd3\xfd");
        let (o, l) = t.payload_span(name_at, "CCTV-5 体育".len());
        assert_eq!(&GBK[o..o + l], b"CCTV-5 \xcc\xe5\xd3\xfd");
    }

    #[test]
    fn test_utf8_is_borrowed() {
        let t = XmlText::decode(b"<root/>").unwrap();
        assert!(matches!(t.text, Cow::Borrowed(_)));
        assert_eq!(t.payload_offset(3), 3);
    }

    #[test]
    fn test_declared_encoding() {
        assert_eq!(declared_encoding(GBK), Some(encoding_rs::GBK));
        assert_eq!(declared_encoding(b"<root/>"), None);
    }
}
