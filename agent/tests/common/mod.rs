//! Helpers shared by the integration tests: the library's own test helpers
//! (synthetic captures analysed through the offline path), one definition for the
//! metric tests and the command-line tests alike.
#![allow(unused_imports)]

pub use peerscope::testing::*;
