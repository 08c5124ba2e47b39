//! Distance, cost of download/upload, matched fraction and the continent table,
//! by hand, with a CSV prefix table.
//!
//! X at (0, 0). Parents in one 20 s window (Rp = 4000 B/s = 80 000 B per window):
//! A at (3, 4): 346 miles (k = 69.2), 100 000 B; B at (6, 8): 692 miles, 300 000 B;
//! U (not in the table), 100 000 B: left out.
//! Cost of download = (346·100 000 + 692·300 000) / 400 000 = 605.5 miles/byte.
//! Child D at (0, 1): 69.2 miles, 90 000 B: cost of upload 69.2 miles/byte.

mod common;
use common::*;

use std::sync::Arc;

use peerscope::engine::continent::Region;
use peerscope::engine::geo::{Geolocator, PrefixTable};
use peerscope::offline::synth::{Link, SynthPcap};
use peerscope::schema::Location;

const A: &str = "198.51.100.1";
const B: &str = "198.51.100.2";
const U: &str = "203.0.113.99";
const D: &str = "198.51.100.4";

fn table(text: &str) -> Arc<Geolocator> {
    let path = temp_path("geo.csv");
    std::fs::write(&path, text).unwrap();
    Arc::new(Geolocator::open(&path).unwrap())
}

fn cost_capture() -> SynthPcap {
    let x = sa(X, 4004);
    let ms = S / 1000;
    let mut p = SynthPcap::new(Link::Ethernet);
    p.udp_train(T0, 100 * ms, 100, sa(A, 1), x, 1000)
        .udp_train(T0 + ms, 50 * ms, 300, sa(B, 1), x, 1000)
        .udp_train(T0 + 2 * ms, 100 * ms, 100, sa(U, 1), x, 1000)
        .udp_train(T0 + 3 * ms, 100 * ms, 90, x, sa(D, 1), 1000);
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
    cfg.geo = Some(table(TABLE));
    let r = analyze(&cost_capture(), cfg).report;
    let w = &r.windows[0];
    assert_eq!(w.parent_count, 3);
    assert_eq!((w.cost.located_parents, w.cost.located_children), (2, 1));
    assert_close(w.cost.download_miles_per_byte.unwrap(), 605.5);
    assert_close(w.cost.upload_miles_per_byte.unwrap(), 69.2);
    let c = &r.cost;
    assert_eq!(c.host_location, Some(Location::from((0.0, 0.0))), "X located through the table");
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
    cfg.geo = Some(table("198.51.100.0/24,3,4\n"));
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
    cfg.geo = Some(table("192.0.2.77/32,35,139,Asia\n198.51.100.50/32,40,-75,North America\n"));
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

#[test]
fn test_bad_geolocation_files_are_errors() {
    let path = temp_path("bad.csv");
    std::fs::write(&path, "10.0.0.0/8,91,0\n").unwrap();
    assert!(Geolocator::open(&path).is_err());
    let path = temp_path("bad.mmdb");
    std::fs::write(&path, b"not a maxmind database").unwrap();
    assert!(Geolocator::open(&path).is_err());
    assert!(PrefixTable::parse("2001:db8::/129,1,1").is_err());
}
