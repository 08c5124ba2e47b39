//! Which IPv4 addresses cannot be a reachable peer. \[M\] saw 5 private
//! addresses among 39 hosts of a tracker list and called it a client bug, so
//! peer lists flag them.

use std::net::Ipv4Addr;

/// Why `ip` is not a public unicast address, or `None` if it is.
pub fn special_purpose(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    Some(if ip.is_private() {
        "private (RFC 1918)"
    } else if ip.is_unspecified() || o[0] == 0 {
        "this-network (0.0.0.0/8)"
    } else if ip.is_loopback() {
        "loopback"
    } else if ip.is_link_local() {
        "link-local"
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        "shared address space (100.64.0.0/10)"
    } else if ip.is_documentation() {
        "documentation"
    } else if o[0] == 198 && (o[1] & 0xfe) == 18 {
        "benchmarking (198.18.0.0/15)"
    } else if ip.is_multicast() {
        "multicast"
    } else if ip.is_broadcast() {
        "broadcast"
    } else if o[0] >= 240 {
        "reserved (240.0.0.0/4)"
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_public_and_special() {
        assert_eq!(special_purpose(Ipv4Addr::new(59, 64, 198, 250)), None);
        assert_eq!(special_purpose(Ipv4Addr::new(211, 162, 0, 46)), None);
        assert!(special_purpose(Ipv4Addr::new(192, 168, 1, 2)).is_some());
        assert!(special_purpose(Ipv4Addr::new(10, 0, 0, 1)).is_some());
        assert!(special_purpose(Ipv4Addr::new(172, 20, 0, 1)).is_some());
        assert!(special_purpose(Ipv4Addr::new(100, 100, 0, 1)).is_some());
        assert!(special_purpose(Ipv4Addr::new(0, 1, 2, 3)).is_some());
        assert!(special_purpose(Ipv4Addr::new(250, 1, 2, 3)).is_some());
        assert!(special_purpose(Ipv4Addr::new(224, 0, 0, 1)).is_some());
    }
}
