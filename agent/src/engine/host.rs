//! The monitored host X and the direction of a flow relative to it.

use std::collections::BTreeSet;
use std::net::IpAddr;

use peerscope_abi::FlowKey;

/// The addresses of the monitored host X (a host may have several, e.g. IPv4 and
/// IPv6). IPv4-mapped IPv6 addresses are stored as IPv4.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MonitoredHost {
    addrs: BTreeSet<IpAddr>,
}

/// Where a flow goes, seen from X.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Peer → X: download.
    Download { peer: IpAddr },
    /// X → peer: upload.
    Upload { peer: IpAddr },
    /// Neither or both ends are X: not part of X's exchange with peers.
    Unrelated,
}

impl MonitoredHost {
    pub fn new(addrs: impl IntoIterator<Item = IpAddr>) -> Self {
        MonitoredHost { addrs: addrs.into_iter().map(canonical).collect() }
    }

    pub fn contains(&self, a: IpAddr) -> bool {
        self.addrs.contains(&canonical(a))
    }

    pub fn addrs(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.addrs.iter().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.addrs.is_empty()
    }

    pub fn direction(&self, key: &FlowKey) -> Direction {
        let (src, dst) = (key.src_ip(), key.dst_ip());
        match (self.contains(src), self.contains(dst)) {
            (false, true) => Direction::Download { peer: canonical(src) },
            (true, false) => Direction::Upload { peer: canonical(dst) },
            _ => Direction::Unrelated,
        }
    }
}

/// IPv4-mapped IPv6 addresses compare equal to their IPv4 form.
pub fn canonical(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(a),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::flow::ipv4;

    #[test]
    fn test_direction_of_flows() {
        let x = MonitoredHost::new([ipv4(10, 0, 0, 1)]);
        let down = FlowKey::new(17, ipv4(1, 2, 3, 4), 5, ipv4(10, 0, 0, 1), 6);
        assert_eq!(x.direction(&down), Direction::Download { peer: ipv4(1, 2, 3, 4) });
        assert_eq!(x.direction(&down.reversed()), Direction::Upload { peer: ipv4(1, 2, 3, 4) });
        let other = FlowKey::new(17, ipv4(1, 2, 3, 4), 5, ipv4(5, 6, 7, 8), 6);
        assert_eq!(x.direction(&other), Direction::Unrelated);
    }
}
