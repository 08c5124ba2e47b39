//! The measurement engine: one definition of each metric of the studies
//! (`/work/shared/METHODS.md` §1–7), fed window by window, used live and offline.
//!
//! ```text
//! let mut engine = Engine::new(EngineConfig::default(), MonitoredHost::new([x]));
//! for window in windows {                  // in time order, empty windows included
//!     let summary = engine.observe_window(window);   // WindowFlows: per-flow DELTAS
//! }
//! let report = engine.finish();            // serde: the stable JSON schema
//! ```
//!
//! One module per metric, each with the seed's formula in its doc comment. Memory
//! grows with the number of flows and peers (and a small record per window), never
//! with the number of packets.

pub mod config;
pub mod continent;
pub mod cost;
pub mod flows;
pub mod geo;
pub mod host;
pub mod parents;
pub mod peers;
pub mod rates;
pub mod redundancy;
pub mod report;
pub mod samples;
pub mod sessions;
pub mod sizes;
pub mod stability;
pub mod startup;
pub mod summary;
pub mod util;
pub mod video_peers;
pub mod video_rates;
pub mod window;

mod run;

pub use config::{EngineConfig, NS_PER_S};
pub use run::Engine;
pub use host::MonitoredHost;
pub use report::{Report, SCHEMA_VERSION};
pub use summary::{SampleSummary, WindowSummary};
pub use window::WindowFlows;
