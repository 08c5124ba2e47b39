//! The measurement engine: one definition of each metric of the studies
//! (`/work/shared/METHODS.md` §1–7), fed window by window, used live and offline.
//!
//! ```text
//! let mut engine = Engine::new(EngineConfig::default(), MonitoredHost::new([x]));
//! for window in windows {                  // in time order, empty windows included
//!     let summary = engine.observe_window(window);   // WindowFlows: per-flow DELTAS
//! }
//! let now = engine.snapshot();             // the report so far, engine goes on
//! let report = engine.finish();            // serde: see `crate::schema`
//! ```
//!
//! One module per metric, each with the seed's formula in its doc comment. Memory
//! grows with the number of flows and peers (and one summary per window, which
//! lists that window's active peers), never with the number of packets. A live
//! agent bounds it with [`Retention`]: the most recent window summaries only, and
//! flows retired after a linger without packets (their counters kept in the totals).
//!
//! # Feeding the engine from polled kernel maps
//!
//! - Poll every Δ (`EngineConfig::window_ns`) and pass one [`WindowFlows`] per
//!   poll with `start_ns` = the previous poll's time and `len_ns` = Δ, in Unix ns.
//!   Pass empty windows too (stability and the samples count windows).
//! - `flows` holds deltas: keep the previous cumulative `FlowStats` per key and
//!   pass `current.since(&previous)`; `since` treats a counter that went down as a
//!   re-created entry. Sum per-CPU values with `FlowStats::merge` first. Zero deltas
//!   may be passed or left out; a key may appear more than once (entries merge).
//! - The engine's counters are `FlowStats<UnixNs>`; the kernel's are
//!   `FlowStats<KernelNs>` (its coarse monotonic clock). Convert with
//!   `live::clock::KernelClock::stats_to_unix`, which keeps an unset stamp unset.
//! - Packets of flows evicted from the map between two polls are lost to the
//!   engine unless the live path reads them before deleting the entry.
//! - Rates use the nominal `len_ns`; a late poll should pass its real length.

pub mod config;
pub mod continent;
pub mod cost;
pub mod flows;
pub mod geo;
pub mod histogram;
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
pub mod video;
pub mod video_peers;
pub mod video_rates;
pub mod window;

mod run;

pub use config::{EngineConfig, Retention, NS_PER_S, STEP_NS};
pub use host::MonitoredHost;
pub use report::Report;
pub use run::Engine;
pub use summary::{SampleSummary, WindowSummary};
pub use window::WindowFlows;
