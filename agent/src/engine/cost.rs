//! Distance and cost of download/upload ([M] §III-E,F).
//!
//! `D(A, X) = k · sqrt((x2 − x1)² + (y2 − y1)²)` (see `geo::distance`).
//! Cost of download in miles per byte: `C = Σ_p D_p·B_p / Σ_p B_p` over the parents p
//! of the window, `B_p` the bytes X received from p. Cost of upload: the same over
//! children and bytes sent. Unlocated peers are left out of both sums; the matched
//! fraction says how much was left out ([M] located 80%).

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::geo::{great_circle_miles, seed_distance_miles, GeoPoint, Geolocator};
use super::parents::PeerRate;
use super::util::ratio;
use crate::schema::Location;

/// Costs of one window. `null` when no parent (child) could be located.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WindowCost {
    pub download_miles_per_byte: Option<f64>,
    pub upload_miles_per_byte: Option<f64>,
    pub download_great_circle_miles_per_byte: Option<f64>,
    pub upload_great_circle_miles_per_byte: Option<f64>,
    pub located_parents: usize,
    pub located_children: usize,
}

/// Running sums `Σ D·B`, `Σ B` for one direction.
#[derive(Clone, Copy, Debug, Default)]
struct Sums {
    db: f64,
    gb: f64,
    b: u64,
    unlocated_b: u64,
}

impl Sums {
    fn add(&mut self, other: &Sums) {
        self.db += other.db;
        self.gb += other.gb;
        self.b += other.b;
        self.unlocated_b += other.unlocated_b;
    }
}

/// Locates peers (cached) and accumulates costs.
#[derive(Clone, Debug)]
pub struct CostTracker {
    host_at: Option<(f64, f64)>,
    k: f64,
    cache: HashMap<IpAddr, Option<GeoPoint>>,
    down: Sums,
    up: Sums,
    seen_peers: BTreeSet<IpAddr>,
}

impl CostTracker {
    /// `host_at` is X's location (given, or X's own address located).
    pub fn new(host_at: Option<(f64, f64)>, k: f64) -> Self {
        CostTracker {
            host_at,
            k,
            cache: HashMap::new(),
            down: Sums::default(),
            up: Sums::default(),
            seen_peers: BTreeSet::new(),
        }
    }

    pub fn locate(&mut self, geo: &Geolocator, a: IpAddr) -> Option<GeoPoint> {
        self.cache.entry(a).or_insert_with(|| geo.lookup(a)).clone()
    }

    fn sums(&mut self, geo: &Geolocator, peers: &[PeerRate], x: (f64, f64)) -> (Sums, usize) {
        let mut s = Sums::default();
        let mut located = 0;
        for p in peers {
            match self.locate(geo, p.peer) {
                Some(g) => {
                    located += 1;
                    s.db += seed_distance_miles(x, (g.lat, g.lon), self.k) * p.bytes as f64;
                    s.gb += great_circle_miles(x, (g.lat, g.lon)) * p.bytes as f64;
                    s.b += p.bytes;
                }
                None => s.unlocated_b += p.bytes,
            }
        }
        (s, located)
    }

    /// Cost of one window from its parents and children; `peers` are all peers of the
    /// window (for the matched fraction).
    pub fn observe(
        &mut self,
        geo: &Geolocator,
        parents: &[PeerRate],
        children: &[PeerRate],
        peers: impl IntoIterator<Item = IpAddr>,
    ) -> WindowCost {
        for p in peers {
            if self.seen_peers.insert(p) {
                self.locate(geo, p);
            }
        }
        let Some(x) = self.host_at else { return WindowCost::default() };
        let (d, located_parents) = self.sums(geo, parents, x);
        let (u, located_children) = self.sums(geo, children, x);
        self.down.add(&d);
        self.up.add(&u);
        WindowCost {
            download_miles_per_byte: ratio(d.db, d.b as f64),
            upload_miles_per_byte: ratio(u.db, u.b as f64),
            download_great_circle_miles_per_byte: ratio(d.gb, d.b as f64),
            upload_great_circle_miles_per_byte: ratio(u.gb, u.b as f64),
            located_parents,
            located_children,
        }
    }

    pub fn summary(&self) -> CostSummary {
        let located = self.seen_peers.iter().filter(|p| self.cache.get(p).is_some_and(|g| g.is_some())).count();
        CostSummary {
            host_location: self.host_at.map(Location::from),
            peers: self.seen_peers.len(),
            located_peers: located,
            located_peer_fraction: ratio(located as f64, self.seen_peers.len() as f64),
            located_parent_byte_fraction: ratio(self.down.b as f64, (self.down.b + self.down.unlocated_b) as f64),
            located_child_byte_fraction: ratio(self.up.b as f64, (self.up.b + self.up.unlocated_b) as f64),
            download_miles_per_byte: ratio(self.down.db, self.down.b as f64),
            upload_miles_per_byte: ratio(self.up.db, self.up.b as f64),
            download_great_circle_miles_per_byte: ratio(self.down.gb, self.down.b as f64),
            upload_great_circle_miles_per_byte: ratio(self.up.gb, self.up.b as f64),
        }
    }
}

/// Costs over all windows (`Σ` over windows and parents/children).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct CostSummary {
    /// X's location; `null` when unknown, and then every cost is `null`.
    pub host_location: Option<Location>,
    pub peers: usize,
    pub located_peers: usize,
    /// Located peers / all peers ([M]: 80%).
    pub located_peer_fraction: Option<f64>,
    /// Bytes from located parents / bytes from all parents (to children for upload).
    pub located_parent_byte_fraction: Option<f64>,
    pub located_child_byte_fraction: Option<f64>,
    /// [M]: ~13K miles/byte download for a US campus host fed from Asia; ~5K upload.
    pub download_miles_per_byte: Option<f64>,
    pub upload_miles_per_byte: Option<f64>,
    pub download_great_circle_miles_per_byte: Option<f64>,
    pub upload_great_circle_miles_per_byte: Option<f64>,
}

#[cfg(test)]
mod tests {

    use crate::offline::synth::{Link, SynthPcap};
    use crate::testing::*;

    const A: &str = "198.51.100.1";
    const B: &str = "198.51.100.2";
    const U: &str = "203.0.113.99";
    const D: &str = "198.51.100.4";

    /// Distance and cost, by hand, with a CSV prefix table.
    ///
    /// X at (0, 0). Parents in one 20 s window (Rp = 4000 B/s = 80 000 B per window):
    /// A at (3, 4): 346 miles (k = 69.2), 100 000 B; B at (6, 8): 692 miles, 300 000 B;
    /// U (not in the table), 100 000 B: left out.
    /// Cost of download = (346·100 000 + 692·300 000) / 400 000 = 605.5 miles/byte.
    /// Child D at (0, 1): 69.2 miles, 90 000 B: cost of upload 69.2 miles/byte.
    fn cost_capture() -> SynthPcap {
        let x = sa(X, 4004);
        let mut p = SynthPcap::new(Link::Ethernet);
        p.udp_train(T0, 100 * MS, 100, sa(A, 1), x, 1000)
            .udp_train(T0 + MS, 50 * MS, 300, sa(B, 1), x, 1000)
            .udp_train(T0 + 2 * MS, 100 * MS, 100, sa(U, 1), x, 1000)
            .udp_train(T0 + 3 * MS, 100 * MS, 90, x, sa(D, 1), 1000);
        p
    }

    const TABLE: &str = "prefix,latitude,longitude,label\n\
                         192.0.2.10/32,0,0,home\n\
                         198.51.100.1/32,3,4\n\
                         198.51.100.2/32,6,8\n\
                         198.51.100.0/24,0,1\n";

    #[test]
    fn test_cost_of_download_and_upload_by_hand() {
        let mut cfg = window_config(20);
        cfg.geo = Some(geo_table(TABLE));
        let r = analyze(&cost_capture(), cfg).report;
        let w = &r.windows[0];
        assert_eq!(w.parent_count, 3);
        assert_eq!((w.cost.located_parents, w.cost.located_children), (2, 1));
        assert_close(w.cost.download_miles_per_byte.unwrap(), 605.5);
        assert_close(w.cost.upload_miles_per_byte.unwrap(), 69.2);
        let c = &r.cost;
        assert_eq!(c.host_location, Some(crate::schema::Location::from((0.0, 0.0))), "X located through the table");
        assert_close(c.download_miles_per_byte.unwrap(), 605.5);
        assert_eq!((c.peers, c.located_peers), (4, 3));
        assert_close(c.located_peer_fraction.unwrap(), 0.75);
        assert_close(c.located_parent_byte_fraction.unwrap(), 0.8);
        // Great-circle distance, named apart, differs from the seed's flat formula.
        assert!(c.download_great_circle_miles_per_byte.unwrap() > 0.0);
        assert!((c.download_great_circle_miles_per_byte.unwrap() - 605.5).abs() > 1.0);
    }

    #[test]
    fn test_unmatched_host_gives_null_costs_unless_located_by_hand() {
        let mut cfg = window_config(20);
        cfg.geo = Some(geo_table("198.51.100.0/24,3,4\n"));
        let r = analyze(&cost_capture(), cfg.clone()).report;
        assert_eq!(r.cost.host_location, None);
        assert_eq!(r.windows[0].cost.download_miles_per_byte, None);
        assert_eq!(r.cost.download_miles_per_byte, None);

        cfg.host_location = Some((0.0, 0.0));
        let r = analyze(&cost_capture(), cfg).report;
        // A, B and D all at (3, 4) now: 346 miles.
        assert_close(r.cost.download_miles_per_byte.unwrap(), 346.0);
        assert_close(r.cost.upload_miles_per_byte.unwrap(), 346.0);
    }

    #[test]
    fn test_without_geolocation_costs_are_null() {
        let r = analyze(&cost_capture(), window_config(20)).report;
        assert_eq!(r.cost.download_miles_per_byte, None);
        assert_eq!(r.cost.located_peer_fraction, None);
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("NaN") && !json.contains("inf"));
    }
}
