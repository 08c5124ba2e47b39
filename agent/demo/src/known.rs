//! The hosts a peer knows of (METHODS §8 step 5): heard of from the tracker and from
//! gossip, whether we gossiped to them over UDP, whether they answered, whether a
//! TCP connection showed them to play nothing, and which to leave be for a while.
//!
//! A new parent is drawn among them weighted by how many peer lists named it: a
//! peer's list names its parents and children, so a host with many children (a
//! campus host) is named often and found soon, as [M] saw high-capacity hosts
//! serve 15–20 children.

use std::{
    collections::{HashMap, HashSet},
    net::Ipv4Addr,
    time::{Duration, Instant},
};

use super::rng::Rng;

/// How many peer lists a host that gossiped to us unasked counts for.
const QUERY_MENTIONS: usize = 8;

#[derive(Debug, Default)]
pub struct Known {
    me: Option<Ipv4Addr>,
    /// Every host heard of, in the order first heard.
    order: Vec<Ipv4Addr>,
    /// In how many peer lists each host appeared.
    mentions: HashMap<Ipv4Addr, u32>,
    /// How far along `order` our UDP gossip has gone.
    gossiped_upto: usize,
    contacted: HashSet<Ipv4Addr>,
    responders: Vec<Ipv4Addr>,
    responded: HashSet<Ipv4Addr>,
    probed: HashSet<Ipv4Addr>,
    /// Hosts that said they play nothing: never a parent.
    idle: HashSet<Ipv4Addr>,
    avoid: HashMap<Ipv4Addr, Instant>,
    /// Known from the start to hold the stream: picked before any other.
    upstream: Option<Ipv4Addr>,
}

impl Known {
    /// What `me` knows before any peer list: its `upstream`, if it has one.
    pub fn new(me: Ipv4Addr, upstream: Option<Ipv4Addr>) -> Self {
        let mut k = Known { me: Some(me), upstream, ..Default::default() };
        k.learn(upstream.as_slice());
        k
    }

    /// A peer list (tracker reply or gossip) named `hosts`.
    pub fn learn(&mut self, hosts: &[Ipv4Addr]) {
        for h in hosts.iter().filter(|h| Some(**h) != self.me) {
            let n = self.mentions.entry(*h).or_default();
            if *n == 0 {
                self.order.push(*h);
            }
            *n += 1;
        }
    }

    /// `h` gossiped to us unasked: a peer that plays and looks for partners (idle
    /// hosts only answer), named as often as [`QUERY_MENTIONS`] peer lists would,
    /// so that a peer that just joined is soon tried as a parent.
    pub fn queried_by(&mut self, h: Ipv4Addr) {
        self.learn(&[h; QUERY_MENTIONS]);
    }

    /// Up to `n` hosts heard of that we have not gossiped to yet, now marked as
    /// contacted.
    pub fn to_gossip(&mut self, n: usize) -> Vec<Ipv4Addr> {
        let mut out = Vec::new();
        while out.len() < n && self.gossiped_upto < self.order.len() {
            let h = self.order[self.gossiped_upto];
            self.gossiped_upto += 1;
            if self.contacted.insert(h) {
                out.push(h);
            }
        }
        out
    }

    /// We sent gossip to `h` (a host of a tracker reply, say).
    pub fn contacted(&mut self, h: Ipv4Addr) {
        self.contacted.insert(h);
    }

    pub fn was_contacted(&self, h: Ipv4Addr) -> bool {
        self.contacted.contains(&h)
    }

    /// `h` answered our gossip.
    pub fn responded(&mut self, h: Ipv4Addr) {
        if self.responded.insert(h) {
            self.responders.push(h);
        }
        if Some(h) != self.me && !self.mentions.contains_key(&h) {
            self.mentions.insert(h, 0);
            self.order.push(h);
        }
    }

    /// The next host that answered our UDP gossip and that we have not talked to
    /// over TCP yet ([M]: the exchange then moves to TCP).
    pub fn to_probe(&mut self) -> Option<Ipv4Addr> {
        let h = *self.responders.iter().find(|h| !self.probed.contains(h) && !self.idle.contains(h))?;
        self.probed.insert(h);
        Some(h)
    }

    pub fn idle(&mut self, h: Ipv4Addr) {
        self.idle.insert(h);
    }

    pub fn avoid(&mut self, h: Ipv4Addr, for_: Duration) {
        self.avoid.insert(h, Instant::now() + for_);
    }

    /// A host to ask for chunks: the upstream host first, else one weighted by the
    /// square of how often it was named; not `me`, not idle, not avoided, not
    /// `taken` (a parent already).
    pub fn pick_parent(&mut self, rng: &mut Rng, taken: impl Fn(Ipv4Addr) -> bool) -> Option<Ipv4Addr> {
        let now = Instant::now();
        self.avoid.retain(|_, t| *t > now);
        if let Some(u) = self.upstream.filter(|u| !self.idle.contains(u) && !self.avoid.contains_key(u) && !taken(*u)) {
            return Some(u);
        }
        let pool: Vec<(Ipv4Addr, f64)> = self
            .mentions
            .iter()
            .filter(|(h, _)| !self.idle.contains(h) && !self.avoid.contains_key(h) && !taken(**h))
            .map(|(h, n)| (*h, (*n as f64 + 1.0).powi(2)))
            .collect();
        let i = rng.weighted(&pool.iter().map(|p| p.1).collect::<Vec<_>>())?;
        Some(pool[i].0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(h: u8) -> Ipv4Addr {
        Ipv4Addr::new(192, 0, 2, h)
    }

    #[test]
    fn test_gossip_goes_to_each_host_once_in_the_order_heard() {
        let mut k = Known::new(ip(1), None);
        k.learn(&[ip(1), ip(2), ip(3)]);
        k.contacted(ip(3));
        k.learn(&[ip(4), ip(2)]);
        assert_eq!(k.to_gossip(10), vec![ip(2), ip(4)], "not ourselves, not 3 (contacted already)");
        assert!(k.to_gossip(10).is_empty());
        k.responded(ip(4));
        k.responded(ip(9));
        assert_eq!((k.to_probe(), k.to_probe(), k.to_probe()), (Some(ip(4)), Some(ip(9)), None));
    }

    #[test]
    fn test_parents_are_drawn_from_the_often_named_and_never_idle_hosts() {
        let mut k = Known::new(ip(1), None);
        for _ in 0..9 {
            k.learn(&[ip(2)]);
        }
        k.learn(&[ip(3), ip(4), ip(5)]);
        k.idle(ip(5));
        k.avoid(ip(4), Duration::from_secs(60));
        let mut rng = Rng::new(2);
        let picks: Vec<_> = (0..400).filter_map(|_| k.pick_parent(&mut rng, |_| false)).collect();
        assert!(picks.iter().all(|p| *p == ip(2) || *p == ip(3)), "not idle 5, not avoided 4");
        let twos = picks.iter().filter(|p| **p == ip(2)).count();
        assert!(twos > 300, "named 9 times against once: weight 100 to 4, {twos} of 400");
        assert_eq!(k.pick_parent(&mut rng, |h| h == ip(2) || h == ip(3)), None);
    }

    #[test]
    fn test_the_upstream_host_is_asked_first_unless_taken_or_avoided() {
        let mut k = Known::new(ip(1), Some(ip(7)));
        for _ in 0..9 {
            k.learn(&[ip(2)]);
        }
        let mut rng = Rng::new(3);
        assert_eq!(k.pick_parent(&mut rng, |_| false), Some(ip(7)), "the source before a host named 9 times");
        assert_eq!(k.pick_parent(&mut rng, |h| h == ip(7)), Some(ip(2)), "a parent already");
        k.avoid(ip(7), Duration::from_secs(60));
        assert_eq!(k.pick_parent(&mut rng, |_| false), Some(ip(2)), "avoided for now");
    }
}
