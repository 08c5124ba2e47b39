//! Harness for peerscope's end-to-end tests: network namespaces joined by veth pairs
//! (created and always removed by a guard), running code inside a namespace, the
//! root/tool requirements, and tcpdump/tshark as independent readers.
//!
//! Test traffic only ever goes between the namespaces a test made, on documentation
//! addresses (192.0.2.0/24, 2001:db8::/64).

pub mod agent;
pub mod bench;
pub mod bin_path;
pub mod collectors;
pub mod corpus;
pub mod demo;
pub mod http;
pub mod netns;
pub mod require;
pub mod schema;
pub mod soak;
pub mod tempdir;
pub mod tools;
pub mod traffic;
pub mod tshark;

pub use netns::{in_netns, VethPair};
pub use require::{require_root, require_tool};
