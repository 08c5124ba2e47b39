//! What the control messages taught: channels, trackers, learned peers.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    net::IpAddr,
};

use peerscope_abi::FlowKey;
use peerscope_dissector::{Attribution, FlowEvidence, MessageKind, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::message::ControlMessage;

#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct Channel {
    /// `{8-4-4-4-12}` text of the channel GUID.
    pub guid: String,
    /// From the channel list, when it was seen.
    pub name: Option<String>,
    /// Messages naming it.
    pub messages: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Tracker {
    pub ip: IpAddr,
    pub port: u16,
    /// `udp` or `tcp`.
    pub protocol: String,
    /// Peer-list replies seen from it.
    pub replies: u64,
    /// Named by a channel list's PlayLink (rather than seen on the wire).
    pub from_play_link: bool,
}

/// The ledger's findings: the report document's `control`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
pub struct ControlSummary {
    /// Payloads attributed to an application, by the DPI rule that matched.
    pub by_rule: BTreeMap<String, u64>,
    /// Messages decoded with a known layout, by kind.
    pub by_message: BTreeMap<String, u64>,
    pub channels: Vec<Channel>,
    pub trackers: Vec<Tracker>,
    /// Distinct peers named in tracker replies and gossip.
    pub learned_peers: usize,
    /// Of those, private (RFC 1918) addresses ([M]: 5 of 39, a client bug).
    pub learned_private: usize,
    /// Learned peers that were parents / children in some window, and the fractions
    /// ([M]: ~1% and ~2% of contacted hosts); `null` with no learned peer.
    pub learned_became_parents: usize,
    pub learned_became_children: usize,
    pub learned_parent_fraction: Option<f64>,
    pub learned_child_fraction: Option<f64>,
    /// Bootstrap HTTP requests (update check, channel list).
    pub bootstrap_requests: u64,
    /// Payloads inspected (control-class packets offline, kernel samples live).
    pub payloads: u64,
    /// Of those, payloads that matched no rule, in flows nothing attributed.
    pub unknown_payloads: u64,
    /// Payloads that matched only a weak rule, in flows whose corroboration
    /// never came: not attributed to any application.
    pub unconfirmed_payloads: u64,
}

/// Both directions of a flow, one key.
type FlowPair = (u8, (IpAddr, u16), (IpAddr, u16));

fn pair(key: &FlowKey) -> FlowPair {
    let (a, b) = ((key.src_ip(), key.src_port), (key.dst_ip(), key.dst_port));
    (key.proto, a.min(b), a.max(b))
}

/// Flows whose evidence is kept; past this, those that are not attributed
/// and hold no pending payload are forgotten. Every sampled flow gets an entry
/// (a host with churn samples hundreds of new flows a second), so this bounds the
/// ledger's memory: about 4 MiB.
const MAX_FLOWS: usize = 1 << 15;

/// A flow's evidence, and the payload a weak rule matched while the flow
/// waits for its corroboration.
#[derive(Debug, Default)]
struct FlowState {
    evidence: FlowEvidence,
    /// Boxed: most flows never hold one, and the entry stays small.
    pending: Option<Box<(FlowKey, ControlMessage)>>,
}

#[derive(Debug, Default)]
pub struct ControlLedger {
    by_rule: BTreeMap<&'static str, u64>,
    by_message: BTreeMap<String, u64>,
    channels: BTreeMap<String, Channel>,
    trackers: BTreeMap<(IpAddr, u16, &'static str), Tracker>,
    learned: BTreeSet<IpAddr>,
    bootstrap_requests: u64,
    flows: HashMap<FlowPair, FlowState>,
    payloads: u64,
    unknown: u64,
    unconfirmed: u64,
}

fn str_value(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

impl ControlLedger {
    /// Counts a payload in its flow: recorded once the flow is attributed
    /// (at once for a strong rule; a weak rule's payload waits for its
    /// corroboration), otherwise counted as unknown or unconfirmed.
    pub fn observe(&mut self, key: &FlowKey, m: &ControlMessage) {
        self.payloads += 1;
        if self.flows.len() >= MAX_FLOWS {
            self.flows.retain(|_, f| f.pending.is_some() || f.evidence.attribution().app().is_some());
        }
        let flow = self.flows.entry(pair(key)).or_default();
        match flow.evidence.observe_fingerprint(&m.identification, m.fingerprint) {
            Attribution::App { .. } | Attribution::DecodeAs => {
                if let Some(kp) = flow.pending.take() {
                    let (k, p) = *kp;
                    self.record(&k, &p);
                }
                self.record(key, m);
            }
            Attribution::Pending(_) => flow.pending = Some(Box::new((*key, m.clone()))),
            Attribution::Unknown => {
                if flow.pending.take().is_some() {
                    self.unconfirmed += 1;
                }
                if m.identification.rule.is_some() {
                    self.unconfirmed += 1;
                } else {
                    self.unknown += 1;
                }
            }
        }
    }

    /// What an attributed flow's payload teaches.
    fn record(&mut self, key: &FlowKey, m: &ControlMessage) {
        if let Some(rule) = m.identification.rule {
            *self.by_rule.entry(rule.name()).or_default() += 1;
        }
        let Some(tree) = &m.tree else { return };
        *self.by_message.entry(format!("{:?}", tree.message)).or_default() += 1;
        for f in tree
            .find_all("pplive.gossip.channel")
            .chain(tree.find_all("pptv.tracker.resource_id"))
            .chain(tree.find_all("pptv.peerpkt.resource_id"))
        {
            if let Value::Guid(g) = &f.value {
                self.channels
                    .entry(g.to_string())
                    .or_insert_with(|| Channel { guid: g.to_string(), ..Default::default() })
                    .messages += 1;
            }
        }
        // A channel list names every channel and its trackers.
        for ch in tree.find_all("pplive.channel") {
            let guid = ch.walk().find(|f| f.def.name == "pplive.channel.guid").and_then(|f| match &f.value {
                Value::Guid(g) => Some(g.to_string()),
                other => str_value(other),
            });
            let name = ch.walk().find(|f| f.def.name == "pplive.channel.name").and_then(|f| str_value(&f.value));
            if let Some(guid) = guid {
                let c = self.channels.entry(guid.clone()).or_insert_with(|| Channel { guid, ..Default::default() });
                c.name = c.name.take().or(name);
            }
            for t in ch.walk().filter(|f| f.def.name == "pplive.playlink.tracker") {
                let host =
                    t.walk().find(|f| f.def.name == "pplive.playlink.tracker.host").and_then(|f| str_value(&f.value));
                let port = t.walk().find_map(|f| match (&f.value, f.def.name) {
                    (Value::U16(p), "pplive.playlink.tracker.port") => Some(*p),
                    _ => None,
                });
                let transport = t
                    .walk()
                    .find(|f| f.def.name == "pplive.playlink.tracker.transport")
                    .and_then(|f| str_value(&f.value));
                if let (Some(Ok(ip)), Some(port)) = (host.map(|h| h.parse::<IpAddr>()), port) {
                    let tr: &'static str =
                        if transport.as_deref().is_some_and(|t| t.contains("tcp")) { "tcp" } else { "udp" };
                    self.trackers.entry((ip, port, tr)).or_insert(Tracker {
                        ip,
                        port,
                        protocol: tr.to_string(),
                        replies: 0,
                        from_play_link: true,
                    });
                }
            }
        }
        for f in tree.find_all("pplive.host.ip").chain(tree.find_all("pptv.peer.ip")) {
            if let Value::Ipv4(ip) = f.value {
                self.learned.insert(IpAddr::V4(ip));
            }
        }
        match tree.message {
            // A tracker reply names its sender a tracker, even with an empty peer list
            // (the first peer of a channel gets one); a PPTV request names its receiver.
            MessageKind::TrackerReply | MessageKind::PptvTracker => {
                let request = matches!(tree.find("pptv.tracker.is_request").map(|f| &f.value), Some(Value::Bool(true)));
                let (addr, port) = if request { (key.dst_ip(), key.dst_port) } else { (key.src_ip(), key.src_port) };
                let tr: &'static str = if key.proto == 6 { "tcp" } else { "udp" };
                let e = self.trackers.entry((addr, port, tr)).or_insert(Tracker {
                    ip: addr,
                    port,
                    protocol: tr.to_string(),
                    replies: 0,
                    from_play_link: false,
                });
                if !request {
                    e.replies += 1;
                }
            }
            MessageKind::HttpRequest => self.bootstrap_requests += 1,
            _ => {}
        }
    }

    /// The findings, given the hosts that were ever parents and children.
    pub fn summary(&self, ever_parents: &BTreeSet<IpAddr>, ever_children: &BTreeSet<IpAddr>) -> ControlSummary {
        let n = self.learned.len();
        let parents = self.learned.iter().filter(|a| ever_parents.contains(a)).count();
        let children = self.learned.iter().filter(|a| ever_children.contains(a)).count();
        let frac = |k: usize| (n > 0).then(|| k as f64 / n as f64);
        ControlSummary {
            by_rule: self.by_rule.iter().map(|(r, n)| (r.to_string(), *n)).collect(),
            by_message: self.by_message.clone(),
            channels: self.channels.values().cloned().collect(),
            trackers: self.trackers.values().cloned().collect(),
            learned_peers: n,
            learned_private: self.learned.iter().filter(|a| matches!(a, IpAddr::V4(v4) if v4.is_private())).count(),
            learned_became_parents: parents,
            learned_became_children: children,
            learned_parent_fraction: frac(parents),
            learned_child_fraction: frac(children),
            bootstrap_requests: self.bootstrap_requests,
            payloads: self.payloads,
            unknown_payloads: self.unknown,
            unconfirmed_payloads: self.unconfirmed + self.flows.values().filter(|f| f.pending.is_some()).count() as u64,
        }
    }
}

/// Every host that was a parent, and every host that was a child, in some window.
pub fn ever_family(r: &crate::engine::Report) -> (BTreeSet<IpAddr>, BTreeSet<IpAddr>) {
    let mut parents = BTreeSet::new();
    let mut children = BTreeSet::new();
    for w in &r.windows {
        parents.extend(w.parents.iter().map(|p| p.peer));
        children.extend(w.children.iter().map(|p| p.peer));
    }
    (parents, children)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::decode;
    use peerscope_abi::flow::ipv4;
    use peerscope_dissector::v2005::{host_record::HostRecordRepr, tracker_reply::TrackerReplyRepr};

    fn reply(hosts: &[[u8; 4]]) -> Vec<u8> {
        let hosts = hosts
            .iter()
            .map(|ip| HostRecordRepr { ip: (*ip).into(), udp_port: 4004, tcp_port: 8008, unknown: [0; 10] })
            .collect();
        let mut out = Vec::new();
        TrackerReplyRepr { header: [2, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 2], hosts }.emit(&mut out);
        out
    }

    #[test]
    fn test_trackers_learned_peers_and_their_fate() {
        let key = FlowKey::new(17, ipv4(203, 0, 113, 2), 7000, ipv4(198, 51, 100, 10), 4004);
        let mut l = ControlLedger::default();
        // The first peer of a channel gets an empty list: its sender is still a tracker.
        l.observe(&key, &decode(&key, &reply(&[])).unwrap());
        l.observe(&key, &decode(&key, &reply(&[[203, 0, 113, 20], [10, 0, 0, 5], [192, 0, 2, 20]])).unwrap());
        let parents = BTreeSet::from([ipv4(203, 0, 113, 20)]);
        let children = BTreeSet::from([ipv4(192, 0, 2, 20), ipv4(198, 51, 100, 99)]);
        let s = l.summary(&parents, &children);
        assert_eq!(s.trackers.len(), 1);
        assert_eq!((s.trackers[0].ip, s.trackers[0].port, s.trackers[0].replies), (ipv4(203, 0, 113, 2), 7000, 2));
        assert_eq!((s.learned_peers, s.learned_private), (3, 1));
        assert_eq!((s.learned_became_parents, s.learned_became_children), (1, 1));
        assert_eq!(s.learned_parent_fraction, Some(1.0 / 3.0));
        assert_eq!(s.by_rule.get("pplive.udp.tracker_reply_2005"), Some(&2));
        assert_eq!((s.payloads, s.unknown_payloads, s.unconfirmed_payloads), (2, 0, 0));
    }

    /// A payload that matches nothing is unknown; a weak rule's payload counts
    /// only once its flow's second payload corroborates it, and is
    /// unconfirmed otherwise; generic HTTP is no bootstrap request.
    #[test]
    fn test_unknown_weak_and_generic_http() {
        let dns = FlowKey::new(17, ipv4(192, 0, 2, 1), 53000, ipv4(192, 0, 2, 53), 53);
        // The weak PPStream peer-data rule fits the first payload (p[1] = 80,
        // p[3] = p[4] != 0), not the second.
        let mut query = vec![0u8; 30];
        query[..5].copy_from_slice(&[0x12, 0x80, 0x01, 0x22, 0x22]);
        let mut reply = query.clone();
        reply[2..4].copy_from_slice(&[0x81, 0x80]);
        let mut l = ControlLedger::default();
        l.observe(&dns, &decode(&dns, &query).unwrap());
        l.observe(&dns.reversed(), &decode(&dns.reversed(), &reply).unwrap());
        let web = FlowKey::new(6, ipv4(192, 0, 2, 1), 50000, ipv4(198, 51, 100, 80), 80);
        l.observe(&web, &decode(&web, b"GET / HTTP/1.1\r\nHost: example.org\r\n\r\n").unwrap());
        let s = l.summary(&BTreeSet::new(), &BTreeSet::new());
        assert!(s.by_rule.is_empty(), "{:?}", s.by_rule);
        assert_eq!((s.payloads, s.unknown_payloads, s.unconfirmed_payloads, s.bootstrap_requests), (3, 2, 1, 0));

        let peers = FlowKey::new(17, ipv4(192, 0, 2, 1), 22793, ipv4(203, 0, 113, 9), 22636);
        let data = |seed: u8| {
            let mut d = vec![seed; 40];
            d[..5].copy_from_slice(&[0xda, 0x80, 0x9e, 0xbb, 0xbb]);
            d
        };
        l.observe(&peers, &decode(&peers, &data(1)).unwrap());
        l.observe(&peers.reversed(), &decode(&peers.reversed(), &data(2)).unwrap());
        let s = l.summary(&BTreeSet::new(), &BTreeSet::new());
        assert_eq!(s.by_rule.get("ppstream.udp.peer_data"), Some(&2), "both payloads once corroborated");
    }
}
