//! Test support: an IP packet wrapped in each link layer the pcap path reads, and a
//! pcap writer for any link type, so tests can hold every link type against tshark.

use pcap_file::DataLink;
use peerscope_abi::frames;
use peerscope_abi::parse::{ETH_P_8021AD, ETH_P_8021Q, ETH_P_IPV4, ETH_P_IPV6, ETH_P_MPLS_UC, ETH_P_PPP_SES};

/// A way of carrying an IP packet, with the link type of the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wrap {
    Ethernet,
    Vlan,
    QinQ,
    Pppoe,
    VlanPppoe,
    Mpls,
    FabricPath,
    LinuxSll,
    LinuxSll2,
    Raw,
    RawFamily,
    Null,
    NullBigEndian,
    Loop,
    Ppp,
    PppCompressed,
    PppHdlc,
    PppWithDir,
    PppEther,
    CiscoHdlc,
    Wifi,
    WifiQos,
    WifiFourAddress,
    Radiotap,
    PpiEthernet,
    PpiWifi,
}

impl Wrap {
    pub const ALL: [Wrap; 26] = [
        Wrap::Ethernet,
        Wrap::Vlan,
        Wrap::QinQ,
        Wrap::Pppoe,
        Wrap::VlanPppoe,
        Wrap::Mpls,
        Wrap::FabricPath,
        Wrap::LinuxSll,
        Wrap::LinuxSll2,
        Wrap::Raw,
        Wrap::RawFamily,
        Wrap::Null,
        Wrap::NullBigEndian,
        Wrap::Loop,
        Wrap::Ppp,
        Wrap::PppCompressed,
        Wrap::PppHdlc,
        Wrap::PppWithDir,
        Wrap::PppEther,
        Wrap::CiscoHdlc,
        Wrap::Wifi,
        Wrap::WifiQos,
        Wrap::WifiFourAddress,
        Wrap::Radiotap,
        Wrap::PpiEthernet,
        Wrap::PpiWifi,
    ];

    /// The record's link type for an IP packet of family `v6`.
    pub fn link(self, v6: bool) -> DataLink {
        match self {
            Wrap::Ethernet
            | Wrap::Vlan
            | Wrap::QinQ
            | Wrap::Pppoe
            | Wrap::VlanPppoe
            | Wrap::Mpls
            | Wrap::FabricPath => DataLink::ETHERNET,
            Wrap::LinuxSll => DataLink::LINUX_SLL,
            Wrap::LinuxSll2 => DataLink::LINUX_SLL2,
            Wrap::Raw => DataLink::RAW,
            Wrap::RawFamily if v6 => DataLink::IPV6,
            Wrap::RawFamily => DataLink::IPV4,
            Wrap::Null | Wrap::NullBigEndian => DataLink::NULL,
            Wrap::Loop => DataLink::LOOP,
            Wrap::Ppp | Wrap::PppCompressed => DataLink::PPP,
            Wrap::PppHdlc => DataLink::PPP_HDLC,
            Wrap::PppWithDir => DataLink::PPP_WITH_DIR,
            Wrap::PppEther => DataLink::PPP_ETHER,
            Wrap::CiscoHdlc => DataLink::C_HDLC,
            Wrap::Wifi | Wrap::WifiQos | Wrap::WifiFourAddress => DataLink::IEEE802_11,
            Wrap::Radiotap => DataLink::IEEE802_11_RADIOTAP,
            Wrap::PpiEthernet | Wrap::PpiWifi => DataLink::PPI,
        }
    }

    /// The record: `ip` (IPv6 when `v6`) behind this link layer.
    pub fn wrap(self, ip: &[u8], v6: bool) -> Vec<u8> {
        let et = if v6 { ETH_P_IPV6 } else { ETH_P_IPV4 };
        let ppp: u16 = if v6 { 0x0057 } else { 0x0021 };
        let head: Vec<u8> = match self {
            Wrap::Ethernet => frames::eth(et, &[]),
            Wrap::Vlan => frames::eth(et, &[ETH_P_8021Q]),
            Wrap::QinQ => frames::eth(et, &[ETH_P_8021AD, ETH_P_8021Q]),
            Wrap::Pppoe => [frames::eth(ETH_P_PPP_SES, &[]), frames::pppoe(ppp, ip.len())].concat(),
            Wrap::VlanPppoe => [frames::eth(ETH_P_PPP_SES, &[ETH_P_8021Q]), frames::pppoe(ppp, ip.len())].concat(),
            Wrap::Mpls => [frames::eth(ETH_P_MPLS_UC, &[]), frames::mpls(2)].concat(),
            Wrap::FabricPath => [frames::fabricpath(), et.to_be_bytes().to_vec()].concat(),
            // Packet type "sent to us", ARPHRD_ETHER, a 6-byte address.
            Wrap::LinuxSll => [&[0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0][..], &et.to_be_bytes()].concat(),
            Wrap::LinuxSll2 => {
                [&et.to_be_bytes()[..], &[0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]].concat()
            }
            Wrap::Raw | Wrap::RawFamily => vec![],
            // AF_INET 2; AF_INET6 as FreeBSD numbers it (28).
            Wrap::Null => (if v6 { 28u32 } else { 2 }).to_le_bytes().to_vec(),
            Wrap::NullBigEndian => (if v6 { 30u32 } else { 2 }).to_be_bytes().to_vec(),
            Wrap::Loop => (if v6 { 24u32 } else { 2 }).to_be_bytes().to_vec(),
            Wrap::Ppp | Wrap::PppHdlc => [&[0xff, 0x03][..], &ppp.to_be_bytes()].concat(),
            Wrap::PppCompressed => vec![ppp as u8],
            Wrap::PppWithDir => [&[0x01, 0xff, 0x03][..], &ppp.to_be_bytes()].concat(),
            Wrap::PppEther => frames::pppoe(ppp, ip.len()),
            Wrap::CiscoHdlc => [&[0x0f, 0x00][..], &et.to_be_bytes()].concat(),
            Wrap::Wifi => wifi(0x08, 0x01, et),
            Wrap::WifiQos => wifi(0x88, 0x02, et),
            Wrap::WifiFourAddress => wifi(0x08, 0x03, et),
            // Radiotap: version 0, length 8, no fields.
            Wrap::Radiotap => [&[0, 0, 8, 0, 0, 0, 0, 0][..], &wifi(0x08, 0x01, et)].concat(),
            Wrap::PpiEthernet => [&ppi(1)[..], &frames::eth(et, &[])].concat(),
            Wrap::PpiWifi => [&ppi(105)[..], &wifi(0x08, 0x01, et)].concat(),
        };
        [head, ip.to_vec(), self.trailer().to_vec()].concat()
    }

    /// Where the IP packet starts in a record.
    pub fn l3_offset(self, v6: bool) -> usize {
        self.wrap(&[], v6).len() - self.trailer().len()
    }

    /// FabricPath frames end with their frame check sequence (Wireshark 4.0 takes it for
    /// granted and cuts it off; it lies beyond the IP packet either way).
    fn trailer(self) -> &'static [u8] {
        if self == Wrap::FabricPath {
            &[0xde, 0xad, 0xbe, 0xef]
        } else {
            &[]
        }
    }
}

/// An 802.11 data frame header (frame control `fc`, flags `flags`: ToDS/FromDS),
/// QoS control when the subtype is QoS data, the fourth address when both DS bits are
/// set, then LLC/SNAP with the ethertype.
fn wifi(fc: u8, flags: u8, et: u16) -> Vec<u8> {
    let mut h = vec![fc, flags, 0, 0];
    for a in 1..=3u8 {
        h.extend_from_slice(&[0x02, 0, 0, 0, 0, a]);
    }
    h.extend_from_slice(&[0x10, 0]);
    if flags & 0x03 == 0x03 {
        h.extend_from_slice(&[0x02, 0, 0, 0, 0, 4]);
    }
    if fc & 0x80 != 0 {
        h.extend_from_slice(&[0, 0]);
    }
    h.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0]);
    h.extend_from_slice(&et.to_be_bytes());
    h
}

/// A PPI header of 8 bytes (no fields) with the inner link type.
fn ppi(dlt: u32) -> Vec<u8> {
    [&[0, 0, 8, 0][..], &dlt.to_le_bytes()].concat()
}

/// A classic pcap (microsecond timestamps) of link type `link`: records of
/// (timestamp ns, bytes, original length).
pub fn pcap(link: DataLink, records: &[(u64, Vec<u8>, u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&[2, 0, 4, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&262_144u32.to_le_bytes());
    out.extend_from_slice(&u32::from(link).to_le_bytes());
    for (ts, data, orig) in records {
        out.extend_from_slice(&((ts / 1_000_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((ts % 1_000_000_000 / 1000) as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(*orig).max(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
    }
    out
}
