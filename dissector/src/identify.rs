//! Application identification from the public DPI rules (METHODS.md §10:
//! OpenDPI/nDPI `pplive.c`, `sopcast.c`, `ppstream.c`, libprotoident), plus
//! exact fits of the 2005 layouts of \[M\]'s dumps and of the described 2010
//! PPTV layouts (PPTV is PPLive renamed, so those count as PPLive; they are
//! tried last, having no DPI project behind them). Each rule has a stable name; the result
//! says which rule matched, or that none did. Offsets are into the UDP/TCP
//! payload. Rules are checked per packet, with no flow state.

use std::cell::OnceCell;

use crate::dissect::exact_binary_fit;
use crate::tree::MessageKind;

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

macro_rules! rules {
    ($($id:ident = $name:literal, $app:ident, $doc:literal;)*) => {
        /// A named identification rule.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Rule {
            $(#[doc = concat!("`", $doc, "`")] $id,)*
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

            pub fn description(self) -> &'static str {
                match self { $(Rule::$id => $doc,)* }
            }
        }
    };
}

rules! {
    PpliveUdpRequest = "pplive.udp.e903_request", PpLive, "UDP starting e9 03 41 01";
    PpliveUdpResponse = "pplive.udp.e903_response", PpLive, "UDP starting e9 03 42 01";
    PpliveUdp98ab = "pplive.udp.e903_98ab", PpLive, "UDP e9 03 ?? {00|01} 98 ab 01 02, longer than 50 bytes";
    PpliveUdp1c1c = "pplive.udp.1c1c3201", PpLive, "UDP starting 1c 1c 32 01";
    PpliveUdp94 = "pplive.udp.94_b113", PpLive, "UDP 94 bytes, p[8]=0, LE u32 at 9 in 0x101..=0x103, b1 13 at 58";
    PpliveUdp76 = "pplive.udp.76_ac", PpLive, "UDP >= 76 bytes, p[0] in {01,18,05}, p[1]=0, u32 at 12 = 0, p[16] in {0,1}, p[17]=0, p[24]=ac";
    PpliveUdpTrackerReply2005 = "pplive.udp.tracker_reply_2005", PpLive, "2005 tracker reply: 02 00 00 02, length = 17 + 18 x count";
    PpliveUdpGossip2005 = "pplive.udp.gossip_2005", PpLive, "2005 gossip: 02 00 00 02, length = 41 + 18 x count";
    PpliveTcpLength = "pplive.tcp.length_21_98ab", PpLive, "TCP BE u32 length = payload - 4, then 21 00 ?? ?? 98 ab 01 02";
    PpliveHttpPragma = "pplive.http.pragma", PpLive, "HTTP header Pragma: Client=PPLive";
    PpliveHttpUserAgent = "pplive.http.user_agent", PpLive, "HTTP User-Agent PPLive DAC or PPLive-Media-Player";
    PpliveHttpHost = "pplive.http.host", PpLive, "HTTP Host player.pplive...";
    PpliveHttpBootstrap = "pplive.http.bootstrap", PpLive, "GET /update/pplive/update.inf, or GET /web/xml/all.xml to a pplive host";
    SopcastUdp52 = "sopcast.udp.52", SopCast, "UDP 52 bytes ff ff 01, bytes 8..15 = 02 ff 00 2c 00 00 00";
    SopcastUdp28 = "sopcast.udp.28_80_94", SopCast, "UDP 28/80/94 bytes 00 ?? {01|02}, bytes 8..14 = 01 ff 00 14 00 00";
    SopcastUdp60 = "sopcast.udp.60", SopCast, "UDP 60 bytes, bytes 8..12 = 03 ff 00 34";
    SopcastUdp42 = "sopcast.udp.42", SopCast, "UDP 42 bytes 00 02 01 07 03, bytes 8..14 = 06 01 00 22 00 00";
    SopcastUdp76 = "sopcast.udp.76", SopCast, "UDP 76 bytes ff ff 01, bytes 8..12 = 0c ff 00 44";
    SopcastTcp54 = "sopcast.tcp.54", SopCast, "TCP 54 bytes starting 00 36";
    PpstreamUdpTracker = "ppstream.udp.tracker", PpStream, "UDP port 17788, LE u16 at 0 = length (or -4/-6), p[2] in {43,44,55}";
    PpstreamUdpPeer = "ppstream.udp.peer_data", PpStream, "UDP p[1] in {80,84} and p[3] = p[4], at least 18 bytes";
    PptvUdpTracker2010 = "pptv.udp.tracker_2010", PpLive, "2010 PPTV tracker packet whose body fits its described layout exactly";
    PptvUdpPeer2010 = "pptv.udp.live_2010", PpLive, "2010 PPTV live packet 0xC0-0xC3 whose body fits exactly";
}

/// What [`identify`] concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identification {
    pub app: App,
    /// The rule that matched; `None` exactly when `app` is `Unknown`.
    pub rule: Option<Rule>,
}

impl Identification {
    pub const UNKNOWN: Identification = Identification { app: App::Unknown, rule: None };
}

/// The UDP port PPStream trackers listen on.
pub const PPSTREAM_TRACKER_PORT: u16 = 17788;

/// Tries every rule in [`Rule::ALL`] order; the first match wins. Does not
/// allocate; the exact-layout test runs at most once per call.
pub fn identify(proto: Transport, src_port: u16, dst_port: u16, payload: &[u8]) -> Identification {
    let fit = OnceCell::new();
    let fit = || *fit.get_or_init(|| exact_binary_fit(payload));
    Rule::ALL
        .iter()
        .copied()
        .find(|r| matches_with(*r, proto, src_port, dst_port, payload, &fit))
        .map_or(Identification::UNKNOWN, |r| Identification { app: r.app(), rule: Some(r) })
}

/// Whether one rule matches; exposed for counting every match, not just the first.
pub fn matches(rule: Rule, proto: Transport, src_port: u16, dst_port: u16, p: &[u8]) -> bool {
    matches_with(rule, proto, src_port, dst_port, p, &|| exact_binary_fit(p))
}

fn matches_with(
    rule: Rule,
    proto: Transport,
    src_port: u16,
    dst_port: u16,
    p: &[u8],
    fit: &dyn Fn() -> Option<MessageKind>,
) -> bool {
    let len = p.len();
    let at = |i: usize| p.get(i).copied();
    let eq = |i: usize, b: &[u8]| p.get(i..i + b.len()) == Some(b);
    let le32 = |i: usize| p.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    use Rule::*;
    match (rule, proto) {
        (PpliveUdpRequest, Transport::Udp) => eq(0, &[0xe9, 0x03, 0x41, 0x01]),
        (PpliveUdpResponse, Transport::Udp) => eq(0, &[0xe9, 0x03, 0x42, 0x01]),
        (PpliveUdp98ab, Transport::Udp) => {
            len > 50 && eq(0, &[0xe9, 0x03]) && matches!(at(3), Some(0 | 1)) && eq(4, &[0x98, 0xab, 0x01, 0x02])
        }
        (PpliveUdp1c1c, Transport::Udp) => eq(0, &[0x1c, 0x1c, 0x32, 0x01]),
        (PpliveUdp94, Transport::Udp) => {
            len == 94 && at(8) == Some(0) && matches!(le32(9), Some(0x101..=0x103)) && eq(58, &[0xb1, 0x13])
        }
        (PpliveUdp76, Transport::Udp) => {
            len >= 76
                && matches!(at(0), Some(0x01 | 0x18 | 0x05))
                && at(1) == Some(0)
                && le32(12) == Some(0)
                && matches!(at(16), Some(0 | 1))
                && at(17) == Some(0)
                && at(24) == Some(0xac)
        }
        (PpliveUdpTrackerReply2005, Transport::Udp) => fit() == Some(MessageKind::TrackerReply),
        (PpliveUdpGossip2005, Transport::Udp) => fit() == Some(MessageKind::Gossip),
        (PptvUdpTracker2010, Transport::Udp) => fit() == Some(MessageKind::PptvTracker),
        (PptvUdpPeer2010, Transport::Udp) => fit() == Some(MessageKind::PptvLive),
        (PpliveTcpLength, Transport::Tcp) => {
            len >= 12
                && u32::from_be_bytes([p[0], p[1], p[2], p[3]]) as usize == len - 4
                && eq(4, &[0x21, 0x00])
                && eq(8, &[0x98, 0xab, 0x01, 0x02])
        }
        (PpliveHttpPragma, Transport::Tcp) => http_header(p, "pragma").any(|v| contains(v, b"Client=PPLive")),
        (PpliveHttpUserAgent, Transport::Tcp) => {
            http_header(p, "user-agent").any(|v| v.starts_with(b"PPLive DAC") || v.starts_with(b"PPLive-Media-Player"))
        }
        (PpliveHttpHost, Transport::Tcp) => http_header(p, "host").any(|v| v.starts_with(b"player.pplive")),
        (PpliveHttpBootstrap, Transport::Tcp) => {
            p.starts_with(b"GET /update/pplive/update.inf ")
                || (p.starts_with(b"GET /web/xml/all.xml ") && http_header(p, "host").any(|v| contains(v, b"pplive")))
        }
        (SopcastUdp52, Transport::Udp) => {
            len == 52 && eq(0, &[0xff, 0xff, 0x01]) && eq(8, &[0x02, 0xff, 0x00, 0x2c, 0, 0, 0])
        }
        (SopcastUdp28, Transport::Udp) => {
            matches!(len, 28 | 80 | 94)
                && at(0) == Some(0)
                && matches!(at(2), Some(1 | 2))
                && eq(8, &[0x01, 0xff, 0x00, 0x14, 0, 0])
        }
        (SopcastUdp60, Transport::Udp) => len == 60 && eq(8, &[0x03, 0xff, 0x00, 0x34]),
        (SopcastUdp42, Transport::Udp) => {
            len == 42 && eq(0, &[0x00, 0x02, 0x01, 0x07, 0x03]) && eq(8, &[0x06, 0x01, 0x00, 0x22, 0, 0])
        }
        (SopcastUdp76, Transport::Udp) => len == 76 && eq(0, &[0xff, 0xff, 0x01]) && eq(8, &[0x0c, 0xff, 0x00, 0x44]),
        (SopcastTcp54, Transport::Tcp) => len == 54 && eq(0, &[0x00, 0x36]),
        (PpstreamUdpTracker, Transport::Udp) => {
            (src_port == PPSTREAM_TRACKER_PORT || dst_port == PPSTREAM_TRACKER_PORT)
                && len >= 3
                && {
                    let n = u16::from_le_bytes([p[0], p[1]]) as usize;
                    n == len || n + 4 == len || n + 6 == len
                }
                && matches!(p[2], 0x43 | 0x44 | 0x55)
        }
        (PpstreamUdpPeer, Transport::Udp) => len >= 18 && matches!(p[1], 0x80 | 0x84) && p[3] == p[4],
        _ => false,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Values of header `name` (lower-case) in an HTTP head at the start of `p`;
/// empty unless `p` starts like an HTTP request or response.
fn http_header<'a>(p: &'a [u8], name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
    const STARTS: [&[u8]; 5] = [b"GET ", b"POST ", b"HEAD ", b"HTTP/", b"PUT "];
    let is_http = STARTS.iter().any(|s| p.starts_with(s));
    let head: &[u8] = if is_http { p } else { &[] };
    head.split(|&b| b == b'\n')
        .skip(1)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take_while(|l| !l.is_empty())
        .filter_map(move |l| {
            let colon = l.iter().position(|&b| b == b':')?;
            l[..colon].eq_ignore_ascii_case(name.as_bytes()).then(|| l[colon + 1..].trim_ascii())
        })
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
