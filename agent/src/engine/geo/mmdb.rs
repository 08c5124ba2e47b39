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
