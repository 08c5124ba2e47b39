//! What was read from a capture, counted with the kernel's counter names, and
//! whether any of it can be analysed.

use std::collections::BTreeMap;

use peerscope_abi::parse::{IpPacket, Note, Parsed};
use peerscope_abi::Counter;

use super::capture::Damage;
use super::decode::Decoded;
use super::link;

/// Counts of what was read: frames by what the parser made of them, and IP packets
/// by what it noted on them (the kernel counts the same outcomes, [`Counter`]).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ReadStats {
    pub frames: u64,
    pub ip_packets: u64,
    pub non_ip_frames: u64,
    /// Frames cut inside a header that was needed, or with a fixed IP header no reader
    /// would trust (not counted in any flow).
    pub truncated_frames: u64,
    /// Frames with more VLAN tags, or MPLS labels, than the parser reads (not counted
    /// in any flow).
    #[serde(default)]
    pub vlan_too_deep_frames: u64,
    #[serde(default)]
    pub mpls_too_deep_frames: u64,
    /// Frames of a link type peerscope does not read, and those per link type (its
    /// libpcap name and number, e.g. `USER0 (link type 147)`).
    pub unsupported_link_frames: u64,
    #[serde(default)]
    pub unsupported_link_frames_by_type: BTreeMap<String, u64>,
    /// IP packets the parser noted, all counted in their flows: fragments after the
    /// first (ports 0), IPv6 header chains longer than it walks (ports 0), broken
    /// transport headers (ports 0), IP lengths beyond what the frame carried (the
    /// frame's counted).
    #[serde(default)]
    pub non_first_fragment_packets: u64,
    #[serde(default)]
    pub ipv6_header_chain_too_long_packets: u64,
    #[serde(default)]
    pub transport_header_broken_packets: u64,
    #[serde(default)]
    pub ip_length_exceeds_frame_packets: u64,
    /// Packets counted in the inner flow of a tunnel (`--decap`).
    #[serde(default)]
    pub decapsulated_packets: u64,
    /// Gaps between packets of more than 100 000 empty windows (a reset or corrupt
    /// clock, captures joined end to end): the grid runs on, each gap is one run of
    /// empty windows.
    pub time_jumps: u64,
    /// Bytes of the file parsed, and its size.
    pub bytes_read: u64,
    pub file_size_bytes: u64,
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
                self.unsupported_link_frames += 1;
                *self.unsupported_link_frames_by_type.entry(link::name(*l)).or_default() += 1;
                None
            }
        }
    }

    fn add(&mut self, c: Counter) {
        let field = match c {
            Counter::NonIp => &mut self.non_ip_frames,
            Counter::Truncated => &mut self.truncated_frames,
            Counter::VlanTooDeep => &mut self.vlan_too_deep_frames,
            Counter::MplsTooDeep => &mut self.mpls_too_deep_frames,
            Counter::NonFirstFragments => &mut self.non_first_fragment_packets,
            Counter::Ipv6HeaderChainTooLong => &mut self.ipv6_header_chain_too_long_packets,
            Counter::TransportHeaderBroken => &mut self.transport_header_broken_packets,
            Counter::IpLengthExceedsFrame => &mut self.ip_length_exceeds_frame_packets,
            Counter::Decapsulated => &mut self.decapsulated_packets,
            // Not parser outcomes.
            _ => return,
        };
        *field += 1;
    }

    /// "14 frames of PPP, 2 frames of link type 147".
    pub fn unsupported_summary(&self) -> String {
        let parts: Vec<String> = self
            .unsupported_link_frames_by_type
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
        } else if self.unsupported_link_frames == self.frames {
            format!("no packet of a supported link type: {}", self.unsupported_summary())
        } else {
            let mut kinds = Vec::new();
            for (n, what) in [
                (self.non_ip_frames, "not IP"),
                (self.truncated_frames, "truncated"),
                (self.vlan_too_deep_frames, "with too many VLAN tags"),
                (self.mpls_too_deep_frames, "with too many MPLS labels"),
            ] {
                if n > 0 {
                    kinds.push(format!("{n} {what}"));
                }
            }
            if self.unsupported_link_frames > 0 {
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
