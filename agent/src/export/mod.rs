//! Getting measurements out of the agent for other systems: OpenMetrics for a fleet.

pub mod metrics;
pub mod server;

pub use metrics::Metrics;
