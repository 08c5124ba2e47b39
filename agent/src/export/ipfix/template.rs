//! The templates: one per address family and per whether the flow has a direction
//! relative to the monitored host (flowDirection has no value for "neither"), and
//! an options template for the class thresholds.

use super::ie::{self, Element};

/// The first template id a data set may use (RFC 7011 §3.4.3).
pub const FIRST_ID: u16 = 256;
/// The options template of the class thresholds.
pub const THRESHOLDS_ID: u16 = FIRST_ID + 4;

/// Which flow template a record takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlowTemplate {
    pub ipv6: bool,
    pub directed: bool,
}

impl FlowTemplate {
    pub const ALL: [FlowTemplate; 4] = [
        FlowTemplate { ipv6: false, directed: false },
        FlowTemplate { ipv6: false, directed: true },
        FlowTemplate { ipv6: true, directed: false },
        FlowTemplate { ipv6: true, directed: true },
    ];

    pub fn id(self) -> u16 {
        FIRST_ID + 2 * self.ipv6 as u16 + self.directed as u16
    }

    /// Its fields in record order; `interfaces`: with ingress/egressInterface.
    pub fn fields(self, interfaces: bool) -> Vec<Element> {
        let (src, dst) = if self.ipv6 {
            (ie::SOURCE_IPV6_ADDRESS, ie::DESTINATION_IPV6_ADDRESS)
        } else {
            (ie::SOURCE_IPV4_ADDRESS, ie::DESTINATION_IPV4_ADDRESS)
        };
        let mut f = vec![
            src,
            dst,
            ie::SOURCE_TRANSPORT_PORT,
            ie::DESTINATION_TRANSPORT_PORT,
            ie::PROTOCOL_IDENTIFIER,
            ie::OCTET_DELTA_COUNT,
            ie::PACKET_DELTA_COUNT,
            ie::FLOW_START_MILLISECONDS,
            ie::FLOW_END_MILLISECONDS,
            ie::TCP_CONTROL_BITS,
            ie::FLOW_END_REASON,
        ];
        if self.directed {
            f.push(ie::FLOW_DIRECTION);
        }
        if interfaces {
            f.extend([ie::INGRESS_INTERFACE, ie::EGRESS_INTERFACE]);
        }
        f.extend(CLASS_FIELDS);
        f
    }
}

/// The enterprise-specific counters every flow record ends with.
pub const CLASS_FIELDS: [Element; 9] = [
    ie::ACK_PACKET_DELTA_COUNT,
    ie::ACK_OCTET_DELTA_COUNT,
    ie::CONTROL_PACKET_DELTA_COUNT,
    ie::CONTROL_OCTET_DELTA_COUNT,
    ie::DATA_PACKET_DELTA_COUNT,
    ie::DATA_OCTET_DELTA_COUNT,
    ie::LARGE_PACKET_DELTA_COUNT,
    ie::LARGE_OCTET_DELTA_COUNT,
    ie::PAYLOAD_OCTET_DELTA_COUNT,
];

/// The thresholds' options template: scope observationDomainId, then the two
/// thresholds.
pub const THRESHOLDS_SCOPE: [Element; 1] = [ie::OBSERVATION_DOMAIN_ID];
pub const THRESHOLDS_FIELDS: [Element; 2] = [ie::DATA_MIN_IP_LENGTH, ie::LARGE_ABOVE_IP_LENGTH];

/// Bytes of one record of these fields.
pub fn record_len(fields: &[Element]) -> usize {
    fields.iter().map(|e| e.len as usize).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_templates_have_distinct_ids_below_the_options_one() {
        let mut ids: Vec<u16> = FlowTemplate::ALL.iter().map(|t| t.id()).collect();
        ids.dedup();
        assert_eq!(ids, vec![256, 257, 258, 259]);
        assert!(ids.iter().all(|&i| i < THRESHOLDS_ID));
    }

    #[test]
    fn test_record_lengths_follow_family_direction_and_interfaces() {
        let v4 = FlowTemplate { ipv6: false, directed: false };
        let v6d = FlowTemplate { ipv6: true, directed: true };
        // 4+4+2+2+1+8+8+8+8+2+1 standard, 9 × 8 enterprise.
        assert_eq!(record_len(&v4.fields(false)), 48 + 72);
        assert_eq!(record_len(&v6d.fields(true)), 48 + 24 + 1 + 8 + 72);
    }
}
