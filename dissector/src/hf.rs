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
    ($($id:ident = $name:literal, $label:literal, $kind:ident, $base:ident $(, $vals:expr)?;)*) => {
        $(
            #[doc = concat!("`", $name, "`: ", $label)]
            pub static $id: FieldDef = FieldDef {
                name: $name,
                label: $label,
                kind: ValueKind::$kind,
                base: Base::$base,
                vals: fields!(@vals $($vals)?),
            };
        )*
        /// Every registered field.
        pub static ALL: &[&FieldDef] = &[$(&$id),*];
    };
}

fields! {
    // 2005-era PPLive host record (tracker reply and gossip).
    HOST = "pplive.host", "Host record", None, None;
    HOST_IP = "pplive.host.ip", "IP address", Ipv4, None;
    HOST_UDP_PORT = "pplive.host.udp_port", "UDP port", U16, Dec;
    HOST_TCP_PORT = "pplive.host.tcp_port", "TCP port", U16, Dec;
    HOST_UNKNOWN = "pplive.host.unknown", "Unknown trailing bytes", Bytes, None;
    // 2005-era tracker peer-list reply.
    TRACKER = "pplive.tracker", "PPLive tracker peer-list reply", None, None;
    TRACKER_HEADER = "pplive.tracker.header", "Header (meaning unknown)", Bytes, None;
    TRACKER_COUNT = "pplive.tracker.count", "Host count", U32, Dec;
    // 2005-era gossip peer exchange.
    GOSSIP = "pplive.gossip", "PPLive gossip peer exchange", None, None;
    GOSSIP_HEADER = "pplive.gossip.header", "Header (meaning unknown)", Bytes, None;
    GOSSIP_CHANNEL = "pplive.gossip.channel", "Channel ID", Guid, None;
    GOSSIP_UNKNOWN = "pplive.gossip.unknown", "Unknown bytes", Bytes, None;
    GOSSIP_COUNT = "pplive.gossip.count", "Host count", U8, Dec;
    // Channel list XML (all.xml / channel.xml).
    CHANNELS = "pplive.channels", "PPLive channel list", None, None;
    CHANNEL = "pplive.channel", "Channel", None, None;
    CHANNEL_GUID = "pplive.channel.guid", "ChannelGuid", Guid, None;
    CHANNEL_BASE_GUID = "pplive.channel.base_guid", "BaseChannelGuid", Guid, None;
    CHANNEL_NAME = "pplive.channel.name", "ChannelName", Str, None;
    CHANNEL_NAME_EN = "pplive.channel.name_en", "ChannelNameEn", Str, None;
    CHANNEL_AUTHOR = "pplive.channel.author", "Author", Str, None;
    CHANNEL_AUTHOR_URL = "pplive.channel.author_url", "AuthorUrl", Str, None;
    CHANNEL_PLAY_LINK = "pplive.channel.play_link", "PlayLink", Str, None;
    CHANNEL_PEER_COUNT = "pplive.channel.peer_count", "PeerCount", U32, Dec;
    CHANNEL_BITRATE = "pplive.channel.bitrate", "Bitrate", U32, Dec;
    CHANNEL_PREVIEW_URL = "pplive.channel.preview_url", "PreViewUrl", Str, None;
    CHANNEL_QUALITY = "pplive.channel.quality", "Quatity (sic)", U32, Dec;
    CHANNEL_CATALOG = "pplive.channel.catalog", "Catalog", U32, Dec;
    CHANNEL_PROGRAM_LIST1 = "pplive.channel.program_list1", "ProgramList1", Str, None;
    CHANNEL_PROGRAM_LIST2 = "pplive.channel.program_list2", "ProgramList2", Str, None;
    // PlayLink URL.
    PLAYLINK = "pplive.playlink", "PlayLink", None, None;
    PLAYLINK_HOST = "pplive.playlink.host", "Tracker host", Str, None;
    PLAYLINK_PORT = "pplive.playlink.port", "Tracker port", U16, Dec;
    PLAYLINK_SOURCE = "pplive.playlink.source", "Channel GUID (source)", Guid, None;
    PLAYLINK_TYPE = "pplive.playlink.type", "Transport type", Str, None;
    PLAYLINK_CHNNAME = "pplive.playlink.chnname", "Channel name", Str, None;
    PLAYLINK_ENGNAME = "pplive.playlink.engname", "English channel name", Str, None;
    PLAYLINK_TRACKER = "pplive.playlink.tracker", "Tracker", None, None;
    PLAYLINK_TRACKER_TRANSPORT = "pplive.playlink.tracker.transport", "Tracker transport", Str, None;
    PLAYLINK_TRACKER_HOST = "pplive.playlink.tracker.host", "Tracker address", Str, None;
    PLAYLINK_TRACKER_PORT = "pplive.playlink.tracker.port", "Tracker port", U16, Dec;
    // Bootstrap HTTP.
    HTTP = "pplive.http", "PPLive bootstrap HTTP", None, None;
    HTTP_BOOTSTRAP = "pplive.http.bootstrap", "Bootstrap step", Str, None;
    HTTP_METHOD = "pplive.http.method", "Method", Str, None;
    HTTP_PATH = "pplive.http.path", "Path", Str, None;
    HTTP_VERSION = "pplive.http.version", "HTTP/1.x minor version", U8, Dec;
    HTTP_STATUS = "pplive.http.status", "Status code", U16, Dec;
    HTTP_REASON = "pplive.http.reason", "Reason phrase", Str, None;
    HTTP_HEADER = "pplive.http.header", "Header", Str, None;
    HTTP_HOST = "pplive.http.host", "Host", Str, None;
    HTTP_CONTENT_LENGTH = "pplive.http.content_length", "Content-Length", U32, Dec;
    HTTP_BODY = "pplive.http.body", "Body", Bytes, None;
    // 2010-era PPTV common header.
    PPTV = "pptv", "PPTV UDP", None, None;
    PPTV_CHECKSUM = "pptv.checksum", "Checksum (not verified)", U32, Hex;
    PPTV_ACTION = "pptv.action", "Action", U8, Hex, ACTION_NAMES;
    PPTV_TRANSACTION_ID = "pptv.transaction_id", "Transaction ID", U32, Hex;
    PPTV_BODY = "pptv.body", "Body (not decoded)", Bytes, None;
    // 2010-era tracker packets.
    PPTV_TRACKER_IS_REQUEST = "pptv.tracker.is_request", "Is request", Bool, None;
    PPTV_TRACKER_PEER_VERSION = "pptv.tracker.peer_version", "Peer version", U16, Hex;
    PPTV_TRACKER_SOURCE = "pptv.tracker.source", "Source", U8, Dec;
    PPTV_TRACKER_RESERVED = "pptv.tracker.reserved", "Reserved", U8, Hex;
    PPTV_TRACKER_ERROR_CODE = "pptv.tracker.error_code", "Error code", U8, Dec;
    PPTV_TRACKER_RESOURCE_ID = "pptv.tracker.resource_id", "Resource ID", Guid, None;
    PPTV_TRACKER_PEER_GUID = "pptv.tracker.peer_guid", "Peer GUID", Guid, None;
    PPTV_TRACKER_REQUESTED_COUNT = "pptv.tracker.requested_count", "Requested peer count", U16, Dec;
    PPTV_TRACKER_NAT_TYPE = "pptv.tracker.nat_type", "NAT type", U8, Dec, NAT_TYPE_NAMES;
    PPTV_TRACKER_COUNT = "pptv.tracker.count", "Peer count", U16, Dec;
    PPTV_TRACKER_KEEPALIVE = "pptv.tracker.keepalive_interval", "Keep-alive interval", U16, Dec;
    PPTV_TRACKER_DETECTED_IP = "pptv.tracker.detected_ip", "Detected IP", Ipv4, None;
    PPTV_TRACKER_DETECTED_PORT = "pptv.tracker.detected_port", "Detected UDP port", U16, Dec;
    PPTV_TRACKER_RESOURCE_COUNT = "pptv.tracker.resource_count", "Resource count", U16, Dec;
    // 2010-era 24-byte peer entry.
    PPTV_PEER = "pptv.peer", "Peer entry", None, None;
    PPTV_PEER_IP = "pptv.peer.ip", "IP address", Ipv4, None;
    PPTV_PEER_UDP_PORT = "pptv.peer.udp_port", "UDP port", U16, Dec;
    PPTV_PEER_VERSION = "pptv.peer.version", "Peer version", U16, Hex;
    PPTV_PEER_DETECTED_IP = "pptv.peer.detected_ip", "Detected IP", Ipv4, None;
    PPTV_PEER_DETECTED_PORT = "pptv.peer.detected_port", "Detected UDP port", U16, Dec;
    PPTV_PEER_STUN_IP = "pptv.peer.stun_ip", "STUN IP", Ipv4, None;
    PPTV_PEER_STUN_PORT = "pptv.peer.stun_port", "STUN UDP port", U16, Dec;
    PPTV_PEER_NAT_TYPE = "pptv.peer.nat_type", "NAT type", U8, Dec, NAT_TYPE_NAMES;
    PPTV_PEER_UPLOAD_PRIORITY = "pptv.peer.upload_priority", "Upload priority", U8, Dec;
    PPTV_PEER_IDLE_MINUTES = "pptv.peer.idle_minutes", "Idle time (minutes)", U8, Dec;
    PPTV_PEER_TRACKER_PRIORITY = "pptv.peer.tracker_priority", "Tracker priority", U8, Dec;
    // 2010-era live / VOD peer packets.
    PPTV_PEER_PROTOCOL_VERSION = "pptv.peerpkt.protocol_version", "Protocol version", U16, Hex;
    PPTV_PEER_RESERVED = "pptv.peerpkt.reserved", "Reserved", U16, Hex;
    PPTV_PEER_RESOURCE_ID = "pptv.peerpkt.resource_id", "Resource ID", Guid, None;
    PPTV_VOD_PEER_GUID = "pptv.vod.peer_guid", "Peer GUID", Guid, None;
    PPTV_LIVE_BLOCK_ID = "pptv.live.block_id", "Block ID", U32, Dec;
    PPTV_LIVE_UPLOAD_BANDWIDTH = "pptv.live.upload_bandwidth", "Upload bandwidth", U32, Dec;
    PPTV_LIVE_ANNOUNCE_RESERVED = "pptv.live.announce_reserved", "Reserved", U32, Hex;
    PPTV_LIVE_REQUEST_BLOCK_ID = "pptv.live.request_block_id", "Requested block ID", U32, Dec;
    PPTV_LIVE_BLOCK_COUNT = "pptv.live.block_count", "Block count", U16, Dec;
    PPTV_LIVE_SUBPIECE_COUNT = "pptv.live.subpiece_count", "Sub-pieces in block", U16, Dec;
    PPTV_LIVE_START_BLOCK_ID = "pptv.live.start_block_id", "Start block ID", U32, Dec;
    PPTV_LIVE_INTERVAL = "pptv.live.interval", "Block interval", U16, Dec;
    PPTV_LIVE_BITMAP_LEN = "pptv.live.bitmap_len", "Bitmap length", U16, Dec;
    PPTV_LIVE_BITMAP = "pptv.live.bitmap", "Bitmap", Bytes, None;
    PPTV_LIVE_REQUEST_COUNT = "pptv.live.request_count", "Requested sub-pieces", U8, Dec;
    PPTV_LIVE_SUBPIECE = "pptv.live.subpiece", "Sub-piece", None, None;
    PPTV_LIVE_SUBPIECE_BLOCK = "pptv.live.subpiece.block_id", "Block ID", U32, Dec;
    PPTV_LIVE_SUBPIECE_INDEX = "pptv.live.subpiece.index", "Sub-piece index", U16, Dec;
    PPTV_LIVE_PRIORITY = "pptv.live.priority", "Priority", U16, Dec;
    PPTV_LIVE_DATA_LEN = "pptv.live.data_len", "Data length", U16, Dec;
    PPTV_LIVE_DATA = "pptv.live.data", "Data", Bytes, None;
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
            assert!(f.name.starts_with("pplive.") || f.name == "pptv" || f.name.starts_with("pptv."), "{}", f.name);
            assert!(!f.label.is_empty());
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
