//! Lifetime totals and duration of every flow ([M] §III-A).
//!
//! Duration of a flow: first packet to last packet, gaps included
//! (`last_seen − first_seen`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};

use peerscope_abi::{FlowKey, FlowStats, UnixNs};

use super::host::MonitoredHost;
use crate::schema::Flow;

/// Retired flows the report still lists one by one: the largest (by IP bytes). As
/// many as a live agent's report file lists, so its "largest flows of the run" are
/// exact whatever was retired.
pub const RETIRED_FLOWS_LISTED: usize = 1000;

/// Counters of every flow of the run. With a linger (a live agent, see
/// [`super::config::Retention`]), a flow without packets for that long is retired:
/// its counters join `retired` (the totals every figure uses) and it leaves the map,
/// so memory follows the flows active in the last linger, not every flow that ever
/// existed. Offline (no linger) every flow stays.
#[derive(Clone, Debug, Default)]
pub struct FlowLedger {
    flows: HashMap<FlowKey, Tracked>,
    linger_ns: Option<u64>,
    /// The keys that had packets in each window not yet past the linger, oldest first
    /// (only with a linger): ageing visits only flows that were active.
    touched: VecDeque<(u64, Vec<FlowKey>)>,
    /// The keys of the window being added.
    current: Vec<FlowKey>,
    retired: RetiredFlows,
}

#[derive(Clone, Copy, Debug)]
struct Tracked {
    stats: FlowStats<UnixNs>,
    /// End of the last window in which the flow had packets.
    last_window_end_ns: u64,
}

/// What the retired flows leave behind: their number, their counters merged, and
/// the largest of them.
#[derive(Clone, Debug, Default)]
pub struct RetiredFlows {
    pub count: u64,
    pub total: FlowStats<UnixNs>,
    largest: BinaryHeap<Reverse<Largest>>,
}

/// A retired flow ordered by its bytes (then first packet, then key: a total order).
#[derive(Clone, Copy, Debug)]
struct Largest {
    key: FlowKey,
    stats: FlowStats<UnixNs>,
}

impl Largest {
    fn rank(&self) -> (u64, u64, FlowKey) {
        (self.stats.total_bytes(), self.stats.first_seen.0, self.key)
    }
}

impl PartialEq for Largest {
    fn eq(&self, o: &Self) -> bool {
        self.rank() == o.rank()
    }
}
impl Eq for Largest {}
impl PartialOrd for Largest {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Largest {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&o.rank())
    }
}

impl RetiredFlows {
    fn add(&mut self, key: FlowKey, stats: FlowStats<UnixNs>) {
        self.count += 1;
        self.total.merge(&stats);
        self.largest.push(Reverse(Largest { key, stats }));
        if self.largest.len() > RETIRED_FLOWS_LISTED {
            self.largest.pop();
        }
    }
}

impl FlowLedger {
    /// A ledger that retires flows idle for `linger_ns` (`None`: keeps every flow).
    pub fn new(linger_ns: Option<u64>) -> Self {
        FlowLedger { linger_ns, ..Default::default() }
    }

    /// Adds a delta of the window ending at `window_end_ns` (windows in time order).
    pub fn add(&mut self, key: &FlowKey, delta: &FlowStats<UnixNs>, window_end_ns: u64) {
        let e = self.flows.entry(*key).or_insert(Tracked { stats: FlowStats::default(), last_window_end_ns: 0 });
        e.stats.merge(delta);
        if e.last_window_end_ns != window_end_ns {
            e.last_window_end_ns = window_end_ns;
            if self.linger_ns.is_some() {
                self.current.push(*key);
            }
        }
    }

    /// Ends the window ending at `end_ns`: retires the flows whose last packets came
    /// in a window that ended at least the linger before it. Costs the number of
    /// flows that were active in the windows it looks at, never the ledger's size.
    pub fn end_window(&mut self, end_ns: u64) {
        let Some(linger) = self.linger_ns else { return };
        if !self.current.is_empty() {
            self.touched.push_back((end_ns, std::mem::take(&mut self.current)));
        }
        while self.touched.front().is_some_and(|(t, _)| t.saturating_add(linger) <= end_ns) {
            let Some((t, keys)) = self.touched.pop_front() else { break };
            for k in keys {
                // Still idle since that window (a later one would have moved it on).
                if self.flows.get(&k).is_some_and(|e| e.last_window_end_ns == t) {
                    if let Some(e) = self.flows.remove(&k) {
                        self.retired.add(k, e.stats);
                    }
                }
            }
        }
    }

    /// Flows held one by one (not retired).
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Every flow of the run, retired ones included.
    pub fn seen(&self) -> u64 {
        self.flows.len() as u64 + self.retired.count
    }

    pub fn retired(&self) -> &RetiredFlows {
        &self.retired
    }

    /// The flows held one by one.
    pub fn iter(&self) -> impl Iterator<Item = (&FlowKey, &FlowStats<UnixNs>)> {
        self.flows.iter().map(|(k, e)| (k, &e.stats))
    }

    /// The counters of every flow of the run: those held, then the retired ones merged
    /// into one (what sums, minima and maxima over all flows need).
    pub fn all_stats(&self) -> impl Iterator<Item = &FlowStats<UnixNs>> {
        let retired = (self.retired.count > 0).then_some(&self.retired.total);
        self.flows.values().map(|e| &e.stats).chain(retired)
    }

    /// Every flow held and the largest retired ones as report records (only the `max`
    /// largest by IP bytes, when given), ordered by key (a key retired and back again:
    /// by first packet).
    pub fn records(&self, host: &MonitoredHost, max: Option<usize>) -> Vec<Flow> {
        let retired = self.retired.largest.iter().map(|Reverse(l)| (&l.key, &l.stats));
        let mut listed: Vec<(&FlowKey, &FlowStats<UnixNs>)> = self.iter().chain(retired).collect();
        if let Some(max) = max.filter(|&m| m < listed.len()) {
            listed.select_nth_unstable_by_key(max, |(_, s)| Reverse(s.total_bytes()));
            listed.truncate(max);
        }
        let mut v: Vec<_> = listed.into_iter().map(|(k, s)| Flow::new(k, s, Some(host))).collect();
        v.sort_by_key(|a| {
            let k = &a.key;
            (k.src_ip, k.src_port, k.dst_ip, k.dst_port, k.ip_protocol, a.tunnel, a.total.first_seen_unix_ns)
        });
        v
    }
}

/// Duration of a flow in ns: first to last packet, gaps included.
pub fn duration_ns(s: &FlowStats<UnixNs>) -> u64 {
    s.last_seen.0.saturating_sub(s.first_seen.0)
}

#[cfg(test)]
mod tests {

    use crate::testing::scenario::{rates, RA};
    use crate::testing::*;

    /// See [`rates`]: RA:1 → X sends 60 + 100 + 100 packets of 1000 B in windows 0, 2
    /// and 3, the first at T0 and the last at T0 + 60 s + 99 × 0.1 s.
    #[test]
    fn test_flow_spanning_windows_keeps_one_record_and_its_duration() {
        let r = analyze(&rates(), window_config(20)).report;
        let f = r.flows.iter().find(|f| f.key.src_ip == ip(RA) && f.key.src_port == 1).unwrap();
        assert_eq!(f.total.classes.packets, 60 + 100 + 100);
        assert_eq!(f.total.classes.bytes, 260_000);
        assert_eq!(f.direction, Some(crate::schema::FlowDirection::Download));
        assert_eq!(f.total.first_seen_unix_ns, Some(T0));
        assert_eq!(f.total.last_seen_unix_ns, Some(T0 + 60 * S + 99 * (S / 10)));
        assert_close(f.total.duration_s, 69.9);
        // Every packet is in exactly one flow.
        assert_eq!(r.flows.iter().map(|f| f.total.classes.packets).sum::<u64>(), 560);
    }
}
