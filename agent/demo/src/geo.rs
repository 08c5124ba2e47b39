//! Where the swarm's hosts are: each documentation /24 stands for one continent and
//! each half of it for one city, so the distance and locality methods (METHODS §6)
//! have something to measure. Written as `prefix,latitude,longitude,label`, the
//! format the geolocation engine reads.

use std::net::Ipv4Addr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    Asia,
    NorthAmerica,
    Europe,
}

impl From<Region> for peerscope::schema::demo::DemoRegion {
    fn from(r: Region) -> Self {
        use peerscope::schema::demo::DemoRegion;
        match r {
            Region::Asia => DemoRegion::Asia,
            Region::NorthAmerica => DemoRegion::NorthAmerica,
            Region::Europe => DemoRegion::Europe,
        }
    }
}

impl Region {
    pub const ALL: [Region; 3] = [Region::Asia, Region::NorthAmerica, Region::Europe];

    /// First three octets of the region's /24.
    pub const fn net(self) -> [u8; 3] {
        match self {
            Region::Asia => [203, 0, 113],
            Region::NorthAmerica => [198, 51, 100],
            Region::Europe => [192, 0, 2],
        }
    }

    pub fn of(ip: Ipv4Addr) -> Option<Region> {
        let o = ip.octets();
        Region::ALL.into_iter().find(|r| r.net() == [o[0], o[1], o[2]])
    }

    pub fn addr(self, host: u8) -> Ipv4Addr {
        let n = self.net();
        Ipv4Addr::new(n[0], n[1], n[2], host)
    }

    pub const fn label(self) -> &'static str {
        match self {
            Region::Asia => "Asia",
            Region::NorthAmerica => "North America",
            Region::Europe => "Europe",
        }
    }
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub struct GeoEntry {
    pub prefix: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub label: &'static str,
}

/// Lower half of each /24 is the first city, upper half the second.
pub const TABLE: [GeoEntry; 6] = [
    GeoEntry { prefix: "203.0.113.0/25", lat: 39.90, lon: 116.40, label: "Beijing" },
    GeoEntry { prefix: "203.0.113.128/25", lat: 35.68, lon: 139.69, label: "Tokyo" },
    GeoEntry { prefix: "198.51.100.0/25", lat: 40.44, lon: -79.99, label: "Pittsburgh" },
    GeoEntry { prefix: "198.51.100.128/25", lat: 41.88, lon: -87.63, label: "Chicago" },
    GeoEntry { prefix: "192.0.2.0/25", lat: 51.51, lon: -0.13, label: "London" },
    GeoEntry { prefix: "192.0.2.128/25", lat: 48.86, lon: 2.35, label: "Paris" },
];

/// The city of an address of the swarm.
pub fn city(ip: Ipv4Addr) -> Option<&'static str> {
    let region = Region::of(ip)?;
    let idx = match region {
        Region::Asia => 0,
        Region::NorthAmerica => 2,
        Region::Europe => 4,
    };
    Some(TABLE[idx + (ip.octets()[3] >= 128) as usize].label)
}

pub fn csv() -> String {
    let mut s = String::from("prefix,latitude,longitude,label\n");
    for e in TABLE {
        s.push_str(&format!("{},{:.2},{:.2},{}\n", e.prefix, e.lat, e.lon, e.label));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_region_and_city_by_prefix() {
        assert_eq!(Region::of(Ipv4Addr::new(203, 0, 113, 200)), Some(Region::Asia));
        assert_eq!(city(Ipv4Addr::new(203, 0, 113, 200)), Some("Tokyo"));
        assert_eq!(city(Ipv4Addr::new(198, 51, 100, 10)), Some("Pittsburgh"));
        assert_eq!(city(Ipv4Addr::new(192, 0, 2, 130)), Some("Paris"));
        assert_eq!(Region::of(Ipv4Addr::new(10, 0, 0, 1)), None);
    }

    #[test]
    fn test_csv_has_header_and_every_city() {
        let csv = csv();
        assert!(csv.starts_with("prefix,latitude,longitude,label\n"));
        assert_eq!(csv.lines().count(), 7);
        assert!(csv.contains("198.51.100.0/25,40.44,-79.99,Pittsburgh"));
    }
}
