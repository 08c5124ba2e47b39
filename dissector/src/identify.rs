//! Application identification from the public DPI rules (METHODS.md §10:
//! OpenDPI/nDPI `pplive.c`, `sopcast.c`, `ppstream.c`, libprotoident), plus
//! the formats \[M\] documents (METHODS.md §8: exact fits of the 2005 peer
//! lists, the channel list, PlayLinks) and exact fits of the described 2010
//! PPTV layouts (PPTV is PPLive renamed, so those count as PPLive). Each rule
//! has a stable name and a [`Strength`]; the result says which rule matched
//! and which bytes it matched, or that none did. Offsets are into the UDP/TCP
//! payload.
//!
//! Rules are checked per packet, with no flow state. A [`Strength::Weak`]
//! rule (a port, a byte or two, a length a random packet may have) does not
//! attribute a flow on its own: [`crate::flow::FlowEvidence`] waits for the
//! corroboration [`Rule::corroboration`] names.

use std::cell::OnceCell;

use crate::layout::{exact_fits, ExactFit};
use crate::tcp_frame;
use crate::tree::MessageKind;
use crate::v2005::{channel_list, play_link::PlayLinkRepr};

/// Transport of the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

/// The application a payload was attributed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum App {
    PpLive,
    SopCast,
    PpStream,
    Unknown,
}

impl App {
    pub fn name(self) -> &'static str {
        match self {
            App::PpLive => "PPLive",
            App::SopCast => "SOPCast",
            App::PpStream => "PPStream",
            App::Unknown => "unknown",
        }
    }
}

/// How much one match of a rule says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strength {
    /// Decisive on one packet: at least four fixed bytes tied to a length, a
    /// layout whose counts explain the length, or text naming the application.
    Strong,
    /// A port, a byte or two, or a length a random packet may have: the flow
    /// is attributed only once [`Rule::corroboration`] holds.
    Weak,
}

/// What a weak rule needs before its flow is attributed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Corroboration {
    /// Nothing: the rule is strong.
    None,
    /// The flow's first two payloads both match rules of the application and
    /// are not the same bytes (a retransmission corroborates nothing).
    SecondPayload,
    /// The payload is the first of its TCP connection, as the rule's text says.
    FirstOfConnection,
}

impl Corroboration {
    pub fn description(self) -> &'static str {
        match self {
            Corroboration::None => "strong rule: one packet suffices",
            Corroboration::SecondPayload => {
                "weak rule: the flow's first two payloads must both match the application, and differ"
            }
            Corroboration::FirstOfConnection => "weak rule: must be the first payload of its TCP connection",
        }
    }
}

macro_rules! rules {
    ($($id:ident = $name:literal, $app:ident, $strength:ident, $doc:literal;)*) => {
        /// A named identification rule.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Rule {
            $(#[doc = concat!("`", $name, "`: ", $doc)] $id,)*
        }

        impl Rule {
            /// Every rule, in the order they are tried.
            pub const ALL: &'static [Rule] = &[$(Rule::$id),*];

            /// Stable dotted name, for counters and reports.
            pub fn name(self) -> &'static str {
                match self { $(Rule::$id => $name,)* }
            }

            pub fn app(self) -> App {
                match self { $(Rule::$id => App::$app,)* }
            }

            pub fn strength(self) -> Strength {
                match self { $(Rule::$id => Strength::$strength,)* }
            }

            /// What the rule tests.
            pub fn description(self) -> &'static str {
                match self { $(Rule::$id => $doc,)* }
            }

            /// The rule by its [`Rule::name`].
            pub fn by_name(name: &str) -> Option<Rule> {
                Rule::ALL.iter().copied().find(|r| r.name() == name)
            }
        }
    };
}

rules! {
    PpliveUdpRequest = "pplive.udp.e903_request", PpLive, Strong, "UDP starting e9 03 41 01";
    PpliveUdpResponse = "pplive.udp.e903_response", PpLive, Strong, "UDP starting e9 03 42 01";
    PpliveUdp98ab = "pplive.udp.e903_98ab", PpLive, Strong, "UDP e9 03 ?? {00|01} 98 ab 01 02, longer than 50 bytes";
    PpliveUdp1c1c = "pplive.udp.1c1c3201", PpLive, Strong, "UDP starting 1c 1c 32 01";
    PpliveUdp94 = "pplive.udp.94_b113", PpLive, Strong, "UDP 94 bytes, p[8]=0, LE u32 at 9 in 0x101..=0x103, b1 13 at 58";
    PpliveUdp76 = "pplive.udp.76_ac", PpLive, Weak, "UDP >= 76 bytes, p[0] in {01,18,05}, p[1]=0, u32 at 12 = 0, p[16] in {0,1}, p[17]=0, p[24]=ac";
    PpliveUdpTrackerReply2005 = "pplive.udp.tracker_reply_2005", PpLive, Strong, "2005 tracker reply over UDP: 02 00 00 02, length = 17 + 18 x count";
    PpliveUdpGossip2005 = "pplive.udp.gossip_2005", PpLive, Strong, "2005 gossip over UDP: 02 00 00 02, length = 41 + 18 x count";
    PpliveTcpTrackerReply2005 = "pplive.tcp.tracker_reply_2005", PpLive, Strong, "2005 tracker reply over TCP: 02 00 00 02, length = 17 + 18 x count";
    PpliveTcpGossip2005 = "pplive.tcp.gossip_2005", PpLive, Strong, "2005 gossip over TCP: 02 00 00 02, length = 41 + 18 x count";
    PpliveTcpLength = "pplive.tcp.length_21_98ab", PpLive, Strong, "TCP BE u32 length = payload - 4, then 21 00 ?? ?? 98 ab 01 02";
    PpliveHttpPragma = "pplive.http.pragma", PpLive, Strong, "HTTP header Pragma: Client=PPLive";
    PpliveHttpUserAgent = "pplive.http.user_agent", PpLive, Strong, "HTTP User-Agent PPLive DAC or PPLive-Media-Player";
    PpliveHttpBootstrap = "pplive.http.bootstrap", PpLive, Strong, "GET /update/pplive/update.inf, or GET of all.xml or channel.xml from a PPLive host";
    PpliveHttpHost = "pplive.http.host", PpLive, Strong, "HTTP Host player.pplive..., or a host under pplive.com or pplive.cn";
    PpliveChannelList = "pplive.xml.channel_list", PpLive, Strong, "a channel list (bare, or an HTTP body): XML <root> with a <channel> whose <ChannelGuid> is a GUID";
    PplivePlayLink = "pplive.text.play_link", PpLive, Strong, "text pplive://HOST:PORT/PATH?source={GUID}...";
    SopcastUdp52 = "sopcast.udp.52", SopCast, Strong, "UDP 52 bytes ff ff 01, bytes 8..15 = 02 ff 00 2c 00 00 00";
    SopcastUdp28 = "sopcast.udp.28_80_94", SopCast, Strong, "UDP 28/80/94 bytes 00 ?? {01|02}, bytes 8..14 = 01 ff 00 14 00 00";
    SopcastUdp60 = "sopcast.udp.60", SopCast, Strong, "UDP 60 bytes, bytes 8..12 = 03 ff 00 34";
    SopcastUdp42 = "sopcast.udp.42", SopCast, Strong, "UDP 42 bytes 00 02 01 07 03, bytes 8..14 = 06 01 00 22 00 00";
    SopcastUdp76 = "sopcast.udp.76", SopCast, Strong, "UDP 76 bytes ff ff 01, bytes 8..12 = 0c ff 00 44";
    SopcastTcp54 = "sopcast.tcp.54", SopCast, Weak, "TCP 54 bytes starting 00 36";
    PpstreamUdpTracker = "ppstream.udp.tracker", PpStream, Weak, "UDP port 17788, LE u16 at 0 = length (or -4/-6), p[2] in {43,44,55}";
    PpstreamUdpPeer = "ppstream.udp.peer_data", PpStream, Weak, "UDP p[1] in {80,84} and p[3] = p[4] != 0, at least 18 bytes";
    PptvUdpTracker2010 = "pptv.udp.tracker_2010", PpLive, Weak, "2010 PPTV tracker packet whose body fits its described layout exactly";
    PptvUdpPeer2010 = "pptv.udp.live_2010", PpLive, Weak, "2010 PPTV live packet 0xC0-0xC3 whose body fits exactly";
}

impl Rule {
    /// What a match needs before its flow is attributed.
    pub fn corroboration(self) -> Corroboration {
        match (self.strength(), self) {
            (Strength::Strong, _) => Corroboration::None,
            (Strength::Weak, Rule::SopcastTcp54) => Corroboration::FirstOfConnection,
            (Strength::Weak, _) => Corroboration::SecondPayload,
        }
    }
}

/// A span of the payload: the bytes a rule matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
}

impl Span {
    pub const fn new(offset: usize, len: usize) -> Span {
        Span { offset, len }
    }
    fn whole(p: &[u8]) -> Span {
        Span { offset: 0, len: p.len() }
    }
}

/// What [`identify`] concluded about one payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identification {
    pub app: App,
    /// The rule that matched; `None` exactly when `app` is `Unknown`.
    pub rule: Option<Rule>,
    /// The bytes the rule matched (empty when no rule did).
    pub evidence: Span,
}

impl Identification {
    pub const UNKNOWN: Identification = Identification { app: App::Unknown, rule: None, evidence: Span::new(0, 0) };

    /// The evidence as text: `bytes 0..4 (e9 03 41 01)`, printable text quoted.
    pub fn evidence_text(&self, payload: &[u8]) -> String {
        let Span { offset, len } = self.evidence;
        let Some(bytes) = payload.get(offset..offset + len) else {
            return format!("bytes {offset}..{}", offset + len);
        };
        const SHOWN: usize = 16;
        let shown = &bytes[..bytes.len().min(SHOWN)];
        let more = if bytes.len() > SHOWN { " …" } else { "" };
        let printable = shown.iter().all(|b| b.is_ascii_graphic() || *b == b' ');
        let body = if printable {
            format!("{:?}{more}", String::from_utf8_lossy(shown))
        } else {
            let hex: Vec<String> = shown.iter().map(|b| format!("{b:02x}")).collect();
            format!("{}{more}", hex.join(" "))
        };
        format!("bytes {offset}..{} ({body})", offset + len)
    }
}

/// The UDP port PPStream trackers listen on.
pub const PPSTREAM_TRACKER_PORT: u16 = 17788;

/// Tries every rule in [`Rule::ALL`] order; the first match wins. The
/// exact-layout test runs at most once per call.
pub fn identify(proto: Transport, src_port: u16, dst_port: u16, payload: &[u8]) -> Identification {
    let fit = OnceCell::new();
    let fit = || *fit.get_or_init(|| exact_fits(payload));
    Rule::ALL
        .iter()
        .copied()
        .find_map(|r| {
            let evidence = matches_with(r, proto, src_port, dst_port, payload, &fit)?;
            Some(Identification { app: r.app(), rule: Some(r), evidence })
        })
        .unwrap_or(Identification::UNKNOWN)
}

/// [`identify`] for the first bytes of a payload of `full_len` bytes (a
/// capture cut at its snap length, a kernel sample): the 2005 peer-list
/// rules are decided on the full length, which their counts must explain;
/// the other rules see only what was captured.
pub fn identify_cut(
    proto: Transport,
    src_port: u16,
    dst_port: u16,
    captured: &[u8],
    full_len: usize,
) -> Identification {
    if captured.len() >= full_len {
        return identify(proto, src_port, dst_port, &captured[..full_len]);
    }
    let rule = match (crate::v2005::peer_list_fit(captured, full_len), proto) {
        (Some(MessageKind::TrackerReply), Transport::Udp) => Rule::PpliveUdpTrackerReply2005,
        (Some(MessageKind::TrackerReply), Transport::Tcp) => Rule::PpliveTcpTrackerReply2005,
        (Some(MessageKind::Gossip), Transport::Udp) => Rule::PpliveUdpGossip2005,
        (Some(MessageKind::Gossip), Transport::Tcp) => Rule::PpliveTcpGossip2005,
        _ => return identify(proto, src_port, dst_port, captured),
    };
    Identification { app: App::PpLive, rule: Some(rule), evidence: Span::whole(captured) }
}

/// Whether one rule matches; exposed for counting every match, not just the first.
pub fn matches(rule: Rule, proto: Transport, src_port: u16, dst_port: u16, p: &[u8]) -> bool {
    matches_with(rule, proto, src_port, dst_port, p, &|| exact_fits(p)).is_some()
}

/// The first HTTP rule an HTTP message matches: the evidence that it is
/// PPLive's (for [`crate::dissect`], which decodes no other HTTP).
pub fn http_evidence(p: &[u8]) -> Option<(Rule, Span)> {
    [Rule::PpliveHttpPragma, Rule::PpliveHttpUserAgent, Rule::PpliveHttpBootstrap, Rule::PpliveHttpHost]
        .into_iter()
        .find_map(|r| Some((r, http_rule(r, p)?)))
}

fn matches_with(
    rule: Rule,
    proto: Transport,
    src_port: u16,
    dst_port: u16,
    p: &[u8],
    fit: &dyn Fn() -> ExactFit,
) -> Option<Span> {
    use Rule::*;
    let whole = Span::whole(p);
    let on = |t: Transport, hit: bool, span: Span| (proto == t && hit).then_some(span);
    match rule {
        PpliveUdpRequest => on(Transport::Udp, p.starts_with(&[0xe9, 0x03, 0x41, 0x01]), Span::new(0, 4)),
        PpliveUdpResponse => on(Transport::Udp, p.starts_with(&[0xe9, 0x03, 0x42, 0x01]), Span::new(0, 4)),
        PpliveUdp1c1c => on(Transport::Udp, p.starts_with(&[0x1c, 0x1c, 0x32, 0x01]), Span::new(0, 4)),
        PpliveUdpTrackerReply2005 | PpliveTcpTrackerReply2005 => {
            let t = if rule == PpliveUdpTrackerReply2005 { Transport::Udp } else { Transport::Tcp };
            on(t, fit().contains(MessageKind::TrackerReply), whole)
        }
        PpliveUdpGossip2005 | PpliveTcpGossip2005 => {
            let t = if rule == PpliveUdpGossip2005 { Transport::Udp } else { Transport::Tcp };
            on(t, fit().contains(MessageKind::Gossip), whole)
        }
        PptvUdpTracker2010 => on(Transport::Udp, fit().contains(MessageKind::PptvTracker), whole),
        PptvUdpPeer2010 => on(Transport::Udp, fit().contains(MessageKind::PptvLive), whole),
        PpliveHttpPragma | PpliveHttpUserAgent | PpliveHttpBootstrap | PpliveHttpHost => {
            (proto == Transport::Tcp).then(|| http_rule(rule, p)).flatten()
        }
        PpliveChannelList => channel_list_evidence(p),
        PplivePlayLink => play_link_evidence(p),
        _ => binary_rule(rule, proto, src_port, dst_port, p),
    }
}

/// The fixed-pattern rules of the DPI projects.
fn binary_rule(rule: Rule, proto: Transport, src_port: u16, dst_port: u16, p: &[u8]) -> Option<Span> {
    use Rule::*;
    let len = p.len();
    let at = |i: usize| p.get(i).copied();
    let eq = |i: usize, b: &[u8]| p.get(i..i + b.len()) == Some(b);
    let le32 = |i: usize| p.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let whole = Span::whole(p);
    let (udp, tcp) = (proto == Transport::Udp, proto == Transport::Tcp);
    let hit = match rule {
        PpliveUdp98ab => {
            udp && len > 50 && eq(0, &[0xe9, 0x03]) && matches!(at(3), Some(0 | 1)) && eq(4, &[0x98, 0xab, 0x01, 0x02])
        }
        PpliveUdp94 => {
            udp && len == 94 && at(8) == Some(0) && matches!(le32(9), Some(0x101..=0x103)) && eq(58, &[0xb1, 0x13])
        }
        PpliveUdp76 => {
            udp && len >= 76
                && matches!(at(0), Some(0x01 | 0x18 | 0x05))
                && at(1) == Some(0)
                && le32(12) == Some(0)
                && matches!(at(16), Some(0 | 1))
                && at(17) == Some(0)
                && at(24) == Some(0xac)
        }
        PpliveTcpLength => tcp && tcp_frame::fits(p),
        SopcastUdp52 => udp && len == 52 && eq(0, &[0xff, 0xff, 0x01]) && eq(8, &[0x02, 0xff, 0x00, 0x2c, 0, 0, 0]),
        SopcastUdp28 => {
            udp && matches!(len, 28 | 80 | 94)
                && at(0) == Some(0)
                && matches!(at(2), Some(1 | 2))
                && eq(8, &[0x01, 0xff, 0x00, 0x14, 0, 0])
        }
        SopcastUdp60 => udp && len == 60 && eq(8, &[0x03, 0xff, 0x00, 0x34]),
        SopcastUdp42 => {
            udp && len == 42 && eq(0, &[0x00, 0x02, 0x01, 0x07, 0x03]) && eq(8, &[0x06, 0x01, 0x00, 0x22, 0, 0])
        }
        SopcastUdp76 => udp && len == 76 && eq(0, &[0xff, 0xff, 0x01]) && eq(8, &[0x0c, 0xff, 0x00, 0x44]),
        SopcastTcp54 => tcp && len == 54 && eq(0, &[0x00, 0x36]),
        PpstreamUdpTracker => {
            udp && (src_port == PPSTREAM_TRACKER_PORT || dst_port == PPSTREAM_TRACKER_PORT)
                && len >= 3
                && {
                    let n = u16::from_le_bytes([p[0], p[1]]) as usize;
                    n == len || n + 4 == len || n + 6 == len
                }
                && matches!(p[2], 0x43 | 0x44 | 0x55)
        }
        // The rule's text allows p[3] = p[4] = 0, which every DNS query with
        // an ID ending 80 or 84 has (flags 01 00, then the count's 00); no
        // PPStream peer packet of the reference capture does.
        PpstreamUdpPeer => udp && len >= 18 && matches!(p[1], 0x80 | 0x84) && p[3] == p[4] && p[3] != 0,
        _ => false,
    };
    let span = match rule {
        PpliveUdp98ab => Span::new(0, 8),
        PpliveUdp94 => Span::new(8, 52),
        PpliveUdp76 => Span::new(0, 25),
        PpliveTcpLength => Span::new(0, 12),
        SopcastTcp54 => Span::new(0, 2),
        PpstreamUdpTracker => Span::new(0, 3),
        PpstreamUdpPeer => Span::new(1, 4),
        _ => whole,
    };
    hit.then_some(span)
}

/// The span of one HTTP rule's evidence in an HTTP head at the start of `p`.
fn http_rule(rule: Rule, p: &[u8]) -> Option<Span> {
    use Rule::*;
    let head = HttpHead::new(p)?;
    match rule {
        PpliveHttpPragma => head.header("pragma").find(|h| contains(h.value, b"Client=PPLive")).map(|h| h.span),
        PpliveHttpUserAgent => head
            .header("user-agent")
            .find(|h| h.value.starts_with(b"PPLive DAC") || h.value.starts_with(b"PPLive-Media-Player"))
            .map(|h| h.span),
        PpliveHttpHost => head.header("host").find(|h| pplive_host(h.value)).map(|h| h.span),
        PpliveHttpBootstrap => {
            let line = head.request_line?;
            let path = line.strip_prefix(b"GET ")?.split(|&b| b == b' ').next()?;
            let path = path.split(|&b| b == b'?').next()?;
            let update = path == b"/update/pplive/update.inf";
            let list = path.ends_with(b"/all.xml") || path.ends_with(b"/channel.xml");
            let to_pplive = head.header("host").any(|h| pplive_host(h.value));
            (update || (list && to_pplive)).then_some(Span::new(0, line.len()))
        }
        _ => None,
    }
}

/// `player.pplive…` (METHODS §10) or a name under pplive.com / pplive.cn
/// (METHODS §8: update.pplive.com, list.pplive.com), port ignored.
fn pplive_host(value: &[u8]) -> bool {
    let host = value.split(|&b| b == b':').next().unwrap_or(value).to_ascii_lowercase();
    let under = |domain: &[u8]| {
        host == domain
            || (host.len() > domain.len() && host.ends_with(domain) && host[host.len() - domain.len() - 1] == b'.')
    };
    host.starts_with(b"player.pplive") || under(b"pplive.com") || under(b"pplive.cn")
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A bare channel list, or an HTTP message whose body is one.
fn channel_list_evidence(p: &[u8]) -> Option<Span> {
    let (body, at) = match HttpHead::new(p) {
        Some(head) => (&p[head.body_at?..], head.body_at?),
        None => (p, 0),
    };
    channel_list::is_channel_list(body).then_some(Span::new(at, body.len()))
}

fn play_link_evidence(p: &[u8]) -> Option<Span> {
    let text = core::str::from_utf8(p).ok()?;
    let t = text.trim();
    (t.starts_with("pplive://") && PlayLinkRepr::parse(t).is_ok()).then_some(Span::whole(p))
}

/// A header line of an HTTP head: its value and the span of the line.
struct HeaderLine<'a> {
    value: &'a [u8],
    span: Span,
}

/// The head of an HTTP message at the start of a payload, read without
/// allocating: the start line and the header lines up to the blank line.
struct HttpHead<'a> {
    p: &'a [u8],
    /// The start line of a request (`None` for a response).
    request_line: Option<&'a [u8]>,
    /// Where the body starts, if the blank line is there.
    body_at: Option<usize>,
}

impl<'a> HttpHead<'a> {
    const STARTS: [&'static [u8]; 6] = [b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE ", b"HTTP/"];

    fn new(p: &'a [u8]) -> Option<HttpHead<'a>> {
        if !Self::STARTS.iter().any(|s| p.starts_with(s)) {
            return None;
        }
        let first = p.iter().position(|&b| b == b'\n').map_or(p, |i| &p[..i]);
        let first = first.strip_suffix(b"\r").unwrap_or(first);
        let request_line = (!p.starts_with(b"HTTP/")).then_some(first);
        let body_at = find(p, b"\r\n\r\n").map(|i| i + 4).or_else(|| find(p, b"\n\n").map(|i| i + 2));
        Some(HttpHead { p, request_line, body_at })
    }

    /// The lines after the start line, up to the blank line.
    fn lines(&self) -> impl Iterator<Item = (usize, &'a [u8])> + '_ {
        let mut at = 0;
        self.p
            .split(|&b| b == b'\n')
            .map(move |l| {
                let start = at;
                at += l.len() + 1;
                (start, l.strip_suffix(b"\r").unwrap_or(l))
            })
            .skip(1)
            .take_while(|(_, l)| !l.is_empty())
    }

    /// Header lines named `name` (lower-case).
    fn header(&'a self, name: &'a str) -> impl Iterator<Item = HeaderLine<'a>> + 'a {
        self.lines().filter_map(move |(at, l)| {
            let colon = l.iter().position(|&b| b == b':')?;
            l[..colon]
                .eq_ignore_ascii_case(name.as_bytes())
                .then(|| HeaderLine { value: l[colon + 1..].trim_ascii(), span: Span::new(at, l.len()) })
        })
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v2005::gossip::tests::study_gossip;
    use crate::v2005::tracker_reply::tests::study_reply;
    use proptest::prelude::*;

    fn rule(proto: Transport, sp: u16, dp: u16, p: &[u8]) -> Option<&'static str> {
        identify(proto, sp, dp, p).rule.map(Rule::name)
    }

    #[test]
    fn test_names_unique() {
        let mut names: Vec<_> = Rule::ALL.iter().map(|r| r.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Rule::ALL.len());
    }

    #[test]
    fn test_pplive_rules() {
        use Transport::*;
        assert_eq!(rule(Udp, 1, 2, &[0xe9, 0x03, 0x41, 0x01, 9]), Some("pplive.udp.e903_request"));
        assert_eq!(rule(Udp, 1, 2, &[0xe9, 0x03, 0x42, 0x01]), Some("pplive.udp.e903_response"));
        let mut p = vec![0u8; 51];
        p[..8].copy_from_slice(&[0xe9, 0x03, 0x77, 0x01, 0x98, 0xab, 0x01, 0x02]);
        assert_eq!(rule(Udp, 1, 2, &p), Some("pplive.udp.e903_98ab"));
        assert_eq!(rule(Udp, 1, 2, &p[..50]), None);
        assert_eq!(rule(Udp, 1, 2, &[0x1c, 0x1c, 0x32, 0x01]), Some("pplive.udp.1c1c3201"));
        let mut p = vec![0u8; 94];
        p[9..13].copy_from_slice(&0x102u32.to_le_bytes());
        p[58..60].copy_from_slice(&[0xb1, 0x13]);
        assert_eq!(rule(Udp, 1, 2, &p), Some("pplive.udp.94_b113"));
        let mut p = vec![0u8; 80];
        p[0] = 0x18;
        p[24] = 0xac;
        assert_eq!(rule(Udp, 1, 2, &p), Some("pplive.udp.76_ac"));
        assert_eq!(rule(Udp, 4004, 8000, &study_reply()), Some("pplive.udp.tracker_reply_2005"));
        assert_eq!(rule(Udp, 4004, 4004, &study_gossip()), Some("pplive.udp.gossip_2005"));
        let mut t = vec![0, 0, 0, 12, 0x21, 0x00, 5, 6, 0x98, 0xab, 0x01, 0x02, 0, 0, 0, 0];
        assert_eq!(rule(Tcp, 1, 2, &t), Some("pplive.tcp.length_21_98ab"));
        t.push(0);
        assert_eq!(rule(Tcp, 1, 2, &t), None);
        assert_eq!(rule(Tcp, 1, 80, b"GET /x HTTP/1.1\r\nPragma: Client=PPLive\r\n\r\n"), Some("pplive.http.pragma"));
        assert_eq!(
            rule(Tcp, 1, 80, b"GET /x HTTP/1.1\r\nUser-Agent: PPLive DAC\r\n\r\n"),
            Some("pplive.http.user_agent")
        );
        assert_eq!(rule(Tcp, 1, 80, b"GET /x HTTP/1.1\r\nhost: player.pplive.cn\r\n\r\n"), Some("pplive.http.host"));
        assert_eq!(rule(Tcp, 1, 80, b"GET /update/pplive/update.inf HTTP/1.1\r\n\r\n"), Some("pplive.http.bootstrap"));
        assert_eq!(
            rule(Tcp, 1, 80, b"GET /web/xml/all.xml HTTP/1.1\r\nHost: list.pplive.com\r\n\r\n"),
            Some("pplive.http.bootstrap")
        );
        assert_eq!(rule(Tcp, 1, 80, b"GET /web/xml/all.xml HTTP/1.1\r\nHost: example.org\r\n\r\n"), None);
        // Header text after the blank line is body, not a header.
        assert_eq!(rule(Tcp, 1, 80, b"GET /x HTTP/1.1\r\n\r\nPragma: Client=PPLive\r\n"), None);
    }

    #[test]
    fn test_sopcast_rules() {
        use Transport::*;
        let mut p = vec![0u8; 52];
        p[..3].copy_from_slice(&[0xff, 0xff, 0x01]);
        p[8..12].copy_from_slice(&[0x02, 0xff, 0x00, 0x2c]);
        assert_eq!(rule(Udp, 1, 2, &p), Some("sopcast.udp.52"));
        for n in [28, 80, 94] {
            let mut p = vec![0u8; n];
            p[2] = 2;
            p[8..12].copy_from_slice(&[0x01, 0xff, 0x00, 0x14]);
            assert_eq!(rule(Udp, 1, 2, &p), Some("sopcast.udp.28_80_94"), "{n}");
        }
        let mut p = vec![0u8; 60];
        p[8..12].copy_from_slice(&[0x03, 0xff, 0x00, 0x34]);
        assert_eq!(rule(Udp, 1, 2, &p), Some("sopcast.udp.60"));
        let mut p = vec![0u8; 42];
        p[..5].copy_from_slice(&[0, 2, 1, 7, 3]);
        p[8..12].copy_from_slice(&[0x06, 0x01, 0x00, 0x22]);
        assert_eq!(rule(Udp, 1, 2, &p), Some("sopcast.udp.42"));
        let mut p = vec![0u8; 76];
        p[..3].copy_from_slice(&[0xff, 0xff, 0x01]);
        p[8..12].copy_from_slice(&[0x0c, 0xff, 0x00, 0x44]);
        assert_eq!(rule(Udp, 1, 2, &p), Some("sopcast.udp.76"));
        let mut p = vec![0u8; 54];
        p[1] = 0x36;
        assert_eq!(rule(Tcp, 1, 2, &p), Some("sopcast.tcp.54"));
        assert_eq!(rule(Udp, 1, 2, &p), None);
    }

    #[test]
    fn test_ppstream_rules() {
        use Transport::*;
        // A tracker packet of the PPStream capture (first 8 of 88 bytes, padded).
        let mut p = vec![0u8; 88];
        p[..8].copy_from_slice(&[0x58, 0x00, 0x55, 0x72, 0x71, 0, 0, 0]);
        assert_eq!(rule(Udp, 22793, 17788, &p), Some("ppstream.udp.tracker"));
        assert_eq!(rule(Udp, 22793, 17789, &p), None);
        let mut d = vec![0u8; 37];
        d[..5].copy_from_slice(&[0xda, 0x80, 0x9e, 0xbb, 0xbb]);
        assert_eq!(rule(Udp, 22793, 22636, &d), Some("ppstream.udp.peer_data"));
        assert_eq!(identify(Udp, 1, 2, &[]), Identification::UNKNOWN);
    }

    proptest! {
        #[test]
        fn prop_random_never_panics(b in proptest::collection::vec(any::<u8>(), 0..120), sp in any::<u16>(), udp in any::<bool>()) {
            let proto = if udp { Transport::Udp } else { Transport::Tcp };
            let id = identify(proto, sp, 17788, &b);
            prop_assert_eq!(id.rule.is_none(), id.app == App::Unknown);
        }
    }
}
