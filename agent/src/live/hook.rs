//! Which hook counts an interface's ingress: XDP or TCX, chosen per interface.
//!
//! Egress is always TCX. For ingress, XDP runs before the kernel builds an skb, but on
//! the interfaces most hosts count on it is not free: attaching a native XDP program
//! to a veth (every container) makes the pair give up GSO/GRO, and bulk receive drops
//! to about a fifth (BENCHMARKS.md); on virtio-net (VMs) native XDP turns the guest's
//! offloads off; a veth with native XDP also refuses an MTU above about 3.5 KB. TCX
//! ingress costs no offload anywhere: it sees packets after GRO and counts a
//! super-packet as the wire packets it was made of (`gso_segs`), as egress does. So
//! `auto` picks TCX wherever the kernel has it (Linux 6.6+), and XDP only on request.
//! Generic (skb) XDP is never a silent fallback: it is asked for by name, or chosen by
//! `auto` only when neither TCX nor native XDP attaches, with a warning.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What the user asked for (`--hook`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookChoice {
    /// TCX where the kernel has it (see the module's doc), else native XDP, else
    /// generic XDP with a warning.
    #[default]
    Auto,
    /// Native (driver) XDP, or an error.
    Xdp,
    /// XDP in generic (skb) mode: runs on any interface, costs more per packet.
    XdpGeneric,
    /// TCX ingress, or an error.
    Tcx,
}

impl HookChoice {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "auto" => HookChoice::Auto,
            "xdp" => HookChoice::Xdp,
            "xdp-generic" => HookChoice::XdpGeneric,
            "tcx" => HookChoice::Tcx,
            _ => return None,
        })
    }
}

/// The hook ingress ended up on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum IngressHook {
    #[serde(rename = "xdp")]
    XdpNative,
    #[serde(rename = "xdp-generic")]
    XdpGeneric,
    #[serde(rename = "tcx")]
    Tcx,
}

impl IngressHook {
    /// As messages and `status` name it.
    pub fn describe(self) -> &'static str {
        match self {
            IngressHook::XdpNative => "XDP (native)",
            IngressHook::XdpGeneric => "XDP (generic)",
            IngressHook::Tcx => "TCX",
        }
    }
}

/// The hooks to try for ingress, in order, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub order: Vec<IngressHook>,
    pub why: String,
}

/// The plan for an interface whose driver is `driver` (`ethtool -i`'s name; `None`
/// when it cannot be read).
pub fn plan(choice: HookChoice, driver: Option<&str>) -> Plan {
    use IngressHook::*;
    let named = |why: &str| Plan { order: Vec::new(), why: why.to_string() };
    match choice {
        HookChoice::Xdp => Plan { order: vec![XdpNative], ..named("--hook xdp") },
        HookChoice::XdpGeneric => Plan { order: vec![XdpGeneric], ..named("--hook xdp-generic") },
        HookChoice::Tcx => Plan { order: vec![Tcx], ..named("--hook tcx") },
        HookChoice::Auto => {
            let why = match driver {
                Some("veth") => {
                    "auto: veth, where native XDP makes the pair give up GSO/GRO (bulk receive about 0.2x); TCX keeps them"
                        .to_string()
                }
                Some("virtio_net") => "auto: virtio-net, where native XDP turns the guest's offloads off; TCX keeps them".into(),
                Some(d) => format!("auto: driver {d}; TCX costs no offload on any driver (--hook xdp for native XDP)"),
                None => "auto: driver unknown; TCX costs no offload on any driver".into(),
            };
            Plan { order: vec![Tcx, XdpNative, XdpGeneric], why }
        }
    }
}

/// The interface's driver, as `ethtool -i` names it (`SIOCETHTOOL`, `ETHTOOL_GDRVINFO`),
/// in this thread's network namespace.
pub fn driver(iface: &str) -> Option<String> {
    const ETHTOOL_GDRVINFO: u32 = 0x3;
    /// `struct ethtool_drvinfo` of `<linux/ethtool.h>`.
    #[repr(C)]
    struct DrvInfo {
        cmd: u32,
        driver: [u8; 32],
        version: [u8; 32],
        fw_version: [u8; 32],
        bus_info: [u8; 32],
        erom_version: [u8; 32],
        reserved2: [u8; 12],
        n_priv_flags: u32,
        n_stats: u32,
        testinfo_len: u32,
        eedump_len: u32,
        regdump_len: u32,
    }
    if iface.is_empty() || iface.len() >= libc::IFNAMSIZ {
        return None;
    }
    // SAFETY: plain data, valid when zeroed.
    let mut info: DrvInfo = unsafe { std::mem::zeroed() };
    info.cmd = ETHTOOL_GDRVINFO;
    // SAFETY: as above.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(iface.bytes()) {
        *d = s as libc::c_char;
    }
    req.ifr_ifru.ifru_data = (&raw mut info).cast();
    // SAFETY: a plain socket call; the descriptor is closed below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: SIOCETHTOOL reads the NUL-terminated name and, for ETHTOOL_GDRVINFO,
    // writes one `ethtool_drvinfo` through `ifru_data`, which points at `info`.
    let rc = unsafe { libc::ioctl(fd, libc::SIOCETHTOOL, &mut req) };
    // SAFETY: `fd` is ours and open.
    unsafe { libc::close(fd) };
    if rc < 0 {
        return None;
    }
    let end = info.driver.iter().position(|&b| b == 0).unwrap_or(info.driver.len());
    let name = String::from_utf8_lossy(&info.driver[..end]).into_owned();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_auto_never_starts_with_xdp() {
        for driver in [Some("veth"), Some("virtio_net"), Some("mlx5_core"), None] {
            let p = plan(HookChoice::Auto, driver);
            assert_eq!(p.order[0], IngressHook::Tcx, "{driver:?}");
            assert_eq!(p.order.last(), Some(&IngressHook::XdpGeneric), "generic only as the last resort");
            assert!(p.why.starts_with("auto:"), "{}", p.why);
        }
        assert!(plan(HookChoice::Auto, Some("veth")).why.contains("GRO"));
    }

    #[test]
    fn test_a_named_hook_has_no_fallback() {
        assert_eq!(plan(HookChoice::Xdp, Some("veth")).order, [IngressHook::XdpNative]);
        assert_eq!(plan(HookChoice::XdpGeneric, None).order, [IngressHook::XdpGeneric]);
        assert_eq!(plan(HookChoice::Tcx, None).order, [IngressHook::Tcx]);
        for s in ["auto", "xdp", "xdp-generic", "tcx"] {
            assert!(HookChoice::parse(s).is_some(), "{s}");
        }
        assert_eq!(HookChoice::parse("tc"), None);
    }

    #[test]
    fn test_driver_of_loopback() {
        // Every network namespace has `lo`; its driver has no ethtool name on some
        // kernels, so only "no panic, no garbage" is asserted.
        if let Some(d) = driver("lo") {
            assert!(d.is_ascii() && !d.is_empty(), "{d:?}");
        }
        assert_eq!(driver(""), None);
        assert_eq!(driver("a-name-longer-than-ifnamsiz"), None);
    }
}
