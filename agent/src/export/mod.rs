//! Getting measurements out of the agent for other systems: OpenMetrics (and the
//! classic Prometheus text format) for a fleet.

pub mod exposition;
pub mod ipfix;
pub mod metrics;
pub mod server;

pub use exposition::Format;
pub use metrics::Metrics;
