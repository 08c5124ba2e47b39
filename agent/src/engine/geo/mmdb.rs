//! Geolocation from a MaxMind database (GeoLite2/GeoIP2 City layout:
//! `location.latitude`, `location.longitude`; the continent name becomes the label).

use std::net::IpAddr;
use std::path::Path;

use maxminddb::{path, Reader};

use super::{GeoError, GeoPoint};

pub struct MmdbGeo {
    reader: Reader<Vec<u8>>,
}

impl std::fmt::Debug for MmdbGeo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MmdbGeo").field("database_type", &self.reader.metadata().database_type).finish()
    }
}

impl MmdbGeo {
    pub fn open(p: &Path) -> Result<Self, GeoError> {
        let reader = Reader::open_readfile(p).map_err(|source| GeoError::Mmdb { path: p.to_owned(), source })?;
        Ok(MmdbGeo { reader })
    }

    /// `None` for addresses without coordinates; lookup errors count as unmatched.
    pub fn lookup(&self, a: IpAddr) -> Option<GeoPoint> {
        let r = self.reader.lookup(a).ok()?;
        let lat: f64 = r.decode_path(&path!["location", "latitude"]).ok()??;
        let lon: f64 = r.decode_path(&path!["location", "longitude"]).ok()??;
        let label: Option<String> = r.decode_path(&path!["continent", "names", "en"]).ok().flatten();
        Some(GeoPoint { lat, lon, label })
    }
}

#[cfg(test)]
mod tests {

    use crate::engine::continent::Region;
    use crate::engine::geo::Geolocator;
    use crate::offline::synth::{Link, SynthPcap};
    use crate::testing::*;

    /// A one-network IPv4 database written by hand in the MaxMind DB format (search
    /// tree, data section, metadata), read through `--geo FILE.mmdb`.
    /// MaxMind DB data-section encoding of the few types needed.
    enum V<'a> {
        Str(&'a str),
        F64(f64),
        U16(u16),
        U32(u32),
        U64(u64),
        Map(Vec<(&'a str, V<'a>)>),
        Arr(Vec<V<'a>>),
    }

    fn ctrl(out: &mut Vec<u8>, ty: u8, size: usize) {
        assert!(size < 29);
        if ty <= 7 {
            out.push((ty << 5) | size as u8);
        } else {
            out.push(size as u8);
            out.push(ty - 7);
        }
    }

    fn enc(v: &V<'_>, out: &mut Vec<u8>) {
        match v {
            V::Str(s) => {
                ctrl(out, 2, s.len());
                out.extend_from_slice(s.as_bytes());
            }
            V::F64(f) => {
                ctrl(out, 3, 8);
                out.extend_from_slice(&f.to_be_bytes());
            }
            V::U16(n) => {
                ctrl(out, 5, 2);
                out.extend_from_slice(&n.to_be_bytes());
            }
            V::U32(n) => {
                ctrl(out, 6, 4);
                out.extend_from_slice(&n.to_be_bytes());
            }
            V::U64(n) => {
                ctrl(out, 9, 8);
                out.extend_from_slice(&n.to_be_bytes());
            }
            V::Map(kv) => {
                ctrl(out, 7, kv.len());
                for (k, v) in kv {
                    enc(&V::Str(k), out);
                    enc(v, out);
                }
            }
            V::Arr(items) => {
                ctrl(out, 11, items.len());
                for v in items {
                    enc(v, out);
                }
            }
        }
    }

    /// An IPv4 database with one network `prefix/len` (24-bit records) whose record is
    /// `{location: {latitude, longitude}, continent: {names: {en}}}`.
    fn one_network_db(prefix: [u8; 4], len: usize, lat: f64, lon: f64, continent: &str) -> Vec<u8> {
        let node_count = len as u32;
        let bits = u32::from_be_bytes(prefix);
        let data_record = node_count + 16; // data offset 0
        let mut db = Vec::new();
        for i in 0..len {
            let bit = (bits >> (31 - i)) & 1;
            let on_path = if i + 1 == len { data_record } else { i as u32 + 1 };
            let (l, r) = if bit == 0 { (on_path, node_count) } else { (node_count, on_path) };
            db.extend_from_slice(&l.to_be_bytes()[1..]);
            db.extend_from_slice(&r.to_be_bytes()[1..]);
        }
        db.extend_from_slice(&[0u8; 16]);
        let record = V::Map(vec![
            ("continent", V::Map(vec![("names", V::Map(vec![("en", V::Str(continent))]))])),
            ("location", V::Map(vec![("latitude", V::F64(lat)), ("longitude", V::F64(lon))])),
        ]);
        enc(&record, &mut db);
        db.extend_from_slice(b"\xab\xcd\xefMaxMind.com");
        let meta = V::Map(vec![
            ("binary_format_major_version", V::U16(2)),
            ("binary_format_minor_version", V::U16(0)),
            ("build_epoch", V::U64(1_700_000_000)),
            ("database_type", V::Str("peerscope-test")),
            ("description", V::Map(vec![("en", V::Str("one network"))])),
            ("ip_version", V::U16(4)),
            ("languages", V::Arr(vec![V::Str("en")])),
            ("node_count", V::U32(node_count)),
            ("record_size", V::U16(24)),
        ]);
        enc(&meta, &mut db);
        db
    }

    fn db_path() -> std::path::PathBuf {
        let path = temp_path("geo.mmdb");
        std::fs::write(&path, one_network_db([198, 51, 100, 0], 24, 3.0, 4.0, "Asia")).unwrap();
        path
    }

    #[test]
    fn test_mmdb_lookup_by_network() {
        let g = Geolocator::open(&db_path()).unwrap();
        let p = g.lookup(ip("198.51.100.77")).expect("inside 198.51.100.0/24");
        assert_eq!((p.lat, p.lon, p.label.as_deref()), (3.0, 4.0, Some("Asia")));
        assert!(g.lookup(ip("198.51.101.1")).is_none());
        assert!(g.lookup(ip("10.0.0.1")).is_none());
        assert!(g.describe().contains("MaxMind"));
    }

    /// One parent at (3, 4), X placed at (0, 0): 346 miles per byte; the continent
    /// name of the database overrides the /8 (198/8 is ARIN's) in the region table.
    #[test]
    fn test_mmdb_drives_cost_and_continent() {
        let mut p = SynthPcap::new(Link::Ethernet);
        p.tcp_train(T0, S / 10, 100, sa("198.51.100.5", 8008), sa(X, 7000), 1300).udp(
            T0,
            sa("203.0.113.9", 1),
            sa(X, 2),
            100,
        );
        let mut cfg = window_config(20);
        cfg.geo = Some(std::sync::Arc::new(Geolocator::open(&db_path()).unwrap()));
        cfg.host_location = Some((0.0, 0.0));
        let r = analyze(&p, cfg).report;
        assert_close(r.cost.download_miles_per_byte.unwrap(), 346.0);
        assert_eq!((r.cost.peers, r.cost.located_peers), (2, 1));
        assert_eq!(r.continents[0].region, Region::Asia);
        assert_eq!(r.continents[0].peers, 1);
        assert_eq!(r.continents[0].download_bytes, 130_000);
    }
}
