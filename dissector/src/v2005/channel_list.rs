//! The channel list (`GET /web/xml/all.xml`, stored as `channel.xml`):
//! `<root><channel>…</channel>…</root>`, one element per field of a channel.
//!
//! Parsing is by `roxmltree`, which keeps byte ranges, so tree fields point
//! at the text in the payload. A list that is not UTF-8 is decoded with the
//! encoding it declares (GB2312/GBK, as a Chinese client was served), see
//! `xml_text`.

use std::borrow::Cow;

use roxmltree::{Document, Node};

use crate::ei;
use crate::error::{Error, Result};
use crate::guid::Guid;
use crate::hf;
use crate::tree::{Field, FieldDef, MessageKind, Note, Tree, Value};
use crate::v2005::play_link::{self, PlayLinkRepr};
use crate::v2005::xml_text::XmlText;
use crate::Generation;

const MESSAGE: &str = "channel list";

/// One `<channel>`, with text fields trimmed and unescaped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelRepr {
    pub guid: Guid,
    pub base_guid: Option<Guid>,
    pub name: String,
    pub name_en: String,
    pub author: String,
    pub author_url: String,
    /// The link with the listing's line breaks removed; see [`Self::play_link`].
    pub play_link: String,
    pub peer_count: Option<u32>,
    pub bitrate: Option<u32>,
    pub preview_url: String,
    /// `<Quatity>` (sic).
    pub quality: Option<u32>,
    pub catalog: Option<u32>,
    pub program_list1: String,
    pub program_list2: String,
}

/// The whole list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelListRepr {
    pub channels: Vec<ChannelRepr>,
}

fn invalid(field: &'static str, offset: usize, reason: impl Into<String>) -> Error {
    Error::invalid(MESSAGE, field, offset, reason)
}

/// Joins the lines of a wrapped value: each line trimmed, then concatenated.
fn join_lines(s: &str) -> String {
    s.lines().map(str::trim).collect()
}

fn text_of<'a>(n: Node<'a, '_>) -> Cow<'a, str> {
    Cow::Borrowed(n.text().unwrap_or("").trim())
}

fn number(n: Node<'_, '_>, field: &'static str) -> Result<Option<u32>> {
    let t = text_of(n);
    if t.is_empty() {
        return Ok(None);
    }
    t.parse().map(Some).map_err(|_| invalid(field, n.range().start, format!("{t:?} is not a number")))
}

fn guid(n: Node<'_, '_>, field: &'static str) -> Result<Option<Guid>> {
    let t = text_of(n);
    if t.is_empty() {
        return Ok(None);
    }
    Guid::parse_text(&t).map(Some).map_err(|e| invalid(field, n.range().start, e.to_string()))
}

fn document<'t>(text: &'t XmlText<'_>) -> Result<Document<'t>> {
    let doc = Document::parse(&text.text).map_err(|e| invalid("document", 0, e.to_string()))?;
    if doc.root_element().tag_name().name() != "root" {
        let at = text.payload_offset(doc.root_element().range().start);
        return Err(invalid("root", at, "root element is not <root>"));
    }
    Ok(doc)
}

fn channels<'a, 'i>(doc: &'a Document<'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    doc.root_element().children().filter(|n| n.is_element() && n.has_tag_name("channel"))
}

impl ChannelRepr {
    fn parse(ch: Node<'_, '_>) -> Result<ChannelRepr> {
        let mut c = ChannelRepr::default();
        let mut have_guid = false;
        for n in ch.children().filter(Node::is_element) {
            match n.tag_name().name() {
                "ChannelGuid" => {
                    c.guid = guid(n, "ChannelGuid")?.ok_or_else(|| invalid("ChannelGuid", n.range().start, "empty"))?;
                    have_guid = true;
                }
                "BaseChannelGuid" => c.base_guid = guid(n, "BaseChannelGuid")?,
                "ChannelName" => c.name = text_of(n).into_owned(),
                "ChannelNameEn" => c.name_en = text_of(n).into_owned(),
                "Author" => c.author = text_of(n).into_owned(),
                "AuthorUrl" => c.author_url = text_of(n).into_owned(),
                "PlayLink" => c.play_link = join_lines(&text_of(n)),
                "PeerCount" => c.peer_count = number(n, "PeerCount")?,
                "Bitrate" => c.bitrate = number(n, "Bitrate")?,
                "PreViewUrl" => c.preview_url = text_of(n).into_owned(),
                "Quatity" => c.quality = number(n, "Quatity")?,
                "Catalog" => c.catalog = number(n, "Catalog")?,
                "ProgramList1" => c.program_list1 = text_of(n).into_owned(),
                "ProgramList2" => c.program_list2 = text_of(n).into_owned(),
                _ => {}
            }
        }
        if !have_guid {
            return Err(invalid("ChannelGuid", ch.range().start, "channel without <ChannelGuid>"));
        }
        Ok(c)
    }

    /// The parsed PlayLink.
    pub fn play_link(&self) -> Result<PlayLinkRepr> {
        PlayLinkRepr::parse(&self.play_link)
    }

    fn emit(&self, out: &mut String) {
        use quick_xml::escape::escape;
        let mut el = |tag: &str, v: &str| {
            if v.is_empty() {
                out.push_str(&format!("<{tag} />\n"));
            } else {
                out.push_str(&format!("<{tag}>{}</{tag}>\n", escape(v)));
            }
        };
        let num = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
        el("ChannelGuid", &self.guid.to_string());
        el("BaseChannelGuid", &self.base_guid.map(|g| g.to_string()).unwrap_or_default());
        el("ChannelName", &self.name);
        el("ChannelNameEn", &self.name_en);
        el("Author", &self.author);
        el("AuthorUrl", &self.author_url);
        el("PlayLink", &self.play_link);
        el("PeerCount", &num(self.peer_count));
        el("Bitrate", &num(self.bitrate));
        el("PreViewUrl", &self.preview_url);
        el("Quatity", &num(self.quality));
        el("Catalog", &num(self.catalog));
        el("ProgramList1", &self.program_list1);
        el("ProgramList2", &self.program_list2);
    }
}

impl ChannelListRepr {
    /// Strict: any channel with a missing/malformed GUID or a non-numeric
    /// number field is an error.
    pub fn parse(buf: &[u8]) -> Result<ChannelListRepr> {
        let text = XmlText::decode(buf)?;
        let doc = document(&text)?;
        let channels = channels(&doc).map(ChannelRepr::parse).collect::<Result<_>>().map_err(|e| match e {
            Error::Invalid { message, field, offset, reason } => {
                Error::Invalid { message, field, offset: text.payload_offset(offset), reason }
            }
            e => e,
        })?;
        Ok(ChannelListRepr { channels })
    }

    /// The XML document, UTF-8, in the layout of the study's example.
    pub fn to_xml(&self) -> String {
        let mut s = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<root>\n");
        for c in &self.channels {
            s.push_str("<channel>\n");
            c.emit(&mut s);
            s.push_str("</channel>\n");
        }
        s.push_str("</root>\n");
        s
    }

    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.to_xml().as_bytes());
    }
}

/// True if `buf` is a channel list: XML whose `<root>` holds a `<channel>`
/// with a `<ChannelGuid>` that is a GUID. An empty `<root/>` or another
/// document is not (evidence before a claim).
pub fn is_channel_list(buf: &[u8]) -> bool {
    let start = buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(buf).trim_ascii_start();
    if !start.starts_with(b"<") {
        return false;
    }
    let Ok(text) = XmlText::decode(buf) else { return false };
    let Ok(doc) = document(&text) else { return false };
    let found = channels(&doc).any(|ch| {
        ch.children()
            .filter(Node::is_element)
            .any(|n| n.has_tag_name("ChannelGuid") && guid(n, "ChannelGuid").is_ok_and(|g| g.is_some()))
    });
    found
}

/// Lax tree: a bad value becomes a note, the rest is still shown.
pub fn to_tree(buf: &[u8]) -> Result<Tree> {
    let text = XmlText::decode(buf)?;
    let doc = document(&text)?;
    let src: &str = &text.text;
    let mut notes = Vec::new();
    let mut list = Vec::new();
    for ch in channels(&doc) {
        let r = ch.range();
        let mut fields = Vec::new();
        for n in ch.children().filter(Node::is_element) {
            let Some(def) = def_for(n.tag_name().name()) else {
                continue;
            };
            // The span is the text if there is one, else the empty element.
            let span = n.first_child().filter(|t| t.is_text()).map_or(n.range(), |t| t.range());
            let (o, l) = (span.start, span.len());
            let t = text_of(n);
            let value = match def.kind {
                crate::tree::ValueKind::Guid if t.is_empty() => continue,
                crate::tree::ValueKind::Guid => Guid::parse_text(&t).map(Value::Guid).map_err(|e| e.to_string()),
                crate::tree::ValueKind::U32 if t.is_empty() => continue,
                crate::tree::ValueKind::U32 => t.parse().map(Value::U32).map_err(|_| format!("{t:?} is not a number")),
                _ if def.name == hf::CHANNEL_PLAY_LINK.name => Ok(Value::Str(join_lines(&t))),
                _ => Ok(Value::Str(t.into_owned())),
            };
            match value {
                Ok(v) => {
                    let mut f = Field::new(def, o, l, v);
                    if def.name == hf::CHANNEL_PLAY_LINK.name {
                        match play_link::to_field(&src[span.clone()], o) {
                            Ok(link) => f.children.push(link),
                            Err(e) => notes.push(Note::new(&ei::BAD_VALUE, o, l, e.to_string())),
                        }
                    }
                    fields.push(f);
                }
                Err(why) => notes.push(Note::new(&ei::BAD_VALUE, o, l, format!("{}: {why}", def.label))),
            }
        }
        list.push(Field::subtree(&hf::CHANNEL, r.start, r.len(), fields));
    }
    // Spans so far are in the decoded text; bring them back to the payload.
    fn remap(f: &mut Field, text: &XmlText<'_>) {
        (f.offset, f.len) = text.payload_span(f.offset, f.len);
        f.children.iter_mut().for_each(|c| remap(c, text));
    }
    list.iter_mut().for_each(|f| remap(f, &text));
    for n in &mut notes {
        (n.offset, n.len) = text.payload_span(n.offset, n.len);
    }
    Ok(Tree {
        generation: Some(Generation::Pplive2005),
        message: MessageKind::ChannelList,
        fields: vec![Field::subtree(&hf::CHANNELS, 0, buf.len(), list)],
        notes,
    })
}

fn def_for(tag: &str) -> Option<&'static FieldDef> {
    Some(match tag {
        "ChannelGuid" => &hf::CHANNEL_GUID,
        "BaseChannelGuid" => &hf::CHANNEL_BASE_GUID,
        "ChannelName" => &hf::CHANNEL_NAME,
        "ChannelNameEn" => &hf::CHANNEL_NAME_EN,
        "Author" => &hf::CHANNEL_AUTHOR,
        "AuthorUrl" => &hf::CHANNEL_AUTHOR_URL,
        "PlayLink" => &hf::CHANNEL_PLAY_LINK,
        "PeerCount" => &hf::CHANNEL_PEER_COUNT,
        "Bitrate" => &hf::CHANNEL_BITRATE,
        "PreViewUrl" => &hf::CHANNEL_PREVIEW_URL,
        "Quatity" => &hf::CHANNEL_QUALITY,
        "Catalog" => &hf::CHANNEL_CATALOG,
        "ProgramList1" => &hf::CHANNEL_PROGRAM_LIST1,
        "ProgramList2" => &hf::CHANNEL_PROGRAM_LIST2,
        _ => return None,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// \[M\]'s example, one channel, as printed (Author elided by the study).
    pub const STUDY_XML: &str = "<root>\n<channel>\n<ChannelGuid>{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}</ChannelGuid>\n<BaseChannelGuid>{ceb266b8-11d4-4ab3-83bc-c4b502a3cb74}</BaseChannelGuid>\n<ChannelName>CCTV-5</ChannelName>\n<ChannelNameEn>CCTV-5</ChannelNameEn>\n<Author>..........</Author>\n<AuthorUrl>http://www.pplive.com</AuthorUrl>\n<PlayLink>\npplive://211.162.0.46:8000/tracker?\nsource={7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}&amp;type=udp&amp;\nchnname=CCTV-5&amp;engname=CCTV-5&amp;tracker=udpt://211.162.0.46:8000;\ntcpt://211.162.0.46:8000;\n</PlayLink>\n<PeerCount>0</PeerCount>\n<Bitrate>0</Bitrate>\n<PreViewUrl />\n<Quatity>100</Quatity>\n<Catalog>2</Catalog>\n<ProgramList1 />\n<ProgramList2 />\n</channel>\n</root>\n";

    #[test]
    fn test_parse() {
        let list = ChannelListRepr::parse(STUDY_XML.as_bytes()).unwrap();
        assert_eq!(list.channels.len(), 1);
        let c = &list.channels[0];
        assert_eq!(c.guid.to_string(), "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}");
        assert_eq!(c.base_guid.unwrap().to_string(), "{CEB266B8-11D4-4AB3-83BC-C4B502A3CB74}");
        assert_eq!((c.name.as_str(), c.name_en.as_str()), ("CCTV-5", "CCTV-5"));
        assert_eq!(c.author_url, "http://www.pplive.com");
        assert_eq!((c.peer_count, c.bitrate, c.quality, c.catalog), (Some(0), Some(0), Some(100), Some(2)));
        assert_eq!((c.preview_url.as_str(), c.program_list1.as_str()), ("", ""));
        let link = c.play_link().unwrap();
        assert_eq!(link.source, c.guid);
        assert_eq!(link.trackers.len(), 2);
    }

    #[test]
    fn test_emit() {
        let list = ChannelListRepr::parse(STUDY_XML.as_bytes()).unwrap();
        let xml = list.to_xml();
        assert!(xml.contains("&amp;type=udp&amp;chnname=CCTV-5"), "{xml}");
        assert!(xml.contains("<Quatity>100</Quatity>"));
        assert_eq!(ChannelListRepr::parse(xml.as_bytes()).unwrap(), list);
    }

    #[test]
    fn test_tree() {
        let tree = to_tree(STUDY_XML.as_bytes()).unwrap();
        let g = tree.find("pplive.channel.guid").unwrap();
        assert_eq!(&STUDY_XML[g.offset..g.offset + g.len], "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}");
        assert_eq!(tree.find("pplive.channel.quality").unwrap().value, Value::U32(100));
        assert_eq!(tree.find_all("pplive.playlink.tracker").count(), 2);
        let src = tree.find("pplive.playlink.source").unwrap();
        assert_eq!(&STUDY_XML[src.offset..src.offset + src.len], "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}");
        assert!(tree.notes.is_empty(), "{:?}", tree.notes);
    }

    /// A list in GB2312, as the client may have been served it.
    #[test]
    fn test_gb2312_list() {
        let mut xml = b"<?xml version=\"1.0\" encoding=\"gb2312\"?>\n".to_vec();
        xml.extend_from_slice(STUDY_XML.replace("<Author>..........</Author>", "<Author>\u{0}</Author>").as_bytes());
        // Author: "央视" in GB2312 (d1 eb ca d3).
        let at = xml.windows(1).position(|w| w == [0]).unwrap();
        xml.splice(at..at + 1, [0xd1, 0xeb, 0xca, 0xd3]);
        assert!(core::str::from_utf8(&xml).is_err());
        let list = ChannelListRepr::parse(&xml).unwrap();
        assert_eq!(list.channels[0].author, "央视");
        let tree = to_tree(&xml).unwrap();
        let a = tree.find("pplive.channel.author").unwrap();
        assert_eq!(&xml[a.offset..a.offset + a.len], [0xd1, 0xeb, 0xca, 0xd3]);
        let g = tree.find("pplive.playlink.source").unwrap();
        assert_eq!(&xml[g.offset..g.offset + g.len], CCTV5_TEXT.as_bytes());
    }

    const CCTV5_TEXT: &str = "{7D0F9A10-F9C3-4AAE-A2D6-0E54639BC715}";

    #[test]
    fn test_bad_values() {
        let xml = STUDY_XML.replace("<Bitrate>0</Bitrate>", "<Bitrate>fast</Bitrate>");
        assert!(matches!(ChannelListRepr::parse(xml.as_bytes()), Err(Error::Invalid { field: "Bitrate", .. })));
        let tree = to_tree(xml.as_bytes()).unwrap();
        assert_eq!(tree.notes.len(), 1);
        assert!(tree.find("pplive.channel.bitrate").is_none());
        assert!(ChannelListRepr::parse(b"<html/>").is_err());
        assert!(ChannelListRepr::parse(b"<root><channel><ChannelName>x</ChannelName></channel></root>").is_err());
        assert!(ChannelListRepr::parse(&[0xff, 0xfe]).is_err());
        let err = ChannelListRepr::parse("<root><channel><ChannelGuid>{bad}</ChannelGuid></channel></root>".as_bytes());
        assert!(matches!(err, Err(Error::Invalid { field: "ChannelGuid", offset: 15, .. })), "{err:?}");
    }

    fn text() -> impl Strategy<Value = String> {
        // Trimmed, printable: parse trims surrounding whitespace.
        "([!-~]([ -~]{0,10}[!-~])?)?"
    }

    proptest! {
        #[test]
        fn prop_round_trip(g in any::<[u8; 16]>(), b in proptest::option::of(any::<[u8; 16]>()),
                           name in text(), url in text(), n in proptest::option::of(any::<u32>()),
                           q in proptest::option::of(any::<u32>())) {
            let c = ChannelRepr { guid: Guid(g), base_guid: b.map(Guid), name: name.clone(), name_en: name,
                author: "a&b<c>".into(), author_url: url.clone(), play_link: url, peer_count: n, bitrate: q,
                quality: q, catalog: n, ..Default::default() };
            let list = ChannelListRepr { channels: vec![c.clone(), c] };
            let mut out = Vec::new();
            list.emit(&mut out);
            prop_assert_eq!(ChannelListRepr::parse(&out).unwrap(), list);
        }

        #[test]
        fn prop_random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = ChannelListRepr::parse(&b);
            let _ = to_tree(&b);
        }

        #[test]
        fn prop_random_never_panics(s in "<root>(<channel>(<[A-Za-z]{1,12}>[ -~]{0,30}</[A-Za-z]{1,12}>){0,3}</channel>)?</root>") {
            let _ = ChannelListRepr::parse(s.as_bytes());
            let _ = to_tree(s.as_bytes());
        }
    }
}
