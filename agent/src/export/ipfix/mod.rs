//! IPFIX export (RFC 7011) of flow records: one record per flow per window (its
//! deltas), for the flow collectors operators already run.
//!
//! - [`ie`]: the Information Elements, IANA's and peerscope's enterprise-specific ones;
//! - [`template`]: the templates (per family and direction) and the thresholds'
//!   options template;
//! - [`record`]: a flow record, built from the output schema's flow counts;
//! - [`message`]: messages and sets;
//! - [`transport`]: UDP (templates re-sent on a schedule) and TCP (reconnects with
//!   back-off), neither ever blocking the caller.
//!
//! No crate encodes IPFIX in a form that fits (the maintained ones decode; the
//! encoders that exist come with their own flow model), so the encoder is here and
//! its tests read its messages back with a decoder nobody here wrote
//! (`netflow_parser`), and the command-line tests with nfdump and tshark.
//!
//! Flows carry no application label yet, so applicationId (RFC 6759) is not in the
//! templates.

#[cfg(test)]
mod decoded;
pub mod exporter;
pub mod ie;
pub mod message;
pub mod record;
pub mod template;
pub mod transport;

pub use exporter::Exporter;
pub use ie::{EndReason, DOCUMENTATION_ENTERPRISE};
pub use message::{Encoder, EncoderConfig, Message};
pub use record::{window_records, FlowRecord};
pub use transport::{ExportStats, Transport, TransportConfig};
