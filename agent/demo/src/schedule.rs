//! Chunk scheduling across parents ([M] §IV-A: 3–5 parents at once, chosen for their
//! performance; [H] §4.2: the top parent gives about half the video, and that share
//! moves). Each wanted chunk, oldest first, goes to one idle parent that is not known
//! to lack it, drawn with a weight of the parent's recent transfer rate capped at a
//! few times the playback rate: every parent fast enough is as likely as any other,
//! a slow one gets a little.
//!
//! Beside its regular parents (3 or 4, [`super::plan::Profile::parents`]) a peer keeps one on trial. At each
//! review the trial, if it delivered nearly as much as the slowest regular parent,
//! takes that parent's place; else it is dropped. A new trial follows, so the
//! parent set keeps changing ([M] §IV-C: ~30% per interval) and drifts towards the
//! hosts that deliver.

use std::{
    collections::{BTreeMap, BTreeSet},
    net::Ipv4Addr,
    time::{Duration, Instant},
};

use tokio::sync::mpsc::UnboundedSender;

use super::rng::Rng;

/// A trial parent that delivered at least this share of what the slowest regular
/// one did replaces it.
const PROMOTE_AT: f64 = 0.8;
/// Chunks behind the live edge a peer still fetches (about 10 s at 400 kbit/s).
pub const WINDOW: u32 = 30;
/// A parent that lacked a chunk (it may have newer ones) is not asked for it again
/// for this long.
const LACK_BACKOFF: Duration = Duration::from_millis(300);
/// Weight of a parent's rate sample in its estimate.
const RATE_GAIN: f64 = 0.3;
/// A parent younger than this is not judged at a review.
pub const REVIEW_MIN_AGE: Duration = Duration::from_secs(3);

/// One parent connection as the scheduler sees it.
#[derive(Debug)]
pub struct Link {
    /// Tells the connection which chunk to ask for.
    queue: UnboundedSender<u32>,
    /// Which connection this is (a parent may be reconnected while the old one ends).
    pub id: u64,
    pub since: Instant,
    /// Bytes per second while transferring, estimated.
    rate: f64,
    assigned: Option<u32>,
    /// How far behind the live chunk the parent's newest was when it last said: it
    /// keeps that distance as the live edge moves (the channel's clock, not the
    /// time since it said, so a reply just before a chunk is produced does not
    /// make the parent look a chunk behind for good).
    behind: Option<u32>,
    /// The parent lacked this chunk; not asked for it again until the instant.
    lacks: Option<(u32, Instant)>,
    /// Chunk bytes delivered since the last review.
    delivered: u64,
    trial: bool,
}

impl Link {
    /// The parent's newest chunk when the live one is `live`, from what it last said.
    fn newest_now(&self, live: u32) -> Option<u32> {
        Some(live.saturating_sub(self.behind?))
    }

    /// Whether the parent may hold `seq` now (the live chunk being `live`): not
    /// newer than its newest by now, and not the chunk it just lacked.
    fn may_have(&self, seq: u32, live: u32, now: Instant) -> bool {
        let lacks = self.lacks.is_some_and(|(s, until)| s == seq && now < until);
        !lacks && self.newest_now(live).is_none_or(|n| seq <= n)
    }
}

/// What asking a parent for a chunk gave.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outcome {
    /// The chunk (`bytes` of video, in `took`); the parent's newest chunk.
    Got { bytes: usize, took: Duration, newest: u32 },
    /// Not there yet; the parent's newest chunk.
    NotYet { newest: u32 },
    /// Anything else: the connection is ending.
    Failed,
}

/// The chunks a peer holds and is fetching, and its parents.
#[derive(Debug)]
pub struct Scheduler {
    pub have: BTreeSet<u32>,
    inflight: BTreeSet<u32>,
    pub play_from: u32,
    parents: BTreeMap<Ipv4Addr, Link>,
    /// Rates above this weigh the same: "fast enough".
    cap: f64,
    /// Regular parents it downloads from at once (and one more on trial).
    target: usize,
    review_start: Instant,
    next_id: u64,
    rng: Rng,
}

impl Scheduler {
    /// `rate_cap`: bytes per second from which a parent counts as fast enough.
    pub fn new(play_from: u32, rate_cap: f64, target: usize, rng: Rng) -> Self {
        Scheduler {
            have: BTreeSet::new(),
            inflight: BTreeSet::new(),
            play_from,
            parents: BTreeMap::new(),
            cap: rate_cap,
            target,
            review_start: Instant::now(),
            next_id: 0,
            rng,
        }
    }

    pub fn parents(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.parents.keys().copied()
    }

    /// Regular parents (the one on trial left out).
    /// How many regular parents it wants.
    pub fn target(&self) -> usize {
        self.target
    }

    pub fn regulars(&self) -> usize {
        self.parents.values().filter(|l| !l.trial).count()
    }

    pub fn has_trial(&self) -> bool {
        self.parents.values().any(|l| l.trial)
    }

    pub fn is_parent(&self, h: Ipv4Addr) -> bool {
        self.parents.contains_key(&h)
    }

    /// A new parent connection (regular, or on `trial`), fed through `queue`;
    /// returns its id. A new parent starts at half the cap, so it is asked before
    /// its rate is known.
    pub fn add(&mut self, parent: Ipv4Addr, queue: UnboundedSender<u32>, trial: bool, now: Instant) -> u64 {
        self.next_id += 1;
        let link = Link {
            queue,
            id: self.next_id,
            since: now,
            rate: self.cap / 2.0,
            assigned: None,
            behind: None,
            lacks: None,
            delivered: 0,
            trial,
        };
        if let Some(old) = self.parents.insert(parent, link) {
            self.release(old);
        }
        self.next_id
    }

    /// Removes connection `id` to `parent` (if it is still the current one); a chunk
    /// it was asked for is wanted again.
    pub fn remove(&mut self, parent: Ipv4Addr, id: u64) {
        if self.parents.get(&parent).is_some_and(|l| l.id == id) {
            let l = self.parents.remove(&parent).unwrap();
            self.release(l);
        }
    }

    /// Drops `parent` (its connection ends when it next waits for work).
    pub fn drop_parent(&mut self, parent: Ipv4Addr) {
        if let Some(l) = self.parents.remove(&parent) {
            self.release(l);
        }
    }

    fn release(&mut self, l: Link) {
        if let Some(seq) = l.assigned {
            self.inflight.remove(&seq);
        }
    }

    /// Hands every wanted chunk (oldest first, from `edge − WINDOW` or where play
    /// started, up to the newest we fetch, `edge`) to an idle parent, the channel's
    /// live chunk being `live`; returns the assignments, already queued.
    pub fn assign(&mut self, edge: u32, live: u32, now: Instant) -> Vec<(Ipv4Addr, u32)> {
        self.have = self.have.split_off(&edge.saturating_sub(2 * WINDOW));
        let mut out = Vec::new();
        let lo = self.play_from.max(edge.saturating_sub(WINDOW));
        for seq in lo..=edge {
            if self.have.contains(&seq) || self.inflight.contains(&seq) {
                continue;
            }
            let idle: Vec<(Ipv4Addr, f64)> = self
                .parents
                .iter()
                .filter(|(_, l)| l.assigned.is_none())
                .map(|(h, l)| (*h, if l.may_have(seq, live, now) { l.rate.min(self.cap).max(1.0) } else { 0.0 }))
                .collect();
            if idle.is_empty() {
                break;
            }
            let weights: Vec<f64> = idle.iter().map(|x| x.1).collect();
            let Some(i) = self.rng.weighted(&weights) else { continue };
            let link = self.parents.get_mut(&idle[i].0).unwrap();
            if link.queue.send(seq).is_ok() {
                link.assigned = Some(seq);
                self.inflight.insert(seq);
                out.push((idle[i].0, seq));
            }
        }
        out
    }

    /// The first chunk to ask a new connection for (it is then known to serve or
    /// not), we fetching up to `edge`: the oldest wanted one, given to it; with none
    /// wanted, the one after our edge, given to it too (a parent ahead of us sends
    /// it, one that is not says where it is; asking for a chunk we hold would fetch
    /// it twice); else, unassigned, the edge.
    pub fn first(&mut self, parent: Ipv4Addr, id: u64, edge: u32) -> u32 {
        let lo = self.play_from.max(edge.saturating_sub(WINDOW));
        let wanted = (lo..=edge + 1).find(|s| !self.have.contains(s) && !self.inflight.contains(s));
        match (wanted, self.parents.get_mut(&parent).filter(|l| l.id == id && l.assigned.is_none())) {
            (Some(seq), Some(l)) => {
                l.assigned = Some(seq);
                self.inflight.insert(seq);
                seq
            }
            _ => edge,
        }
    }

    /// What connection `id` to `parent` got for `seq`, the live chunk being `live`.
    pub fn done(&mut self, parent: Ipv4Addr, id: u64, seq: u32, outcome: Outcome, live: u32, now: Instant) {
        self.inflight.remove(&seq);
        if let Outcome::Got { .. } = outcome {
            self.have.insert(seq);
        }
        let Some(l) = self.parents.get_mut(&parent).filter(|l| l.id == id) else { return };
        if l.assigned == Some(seq) {
            l.assigned = None;
        }
        match outcome {
            Outcome::Got { bytes, took, newest } => {
                let sample = bytes as f64 / took.as_secs_f64().max(1e-4);
                l.rate += RATE_GAIN * (sample - l.rate);
                l.delivered += bytes as u64;
                l.behind = Some(live.saturating_sub(newest.max(seq)));
            }
            Outcome::NotYet { newest } => {
                l.behind = Some(live.saturating_sub(newest));
                l.lacks = Some((seq, now + LACK_BACKOFF));
            }
            Outcome::Failed => {}
        }
    }

    /// The first chunk a peer still wants: where play started, or [`WINDOW`] behind
    /// the live one.
    pub fn window_start(&self, live: u32) -> u32 {
        self.play_from.max(live.saturating_sub(WINDOW))
    }

    /// Whether a parent whose newest chunk is `newest` holds one we lack (up to
    /// `live`): a parent behind us holds nothing for us.
    pub fn lacks_any_upto(&self, newest: u32, live: u32) -> bool {
        (self.window_start(live)..=newest.min(live)).any(|s| !self.have.contains(&s))
    }

    /// Whether a parent whose newest chunk is `newest` is worth keeping, we fetching
    /// up to `edge`: one at or past our edge stays as far ahead as the live edge
    /// moves, so it will hold the next chunks we want even if we hold all of its
    /// own now (it only lacked one just produced); one behind, only while it holds
    /// one we lack.
    pub fn worth_asking(&self, newest: u32, edge: u32) -> bool {
        newest >= edge || self.lacks_any_upto(newest, edge)
    }

    /// The review, of parents older than [`REVIEW_MIN_AGE`]: a regular parent that
    /// delivered nothing since the last review goes; the one on trial becomes a
    /// regular parent if it delivered, and either fewer than the target are
    /// or it delivered at least [`PROMOTE_AT`] of the slowest regular parent's rate
    /// (which then goes); else the trial goes. Returns the parents to drop, and
    /// starts the next review period.
    pub fn review(&mut self, now: Instant) -> Vec<Ipv4Addr> {
        let start = std::mem::replace(&mut self.review_start, now);
        let mut rates: Vec<(Ipv4Addr, f64, bool)> = Vec::new();
        for (h, l) in self.parents.iter_mut() {
            let from = l.since.max(start);
            let rate = l.delivered as f64 / now.saturating_duration_since(from).as_secs_f64().max(1e-3);
            l.delivered = 0;
            if now.saturating_duration_since(l.since) >= REVIEW_MIN_AGE {
                rates.push((*h, rate, l.trial));
            }
        }
        let mut gone: Vec<Ipv4Addr> = rates.iter().filter(|r| !r.2 && r.1 == 0.0).map(|r| r.0).collect();
        let regulars: Vec<&(Ipv4Addr, f64, bool)> = rates.iter().filter(|r| !r.2 && r.1 > 0.0).collect();
        let Some(&(trial, trial_rate, _)) = rates.iter().find(|r| r.2) else { return gone };
        let slowest = regulars.iter().min_by(|a, b| a.1.total_cmp(&b.1));
        let room = self.regulars() - gone.len() < self.target;
        if trial_rate > 0.0 && (room || slowest.is_none_or(|s| trial_rate >= PROMOTE_AT * s.1)) {
            self.parents.get_mut(&trial).unwrap().trial = false;
            if !room {
                gone.extend(slowest.map(|s| s.0));
            }
        } else {
            gone.push(trial);
        }
        gone
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

    use super::*;

    const TARGET_PARENTS: usize = 3;

    fn ip(h: u8) -> Ipv4Addr {
        Ipv4Addr::new(203, 0, 113, h)
    }

    fn with_parents(n: u8, now: Instant) -> (Scheduler, Vec<(u64, UnboundedReceiver<u32>)>) {
        let mut s = Scheduler::new(100, 200_000.0, TARGET_PARENTS, Rng::new(5));
        let links = (0..n)
            .map(|i| {
                let (tx, rx) = unbounded_channel();
                (s.add(ip(20 + i), tx, false, now), rx)
            })
            .collect();
        (s, links)
    }

    #[test]
    fn test_each_wanted_chunk_goes_to_one_idle_parent_oldest_first() {
        let now = Instant::now();
        let (mut s, mut links) = with_parents(2, now);
        s.have.insert(100);
        // We fetch up to 103, a chunk behind the live one.
        let got = s.assign(103, 104, now);
        assert_eq!(got.iter().map(|g| g.1).collect::<Vec<_>>(), vec![101, 102], "two idle parents, two chunks");
        assert_ne!(got[0].0, got[1].0);
        assert!(s.assign(103, 104, now).is_empty(), "both busy");
        let (first, seq) = got[0];
        let k = |h: Ipv4Addr| (h.octets()[3] - 20) as usize;
        let id = links[k(first)].0;
        assert_eq!(links[k(first)].1.try_recv(), Ok(seq), "queued to that parent");
        s.done(first, id, seq, Outcome::NotYet { newest: 100 }, 104, now);
        assert!(s.assign(103, 104, now).is_empty(), "its newest is 100; nobody else is idle");
        s.remove(got[1].0, links[k(got[1].0)].0);
        assert!(s.assign(103, 104, now).is_empty(), "102 is wanted again, but the idle parent holds up to 100");
        // Past the lack's backoff, and the live edge moved on: it holds one more.
        let later = now + LACK_BACKOFF;
        assert_eq!(s.assign(103, 105, later), vec![(first, 101)], "it holds one more now");
        s.done(first, id, 101, Outcome::Got { bytes: 16384, took: Duration::from_millis(20), newest: 103 }, 105, later);
        assert!(s.have.contains(&101));
        assert_eq!(s.first(first, id, 103), 102, "a first request takes the oldest wanted chunk");
        assert_eq!(s.first(first, id, 103), 103, "busy: the edge, unassigned");
        s.done(first, id, 102, Outcome::Got { bytes: 16384, took: Duration::from_millis(20), newest: 103 }, 105, later);
        s.have.extend([100, 103]);
        assert_eq!(s.first(first, id, 103), 104, "nothing wanted: the one after our edge, not one we hold");
        assert!(s.assign(104, 105, later).is_empty(), "104 is on its way");
        s.have.retain(|c| *c < 102);
        assert!(s.lacks_any_upto(102, 103), "102 is missing");
        s.have.extend([100, 102]);
        assert!(!s.lacks_any_upto(102, 103), "a parent up to 102 holds nothing we lack");
        assert!(s.lacks_any_upto(103, 103));
        links.clear();
    }

    #[test]
    fn test_a_parent_keeps_its_distance_from_the_live_edge_however_long_ago_it_said() {
        let now = Instant::now();
        let (mut s, links) = with_parents(1, now);
        s.have.extend(100..=105);
        // It said so just before chunk 106 was produced: one chunk behind.
        s.done(
            ip(20),
            links[0].0,
            105,
            Outcome::Got { bytes: 16384, took: Duration::from_millis(9), newest: 105 },
            106,
            now,
        );
        // A moment later (no chunk interval has passed since) 106 is live and we want
        // 105's successor up to a chunk behind it: it is asked.
        s.have.insert(106);
        assert_eq!(s.assign(107, 108, now), vec![(ip(20), 107)], "one behind the live edge: it holds 107");
        assert!(s.worth_asking(107, 107), "at our edge: it will hold the next chunks");
        assert!(!s.worth_asking(106, 107), "behind our edge, holding nothing we lack");
        assert!(s.worth_asking(99, 107) == s.lacks_any_upto(99, 107));
    }

    #[test]
    fn test_fast_parents_share_alike_and_a_slow_one_gets_little() {
        let now = Instant::now();
        let (mut s, links) = with_parents(3, now);
        let ids: Vec<u64> = links.iter().map(|l| l.0).collect();
        let took = |h: Ipv4Addr| if h == ip(22) { Duration::from_millis(800) } else { Duration::from_millis(10) };
        let mut count = [0usize; 3];
        for live in 0..3000u32 {
            let seq = live + 100;
            for (h, s_) in s.assign(seq, seq, now) {
                let k = (h.octets()[3] - 20) as usize;
                count[k] += (s_ == seq) as usize;
                s.done(h, ids[k], s_, Outcome::Got { bytes: 16384, took: took(h), newest: 1 << 20 }, seq, now);
            }
        }
        let total: usize = count.iter().sum();
        let share = |k: usize| count[k] as f64 / total as f64;
        assert!((share(0) - share(1)).abs() < 0.1, "{count:?}");
        assert!(share(2) < 0.15 && share(2) > 0.0, "16 KiB in 0.8 s is 20 KB/s of a 200 KB/s cap: {count:?}");
    }

    #[test]
    fn test_a_trial_parent_takes_the_slowest_place_or_goes() {
        let t0 = Instant::now();
        let (mut s, links) = with_parents(TARGET_PARENTS as u8, t0);
        let (tx, _rx) = unbounded_channel();
        let trial = s.add(ip(40), tx, true, t0);
        let t = t0 + Duration::from_secs(5);
        let got = |bytes| Outcome::Got { bytes, took: Duration::from_millis(50), newest: 0 };
        for (k, (id, _)) in links.iter().enumerate() {
            s.done(ip(20 + k as u8), *id, 0, got(if k == 2 { 40_000 } else { 100_000 }), 0, t);
        }
        s.done(ip(40), trial, 0, got(35_000), 0, t);
        assert_eq!(s.review(t), vec![ip(22)], "35 KB is more than 0.8 of 40 KB: the trial stays");
        s.remove(ip(22), links[2].0);
        assert_eq!((s.regulars(), s.has_trial()), (TARGET_PARENTS, false));
        let (tx, _rx2) = unbounded_channel();
        let slow = s.add(ip(41), tx, true, t);
        let t = t + Duration::from_secs(5);
        s.done(ip(41), slow, 0, got(1_000), 0, t);
        for (k, (id, _)) in links.iter().enumerate().filter(|(k, _)| *k != 2) {
            s.done(ip(20 + k as u8), *id, 0, got(100_000), 0, t);
        }
        s.done(ip(40), trial, 0, got(100_000), 0, t);
        assert_eq!(s.review(t), vec![ip(41)], "a slow trial goes");
        s.drop_parent(ip(41));
        let mut all: Vec<_> = (0..TARGET_PARENTS as u8).filter(|k| *k != 2).map(|k| ip(20 + k)).collect();
        all.push(ip(40));
        assert_eq!(s.review(t + Duration::from_secs(5)), all, "nothing delivered: all go");
    }

    #[test]
    fn test_a_trial_fills_a_missing_regular_place_and_a_young_one_waits() {
        let t0 = Instant::now();
        let (mut s, links) = with_parents(1, t0);
        let (tx, _rx) = unbounded_channel();
        let trial = s.add(ip(40), tx, true, t0);
        let t = t0 + Duration::from_secs(1);
        let got = |bytes| Outcome::Got { bytes, took: Duration::from_millis(50), newest: 0 };
        s.done(ip(20), links[0].0, 0, got(1000), 0, t);
        s.done(ip(40), trial, 1, got(1000), 0, t);
        assert!(s.review(t).is_empty());
        assert!(s.has_trial(), "too young to judge");
        let t = t0 + Duration::from_secs(4);
        s.done(ip(20), links[0].0, 2, got(1000), 0, t);
        s.done(ip(40), trial, 3, got(1000), 0, t);
        assert!(s.review(t).is_empty());
        assert_eq!((s.regulars(), s.has_trial()), (2, false), "promoted into a free place");
    }
}
