//! What was read from a capture, counted with the kernel's counter names, and
//! whether any of it can be analysed.

use std::collections::BTreeMap;

use peerscope_abi::parse::{IpPacket, Note, Parsed};
use peerscope_abi::Counter;

use super::capture::Damage;
use super::decode::Decoded;
use super::link;

/// Counts of what was read. The parser's counts have the names of the kernel's
/// counters ([`Counter::name`]).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ReadStats {
    pub frames: u64,
    pub ip_packets: u64,
    pub non_ip: u64,
    /// Frames cut inside a header that was needed, or with a fixed IP header no reader
    /// would trust (not counted in any flow).
    pub truncated: u64,
    /// Frames with more VLAN tags, or MPLS labels, than the parser reads.
    pub vlan_too_deep: u64,
    pub mpls_too_deep: u64,
    /// Frames of a link type peerscope does not read, and those per link type.
    pub unsupported_link: u64,
    pub unsupported_links: BTreeMap<String, u64>,
    /// IP packets the parser noted (all counted in their flows).
    pub non_first_fragments: u64,
    pub ipv6_header_chain_too_long: u64,
    pub transport_header_broken: u64,
    pub ip_length_exceeds_frame: u64,
    /// Packets counted in the inner flow of a tunnel (`--decap`).
    pub decapsulated: u64,
    /// Forward timestamp jumps too long to fill with empty windows (the window
    /// grid restarted there).
    pub time_jumps: u64,
    /// Bytes of the file parsed, and its size.
    pub bytes_read: u64,
    pub file_size: u64,
}

impl ReadStats {
    /// Counts one decoded record; the IP packet, if it is one.
    pub fn count<'a>(&mut self, d: &'a Decoded) -> Option<&'a IpPacket> {
        self.frames += 1;
        match d {
            Decoded::Parsed(Parsed::Ip(p)) => {
                self.ip_packets += 1;
                for (bit, c) in Note::COUNTED {
                    if p.notes & bit != 0 {
                        self.add(c);
                    }
                }
                if p.decapsulated() {
                    self.add(Counter::Decapsulated);
                }
                Some(p)
            }
            Decoded::Parsed(other) => {
                if let Some(c) = other.counter() {
                    self.add(c);
                }
                None
            }
            Decoded::UnsupportedLink(l) => {
                self.unsupported_link += 1;
                *self.unsupported_links.entry(link::name(*l)).or_default() += 1;
                None
            }
        }
    }

    fn add(&mut self, c: Counter) {
        let field = match c {
            Counter::NonIp => &mut self.non_ip,
            Counter::Truncated => &mut self.truncated,
            Counter::VlanTooDeep => &mut self.vlan_too_deep,
            Counter::MplsTooDeep => &mut self.mpls_too_deep,
            Counter::NonFirstFragments => &mut self.non_first_fragments,
            Counter::Ipv6HeaderChainTooLong => &mut self.ipv6_header_chain_too_long,
            Counter::TransportHeaderBroken => &mut self.transport_header_broken,
            Counter::IpLengthExceedsFrame => &mut self.ip_length_exceeds_frame,
            Counter::Decapsulated => &mut self.decapsulated,
            // Not parser outcomes.
            _ => return,
        };
        *field += 1;
    }

    /// "14 frames of PPP, 2 frames of link type 147".
    pub fn unsupported_summary(&self) -> String {
        let parts: Vec<String> = self
            .unsupported_links
            .iter()
            .map(|(name, n)| format!("{n} frame{} of {name}", if *n == 1 { "" } else { "s" }))
            .collect();
        parts.join(", ")
    }

    /// Why nothing of the capture can be analysed, if so: no IP packet at all.
    pub fn unusable(&self, damage: Option<&Damage>) -> Option<String> {
        if self.ip_packets > 0 {
            return None;
        }
        let mut why = if self.frames == 0 {
            "no packet".to_string()
        } else if self.unsupported_link == self.frames {
            format!("no packet of a supported link type: {}", self.unsupported_summary())
        } else {
            let mut kinds = Vec::new();
            for (n, what) in [
                (self.non_ip, "not IP"),
                (self.truncated, "truncated"),
                (self.vlan_too_deep, "with too many VLAN tags"),
                (self.mpls_too_deep, "with too many MPLS labels"),
            ] {
                if n > 0 {
                    kinds.push(format!("{n} {what}"));
                }
            }
            if self.unsupported_link > 0 {
                kinds.push(self.unsupported_summary());
            }
            format!("no IP packet in {} frames ({})", self.frames, kinds.join(", "))
        };
        if let Some(d) = damage {
            why = format!("damaged capture, {d}; {why} before the damage");
        }
        Some(why)
    }
}

#[cfg(test)]
mod tests {
    use pcap_file::DataLink;

    use super::*;

    #[test]
    fn test_unusable_says_what_was_there() {
        let mut r = ReadStats::default();
        assert_eq!(r.unusable(None).as_deref(), Some("no packet"));
        for _ in 0..14 {
            r.count(&Decoded::UnsupportedLink(DataLink::USER0));
        }
        assert_eq!(
            r.unusable(None).as_deref(),
            Some("no packet of a supported link type: 14 frames of USER0 (link type 147)")
        );
        r.count(&Decoded::UnsupportedLink(DataLink::Unknown(300)));
        r.count(&Decoded::Parsed(Parsed::NonIp));
        r.count(&Decoded::Parsed(Parsed::VlanTooDeep));
        assert_eq!(
            r.unusable(None).as_deref(),
            Some(
                "no IP packet in 17 frames (1 not IP, 1 with too many VLAN tags, 14 frames of USER0 (link type 147), 1 frame of link type 300)"
            )
        );
        let d = Damage { packet_number: 18, byte_offset: 900, reason: "corrupt record: x".into() };
        assert!(r.unusable(Some(&d)).unwrap().starts_with("damaged capture, stopped at packet 18 (byte offset 900)"));
    }
}
