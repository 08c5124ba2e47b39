//! A CSV table of subnets, `prefix,latitude,longitude[,label]`, IPv4 and IPv6,
//! matched by longest prefix. Blank lines, `#` comments and a header line whose
//! first field is `prefix` are skipped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use super::{GeoError, GeoPoint};

/// Prefixes keyed by length (over the 128-bit mapped address space) then by
/// masked address.
#[derive(Debug, Default)]
pub struct PrefixTable {
    by_len: HashMap<u8, HashMap<u128, GeoPoint>>,
    lens: Vec<u8>,
    count: usize,
}

fn to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn mask(bits: u8) -> u128 {
    if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits as u32)
    }
}

impl PrefixTable {
    pub fn load(path: &Path) -> Result<Self, GeoError> {
        let text = std::fs::read_to_string(path).map_err(|source| GeoError::Io { path: path.to_owned(), source })?;
        Self::parse(&text).map_err(|(line, reason)| GeoError::BadLine { path: path.to_owned(), line, reason })
    }

    /// Parses the CSV text; errors carry the 1-based line number.
    pub fn parse(text: &str) -> Result<Self, (usize, String)> {
        let mut t = PrefixTable::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.splitn(4, ',').map(str::trim).collect();
            if fields[0].eq_ignore_ascii_case("prefix") {
                continue;
            }
            if fields.len() < 3 {
                return Err((i + 1, "expected prefix,latitude,longitude[,label]".into()));
            }
            let (addr, len) = parse_prefix(fields[0]).ok_or((i + 1, format!("bad prefix {:?}", fields[0])))?;
            let lat: f64 = fields[1].parse().map_err(|_| (i + 1, format!("bad latitude {:?}", fields[1])))?;
            let lon: f64 = fields[2].parse().map_err(|_| (i + 1, format!("bad longitude {:?}", fields[2])))?;
            if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                return Err((i + 1, "coordinates out of range".into()));
            }
            let label = fields.get(3).filter(|l| !l.is_empty()).map(|l| l.to_string());
            t.insert(addr, len, GeoPoint { lat, lon, label });
        }
        Ok(t)
    }

    /// `len` counts bits of the address as written (0–32 for IPv4, 0–128 for IPv6).
    pub fn insert(&mut self, addr: IpAddr, len: u8, p: GeoPoint) {
        let bits = if addr.is_ipv4() { len + 96 } else { len };
        let key = to_u128(addr) & mask(bits);
        if self.by_len.entry(bits).or_default().insert(key, p).is_none() {
            self.count += 1;
        }
        if !self.lens.contains(&bits) {
            self.lens.push(bits);
            self.lens.sort_unstable_by(|a, b| b.cmp(a));
        }
    }

    /// Longest matching prefix.
    pub fn lookup(&self, a: IpAddr) -> Option<&GeoPoint> {
        let x = to_u128(super::super::host::canonical(a));
        self.lens.iter().find_map(|&bits| self.by_len.get(&bits)?.get(&(x & mask(bits))))
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// `a.b.c.d/n`, `x::/n`, or a bare address (a host prefix).
fn parse_prefix(s: &str) -> Option<(IpAddr, u8)> {
    let (a, len) = match s.split_once('/') {
        Some((a, l)) => (a.parse::<IpAddr>().ok()?, Some(l.parse::<u8>().ok()?)),
        None => (s.parse::<IpAddr>().ok()?, None),
    };
    let max = if a.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    (len <= max).then_some((a, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_longest_prefix_wins() {
        let t = PrefixTable::parse(
            "prefix,latitude,longitude,label\n58.0.0.0/8,30,110,Asia\n58.1.0.0/16,40,116,Beijing\n2001:db8::/32,1,2\n",
        )
        .unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.lookup("58.1.2.3".parse().unwrap()).unwrap().label.as_deref(), Some("Beijing"));
        assert_eq!(t.lookup("58.2.2.3".parse().unwrap()).unwrap().lat, 30.0);
        assert_eq!(t.lookup("2001:db8::7".parse().unwrap()).unwrap().lon, 2.0);
        assert!(t.lookup("59.0.0.1".parse().unwrap()).is_none());
        // IPv4-mapped IPv6 finds the IPv4 prefix.
        assert!(t.lookup("::ffff:58.1.0.9".parse().unwrap()).is_some());
    }

    #[test]
    fn test_bad_line_is_reported_with_its_number() {
        let e = PrefixTable::parse("# c\n1.2.3.0/24,1,2\n1.2.3.0/33,1,2\n").unwrap_err();
        assert_eq!(e.0, 3);
    }
}
