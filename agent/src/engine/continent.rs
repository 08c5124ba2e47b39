//! Continent table ([H] Table 3): for video sessions, the share of peers, of
//! download bytes and of upload bytes by region (Asia, North America, Other).
//!
//! A peer's region comes from the IANA IPv4 /8 registry (which RIR holds the first
//! octet; APNIC → Asia, ARIN → North America, others → Other), embedded from
//! `data/iana-ipv4-slash8.csv`. A geolocation label naming a region ("Asia",
//! "North America", or any other continent name → Other) overrides it, which also
//! places documentation ranges and IPv6 peers; IPv6 peers without a label are Other.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::util::ratio;

const IANA_SLASH8: &str = include_str!("../../data/iana-ipv4-slash8.csv");

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Region {
    Asia,
    NorthAmerica,
    Other,
}

impl Region {
    pub const ALL: [Region; 3] = [Region::Asia, Region::NorthAmerica, Region::Other];

    pub fn name(self) -> &'static str {
        match self {
            Region::Asia => "Asia",
            Region::NorthAmerica => "North America",
            Region::Other => "Other",
        }
    }

    /// A region named by a geolocation label, if the label names a continent.
    pub fn from_label(label: &str) -> Option<Region> {
        let l = label.trim().to_ascii_lowercase().replace(['_', '-'], " ");
        match l.as_str() {
            "asia" => Some(Region::Asia),
            "north america" => Some(Region::NorthAmerica),
            "other" | "europe" | "africa" | "oceania" | "south america" | "antarctica" => Some(Region::Other),
            _ => None,
        }
    }
}

/// RIR of each /8, parsed once from the embedded registry.
fn registry() -> &'static [&'static str; 256] {
    static R: OnceLock<[&'static str; 256]> = OnceLock::new();
    R.get_or_init(|| {
        let mut t = ["IANA"; 256];
        for line in IANA_SLASH8.lines().filter(|l| !l.starts_with('#')).skip(1) {
            let mut f = line.split(',');
            if let (Some(o), Some(r)) = (f.next(), f.next()) {
                if let Ok(o) = o.parse::<u8>() {
                    t[o as usize] = r;
                }
            }
        }
        t
    })
}

/// The registry holding an IPv4 address's /8.
pub fn registry_of(a: std::net::Ipv4Addr) -> &'static str {
    registry()[a.octets()[0] as usize]
}

/// Region of an address: the label's region if it names one, else by /8.
pub fn region_of(a: IpAddr, label: Option<&str>) -> Region {
    if let Some(r) = label.and_then(Region::from_label) {
        return r;
    }
    match super::host::canonical(a) {
        IpAddr::V4(v4) => match registry_of(v4) {
            "APNIC" => Region::Asia,
            "ARIN" => Region::NorthAmerica,
            _ => Region::Other,
        },
        IpAddr::V6(_) => Region::Other,
    }
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RegionRow {
    pub region: Region,
    pub peers: usize,
    pub download_bytes: u64,
    pub upload_bytes: u64,
    pub peer_share: Option<f64>,
    pub download_share: Option<f64>,
    pub upload_share: Option<f64>,
}

/// Builds the table from per-peer video bytes (down, up) and a region per peer.
pub fn continent_table(video: &BTreeMap<IpAddr, (u64, u64)>, region: impl Fn(IpAddr) -> Region) -> Vec<RegionRow> {
    let mut rows: BTreeMap<Region, (usize, u64, u64)> = Region::ALL.iter().map(|r| (*r, (0, 0, 0))).collect();
    for (peer, (d, u)) in video {
        let e = rows.get_mut(&region(*peer)).expect("all regions present");
        e.0 += 1;
        e.1 += d;
        e.2 += u;
    }
    let (tp, td, tu) = rows.values().fold((0, 0, 0), |a, r| (a.0 + r.0, a.1 + r.1, a.2 + r.2));
    rows.into_iter()
        .map(|(region, (p, d, u))| RegionRow {
            region,
            peers: p,
            download_bytes: d,
            upload_bytes: u,
            peer_share: ratio(p as f64, tp as f64),
            download_share: ratio(d as f64, td as f64),
            upload_share: ratio(u as f64, tu as f64),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::offline::synth::{Link, SynthPcap};
    use crate::testing::*;

    #[test]
    fn test_registry_regions() {
        assert_eq!(region_of("58.1.2.3".parse().unwrap(), None), Region::Asia);
        assert_eq!(region_of("128.2.0.1".parse().unwrap(), None), Region::NorthAmerica);
        assert_eq!(region_of("193.0.0.1".parse().unwrap(), None), Region::Other);
        assert_eq!(region_of("192.0.2.1".parse().unwrap(), Some("Asia")), Region::Asia);
        assert_eq!(region_of("2001:db8::1".parse().unwrap(), None), Region::Other);
        assert_eq!(region_of("58.1.2.3".parse().unwrap(), Some("Beijing")), Region::Asia);
    }

    #[test]
    fn test_registry_has_every_octet() {
        let r = registry();
        assert!(r.iter().all(|x| ["IANA", "APNIC", "ARIN", "RIPE NCC", "LACNIC", "AFRINIC"].contains(x)));
        assert_eq!(r[202], "APNIC");
        assert_eq!(r[224], "IANA");
    }

    /// Video sessions (TCP, > 10 packets > 1200 B):
    /// G (192.0.2.77, documentation range, labelled Asia) → X 20 × 1300 B;
    /// N (198.51.100.50, labelled North America) → X 11 × 1300 B;
    /// C (58.1.1.1, not in the table: APNIC /8, Asia) → X 30 × 1300 B and X → C 12 × 1300 B;
    /// E (193.0.0.1, RIPE /8) → X 5 × 1300 B: signaling, not in the table.
    #[test]
    fn test_continent_table_by_hand() {
        let (g, n, c, e) = ("192.0.2.77", "198.51.100.50", "58.1.1.1", "193.0.0.1");
        let x = sa(X, 7000);
        let mut p = SynthPcap::new(Link::Ethernet);
        p.tcp_train(T0, S / 10, 20, sa(g, 80), x, 1300)
            .tcp_train(T0, S / 10, 11, sa(n, 81), x, 1300)
            .tcp_train(T0, S / 10, 30, sa(c, 82), x, 1300)
            .tcp_train(T0, S / 10, 12, x, sa(c, 82), 1300)
            .tcp_train(T0, S / 10, 5, sa(e, 83), x, 1300);
        let mut cfg = window_config(20);
        cfg.geo = Some(geo_table("192.0.2.77/32,35,139,Asia\n198.51.100.50/32,40,-75,North America\n"));
        let r = analyze(&p, cfg).report;
        assert_eq!(r.sessions.video_sessions, 3);
        let rows: Vec<_> = r.continents.iter().map(|r| (r.region, r.peers, r.download_bytes, r.upload_bytes)).collect();
        assert_eq!(
            rows,
            vec![
                (Region::Asia, 2, 50 * 1300, 12 * 1300),
                (Region::NorthAmerica, 1, 11 * 1300, 0),
                (Region::Other, 0, 0, 0)
            ]
        );
        let asia = &r.continents[0];
        assert_close(asia.peer_share.unwrap(), 2.0 / 3.0);
        assert_close(asia.download_share.unwrap(), 50.0 / 61.0);
        assert_eq!(asia.upload_share, Some(1.0));
    }
}
