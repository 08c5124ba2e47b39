//! Loading the kernel program and attaching it: XDP on ingress (native, else generic
//! mode), TCX on egress.

use std::ffi::CString;

use aya::{
    programs::{tc::TcAttachOptions, LinkOrder, SchedClassifier, TcAttachType, Xdp, XdpMode},
    Ebpf, EbpfLoader,
};
use aya::maps::{MapData, RingBuf};
use peerscope_abi::{names, Config, ControlSample, Thresholds};
use tracing::{info, warn};

use super::{caps, error::LiveError, maps::FlowMaps, pins, pins::PinDir, KERNEL_OBJECT};

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
    /// Pin the maps so `peerscope flows` can read them from another shell.
    pub pin: bool,
}

impl AttachOptions {
    pub fn new(iface: &str) -> Self {
        AttachOptions {
            iface: iface.to_string(),
            max_flows: 65_536,
            thresholds: Thresholds::STUDIES,
            samples_per_sec: Config::DEFAULT.samples_per_sec,
            kernel_log: false,
            pin: true,
        }
    }
}

/// How XDP ended up attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XdpAttachMode {
    Native,
    Generic,
}

/// The program loaded and attached to one interface. Dropping it detaches the
/// programs and removes the pins.
pub struct Attached {
    pub maps: FlowMaps,
    pub xdp_mode: XdpAttachMode,
    pub iface: String,
    pub if_index: u32,
    pins: Option<PinDir>,
    samples: Option<RingBuf<MapData>>,
    logger: Option<aya_log::EbpfLogger<&'static dyn log::Log>>,
    // Holds the programs and their links; dropped last.
    _ebpf: Ebpf,
}

/// Resolves an interface name to its index.
pub fn if_index(iface: &str) -> Result<u32, LiveError> {
    let unknown = || LiveError::UnknownInterface { iface: iface.to_string() };
    let c = CString::new(iface).map_err(|_| unknown())?;
    // SAFETY: a valid C string.
    match unsafe { libc::if_nametoindex(c.as_ptr()) } {
        0 => Err(unknown()),
        i => Ok(i),
    }
}

/// Loads the kernel object with the options' configuration, attaching nothing (the
/// tests and benchmarks run its programs with BPF_PROG_TEST_RUN).
pub fn load(opts: &AttachOptions) -> Result<Ebpf, LiveError> {
    if KERNEL_OBJECT.is_empty() {
        return Err(LiveError::NoKernelObject);
    }
    let config = Config {
        thresholds: opts.thresholds,
        samples_per_sec: opts.samples_per_sec,
        flags: if opts.kernel_log { Config::LOG } else { 0 },
    };
    EbpfLoader::new()
        .override_global(names::CONFIG, &config, true)
        .map_max_entries(names::FLOWS, opts.max_flows)
        .load(KERNEL_OBJECT)
        .map_err(LiveError::Load)
}

impl Attached {
    pub fn attach(opts: &AttachOptions) -> Result<Self, LiveError> {
        let if_index = if_index(&opts.iface)?;
        let missing = caps::missing_for_attach(caps::effective());
        if !missing.is_empty() {
            return Err(LiveError::MissingPrivileges { action: "attaching to an interface", missing: missing.join(", ") });
        }
        if KERNEL_OBJECT.is_empty() {
            return Err(LiveError::NoKernelObject);
        }
        let pins = if opts.pin {
            pins::ensure_bpffs()?;
            let p = PinDir::for_iface(&opts.iface);
            p.claim()?;
            Some(p)
        } else {
            None
        };
        let result = Self::load_and_attach(opts, if_index, pins.clone());
        if result.is_err() {
            if let Some(p) = &pins {
                p.remove();
            }
        }
        result
    }

    fn load_and_attach(opts: &AttachOptions, if_index: u32, pins: Option<PinDir>) -> Result<Self, LiveError> {
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

        let xdp: &mut Xdp = ebpf
            .program_mut(names::INGRESS)
            .and_then(|p| p.try_into().ok())
            .ok_or(LiveError::MissingMap { name: "peerscope_ingress program" })?;
        xdp.load().map_err(|e| LiveError::program(names::INGRESS, e))?;
        let xdp_mode = match xdp.attach(&opts.iface, XdpMode::Driver) {
            Ok(_) => XdpAttachMode::Native,
            Err(native_err) => {
                warn!("native XDP is not supported on {} ({native_err}); using generic (skb) mode", opts.iface);
                xdp.attach(&opts.iface, XdpMode::Skb)
                    .map_err(|source| LiveError::Xdp { iface: opts.iface.clone(), source })?;
                XdpAttachMode::Generic
            }
        };

        let tc: &mut SchedClassifier = ebpf
            .program_mut(names::EGRESS)
            .and_then(|p| p.try_into().ok())
            .ok_or(LiveError::MissingMap { name: "peerscope_egress program" })?;
        tc.load().map_err(|e| LiveError::program(names::EGRESS, e))?;
        tc.attach_with_options(&opts.iface, TcAttachType::Egress, TcAttachOptions::TcxOrder(LinkOrder::default()))
            .map_err(|source| LiveError::NoTcx { iface: opts.iface.clone(), source })?;

        let flows = ebpf.take_map(names::FLOWS).ok_or(LiveError::MissingMap { name: "FLOWS" })?;
        let counters = ebpf.take_map(names::COUNTERS).ok_or(LiveError::MissingMap { name: "COUNTERS" })?;
        if let Some(p) = &pins {
            for (name, map) in [(names::FLOWS, &flows), (names::COUNTERS, &counters)] {
                let path = p.map(name);
                map.pin(&path).map_err(|source| LiveError::Pin { path, source })?;
            }
        }
        let maps = FlowMaps::from_maps(flows, counters)?;
        let samples = match ebpf.take_map(names::SAMPLES) {
            Some(m) => Some(RingBuf::try_from(m).map_err(|source| LiveError::Map { name: "SAMPLES", source })?),
            None => None,
        };
        info!(iface = %opts.iface, ?xdp_mode, max_flows = opts.max_flows, "attached");
        Ok(Attached { maps, xdp_mode, iface: opts.iface.clone(), if_index, pins, samples, logger, _ebpf: ebpf })
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
        if let Some(p) = &self.pins {
            p.remove();
        }
    }
}
