//! The swarm's network: a hub namespace that routes between one namespace per host,
//! each joined to it by a veth pair. Every host holds one /32 and routes the three
//! documentation /24s through the hub's address on its port ([`plan::GATEWAY`]), so
//! a host's only neighbour is the hub and the hub's are the hosts: the kernel's
//! neighbour table, shared by all namespaces, stays small however many hosts talk
//! to each other. The gossip-only hosts are prefixes routed to one namespace that
//! takes them all as local addresses.

use std::net::Ipv4Addr;

use super::{geo::Region, netns::NetNs, plan, shaping};

/// Interface name of every host's end of its veth.
pub const HOST_IF: &str = "ps0";

pub struct Hub {
    pub ns: NetNs,
    ports: usize,
}

impl Hub {
    pub fn new() -> anyhow::Result<Self> {
        let ns = NetNs::new("hub")?;
        // The file belongs to the network namespace of the thread that opens it: the hub's.
        ns.exec(|| std::fs::write("/proc/sys/net/ipv4/ip_forward", "1"))?
            .map_err(|e| anyhow::anyhow!("enabling forwarding in the hub namespace: {e}"))?;
        Ok(Hub { ns, ports: 0 })
    }

    /// A new namespace for `ip`, plugged into the hub, its upload limited to
    /// `upload_bps` when given.
    pub fn host(&mut self, name: &str, ip: Ipv4Addr, upload_bps: Option<u64>) -> anyhow::Result<NetNs> {
        let (ns, port) = self.plug(name, ip)?;
        self.ns.batch("ip", &[format!("route add {ip}/32 dev {port}")])?;
        if let Some(bps) = upload_bps {
            ns.batch("tc", &[shaping::tbf_line(HOST_IF, bps)])?;
        }
        Ok(ns)
    }

    /// The namespace of the gossip-only hosts: `router` on its veth, and every
    /// address of `prefixes` (host octets of each region's /24, with their length)
    /// local, so one socket answers for all of them.
    pub fn crowd(&mut self, name: &str, router: Ipv4Addr, prefixes: &[(u8, u8)]) -> anyhow::Result<NetNs> {
        let (ns, port) = self.plug(name, router)?;
        let mut local = Vec::new();
        let mut routes = vec![format!("route add {router}/32 dev {port}")];
        for r in Region::ALL {
            for (first, len) in prefixes {
                let p = format!("{}/{len}", r.addr(*first));
                local.push(format!("route add local {p} dev lo"));
                routes.push(format!("route add {p} via {router} dev {port}"));
            }
        }
        ns.batch("ip", &local)?;
        self.ns.batch("ip", &routes)?;
        Ok(ns)
    }

    /// A namespace holding `ip` on its end of a new veth pair, routing the
    /// documentation /24s to the hub; returns it and the hub's port name.
    fn plug(&mut self, name: &str, ip: Ipv4Addr) -> anyhow::Result<(NetNs, String)> {
        let ns = NetNs::new(name)?;
        let port = format!("psh{}", self.ports);
        self.ports += 1;
        let gw = plan::GATEWAY;
        let mut lines = vec![
            format!("link add {HOST_IF} type veth peer name {port} netns {}", self.ns.tid),
            format!("addr add {ip}/32 dev {HOST_IF}"),
            format!("link set {HOST_IF} up"),
            format!("route add {gw}/32 dev {HOST_IF}"),
        ];
        for r in Region::ALL {
            let n = r.net();
            lines.push(format!("route add {}.{}.{}.0/24 via {gw} dev {HOST_IF}", n[0], n[1], n[2]));
        }
        ns.batch("ip", &lines)?;
        self.ns.batch("ip", &[format!("addr add {gw}/32 dev {port}"), format!("link set {port} up")])?;
        Ok((ns, port))
    }
}
