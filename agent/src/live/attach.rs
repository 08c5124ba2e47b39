//! Loading the kernel program and attaching it: ingress on the hook [`super::hook`]
//! picks (TCX or XDP), TCX on egress.

use aya::maps::{Map, MapData, RingBuf};
use aya::{
    programs::{
        links::{FdLink, PinnedLink},
        tc::TcAttachOptions,
        LinkOrder, SchedClassifier, TcAttachType, Xdp, XdpMode,
    },
    Ebpf, EbpfLoader,
};
use peerscope_abi::{names, Config, ControlSample, Geometry, Thresholds};
use tracing::{info, warn};

use super::{
    bpfobj, caps,
    error::LiveError,
    hook::{self, HookChoice, IngressHook},
    maps::{init_header, FlowMaps},
    netns::Target,
    pins::{self, PinDir, EGRESS_LINK, INGRESS_LINK},
    KERNEL_OBJECT,
};

/// What `peerscope run` asks of the kernel program.
#[derive(Clone, Debug)]
pub struct AttachOptions {
    pub iface: String,
    pub max_flows: u32,
    pub thresholds: Thresholds,
    /// Control-packet samples per second per CPU (0: none).
    pub samples_per_sec: u32,
    /// Kernel diagnostics through aya-log.
    pub kernel_log: bool,
    /// Count tunnelled packets in their inner flows ([`Config::DECAP`]). Fixed when
    /// the program is loaded: an agent taking over a program left attached keeps
    /// that program's setting.
    pub decap: bool,
    /// Pin the maps and links so `peerscope flows` can read them from another shell
    /// and a restarted agent can take the program over.
    pub pin: bool,
    /// Leave the program attached and pinned when the agent exits.
    pub keep_attached: bool,
    /// The ingress hook asked for (`--hook`).
    pub hook: HookChoice,
}

impl AttachOptions {
    pub fn new(iface: &str) -> Self {
        AttachOptions {
            iface: iface.to_string(),
            max_flows: 65_536,
            thresholds: Thresholds::STUDIES,
            samples_per_sec: Config::DEFAULT.samples_per_sec,
            kernel_log: false,
            decap: false,
            pin: true,
            keep_attached: false,
            hook: HookChoice::Auto,
        }
    }
}

/// The program loaded and attached to one interface. Dropping it detaches the
/// programs and removes the pins, unless `keep_attached` was asked for.
pub struct Attached {
    pub maps: FlowMaps,
    /// The hook ingress is counted on; `None` for a program taken over from an older
    /// agent that did not record it.
    pub ingress: Option<IngressHook>,
    /// Why that hook (the choice and the interface).
    pub hook_why: String,
    /// The program was attached by an earlier agent and taken over from its pins.
    pub reused: bool,
    /// The interface, by index, in its network namespace.
    pub target: Target,
    /// Keep the program attached and pinned on exit, so a restarted agent continues
    /// from the kernel's counters (`peerscope detach` removes it).
    pub keep_attached: bool,
    pins: Option<PinDir>,
    links: Vec<PinnedLink>,
    /// Links of an unpinned attachment: dropped, they detach their programs.
    _held: Vec<FdLink>,
    samples: Option<RingBuf<MapData>>,
    logger: Option<aya_log::EbpfLogger<&'static dyn log::Log>>,
    // Holds the programs (and, unpinned, their links); dropped last.
    _ebpf: Option<Ebpf>,
}

/// Link-layer types (`ARPHRD_*`, `/sys/class/net/IF/type`) whose frames start with
/// an Ethernet header: the only frames the kernel program parses.
const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;

/// The name of a link-layer type, for messages.
pub fn arphrd_name(t: u16) -> String {
    let name = match t {
        ARPHRD_ETHER => "Ethernet",
        ARPHRD_LOOPBACK => "loopback",
        32 => "InfiniBand",
        512 => "PPP",
        519 => "raw IP",
        768 => "IP-in-IP tunnel",
        769 => "IPv6-in-IPv6 tunnel",
        776 => "6in4 (sit) tunnel",
        778 => "GRE tunnel",
        801 => "802.11",
        803 => "802.11 with radiotap",
        823 => "IP6GRE tunnel",
        0xfffe => "none: raw IP, as tun and WireGuard devices",
        _ => return format!("ARPHRD {t}"),
    };
    format!("{name} (ARPHRD {t})")
}

/// The link-layer type of an interface of this network namespace (`SIOCGIFHWADDR`).
pub fn link_type(iface: &str) -> Result<u16, LiveError> {
    let unknown = || LiveError::UnknownInterface { iface: iface.to_string() };
    if iface.len() >= libc::IFNAMSIZ {
        return Err(unknown());
    }
    // SAFETY: a plain socket call; the descriptor is closed below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(LiveError::Io {
            what: "opening a socket to read the link type of",
            path: iface.into(),
            source: std::io::Error::last_os_error(),
        });
    }
    // SAFETY: `ifreq` is plain data, valid when zeroed.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(iface.bytes()) {
        *d = s as libc::c_char;
    }
    // SAFETY: SIOCGIFHWADDR reads the NUL-terminated name (shorter than IFNAMSIZ,
    // checked above, the rest zeroed) and writes only into `req`.
    let rc = unsafe { libc::ioctl(fd, libc::SIOCGIFHWADDR, &mut req) };
    let err = std::io::Error::last_os_error();
    // SAFETY: `fd` is ours and open.
    unsafe { libc::close(fd) };
    if rc < 0 {
        return Err(match err.raw_os_error() {
            Some(libc::ENODEV) => unknown(),
            _ => LiveError::Io { what: "reading the link type of", path: iface.into(), source: err },
        });
    }
    // SAFETY: SIOCGIFHWADDR filled the `ifru_hwaddr` member of the union.
    Ok(unsafe { req.ifr_ifru.ifru_hwaddr.sa_family })
}

/// Refuses an interface whose frames do not start with an Ethernet header.
fn check_ethernet(iface: &str) -> Result<(), LiveError> {
    match link_type(iface)? {
        ARPHRD_ETHER | ARPHRD_LOOPBACK => Ok(()),
        t => Err(LiveError::NotEthernet { iface: iface.to_string(), link: arphrd_name(t) }),
    }
}

/// Loads the kernel object with the options' configuration, attaching nothing (the
/// tests and benchmarks run its programs with BPF_PROG_TEST_RUN).
pub fn load(opts: &AttachOptions) -> Result<Ebpf, LiveError> {
    load_sized(opts, &[])
}

/// [`load`], with the maps named in `sizes` given those sizes (the benchmarks size the
/// reference flow counter's map).
pub fn load_sized(opts: &AttachOptions, sizes: &[(&str, u32)]) -> Result<Ebpf, LiveError> {
    if KERNEL_OBJECT.is_empty() {
        return Err(LiveError::NoKernelObject);
    }
    let cpus = aya::util::nr_cpus().map_err(|(_, source)| LiveError::Io {
        what: "reading",
        path: "/sys/devices/system/cpu/possible".into(),
        source,
    })? as u32;
    let geometry = Geometry::checked(opts.max_flows, cpus).ok_or(LiveError::TableSize {
        max_flows: opts.max_flows,
        limit: Geometry::max_flows_limit(cpus),
        cpus,
    })?;
    let seed = hash_seed();
    let config = Config {
        thresholds: opts.thresholds,
        samples_per_sec: opts.samples_per_sec,
        flags: if opts.kernel_log { Config::LOG } else { 0 } | if opts.decap { Config::DECAP } else { 0 },
        slot_mask: geometry.mask(),
        cpus: geometry.cpus,
        max_flows: geometry.max_flows,
        _pad: 0,
        hash_seed: seed,
    };
    let mut loader = EbpfLoader::new();
    loader
        .override_global(names::CONFIG, &config, true)
        .map_max_entries(names::FLOW_SLOTS, geometry.slots)
        .map_max_entries(names::FLOW_STATS, geometry.stats_entries());
    for (name, size) in sizes {
        loader.map_max_entries(name, *size);
    }
    let ebpf = loader.load(KERNEL_OBJECT).map_err(LiveError::Load)?;
    let table = ebpf.map(names::FLOW_TABLE).ok_or(LiveError::MissingMap { name: "FLOW_TABLE" })?;
    let Map::Array(table) = table else { return Err(LiveError::MissingMap { name: "FLOW_TABLE" }) };
    init_header(table, geometry, seed)?;
    Ok(ebpf)
}

/// The CPUs the kernel may run the program on (what per-CPU maps are sized by); 1 when
/// that cannot be read.
pub fn possible_cpus() -> u32 {
    aya::util::nr_cpus().map(|n| n as u32).unwrap_or(1)
}

/// A random seed for the flow table's hash, so that no sender can predict which
/// flows share a probe run.
fn hash_seed() -> u64 {
    let mut b = [0u8; 8];
    // SAFETY: getrandom writes at most 8 bytes into `b`.
    let n = unsafe { libc::getrandom(b.as_mut_ptr() as *mut _, b.len(), 0) };
    if n == 8 {
        u64::from_ne_bytes(b)
    } else {
        // No entropy source: the clock still varies per load.
        super::clock::unix_now_ns().wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}

/// Loads and attaches the ingress program for hook `h`; the link it returns keeps it
/// attached.
fn attach_ingress(ebpf: &mut Ebpf, iface: &str, h: IngressHook) -> Result<FdLink, LiveError> {
    let not_a_link = |e: aya::programs::links::LinkError| LiveError::Io {
        what: "the ingress program is not attached through a BPF link on",
        path: iface.into(),
        source: std::io::Error::other(e.to_string()),
    };
    let attach_err = |source| LiveError::Hook { iface: iface.to_string(), hook: h.describe(), source };
    match h {
        IngressHook::XdpNative | IngressHook::XdpGeneric => {
            let xdp: &mut Xdp = ebpf
                .program_mut(names::INGRESS)
                .and_then(|p| p.try_into().ok())
                .ok_or(LiveError::MissingMap { name: "peerscope_ingress program" })?;
            if xdp.fd().is_err() {
                xdp.load().map_err(|e| LiveError::program(names::INGRESS, e))?;
            }
            let mode = if h == IngressHook::XdpNative { XdpMode::Driver } else { XdpMode::Skb };
            let id = xdp.attach(iface, mode).map_err(attach_err)?;
            let link = xdp.take_link(id).map_err(attach_err)?;
            FdLink::try_from(link).map_err(not_a_link)
        }
        IngressHook::Tcx => {
            let tc: &mut SchedClassifier = ebpf
                .program_mut(names::INGRESS_TC)
                .and_then(|p| p.try_into().ok())
                .ok_or(LiveError::MissingMap { name: "peerscope_ingress_tc program" })?;
            if tc.fd().is_err() {
                tc.load().map_err(|e| LiveError::program(names::INGRESS_TC, e))?;
            }
            let id = tc
                .attach_with_options(iface, TcAttachType::Ingress, TcAttachOptions::TcxOrder(LinkOrder::default()))
                .map_err(attach_err)?;
            let link = tc.take_link(id).map_err(attach_err)?;
            FdLink::try_from(link).map_err(not_a_link)
        }
    }
}

fn pin_link(link: FdLink, path: std::path::PathBuf) -> Result<PinnedLink, LiveError> {
    link.pin(&path).map_err(|source| LiveError::Pin { path, source })
}

impl Attached {
    /// Attaches to `opts.iface` in this thread's network namespace.
    pub fn attach(opts: &AttachOptions) -> Result<Self, LiveError> {
        let target = Target::resolve(&opts.iface, None)?;
        check_ethernet(&opts.iface)?;
        let missing = caps::missing_for_attach(caps::effective());
        if !missing.is_empty() {
            return Err(LiveError::MissingPrivileges {
                action: "attaching to an interface",
                missing: missing.join(", "),
            });
        }
        if !opts.pin {
            return Self::load_and_attach(opts, target, None);
        }
        pins::ensure_bpffs()?;
        let p = PinDir::for_target(&target);
        p.check_owner(&target)?;
        let (_, foreign) = p.survey();
        for f in &foreign {
            warn!("{f}");
        }
        if p.has_program() && p.links_alive() {
            return Self::reuse(opts, target, p);
        }
        if KERNEL_OBJECT.is_empty() {
            return Err(LiveError::NoKernelObject);
        }
        // A program whose interface went away (links defunct), or a partial set of
        // pins: ours, and of no use; start afresh.
        p.remove();
        p.prepare()?;
        let result = Self::load_and_attach(opts, target, Some(p.clone()));
        if result.is_err() {
            p.remove();
        }
        result
    }

    /// The pin directory and run files, when pinned.
    pub fn pins(&self) -> Option<&PinDir> {
        self.pins.as_ref()
    }

    /// Takes over a program an earlier agent left attached (killed, or started with
    /// `--keep-attached`): its maps kept counting meanwhile, so nothing is lost.
    fn reuse(opts: &AttachOptions, target: Target, p: PinDir) -> Result<Self, LiveError> {
        let maps = FlowMaps::open_pinned(&p, &target)?;
        let mut links = Vec::new();
        for name in [INGRESS_LINK, EGRESS_LINK] {
            let path = p.map(name);
            links.push(PinnedLink::from_pin(&path).map_err(|e| LiveError::Io {
                what: "opening pinned link",
                path: path.clone(),
                source: std::io::Error::other(e.to_string()),
            })?);
        }
        let samples = match MapData::from_pin(p.map(names::SAMPLES)) {
            Ok(d) => Map::from_map_data(d).ok().and_then(|m| RingBuf::try_from(m).ok()),
            Err(_) => None,
        };
        let record = p.record();
        let ingress = record.as_ref().and_then(|r| r.ingress).or_else(|| {
            let link = bpfobj::inspect(&p.map(INGRESS_LINK)).ok()?;
            match link.field("link_type")? {
                "tcx" => Some(IngressHook::Tcx),
                _ => None,
            }
        });
        let hook_why = record.and_then(|r| r.hook_why).unwrap_or_else(|| "chosen by an earlier agent".into());
        p.claim(&target, ingress.unwrap_or(IngressHook::XdpNative), &hook_why)?;
        info!(target = %target.describe(), "reusing the program already attached");
        Ok(Attached {
            maps,
            ingress,
            hook_why,
            reused: true,
            target,
            keep_attached: opts.keep_attached,
            pins: Some(p),
            links,
            _held: Vec::new(),
            samples,
            logger: None,
            _ebpf: None,
        })
    }

    fn load_and_attach(opts: &AttachOptions, target: Target, pins: Option<PinDir>) -> Result<Self, LiveError> {
        let mut ebpf = load(opts)?;
        let logger = if opts.kernel_log {
            match aya_log::EbpfLogger::init(&mut ebpf) {
                Ok(l) => Some(l),
                Err(e) => {
                    warn!("kernel log unavailable: {e}");
                    None
                }
            }
        } else {
            None
        };
        let mut links = Vec::new();

        let mut held = Vec::new();
        let plan = hook::plan(opts.hook, hook::driver(&opts.iface).as_deref());
        let mut refused = Vec::new();
        let mut ingress = None;
        for h in &plan.order {
            match attach_ingress(&mut ebpf, &opts.iface, *h) {
                Ok(link) => {
                    ingress = Some((*h, link));
                    break;
                }
                Err(e) => refused.push((*h, e)),
            }
        }
        let Some((ingress, ingress_link)) = ingress else {
            let (_, last) = refused.pop().expect("a plan names at least one hook");
            return Err(LiveError::Ingress {
                iface: opts.iface.clone(),
                tried: plan.order.iter().map(|h| h.describe()).collect::<Vec<_>>().join(", then "),
                why: plan.why.clone(),
                source: Box::new(last),
            });
        };
        for (h, e) in &refused {
            warn!("{} refused on {} ({e})", h.describe(), opts.iface);
        }
        let hook_why = match refused.first() {
            None => plan.why.clone(),
            Some((h, _)) => format!("{}; {} was refused", plan.why, h.describe()),
        };
        if ingress == IngressHook::XdpGeneric && opts.hook != HookChoice::XdpGeneric {
            warn!(
                "{}: counting ingress with generic XDP, which costs more per packet: neither TCX nor native XDP attached",
                opts.iface
            );
        }
        if let Some(p) = &pins {
            links.push(pin_link(ingress_link, p.map(INGRESS_LINK))?);
        } else {
            // Unpinned, the link is held here: dropping it detaches the program.
            held.push(ingress_link);
        }

        let tc: &mut SchedClassifier = ebpf
            .program_mut(names::EGRESS)
            .and_then(|p| p.try_into().ok())
            .ok_or(LiveError::MissingMap { name: "peerscope_egress program" })?;
        tc.load().map_err(|e| LiveError::program(names::EGRESS, e))?;
        let tc_link = tc
            .attach_with_options(&opts.iface, TcAttachType::Egress, TcAttachOptions::TcxOrder(LinkOrder::default()))
            .map_err(|source| LiveError::NoTcx { iface: opts.iface.clone(), source })?;
        if let Some(p) = &pins {
            let link =
                tc.take_link(tc_link).map_err(|source| LiveError::NoTcx { iface: opts.iface.clone(), source })?;
            let fd = FdLink::try_from(link).map_err(|e| LiveError::Io {
                what: "the egress program is not attached through a BPF link; cannot pin at",
                path: p.map(EGRESS_LINK),
                source: std::io::Error::other(e.to_string()),
            })?;
            links.push(pin_link(fd, p.map(EGRESS_LINK))?);
        }

        let mut take = |name: &'static str| ebpf.take_map(name).ok_or(LiveError::MissingMap { name });
        let (slots, stats, table) = (take(names::FLOW_SLOTS)?, take(names::FLOW_STATS)?, take(names::FLOW_TABLE)?);
        let (counters, samples) = (take(names::COUNTERS)?, take(names::SAMPLES)?);
        let sizes = take(names::SIZES)?;
        if let Some(p) = &pins {
            for (name, map) in [
                (names::FLOW_SLOTS, &slots),
                (names::FLOW_STATS, &stats),
                (names::FLOW_TABLE, &table),
                (names::COUNTERS, &counters),
                (names::SAMPLES, &samples),
                (names::SIZES, &sizes),
            ] {
                let path = p.map(name);
                map.pin(&path).map_err(|source| LiveError::Pin { path, source })?;
            }
            p.claim(&target, ingress, &hook_why)?;
        }
        let maps = FlowMaps::from_maps(slots, stats, table, counters)?.with_sizes(Some(sizes));
        let samples = Some(RingBuf::try_from(samples).map_err(|source| LiveError::Map { name: "SAMPLES", source })?);
        info!(target = %target.describe(), ingress = ingress.describe(), why = %hook_why, max_flows = opts.max_flows, "attached");
        Ok(Attached {
            maps,
            ingress: Some(ingress),
            hook_why,
            reused: false,
            target,
            keep_attached: opts.keep_attached,
            pins,
            links,
            _held: held,
            samples,
            logger,
            _ebpf: Some(ebpf),
        })
    }

    /// Takes the control-packet samples the kernel queued since the last call (at most
    /// `max`); timestamps stay on the kernel clock.
    pub fn drain_samples(&mut self, max: usize) -> Vec<ControlSample> {
        let mut out = Vec::new();
        if let Some(rb) = &mut self.samples {
            while out.len() < max {
                let Some(item) = rb.next() else { break };
                if item.len() >= std::mem::size_of::<ControlSample>() {
                    out.push(bytemuck::pod_read_unaligned(&item[..std::mem::size_of::<ControlSample>()]));
                }
            }
        }
        out
    }

    /// Forwards pending kernel log records (with `--kernel-log`).
    pub fn flush_log(&mut self) {
        if let Some(l) = &mut self.logger {
            l.flush();
        }
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        let Some(p) = &self.pins else { return };
        if self.keep_attached {
            // The record stays, without an agent: `status` still names the interface.
            let _ = p.write_record(&pins::Record {
                target: self.target.clone(),
                pid: None,
                ingress: self.ingress,
                hook_why: Some(self.hook_why.clone()),
            });
            return;
        }
        // Unpinned and dropped, a link detaches its program.
        for link in self.links.drain(..) {
            let _ = link.unpin();
        }
        for f in p.remove() {
            warn!("{f}");
        }
    }
}
