//! Errors of the live path, each a clear sentence that says what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("no network interface named {iface:?} in this network namespace (list them with `ip link`)")]
    UnknownInterface { iface: String },
    #[error("{} is not a network namespace (give a path such as /run/netns/NAME or /proc/PID/ns/net)", path.display())]
    NotANamespace { path: PathBuf },
    #[error("{iface} is not an Ethernet interface (its link type is {link}): peerscope's kernel program reads Ethernet frames; attach to the Ethernet interface that carries its traffic (with --decap for GRE, IP-in-IP and 6in4 tunnels), or capture it with tcpdump and run `peerscope analyze`")]
    NotEthernet { iface: String, link: String },
    #[error("{action} needs the capabilities {missing} (run as root, or grant them with `setcap cap_bpf,cap_net_admin,cap_perfmon+ep $(which peerscope)`)")]
    MissingPrivileges { action: &'static str, missing: String },
    #[error("bpffs is not mounted at /sys/fs/bpf and mounting it failed ({source}); mount it with `mount -t bpf bpf /sys/fs/bpf`")]
    BpffsNotMounted {
        #[source]
        source: std::io::Error,
    },
    #[error("this binary was built without its kernel program (the BPF toolchain was missing); run `cargo xtask setup` and rebuild")]
    NoKernelObject,
    #[error("--max-flows {max_flows} is out of range: a flow table on {cpus} CPUs holds 1 to {limit} flows")]
    TableSize { max_flows: u32, limit: u32, cpus: u32 },
    #[error("loading the kernel program failed")]
    Load(#[source] aya::EbpfError),
    #[error("the kernel program {program} was not accepted: {detail}")]
    Program { program: &'static str, detail: String },
    #[error("attaching {hook} to {iface} failed")]
    Hook {
        iface: String,
        hook: &'static str,
        #[source]
        source: aya::programs::ProgramError,
    },
    #[error("no ingress hook attached to {iface} (tried {tried}; {why}); --hook xdp-generic runs on any interface, at a higher cost per packet")]
    Ingress {
        iface: String,
        tried: String,
        why: String,
        #[source]
        source: Box<LiveError>,
    },
    #[error("attaching the egress program to {iface} with TCX failed; TCX needs Linux 6.6 or later")]
    NoTcx {
        iface: String,
        #[source]
        source: aya::programs::ProgramError,
    },
    #[error("another peerscope agent (pid {pid}) is attached to {target}; stop it first or read it with `peerscope flows -i {iface}`")]
    AlreadyRunning { target: String, iface: String, pid: i32 },
    #[error("no peerscope agent is attached to {target} (nothing pinned under {}); start one with `peerscope run -i {iface}`", dir.display())]
    NotAttached { target: String, iface: String, dir: PathBuf },
    #[error("map {name} is missing from the kernel object or has the wrong type")]
    MissingMap { name: &'static str },
    #[error("reading map {name} failed")]
    Map {
        name: &'static str,
        #[source]
        source: aya::maps::MapError,
    },
    #[error("pinning {} failed", path.display())]
    Pin {
        path: PathBuf,
        #[source]
        source: aya::pin::PinError,
    },
    #[error("{what} {}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl LiveError {
    /// A program load failure, keeping only the verifier's last lines (its full log
    /// runs to thousands of lines; the end says what it rejected).
    pub fn program(program: &'static str, e: aya::programs::ProgramError) -> Self {
        let detail = match &e {
            aya::programs::ProgramError::LoadError { io_error, verifier_log } => {
                let log = verifier_log.to_string();
                let lines: Vec<&str> = log.lines().collect();
                let tail = lines[lines.len().saturating_sub(8)..].join("\n  ");
                format!("{io_error}; verifier log ends:\n  {tail}")
            }
            other => other.to_string(),
        };
        LiveError::Program { program, detail }
    }
}
