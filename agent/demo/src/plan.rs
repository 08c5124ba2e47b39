//! The swarm's cast, decided before anything runs: every host's address, access
//! profile, region, and when it joins and leaves (churn). Seeded, so a run can be
//! repeated.

use std::{net::Ipv4Addr, time::Duration};

use super::geo::Region;

/// How a peer is connected ([H] Table 1, [M] §III-D).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// High upload capacity, accepts connections: many children.
    Campus,
    /// Low upload capacity.
    Residential,
    /// Behind a NAT: cannot accept connections, so it uploads nothing.
    Nat,
}

impl Profile {
    /// Upload limit in bit/s (None: not shaped).
    pub fn upload_bps(self) -> Option<u64> {
        match self {
            Profile::Campus => Some(10_000_000),
            Profile::Residential => Some(512_000),
            Profile::Nat => Some(1_000_000),
        }
    }

    /// How many distinct children it serves at once.
    pub fn max_children(self) -> usize {
        match self {
            Profile::Campus => 24,
            Profile::Residential => 1,
            Profile::Nat => 0,
        }
    }

    pub fn accepts(self) -> bool {
        self != Profile::Nat
    }
}

#[derive(Clone, Debug)]
pub struct PeerPlan {
    pub index: usize,
    pub ip: Ipv4Addr,
    pub profile: Profile,
    pub monitored: bool,
    pub join: Duration,
    /// None: stays to the end.
    pub leave: Option<Duration>,
}

/// Fixed infrastructure addresses (PPLive's servers were in China).
pub const TRACKER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);
pub const HTTP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 3);
pub const SOURCE: Ipv4Addr = super::source::ADDR;
pub const MONITORED: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 10);

/// splitmix64: enough randomness for a cast, no dependency.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Peer 0 is the monitored one; the others: about 60% Asia, 25% North America,
/// 15% Europe; 10% campus, 20% NAT, the rest residential; joining and leaving as
/// [`super::churn::schedule`] draws it.
pub fn plan(peers: usize, monitored: Profile, duration: Duration, seed: u64) -> Vec<PeerPlan> {
    let mut rng = Rng::new(seed);
    let mut next_host = [20u8, 20, 20];
    let mut out = vec![PeerPlan {
        index: 0,
        ip: MONITORED,
        profile: monitored,
        monitored: true,
        join: Duration::ZERO,
        leave: None,
    }];
    for index in 1..peers.max(1) {
        let r = rng.unit();
        let (region, slot) = if r < 0.6 {
            (Region::Asia, 0)
        } else if r < 0.85 {
            (Region::NorthAmerica, 1)
        } else {
            (Region::Europe, 2)
        };
        // Alternate between the /24's two cities (lower and upper half).
        let n = next_host[slot];
        next_host[slot] += 1;
        let host = if n.is_multiple_of(2) { n / 2 + 10 } else { n / 2 + 140 };
        let p = rng.unit();
        let profile = if p < 0.1 {
            Profile::Campus
        } else if p < 0.3 {
            Profile::Nat
        } else {
            Profile::Residential
        };
        let (join, leave) = super::churn::schedule(&mut rng, duration);
        out.push(PeerPlan { index, ip: region.addr(host), profile, monitored: false, join, leave });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_plan_is_distinct_and_documented() {
        let p = plan(60, Profile::Campus, Duration::from_secs(90), 7);
        assert_eq!(p.len(), 60);
        assert!(p[0].monitored && p[0].ip == MONITORED);
        let mut ips: Vec<_> = p.iter().map(|x| x.ip).collect();
        ips.sort();
        ips.dedup();
        assert_eq!(ips.len(), 60, "addresses are unique");
        for x in &p {
            assert!(Region::of(x.ip).is_some(), "{} is a documentation address", x.ip);
            assert!(![TRACKER, HTTP, SOURCE].contains(&x.ip));
            if let Some(l) = x.leave {
                assert!(l > x.join);
            }
        }
        assert!(p.iter().any(|x| x.profile == Profile::Nat));
        assert!(p.iter().any(|x| x.leave.is_some()));
    }
}
