//! IPFIX Messages (RFC 7011 §3): the 16-byte header, then Sets (template sets,
//! options template sets, data sets), each no longer than the transport allows.
//!
//! The encoder writes sequence number 0: the transport session owns the sequence
//! (the data records it sent before, §3.1) and stamps it when it sends
//! ([`Message::stamp`]), so that a new TCP connection starts its own count.

use peerscope_abi::Thresholds;

use super::ie::Element;
use super::record::FlowRecord;
use super::template::{self, FlowTemplate};

pub const VERSION: u16 = 10;
pub const HEADER_LEN: usize = 16;
const SET_HEADER_LEN: usize = 4;
const TEMPLATE_SET_ID: u16 = 2;
const OPTIONS_TEMPLATE_SET_ID: u16 = 3;

/// One encoded message and the data records in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub bytes: Vec<u8>,
    pub data_records: u32,
}

impl Message {
    /// Writes the session's sequence number (data records it sent before this one).
    pub fn stamp(&mut self, sequence: u32) {
        self.bytes[8..12].copy_from_slice(&sequence.to_be_bytes());
    }
}

/// What every message of an exporter shares.
#[derive(Clone, Debug)]
pub struct EncoderConfig {
    /// The Private Enterprise Number of peerscope's own elements.
    pub enterprise: u32,
    pub observation_domain: u32,
    /// Longest message (UDP: one datagram that is not fragmented on most paths).
    pub max_message_len: usize,
    /// The interface the flows were observed on: adds ingress/egressInterface.
    pub ifindex: Option<u32>,
    pub thresholds: Thresholds,
}

impl EncoderConfig {
    pub fn new(enterprise: u32, thresholds: Thresholds) -> Self {
        EncoderConfig { enterprise, observation_domain: 0, max_message_len: 1400, ifindex: None, thresholds }
    }
}

/// Builds messages for one exporting process.
#[derive(Clone, Debug)]
pub struct Encoder {
    cfg: EncoderConfig,
}

/// A message being filled.
struct Builder<'a> {
    cfg: &'a EncoderConfig,
    bytes: Vec<u8>,
    data_records: u32,
    /// Where the open set starts, and its id.
    open_set: Option<(usize, u16)>,
}

impl<'a> Builder<'a> {
    fn new(cfg: &'a EncoderConfig, export_time_s: u32) -> Self {
        let mut bytes = Vec::with_capacity(cfg.max_message_len);
        bytes.extend_from_slice(&VERSION.to_be_bytes());
        bytes.extend_from_slice(&[0, 0]); // length, at finish
        bytes.extend_from_slice(&export_time_s.to_be_bytes());
        bytes.extend_from_slice(&[0; 4]); // sequence, stamped by the transport
        bytes.extend_from_slice(&cfg.observation_domain.to_be_bytes());
        Builder { cfg, bytes, data_records: 0, open_set: None }
    }

    fn is_empty(&self) -> bool {
        self.bytes.len() == HEADER_LEN
    }

    fn room(&self) -> usize {
        self.cfg.max_message_len.saturating_sub(self.bytes.len())
    }

    fn close_set(&mut self) {
        if let Some((at, _)) = self.open_set.take() {
            let len = (self.bytes.len() - at) as u16;
            self.bytes[at + 2..at + 4].copy_from_slice(&len.to_be_bytes());
        }
    }

    /// Opens set `id` unless it is the open one.
    fn set(&mut self, id: u16) {
        if self.open_set.map(|(_, open)| open) != Some(id) {
            self.close_set();
            self.open_set = Some((self.bytes.len(), id));
            self.bytes.extend_from_slice(&id.to_be_bytes());
            self.bytes.extend_from_slice(&[0, 0]);
        }
    }

    /// Room for a record of `len` bytes in set `id` (a set header more if it is not open).
    fn fits(&self, id: u16, len: usize) -> bool {
        let header = if self.open_set.map(|(_, open)| open) == Some(id) { 0 } else { SET_HEADER_LEN };
        self.room() >= header + len
    }

    fn field_specifier(&mut self, e: &Element) {
        let id = if e.enterprise { e.id | 0x8000 } else { e.id };
        self.bytes.extend_from_slice(&id.to_be_bytes());
        self.bytes.extend_from_slice(&e.len.to_be_bytes());
        if e.enterprise {
            self.bytes.extend_from_slice(&self.cfg.enterprise.to_be_bytes());
        }
    }

    fn finish(mut self) -> Message {
        self.close_set();
        let len = self.bytes.len() as u16;
        self.bytes[2..4].copy_from_slice(&len.to_be_bytes());
        Message { bytes: self.bytes, data_records: self.data_records }
    }
}

impl Encoder {
    pub fn new(cfg: EncoderConfig) -> Self {
        assert!(cfg.max_message_len >= 512 && cfg.max_message_len <= u16::MAX as usize, "message length");
        Encoder { cfg }
    }

    pub fn config(&self) -> &EncoderConfig {
        &self.cfg
    }

    /// The templates and the thresholds' options record: what a collector must have
    /// before the flow records (sent at the start of a session, and again on UDP).
    pub fn templates(&self, export_time_s: u32) -> Message {
        let mut b = Builder::new(&self.cfg, export_time_s);
        b.set(TEMPLATE_SET_ID);
        for t in FlowTemplate::ALL {
            let fields = t.fields(self.cfg.ifindex.is_some());
            b.bytes.extend_from_slice(&t.id().to_be_bytes());
            b.bytes.extend_from_slice(&(fields.len() as u16).to_be_bytes());
            for f in &fields {
                b.field_specifier(f);
            }
        }
        b.set(OPTIONS_TEMPLATE_SET_ID);
        let (scope, fields) = (template::THRESHOLDS_SCOPE, template::THRESHOLDS_FIELDS);
        b.bytes.extend_from_slice(&template::THRESHOLDS_ID.to_be_bytes());
        b.bytes.extend_from_slice(&((scope.len() + fields.len()) as u16).to_be_bytes());
        b.bytes.extend_from_slice(&(scope.len() as u16).to_be_bytes());
        for f in scope.iter().chain(&fields) {
            b.field_specifier(f);
        }
        b.set(template::THRESHOLDS_ID);
        b.bytes.extend_from_slice(&self.cfg.observation_domain.to_be_bytes());
        b.bytes.extend_from_slice(&self.cfg.thresholds.data_min_ip_len.to_be_bytes());
        b.bytes.extend_from_slice(&self.cfg.thresholds.large_above_ip_len.to_be_bytes());
        b.data_records += 1;
        b.finish()
    }

    /// The data records, in as few messages as fit; records of one template share a set.
    pub fn data<'r>(&self, export_time_s: u32, records: impl IntoIterator<Item = &'r FlowRecord>) -> Vec<Message> {
        let mut sorted: Vec<&FlowRecord> = records.into_iter().collect();
        sorted.sort_by_key(|r| r.template());
        let mut out = Vec::new();
        let mut b = Builder::new(&self.cfg, export_time_s);
        let ifaces = self.cfg.ifindex.is_some();
        for r in sorted {
            let t = r.template();
            let len = template::record_len(&t.fields(ifaces));
            if !b.fits(t.id(), len) && !b.is_empty() {
                out.push(std::mem::replace(&mut b, Builder::new(&self.cfg, export_time_s)).finish());
            }
            b.set(t.id());
            r.write(&mut b.bytes, self.cfg.ifindex);
            b.data_records += 1;
        }
        if !b.is_empty() {
            out.push(b.finish());
        }
        out
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::engine::MonitoredHost;
    use crate::export::ipfix::decoded::{decode, field_name, num};
    use crate::export::ipfix::ie::EndReason;
    use crate::export::ipfix::record::FlowRecord;
    use peerscope_abi::{flow::ipv4, FlowKey, FlowStats, PacketObservation, UnixNs};

    fn ipv6(s: [u16; 8]) -> std::net::IpAddr {
        std::net::Ipv6Addr::from(s).into()
    }

    fn records() -> Vec<FlowRecord> {
        let t = Thresholds::STUDIES;
        let host = MonitoredHost::new([ipv4(192, 0, 2, 1), ipv6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])]);
        (0..200u16)
            .map(|i| {
                let (a, b) = match i % 3 {
                    0 => (ipv4(192, 0, 2, 1), ipv4(198, 51, 100, (i % 250) as u8)),
                    1 => (ipv6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 2 + i]), ipv6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])),
                    // Neither end is X: no direction.
                    _ => (ipv4(203, 0, 113, 7), ipv4(198, 51, 100, 1)),
                };
                let proto = if i % 2 == 0 { 6 } else { 17 };
                let k = FlowKey::new(proto, a, 1000 + i, b, 4004);
                let mut s = FlowStats::default();
                for j in 0..=(i as u64 % 5) {
                    let len = [40, 300, 1100, 1400][(i as usize + j as usize) % 4];
                    let payload = if len == 40 { 0 } else { len - 40 };
                    let o =
                        PacketObservation::new(&t, proto, len, payload, 0x18, UnixNs(10_000_000_000 + j * 7_000_000));
                    s.record(&o);
                }
                FlowRecord::of_delta(&k, &s, Some(&host), 10_000_000_000, EndReason::ActiveTimeout)
            })
            .collect()
    }

    #[test]
    fn test_netflow_parser_reads_back_every_record_exactly() {
        for ifindex in [None, Some(3)] {
            let mut cfg = EncoderConfig::new(DOC, Thresholds::STUDIES);
            cfg.ifindex = ifindex;
            let enc = Encoder::new(cfg);
            let recs = records();
            let data = enc.data(1_700_000_000, &recs);
            assert!(data.len() > 1, "200 records take several messages of 1400 bytes");
            assert!(data.iter().all(|m| m.bytes.len() <= 1400));
            assert_eq!(data.iter().map(|m| m.data_records).sum::<u32>(), 200);
            let mut all = vec![enc.templates(1_700_000_000).bytes];
            all.extend(data.into_iter().map(|m| m.bytes));
            let (flows, options) = decode(&all);
            assert_eq!(options.len(), 1);
            assert_eq!(flows.len(), recs.len());
            let mut want: Vec<&FlowRecord> = recs.iter().collect();
            want.sort_by_key(|r| r.template());
            for (got, r) in flows.iter().zip(want) {
                let c = &r.counts.classes;
                let src = match &got.get("SourceIpv4address").or(got.get("SourceIpv6address")) {
                    Some(v) => v.as_object().unwrap().values().next().unwrap().as_str().unwrap().to_string(),
                    None => panic!("no source address: {got:?}"),
                };
                assert_eq!(src, r.key.src_ip.to_string());
                assert_eq!(num(&got["SourceTransportPort"]), r.key.src_port as u64);
                assert_eq!(num(&got["OctetDeltaCount"]), c.bytes);
                assert_eq!(num(&got["PacketDeltaCount"]), c.packets);
                let (start, end) = r.start_end_ms();
                assert_eq!((num(&got["FlowStartMilliseconds"]), num(&got["FlowEndMilliseconds"])), (start, end));
                assert_eq!(got.contains_key("FlowDirection"), r.template().directed, "{got:?}");
                assert_eq!(got.contains_key("IngressInterface"), ifindex.is_some());
                let own = [
                    c.ack_packets,
                    c.ack_bytes,
                    c.control_packets,
                    c.control_bytes,
                    c.data_packets,
                    c.data_bytes,
                    r.counts.large_packets,
                    r.counts.large_bytes,
                    r.counts.payload_bytes,
                ];
                for (i, v) in own.iter().enumerate() {
                    assert_eq!(num(&got[&format!("{DOC}/{}", i + 1)]), *v, "element {} of {got:?}", i + 1);
                }
            }
        }
    }

    #[test]
    fn test_thresholds_travel_in_an_options_record_under_the_given_enterprise() {
        let t = Thresholds { data_min_ip_len: 900, large_above_ip_len: 1300 };
        let enc = Encoder::new(EncoderConfig::new(4242, t));
        let (_, options) = decode(&[enc.templates(5).bytes]);
        let rec = options[0][0].as_array().unwrap();
        let got: Vec<(String, u64)> = rec.iter().map(|p| (field_name(&p[0]), num(&p[1]))).collect();
        let want = [("ObservationDomainId".to_string(), 0), ("4242/10".into(), 900), ("4242/11".into(), 1300)];
        assert_eq!(got, want);
    }

    const DOC: u32 = super::super::DOCUMENTATION_ENTERPRISE;
}
