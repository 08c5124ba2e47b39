//! The live capture path: loads the kernel program, attaches it to an interface,
//! pins its maps and reads them.

pub mod accumulator;
pub mod attach;
pub mod baseline;
pub mod bpfobj;
pub mod caps;
pub mod clock;
pub mod error;
pub mod hook;
pub mod host;
pub mod link;
pub mod manage;
pub mod maps;
pub mod measure;
pub mod memory;
pub mod netns;
pub mod pins;
pub mod settle;
pub mod table;

pub use attach::{AttachOptions, Attached};
pub use error::LiveError;
pub use maps::{FlowMaps, Snapshot};
pub use measure::{LiveReport, Measurement};
pub use netns::{NetNs, Target};
pub use table::{FlowDelta, FlowTable};

/// The kernel object built by `build.rs` (empty when the BPF toolchain was missing).
pub static KERNEL_OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/peerscope-ebpf.o"));
