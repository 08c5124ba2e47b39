//! Size classification of packets into ack / control / data ([M] §II-D) and the
//! "large packet" count of [H] §4.1. One pure function, used by the kernel program
//! and by the pcap path.

use bytemuck::{Pod, Zeroable};

/// IP protocol numbers the classifier distinguishes.
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;

/// Thresholds of the size classes, in bytes of IP total length. Set at load time.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct Thresholds {
    /// A packet whose IP length is at least this is `data` ([M]: 1 KB).
    pub data_min_ip_len: u32,
    /// A packet whose IP length is above this is "large" ([H]: > 1200 bytes).
    pub large_above_ip_len: u32,
}

const _: () = assert!(core::mem::size_of::<Thresholds>() == 8);

impl Thresholds {
    /// The studies' values: data ≥ 1024 bytes, large > 1200 bytes.
    pub const STUDIES: Thresholds = Thresholds { data_min_ip_len: 1024, large_above_ip_len: 1200 };
}

impl Default for Thresholds {
    fn default() -> Self {
        Self::STUDIES
    }
}

/// The class of one packet. Discriminants index [`crate::FlowStats`] arrays.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PacketClass {
    /// A TCP segment that carries no payload (a pure acknowledgement, SYN, FIN, RST).
    Ack = 0,
    /// Everything between ack and data.
    Control = 1,
    /// IP length at or above [`Thresholds::data_min_ip_len`].
    Data = 2,
}

impl PacketClass {
    pub const COUNT: usize = 3;
    pub const ALL: [PacketClass; 3] = [PacketClass::Ack, PacketClass::Control, PacketClass::Data];

    pub const fn name(self) -> &'static str {
        match self {
            PacketClass::Ack => "ack",
            PacketClass::Control => "control",
            PacketClass::Data => "data",
        }
    }
}

/// Classifies one packet from its IP protocol, IP total length and transport payload
/// length. A TCP segment with no payload is an ack whatever its size (options can make
/// it longer than 40 bytes); otherwise the IP length decides.
#[inline(always)]
pub fn classify(t: &Thresholds, proto: u8, ip_len: u32, payload_len: u32) -> PacketClass {
    if proto == IPPROTO_TCP && payload_len == 0 {
        PacketClass::Ack
    } else if ip_len >= t.data_min_ip_len {
        PacketClass::Data
    } else {
        PacketClass::Control
    }
}

/// Whether a packet counts as "large" in the sense of [H] (video packets).
#[inline(always)]
pub fn is_large(t: &Thresholds, ip_len: u32) -> bool {
    ip_len > t.large_above_ip_len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_tcp_without_payload_is_ack_at_any_size() {
        let t = Thresholds::STUDIES;
        assert_eq!(classify(&t, IPPROTO_TCP, 40, 0), PacketClass::Ack);
        assert_eq!(classify(&t, IPPROTO_TCP, 60, 0), PacketClass::Ack);
        assert_eq!(classify(&t, IPPROTO_TCP, 41, 1), PacketClass::Control);
    }

    #[test]
    fn test_data_boundary_is_inclusive() {
        let t = Thresholds::STUDIES;
        assert_eq!(classify(&t, IPPROTO_UDP, 1023, 995), PacketClass::Control);
        assert_eq!(classify(&t, IPPROTO_UDP, 1024, 996), PacketClass::Data);
        assert_eq!(classify(&t, IPPROTO_UDP, 28, 0), PacketClass::Control);
    }

    #[test]
    fn test_large_boundary_is_exclusive() {
        let t = Thresholds::STUDIES;
        assert!(!is_large(&t, 1200));
        assert!(is_large(&t, 1201));
    }

    #[test]
    fn test_thresholds_are_parameters() {
        let t = Thresholds { data_min_ip_len: 500, large_above_ip_len: 600 };
        assert_eq!(classify(&t, IPPROTO_UDP, 500, 472), PacketClass::Data);
        assert!(is_large(&t, 601));
    }
}
