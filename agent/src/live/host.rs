//! The monitored host's own addresses: a flow from one of them is upload, to one of
//! them is download.

use std::{collections::BTreeSet, net::IpAddr};

use peerscope_abi::FlowKey;

/// Addresses of the monitored host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostAddrs(pub BTreeSet<IpAddr>);

/// Direction of a flow relative to the monitored host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// From the host (upload).
    Out,
    /// To the host (download).
    In,
    /// Neither end is the host (forwarded traffic).
    Transit,
}

impl Direction {
    pub const fn name(self) -> &'static str {
        match self {
            Direction::Out => "out",
            Direction::In => "in",
            Direction::Transit => "transit",
        }
    }
}

impl HostAddrs {
    /// The addresses configured on `iface` (in this thread's network namespace).
    pub fn of_interface(iface: &str) -> Self {
        let mut set = BTreeSet::new();
        if let Ok(addrs) = nix::ifaddrs::getifaddrs() {
            for a in addrs.filter(|a| a.interface_name == iface) {
                if let Some(sa) = a.address {
                    if let Some(v4) = sa.as_sockaddr_in() {
                        set.insert(IpAddr::V4(v4.ip()));
                    } else if let Some(v6) = sa.as_sockaddr_in6() {
                        set.insert(IpAddr::V6(v6.ip()));
                    }
                }
            }
        }
        HostAddrs(set)
    }

    pub fn direction(&self, key: &FlowKey) -> Direction {
        if self.0.contains(&key.src_ip()) {
            Direction::Out
        } else if self.0.contains(&key.dst_ip()) {
            Direction::In
        } else {
            Direction::Transit
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerscope_abi::flow::ipv4;

    #[test]
    fn test_direction_by_host_address() {
        let host = HostAddrs([ipv4(192, 0, 2, 1)].into_iter().collect());
        let out = FlowKey::new(17, ipv4(192, 0, 2, 1), 1, ipv4(203, 0, 113, 5), 2);
        assert_eq!(host.direction(&out), Direction::Out);
        assert_eq!(host.direction(&out.reversed()), Direction::In);
        let other = FlowKey::new(17, ipv4(198, 51, 100, 1), 1, ipv4(203, 0, 113, 5), 2);
        assert_eq!(host.direction(&other), Direction::Transit);
    }

    #[test]
    fn test_loopback_has_its_address() {
        let lo = HostAddrs::of_interface("lo");
        assert!(lo.0.contains(&ipv4(127, 0, 0, 1)), "{lo:?}");
    }
}
