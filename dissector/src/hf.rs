//! The registry of every field filter name, label and value type.
//!
//! [`ALL`] lists them in a stable order; a Wireshark plugin registers one `hf`
//! entry per element. Trees only ever point at these statics.

use crate::tree::{Base, FieldDef, ValueKind};

/// Names of the 2010 actions this crate knows (a Wireshark `value_string`).
pub static ACTION_NAMES: &[(u32, &str)] = &[
    (0x31, "Tracker List"),
    (0x34, "Tracker Leave"),
    (0x35, "Tracker Report/KeepAlive"),
    (0xC0, "Live request-announce"),
    (0xC1, "Live announce"),
    (0xC2, "Live request sub-piece"),
    (0xC3, "Live sub-piece"),
];

/// Names of the NAT types in peer entries and List requests.
pub static NAT_TYPE_NAMES: &[(u32, &str)] =
    &[(0, "full cone"), (1, "IP-restricted"), (2, "port-restricted"), (3, "symmetric"), (4, "public"), (0xff, "error")];

macro_rules! fields {
    (@vals) => { &[] };
    (@vals $v:expr) => { $v };
    ($($id:ident = $name:literal, $label:literal, $kind:ident, $base:ident, $blurb:literal $(, $vals:expr)?;)*) => {
        $(
            #[doc = concat!("`", $name, "`: ", $label, ". ", $blurb)]
            pub static $id: FieldDef = FieldDef {
                name: $name,
                label: $label,
                kind: ValueKind::$kind,
                base: Base::$base,
                vals: fields!(@vals $($vals)?),
                blurb: $blurb,
            };
        )*
        /// Every registered field.
        pub static ALL: &[&FieldDef] = &[$(&$id),*];
    };
}

fields! {
    // 2005-era PPLive host record (tracker reply and gossip).
    HOST = "pplive.host", "Host record", None, None,
        "One 18-byte peer entry of a 2005 peer list (tracker reply or gossip)";
    HOST_IP = "pplive.host.ip", "IP address", Ipv4, None,
        "The peer's IPv4 address, in network byte order";
    HOST_UDP_PORT = "pplive.host.udp_port", "UDP port", U16, Dec,
        "UDP port number the peer listens on (little-endian on the wire)";
    HOST_TCP_PORT = "pplive.host.tcp_port", "TCP port", U16, Dec,
        "TCP port number the peer listens on (little-endian on the wire)";
    HOST_UNKNOWN = "pplive.host.unknown", "Unknown trailing bytes", Bytes, None,
        "The record's last 10 bytes, which no public source explains; shown raw";
    // 2005-era tracker peer-list reply.
    TRACKER = "pplive.tracker", "PPLive tracker peer-list reply", None, None,
        "A 2005 tracker reply: a 17-byte header, then count 18-byte host records";
    TRACKER_HEADER = "pplive.tracker.header", "Header (meaning unknown)", Bytes, None,
        "The reply's first 13 bytes; only their 02 00 00 02 start is shared with gossip, the rest is unexplained";
    TRACKER_COUNT = "pplive.tracker.count", "Host count", U32, Dec,
        "Number of host records the reply says follow (big-endian; at most 50 were seen)";
    // 2005-era gossip peer exchange.
    GOSSIP = "pplive.gossip", "PPLive gossip peer exchange", None, None,
        "A 2005 gossip message: a 41-byte fixed part, then count 18-byte host records";
    GOSSIP_HEADER = "pplive.gossip.header", "Header (meaning unknown)", Bytes, None,
        "The message's first 4 bytes (02 00 00 02 in the dumps)";
    GOSSIP_CHANNEL = "pplive.gossip.channel", "Channel ID", Guid, None,
        "The channel the sender watches: a GUID in Windows byte order, as in the channel list";
    GOSSIP_UNKNOWN = "pplive.gossip.unknown", "Unknown bytes", Bytes, None,
        "20 bytes after the channel ID that no public source explains; shown raw";
    GOSSIP_COUNT = "pplive.gossip.count", "Host count", U8, Dec,
        "Number of host records the message says follow (one byte)";
    // Channel list XML (all.xml / channel.xml).
    CHANNELS = "pplive.channels", "PPLive channel list", None, None,
        "The channel list XML (all.xml, stored by the client as channel.xml)";
    CHANNEL = "pplive.channel", "Channel", None, None, "One <channel> element of the list";
    CHANNEL_GUID = "pplive.channel.guid", "ChannelGuid", Guid, None,
        "The channel's ID, the GUID gossip messages carry";
    CHANNEL_BASE_GUID = "pplive.channel.base_guid", "BaseChannelGuid", Guid, None,
        "BaseChannelGuid element: a second GUID whose role is not documented";
    CHANNEL_NAME = "pplive.channel.name", "ChannelName", Str, None, "The channel's name, as shown to users";
    CHANNEL_NAME_EN = "pplive.channel.name_en", "ChannelNameEn", Str, None, "The channel's English name";
    CHANNEL_AUTHOR = "pplive.channel.author", "Author", Str, None, "Who publishes the channel";
    CHANNEL_AUTHOR_URL = "pplive.channel.author_url", "AuthorUrl", Str, None, "The publisher's web address";
    CHANNEL_PLAY_LINK = "pplive.channel.play_link", "PlayLink", Str, None,
        "The pplive:// link that names the channel's trackers, unwrapped";
    CHANNEL_PEER_COUNT = "pplive.channel.peer_count", "PeerCount", U32, Dec,
        "Number of peers watching, as the list states it";
    CHANNEL_BITRATE = "pplive.channel.bitrate", "Bitrate", U32, Dec,
        "Bitrate element as the list states it; unit not documented (kbit/s in practice)";
    CHANNEL_PREVIEW_URL = "pplive.channel.preview_url", "PreViewUrl", Str, None, "Address of a preview picture";
    CHANNEL_QUALITY = "pplive.channel.quality", "Quatity (sic)", U32, Dec,
        "Quatity element (the list's spelling); a score whose scale is not documented";
    CHANNEL_CATALOG = "pplive.channel.catalog", "Catalog", U32, Dec, "Number of the catalogue the channel is listed in";
    CHANNEL_PROGRAM_LIST1 = "pplive.channel.program_list1", "ProgramList1", Str, None, "First programme list, as text";
    CHANNEL_PROGRAM_LIST2 = "pplive.channel.program_list2", "ProgramList2", Str, None, "Second programme list, as text";
    // PlayLink URL.
    PLAYLINK = "pplive.playlink", "PlayLink", None, None, "A pplive://HOST:PORT/tracker?source={GUID}&… link";
    PLAYLINK_HOST = "pplive.playlink.host", "Tracker host", Str, None, "The host before the path: the first tracker";
    PLAYLINK_PORT = "pplive.playlink.port", "Tracker port", U16, Dec, "Port number of the first tracker";
    PLAYLINK_SOURCE = "pplive.playlink.source", "Channel GUID (source)", Guid, None,
        "The source= parameter: the channel's GUID";
    PLAYLINK_TYPE = "pplive.playlink.type", "Transport type", Str, None, "The type= parameter (udp or tcp)";
    PLAYLINK_CHNNAME = "pplive.playlink.chnname", "Channel name", Str, None, "The chnname= parameter";
    PLAYLINK_ENGNAME = "pplive.playlink.engname", "English channel name", Str, None, "The engname= parameter";
    PLAYLINK_TRACKER = "pplive.playlink.tracker", "Tracker", None, None,
        "One udpt:// or tcpt:// entry of the tracker= parameter";
    PLAYLINK_TRACKER_TRANSPORT = "pplive.playlink.tracker.transport", "Tracker transport", Str, None,
        "udp for udpt://, tcp for tcpt://";
    PLAYLINK_TRACKER_HOST = "pplive.playlink.tracker.host", "Tracker address", Str, None,
        "The tracker's address, as written";
    PLAYLINK_TRACKER_PORT = "pplive.playlink.tracker.port", "Tracker port", U16, Dec, "The tracker's port number";
    // Bootstrap HTTP.
    HTTP = "pplive.http", "PPLive bootstrap HTTP", None, None,
        "An HTTP request of the client's start-up (update check, channel list) or its reply";
    HTTP_BOOTSTRAP = "pplive.http.bootstrap", "Bootstrap step", Str, None,
        "Which start-up step the request path is: software update check, channel list download, or other";
    HTTP_METHOD = "pplive.http.method", "Method", Str, None, "The request method";
    HTTP_PATH = "pplive.http.path", "Path", Str, None, "The request target";
    HTTP_VERSION = "pplive.http.version", "HTTP/1.x minor version", U8, Dec, "x of HTTP/1.x";
    HTTP_STATUS = "pplive.http.status", "Status code", U16, Dec, "The reply's status code (404: no update)";
    HTTP_REASON = "pplive.http.reason", "Reason phrase", Str, None, "The reply's reason phrase";
    HTTP_HEADER = "pplive.http.header", "Header", Str, None, "One header line, name and value";
    HTTP_HOST = "pplive.http.host", "Host", Str, None, "The Host header's value";
    HTTP_CONTENT_LENGTH = "pplive.http.content_length", "Content-Length", U32, Dec, "Body length stated, in bytes";
    HTTP_BODY = "pplive.http.body", "Body", Bytes, None, "The message body (a channel list is decoded under it)";
    // Payloads claimed as PPLive/PPTV whose layout cannot be decided.
    RAW = "pplive.raw", "Undecoded message", Bytes, None,
        "A message of an identified flow that no layout's length arithmetic explains, or that two explain; shown raw";
    // The length-prefixed TCP framing of the DPI rules.
    TCP = "pplive.tcp", "PPLive TCP message", None, None,
        "A TCP message with a big-endian length prefix, then 21 00 ?? ?? 98 ab 01 02 (METHODS §10)";
    TCP_LENGTH = "pplive.tcp.length", "Length", U32, Dec, "Bytes that follow the prefix (big-endian u32)";
    TCP_BODY = "pplive.tcp.body", "Body (not decoded)", Bytes, None,
        "The message after the prefix; no public source describes it";
    // 2010-era PPTV common header.
    PPTV = "pptv", "PPTV UDP", None, None, "A 2010-era PPTV UDP packet";
    PPTV_CHECKSUM = "pptv.checksum", "Checksum (not verified)", U32, Hex,
        "Checksum over the rest of the datagram; its algorithm is not public, so it is not verified";
    PPTV_ACTION = "pptv.action", "Action", U8, Hex, "Packet type: 0x3x tracker, 0x5x VOD, 0xCx live", ACTION_NAMES;
    PPTV_TRANSACTION_ID = "pptv.transaction_id", "Transaction ID", U32, Hex, "Pairs a response with its request";
    PPTV_BODY = "pptv.body", "Body (not decoded)", Bytes, None, "A body whose layout is not publicly described";
    // 2010-era tracker packets.
    PPTV_TRACKER_IS_REQUEST = "pptv.tracker.is_request", "Is request", Bool, None, "1: a request, 0: a response";
    PPTV_TRACKER_PEER_VERSION = "pptv.tracker.peer_version", "Peer version", U16, Hex,
        "The client's protocol version (0x0103 to 0x010C seen)";
    PPTV_TRACKER_SOURCE = "pptv.tracker.source", "Source", U8, Dec, "Request source byte; meaning not documented";
    PPTV_TRACKER_RESERVED = "pptv.tracker.reserved", "Reserved", U8, Hex, "Reserved byte of a request";
    PPTV_TRACKER_ERROR_CODE = "pptv.tracker.error_code", "Error code", U8, Dec,
        "0: success; other values are errors (with no body)";
    PPTV_TRACKER_RESOURCE_ID = "pptv.tracker.resource_id", "Resource ID", Guid, None,
        "The channel or file the peer list is for";
    PPTV_TRACKER_PEER_GUID = "pptv.tracker.peer_guid", "Peer GUID", Guid, None, "The requesting peer's ID";
    PPTV_TRACKER_REQUESTED_COUNT = "pptv.tracker.requested_count", "Requested peer count", U16, Dec,
        "Number of peers asked for";
    PPTV_TRACKER_NAT_TYPE = "pptv.tracker.nat_type", "NAT type", U8, Dec,
        "The requester's NAT type (sent from peer version 0x010C on)", NAT_TYPE_NAMES;
    PPTV_TRACKER_COUNT = "pptv.tracker.count", "Peer count", U16, Dec, "Number of 24-byte peer entries that follow";
    PPTV_TRACKER_KEEPALIVE = "pptv.tracker.keepalive_interval", "Keep-alive interval", U16, Dec,
        "Seconds until the peer should report again (the client arms a timer of this many seconds)";
    PPTV_TRACKER_DETECTED_IP = "pptv.tracker.detected_ip", "Detected IP", Ipv4, None,
        "The peer's address as the tracker sees it (reversed on the wire)";
    PPTV_TRACKER_DETECTED_PORT = "pptv.tracker.detected_port", "Detected UDP port", U16, Dec,
        "The peer's UDP port number as the tracker sees it";
    PPTV_TRACKER_RESOURCE_COUNT = "pptv.tracker.resource_count", "Resource count", U16, Dec,
        "Number of resources the tracker records for the peer";
    // 2010-era 24-byte peer entry.
    PPTV_PEER = "pptv.peer", "Peer entry", None, None, "One 24-byte peer of a List response";
    PPTV_PEER_IP = "pptv.peer.ip", "IP address", Ipv4, None, "The peer's address (reversed on the wire)";
    PPTV_PEER_UDP_PORT = "pptv.peer.udp_port", "UDP port", U16, Dec, "The peer's UDP port number";
    PPTV_PEER_VERSION = "pptv.peer.version", "Peer version", U16, Hex, "The peer's protocol version";
    PPTV_PEER_DETECTED_IP = "pptv.peer.detected_ip", "Detected IP", Ipv4, None,
        "The peer's address as the tracker saw it (reversed on the wire)";
    PPTV_PEER_DETECTED_PORT = "pptv.peer.detected_port", "Detected UDP port", U16, Dec,
        "The peer's UDP port number as the tracker saw it";
    PPTV_PEER_STUN_IP = "pptv.peer.stun_ip", "STUN IP", Ipv4, None,
        "Address of the STUN server the peer uses (reversed on the wire)";
    PPTV_PEER_STUN_PORT = "pptv.peer.stun_port", "STUN UDP port", U16, Dec, "The STUN server's UDP port number";
    PPTV_PEER_NAT_TYPE = "pptv.peer.nat_type", "NAT type", U8, Dec, "The peer's NAT type", NAT_TYPE_NAMES;
    PPTV_PEER_UPLOAD_PRIORITY = "pptv.peer.upload_priority", "Upload priority", U8, Dec,
        "Priority the tracker gives the peer as an uploader; scale not documented";
    PPTV_PEER_IDLE_MINUTES = "pptv.peer.idle_minutes", "Idle time (minutes)", U8, Dec,
        "Minutes since the peer was last active";
    PPTV_PEER_TRACKER_PRIORITY = "pptv.peer.tracker_priority", "Tracker priority", U8, Dec,
        "Priority of the tracker that knows the peer; scale not documented";
    // 2010-era live / VOD peer packets.
    PPTV_PEER_PROTOCOL_VERSION = "pptv.peerpkt.protocol_version", "Protocol version", U16, Hex,
        "Peer-to-peer protocol version";
    PPTV_PEER_RESERVED = "pptv.peerpkt.reserved", "Reserved", U16, Hex, "Reserved bytes after the version";
    PPTV_PEER_RESOURCE_ID = "pptv.peerpkt.resource_id", "Resource ID", Guid, None, "The channel or file exchanged";
    PPTV_VOD_PEER_GUID = "pptv.vod.peer_guid", "Peer GUID", Guid, None, "The sending peer's ID (VOD packets only)";
    PPTV_LIVE_BLOCK_ID = "pptv.live.block_id", "Block ID", U32, Dec, "The block the request-announce is about";
    PPTV_LIVE_UPLOAD_BANDWIDTH = "pptv.live.upload_bandwidth", "Upload bandwidth", U32, Dec,
        "The sender's upload bandwidth; unit not publicly documented";
    PPTV_LIVE_ANNOUNCE_RESERVED = "pptv.live.announce_reserved", "Reserved", U32, Hex, "Reserved u32";
    PPTV_LIVE_REQUEST_BLOCK_ID = "pptv.live.request_block_id", "Requested block ID", U32, Dec,
        "The block the announce answers";
    PPTV_LIVE_BLOCK_COUNT = "pptv.live.block_count", "Block count", U16, Dec,
        "Number of per-block sub-piece counts that follow";
    PPTV_LIVE_SUBPIECE_COUNT = "pptv.live.subpiece_count", "Sub-pieces in block", U16, Dec,
        "Number of sub-pieces one block holds";
    PPTV_LIVE_START_BLOCK_ID = "pptv.live.start_block_id", "Start block ID", U32, Dec,
        "The block the bitmap's first bit stands for";
    PPTV_LIVE_INTERVAL = "pptv.live.interval", "Block interval", U16, Dec,
        "Spacing of block IDs; unit not publicly documented";
    PPTV_LIVE_BITMAP_LEN = "pptv.live.bitmap_len", "Bitmap length", U16, Dec, "Length of the bitmap, in bytes";
    PPTV_LIVE_BITMAP = "pptv.live.bitmap", "Bitmap", Bytes, None, "One bit per block: which blocks the sender has";
    PPTV_LIVE_REQUEST_COUNT = "pptv.live.request_count", "Requested sub-pieces", U8, Dec,
        "Number of 6-byte sub-piece infos that follow";
    PPTV_LIVE_SUBPIECE = "pptv.live.subpiece", "Sub-piece", None, None, "A block ID and a sub-piece index";
    PPTV_LIVE_SUBPIECE_BLOCK = "pptv.live.subpiece.block_id", "Block ID", U32, Dec, "The block the sub-piece is in";
    PPTV_LIVE_SUBPIECE_INDEX = "pptv.live.subpiece.index", "Sub-piece index", U16, Dec,
        "The sub-piece's number within its block";
    PPTV_LIVE_PRIORITY = "pptv.live.priority", "Priority", U16, Dec, "Priority of the request; scale not documented";
    PPTV_LIVE_DATA_LEN = "pptv.live.data_len", "Data length", U16, Dec, "Length of the data that follows, in bytes";
    PPTV_LIVE_DATA = "pptv.live.data", "Data", Bytes, None, "The sub-piece's content (video)";
    // How a packet was identified (shown by the plugin and `peerscope dissect`).
    ID = "peerscope.id", "Identification", None, None,
        "Which public rule attributed the packet to an application, and on what evidence";
    ID_APP = "peerscope.id.app", "Application", Str, None, "PPLive (PPTV included), SOPCast or PPStream";
    ID_RULE = "peerscope.id.rule", "Rule", Str, None, "The stable name of the rule that matched";
    ID_RULE_TEXT = "peerscope.id.rule_text", "Rule text", Str, None, "What the rule tests, as the DPI projects give it";
    ID_EVIDENCE = "peerscope.id.evidence", "Evidence", Bytes, None, "The payload bytes the rule matched";
    ID_STRENGTH = "peerscope.id.strength", "Strength", Str, None,
        "strong: decisive on one packet; weak: needs corroboration before the flow is attributed";
    ID_BASIS = "peerscope.id.basis", "Attributed because", Str, None,
        "Why the flow is attributed: the rule is strong, or how a weak rule was corroborated";
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn test_names_unique_and_dotted() {
        let mut seen = HashSet::new();
        for f in ALL {
            assert!(seen.insert(f.name), "duplicate filter name {}", f.name);
            let prefixed = ["pplive.", "pptv.", "peerscope."].iter().any(|p| f.name.starts_with(p));
            assert!(prefixed || f.name == "pptv", "{}", f.name);
            assert!(!f.label.is_empty());
            assert!(f.blurb.len() > 10 && !f.blurb.ends_with('.'), "{}: blurb {:?}", f.name, f.blurb);
        }
    }

    #[test]
    fn test_base_matches_kind() {
        for f in ALL {
            let integer = matches!(f.kind, ValueKind::U8 | ValueKind::U16 | ValueKind::U32);
            assert_eq!(integer, f.base != Base::None, "{}", f.name);
            assert!(integer || f.vals.is_empty(), "{} has value names but is not an integer", f.name);
        }
    }
}
