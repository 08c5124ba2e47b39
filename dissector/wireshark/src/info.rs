//! The Info column: what the message is and its headline numbers.

use peerscope_dissector::{hf, MessageKind, Tree, Value};

fn kind_name(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::TrackerReply => "Tracker reply",
        MessageKind::Gossip => "Gossip",
        MessageKind::ChannelList => "Channel list",
        MessageKind::PlayLink => "PlayLink",
        MessageKind::HttpRequest => "Bootstrap request",
        MessageKind::HttpResponse => "Bootstrap response",
        MessageKind::PptvTracker => "Tracker",
        MessageKind::PptvLive => "Live",
        MessageKind::PptvVod => "VOD",
        MessageKind::PptvOther => "Packet",
        MessageKind::TcpFrame => "TCP message",
        MessageKind::Undecoded => "Undecoded message",
        MessageKind::Identified => "Identified",
    }
}

/// e.g. "Tracker reply, 50 hosts" or "Tracker List response, 3 peers"; an
/// identified-only payload names its rule.
pub fn of_tree(tree: &Tree) -> String {
    let value = |name: &str| tree.find(name).map(|f| &f.value);
    let mut s = String::from(kind_name(tree.message));
    // Messages with no layout of their own are summed up by their rule.
    if matches!(tree.message, MessageKind::Identified | MessageKind::Undecoded | MessageKind::TcpFrame) {
        if let Some(Value::Str(rule)) = value(hf::ID_RULE.name) {
            s.push_str(&format!(", rule {rule}"));
        }
        if tree.message == MessageKind::Identified {
            return s;
        }
    }
    if let Some(f) = tree.find(hf::PPTV_ACTION.name) {
        match hf::PPTV_ACTION.value_name(&f.value) {
            Some(name) => s = name.to_string(),
            None => s.push_str(&format!(" action {}", f.value)),
        }
        match value(hf::PPTV_TRACKER_IS_REQUEST.name) {
            Some(Value::Bool(true)) => s.push_str(" request"),
            Some(Value::Bool(false)) => s.push_str(" response"),
            _ => {}
        }
    }
    let count = |name: &str, what: &str| {
        value(name).map(|v| {
            let plural = if *v == Value::U8(1) || *v == Value::U16(1) || *v == Value::U32(1) { "" } else { "s" };
            format!(", {v} {what}{plural}")
        })
    };
    let detail = count(hf::TRACKER_COUNT.name, "host")
        .or_else(|| count(hf::GOSSIP_COUNT.name, "host"))
        .or_else(|| count(hf::PPTV_TRACKER_COUNT.name, "peer"))
        .or_else(|| value(hf::GOSSIP_CHANNEL.name).map(|v| format!(", channel {v}")))
        .or_else(|| {
            let n = tree.find_all(hf::CHANNEL.name).count();
            (n > 0).then(|| format!(", {n} channels"))
        })
        .or_else(|| {
            let method = value(hf::HTTP_METHOD.name)?;
            let path = value(hf::HTTP_PATH.name)?;
            Some(format!(": {method} {path}").replace('"', ""))
        })
        .or_else(|| value(hf::HTTP_STATUS.name).map(|v| format!(": {v}")));
    s.push_str(&detail.unwrap_or_default());
    if !tree.notes.is_empty() {
        s.push_str(&format!(" [{} expert notes]", tree.notes.len()));
    }
    s
}
