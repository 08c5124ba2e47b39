//! Geolocation of addresses by longest-prefix match ([M] §III-E): from a CSV table
//! of subnets or from a MaxMind `.mmdb` database.

pub mod distance;
pub mod mmdb;
pub mod table;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub use distance::{great_circle_miles, seed_distance_miles};
pub use mmdb::MmdbGeo;
pub use table::PrefixTable;

/// A located address.
#[derive(Clone, Debug, PartialEq)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
    /// Free text from the table (a place, or a region name that overrides the
    /// continent table: "Asia", "North America", "Other").
    pub label: Option<String>,
}

/// Errors loading a geolocation source.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    #[error("cannot read geolocation file {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    BadLine { path: PathBuf, line: usize, reason: String },
    #[error("cannot open MaxMind database {path}")]
    Mmdb {
        path: PathBuf,
        #[source]
        source: maxminddb::MaxMindDbError,
    },
}

/// One geolocation source.
#[derive(Debug)]
pub enum Geolocator {
    Table { path: PathBuf, table: PrefixTable },
    Mmdb { path: PathBuf, db: MmdbGeo },
}

impl Geolocator {
    /// Opens a `.mmdb` file by its extension, anything else as a CSV table.
    pub fn open(path: &Path) -> Result<Self, GeoError> {
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("mmdb")) {
            Ok(Geolocator::Mmdb { path: path.to_owned(), db: MmdbGeo::open(path)? })
        } else {
            Ok(Geolocator::Table { path: path.to_owned(), table: PrefixTable::load(path)? })
        }
    }

    pub fn lookup(&self, a: IpAddr) -> Option<GeoPoint> {
        match self {
            Geolocator::Table { table, .. } => table.lookup(a).cloned(),
            Geolocator::Mmdb { db, .. } => db.lookup(a),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Geolocator::Table { path, table } => format!("prefix table {} ({} prefixes)", path.display(), table.len()),
            Geolocator::Mmdb { path, .. } => format!("MaxMind database {}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::temp_path;

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
}
