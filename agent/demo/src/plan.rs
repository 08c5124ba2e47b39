//! The swarm's cast, decided before anything runs: every host's address, access
//! profile, region, and when it joins and leaves (churn). Seeded, so a run can be
//! repeated.
//!
//! Each region's /24 ([`Region`]) is split the same way: hosts `.1`–`.47` and
//! `.129`–`.175` are the swarm's own (infrastructure and peers, which exchange
//! video), `.48`–`.127` and `.176`–`.254` are gossip-only hosts ([`CROWD_PREFIXES`]):
//! idle peers of the channel that answer the tracker and gossip but have no video,
//! so that, as in [M], a peer contacts many more hosts than it exchanges data with.

use std::{net::Ipv4Addr, time::Duration};

use super::{geo::Region, rng::Rng};

/// How a peer is connected ([H] Table 1, [M] §III-D, §IV-A).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// High upload capacity, accepts connections: many children.
    Campus,
    /// Low upload capacity: a few children, served slowly.
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

    /// How many chunks behind the live edge the peer at `ip` fetches the newest one
    /// (its place in the swarm's delivery order): a campus peer next to the edge,
    /// any other 2–6 chunks behind (drawn from its address). A peer further back
    /// finds the chunks it asks for at those ahead of it.
    pub fn fetch_lag(self, ip: Ipv4Addr) -> u32 {
        match self {
            Profile::Campus => 1,
            Profile::Residential | Profile::Nat => 2 + (u32::from(ip).wrapping_mul(2_654_435_761) >> 28) % 5,
        }
    }

    /// Regular parents it downloads from at once, besides one on trial ([M] §IV-A:
    /// 3–5): a campus peer 3, fast ones; any other 4, since its parents are often
    /// low-capacity peers sharing 512 kbit/s among their children, and more places
    /// let it find the well-connected peers that serve many children.
    pub fn parents(self) -> usize {
        match self {
            Profile::Campus => 3,
            Profile::Residential | Profile::Nat => 4,
        }
    }

    /// How many distinct children it serves at once ([M]: 15–20 on a high-capacity
    /// host, none on a low-capacity or NATed one).
    pub fn max_children(self) -> usize {
        match self {
            Profile::Campus => 20,
            Profile::Residential => 2,
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

/// The whole cast: the peers (the monitored one first), the gossip-only hosts, and
/// the peers the source feeds.
#[derive(Clone, Debug)]
pub struct Cast {
    pub peers: Vec<PeerPlan>,
    pub crowd: Vec<Ipv4Addr>,
    /// Campus peers there from the start to the end, which the source serves (a
    /// broadcaster seeds its stream to a few well-connected relays, which carry it
    /// to the swarm). Empty when the swarm has no campus peer besides the monitored
    /// one: the source then serves any peer that accepts connections.
    pub relays: Vec<Ipv4Addr>,
}

/// Campus peers the source feeds, at most.
pub const RELAYS: usize = 6;
/// Children a relay serves at once besides campus peers: it passes the stream on
/// to the other well-connected peers first, which carry it to the rest of the
/// swarm (the demo tells relays from the cast which peers those are).
pub const RELAY_OTHERS: usize = 4;

/// Fixed infrastructure addresses (PPLive's servers were in China).
pub const TRACKER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);
pub const HTTP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 3);
/// The gossip-only hosts' namespace, as the hub routes to it.
pub const CROWD_ROUTER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 4);
/// The channel's source, hosted in Asia as PPLive's sources were.
pub const SOURCE: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);
pub const MONITORED: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 10);
/// The hub's address on every port: each host's only neighbour.
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

/// Host octets of a region's /24 held by gossip-only hosts, as (first, prefix length).
pub const CROWD_PREFIXES: [(u8, u8); 4] = [(48, 28), (64, 26), (176, 28), (192, 26)];
/// Peer host octets in each half of a region's /24 (below: infrastructure).
const PEER_HOSTS: [std::ops::RangeInclusive<u8>; 2] = [11..=47, 129..=175];

/// Every address gossip-only hosts can have: [`CROWD_PREFIXES`] of each region but
/// the /24's broadcast address, the regions interleaved.
pub fn crowd_addrs() -> Vec<Ipv4Addr> {
    let hosts: Vec<u8> = CROWD_PREFIXES
        .iter()
        .flat_map(|&(first, len)| (0..1u16 << (32 - len)).map(move |i| (first as u16 + i) as u8))
        .filter(|h| *h != 255)
        .collect();
    hosts.iter().flat_map(|h| Region::ALL.map(|r| r.addr(*h))).collect()
}

/// Share of the other peers that are campus and NATed hosts; the rest are residential.
const CAMPUS_SHARE: f64 = 0.15;
const NAT_SHARE: f64 = 0.2;

/// Peer 0 is the monitored one; the others: about 60% Asia, 25% North America,
/// 15% Europe (a full region's peers go to the next); 15% campus, 20% NAT, the rest
/// residential; joining and leaving as [`schedule`] draws it, but for the first
/// [`RELAYS`] campus peers, which join at once and stay. `crowd` gossip-only hosts
/// besides (at most [`crowd_addrs`]' length).
pub fn plan(peers: usize, crowd: usize, monitored: Profile, duration: Duration, seed: u64) -> Cast {
    let mut rng = Rng::new(seed);
    let mut out =
        vec![PeerPlan { index: 0, ip: MONITORED, profile: monitored, monitored: true, join: WARM_UP, leave: None }];
    let others = peers.max(1) - 1;
    let mut profiles = vec![Profile::Residential; others];
    // Enough campus peers for the relays, in a small swarm too.
    let campus = ((others as f64 * CAMPUS_SHARE).round() as usize).max(RELAYS.min(others / 3));
    let nat = (others as f64 * NAT_SHARE).round() as usize;
    profiles[..campus].fill(Profile::Campus);
    profiles[campus..(campus + nat).min(others)].fill(Profile::Nat);
    rng.shuffle(&mut profiles);
    let mut free: Vec<Vec<Ipv4Addr>> = Region::ALL.iter().map(|r| peer_addrs(*r)).collect();
    let mut relays = Vec::new();
    for (i, profile) in profiles.into_iter().enumerate() {
        let r = rng.unit();
        let first = if r < 0.6 {
            0
        } else if r < 0.85 {
            1
        } else {
            2
        };
        let region = (0..3).map(|k| (first + k) % 3).find(|&k| !free[k].is_empty()).expect("at most 250 peers");
        let ip = free[region].remove(0);
        let (mut join, mut leave) = schedule(&mut rng, duration);
        if profile == Profile::Campus && relays.len() < RELAYS {
            relays.push(ip);
            join = Duration::from_secs_f64(rng.unit() * RELAYS_JOIN_S);
            leave = None;
        }
        out.push(PeerPlan { index: i + 1, ip, profile, monitored: false, join, leave });
    }
    let mut all = crowd_addrs();
    all.truncate(crowd);
    Cast { peers: out, crowd: all, relays }
}

/// A region's peer addresses, alternating between its two cities (lower and upper
/// half), the monitored host's left out.
fn peer_addrs(r: Region) -> Vec<Ipv4Addr> {
    let [lower, upper] = PEER_HOSTS.map(|h| h.map(|o| r.addr(o)).filter(|a| *a != MONITORED).collect::<Vec<_>>());
    let mut out = Vec::new();
    for i in 0..lower.len().max(upper.len()) {
        out.extend(lower.get(i));
        out.extend(upper.get(i));
    }
    out
}

/// Share of peers that leave before the end ([H] §6, [M] §III-G: churn is high).
const LEAVING: f64 = 0.25;
/// Share of peers there from the swarm's first seconds: the monitored host joins
/// a channel others are watching, as the studies' hosts did.
const EARLY: f64 = 0.7;
/// The early peers join within this, the monitored one after [`WARM_UP`].
const EARLY_S: f64 = 5.0;
/// The relays join within this: the broadcaster's relays carry the stream from
/// the start.
const RELAYS_JOIN_S: f64 = 1.0;
/// How long the swarm runs before the monitored peer joins (and measuring starts):
/// long enough that the relays carry the stream and the peer lists name them, so
/// that the monitored peer joins a channel others are watching, as the studies'
/// hosts did.
pub const WARM_UP: Duration = Duration::from_secs(4);

/// When a peer joins and leaves, from the swarm's start, for a measured run of
/// `run` after [`WARM_UP`]: 70% within the first 5 s, the others during the first
/// 60% of the run; a quarter leave between 40% and 85% of it.
pub fn schedule(rng: &mut Rng, run: Duration) -> (Duration, Option<Duration>) {
    let (d, w) = (run.as_secs_f64(), WARM_UP.as_secs_f64());
    let join = if rng.unit() < EARLY { rng.unit() * EARLY_S } else { w + rng.unit() * d * 0.6 };
    let leave = (rng.unit() < LEAVING).then(|| w + d * (0.4 + 0.45 * rng.unit())).filter(|l| *l > join + 1.0);
    (Duration::from_secs_f64(join), leave.map(Duration::from_secs_f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_plan_is_distinct_and_documented() {
        let c = plan(100, 477, Profile::Campus, Duration::from_secs(90), 7);
        let p = &c.peers;
        assert_eq!(p.len(), 100);
        assert!(p[0].monitored && p[0].ip == MONITORED);
        let mut ips: Vec<_> = p.iter().map(|x| x.ip).chain(c.crowd.iter().copied()).collect();
        ips.extend([TRACKER, HTTP, SOURCE, CROWD_ROUTER, GATEWAY]);
        let n = ips.len();
        ips.sort();
        ips.dedup();
        assert_eq!(ips.len(), n, "addresses are unique");
        for x in p {
            assert!(Region::of(x.ip).is_some(), "{} is a documentation address", x.ip);
            if let Some(l) = x.leave {
                assert!(l > x.join);
            }
        }
        let count = |pr| p[1..].iter().filter(|x| x.profile == pr).count();
        assert_eq!((count(Profile::Campus), count(Profile::Nat), count(Profile::Residential)), (15, 20, 64));
        assert!(p.iter().any(|x| x.leave.is_some()));
        assert_eq!(c.crowd.len(), 477);
        assert_eq!(c.relays.len(), RELAYS);
        for r in &c.relays {
            let p = p.iter().find(|x| x.ip == *r).unwrap();
            assert!(p.profile == Profile::Campus && !p.monitored && p.leave.is_none(), "{p:?}");
            assert!(p.join.as_secs_f64() <= RELAYS_JOIN_S);
        }
        assert!(plan(3, 0, Profile::Campus, Duration::from_secs(9), 1).relays.is_empty(), "no campus peer");
        assert!(c.crowd.iter().all(|a| Region::of(*a).is_some() && a.octets()[3] != 255));
    }

    #[test]
    fn test_crowd_addresses_are_in_its_prefixes_and_peers_are_not() {
        let in_crowd = |a: Ipv4Addr| {
            let h = a.octets()[3];
            CROWD_PREFIXES.iter().any(|&(first, len)| h >= first && (h as u16) < first as u16 + (1 << (32 - len)))
        };
        assert!(crowd_addrs().into_iter().all(in_crowd));
        assert_eq!(crowd_addrs().len(), 3 * (16 + 64 + 16 + 63));
        let c = plan(60, 10, Profile::Nat, Duration::from_secs(60), 1);
        assert!(c.peers.iter().all(|p| !in_crowd(p.ip)));
        assert_eq!(c.crowd.len(), 10);
        let regions: std::collections::BTreeSet<_> = c.crowd.iter().map(|a| Region::of(*a).unwrap().label()).collect();
        assert_eq!(regions.len(), 3, "a small crowd spans every region");
    }

    #[test]
    fn test_schedule_stays_inside_the_run() {
        let mut rng = Rng::new(1);
        let run = Duration::from_secs(100);
        let (mut leavers, mut early) = (0, 0);
        for _ in 0..400 {
            let (join, leave) = schedule(&mut rng, run);
            assert!(join <= WARM_UP + run * 6 / 10);
            early += (join <= Duration::from_secs(5)) as usize;
            if let Some(l) = leave {
                leavers += 1;
                assert!(l > join && l > WARM_UP && l < WARM_UP + run);
            }
        }
        assert!((60..140).contains(&leavers), "about a quarter leave: {leavers}");
        assert!((240..330).contains(&early), "about 70% join at once: {early}");
    }
}
