//! The swarm's network: a hub namespace holding a bridge, and one namespace per host
//! with a veth whose other end is a bridge port. All hosts share one L2 segment with
//! on-link routes to the three documentation /24s.

use std::net::Ipv4Addr;

use super::{geo::Region, netns::NetNs, shaping};

/// Interface name of every host's end of its veth.
pub const HOST_IF: &str = "ps0";
const BRIDGE: &str = "psbr0";

pub struct Hub {
    pub ns: NetNs,
    ports: usize,
}

impl Hub {
    pub fn new() -> anyhow::Result<Self> {
        let ns = NetNs::new("hub")?;
        ns.batch(
            "ip",
            &[format!("link add {BRIDGE} type bridge stp_state 0 forward_delay 0"), format!("link set {BRIDGE} up")],
        )?;
        Ok(Hub { ns, ports: 0 })
    }

    /// A new namespace for `ip`, plugged into the bridge, its upload limited to
    /// `upload_bps` when given.
    pub fn host(&mut self, name: &str, ip: Ipv4Addr, upload_bps: Option<u64>) -> anyhow::Result<NetNs> {
        let ns = NetNs::new(name)?;
        let port = format!("psh{}", self.ports);
        self.ports += 1;
        let mut lines = vec![
            format!("link add {HOST_IF} type veth peer name {port} netns {}", self.ns.tid),
            format!("addr add {ip}/24 dev {HOST_IF}"),
            format!("link set {HOST_IF} up"),
        ];
        for r in [Region::Asia, Region::NorthAmerica, Region::Europe] {
            if Region::of(ip) != Some(r) {
                let n = r.net();
                lines.push(format!("route add {}.{}.{}.0/24 dev {HOST_IF}", n[0], n[1], n[2]));
            }
        }
        ns.batch("ip", &lines)?;
        self.ns.batch("ip", &[format!("link set {port} master {BRIDGE}"), format!("link set {port} up")])?;
        if let Some(bps) = upload_bps {
            ns.batch("tc", &[shaping::tbf_line(HOST_IF, bps)])?;
        }
        Ok(ns)
    }
}
