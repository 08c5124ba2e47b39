//! The swarm's cast, decided before anything runs: every host's address, access
//! profile, region, and when it joins and leaves (churn). Seeded, so a run can be
//! repeated.

use std::{net::Ipv4Addr, time::Duration};

use super::{geo::Region, rng::Rng};

/// How a peer is connected ([H] Table 1, [M] §III-D).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// High upload capacity, accepts connections: many children.
    Campus,
    /// Low upload capacity.
    Residential,
    /// Behind a NAT: cannot accept connections, so it uploads nothing.
    Nat,
}

impl From<Profile> for peerscope::schema::demo::PeerProfile {
    fn from(p: Profile) -> Self {
        use peerscope::schema::demo::PeerProfile;
        match p {
            Profile::Campus => PeerProfile::Campus,
            Profile::Residential => PeerProfile::Residential,
            Profile::Nat => PeerProfile::Nat,
        }
    }
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
/// The channel's source, hosted in Asia as PPLive's sources were.
pub const SOURCE: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);
pub const MONITORED: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 10);

/// Peer 0 is the monitored one; the others: about 60% Asia, 25% North America,
/// 15% Europe; 10% campus, 20% NAT, the rest residential; joining and leaving as
/// [`schedule`] draws it.
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
        let (join, leave) = schedule(&mut rng, duration);
        out.push(PeerPlan { index, ip: region.addr(host), profile, monitored: false, join, leave });
    }
    out
}

/// Share of peers that leave before the end ([H] §6, [M] §III-G: churn is high).
const LEAVING: f64 = 0.25;

/// Join within the first fifth of the run; a quarter of the peers leave between
/// 40% and 85% of it.
pub fn schedule(rng: &mut Rng, run: Duration) -> (Duration, Option<Duration>) {
    let d = run.as_secs_f64();
    let join = Duration::from_secs_f64(rng.unit() * d * 0.2);
    let leave = (rng.unit() < LEAVING).then(|| Duration::from_secs_f64(d * (0.4 + 0.45 * rng.unit())));
    (join, leave)
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

    #[test]
    fn test_schedule_stays_inside_the_run() {
        let mut rng = Rng::new(1);
        let run = Duration::from_secs(100);
        let mut leavers = 0;
        for _ in 0..400 {
            let (join, leave) = schedule(&mut rng, run);
            assert!(join <= run / 5);
            if let Some(l) = leave {
                leavers += 1;
                assert!(l > join && l < run);
            }
        }
        assert!((60..140).contains(&leavers), "about a quarter leave: {leavers}");
    }
}
