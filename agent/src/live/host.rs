//! The monitored host's own addresses, read from the interface the agent attaches to.

use std::net::IpAddr;

/// The addresses configured on `iface` (in this thread's network namespace).
pub fn interface_addrs(iface: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    if let Ok(addrs) = nix::ifaddrs::getifaddrs() {
        for a in addrs.filter(|a| a.interface_name == iface) {
            if let Some(sa) = a.address {
                if let Some(v4) = sa.as_sockaddr_in() {
                    out.push(IpAddr::V4(v4.ip()));
                } else if let Some(v6) = sa.as_sockaddr_in6() {
                    out.push(IpAddr::V6(v6.ip()));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_loopback_has_its_address() {
        let lo = interface_addrs("lo");
        assert!(lo.contains(&"127.0.0.1".parse().unwrap()), "{lo:?}");
    }
}
