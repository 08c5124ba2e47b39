//! Benchmarks, run by `cargo xtask bench`. Each measures peerscope beside a reference
//! in the same run and reports the ratio; none asserts a time.

pub mod analyze;
pub mod dissect;
pub mod kernel;
pub mod net;
pub mod poll;
pub mod proc;

/// A section of BENCHMARKS.md.
pub struct Section {
    pub title: String,
    pub body: String,
}
