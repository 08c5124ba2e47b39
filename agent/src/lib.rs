//! peerscope's userspace agent: loads the kernel program, polls its maps and computes
//! the measurement methods of the studies, live and on pcap files.
// "[M]" and "[H]" in doc comments cite the two studies (METHODS.md), not items.
#![allow(rustdoc::broken_intra_doc_links)]

pub mod control;
pub mod engine;
pub mod exit;
pub mod export;
pub mod live;
pub mod offline;
pub mod report;
pub mod schema;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod view;
