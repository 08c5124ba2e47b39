//! Locating the `peerscope` binary built beside the test executables.

use std::path::PathBuf;

/// `target/<profile>/peerscope`, next to the `deps/` directory tests run from.
pub fn peerscope() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target/<profile>");
    let bin = dir.join("peerscope");
    assert!(bin.is_file(), "{} not built: run the tests with `cargo xtask test`", bin.display());
    bin
}
