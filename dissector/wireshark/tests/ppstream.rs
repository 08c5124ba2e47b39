//! The real PPStream captures (nDPI test traces) are not claimed as PPLive
//! or PPTV by the plugin.

mod common;

use std::path::PathBuf;

use common::{plugin_ready, tshark};

fn capture_dir() -> PathBuf {
    std::env::var_os("PEERSCOPE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("data/ndpi-pps")
}

#[test]
fn test_ppstream_captures_not_claimed() {
    if !plugin_ready("test_ppstream_captures_not_claimed") {
        return;
    }
    let mut checked = 0;
    for name in ["pps_full_2016.pcap", "pps_reduced_2024.pcap"] {
        let path = capture_dir().join(name);
        assert!(path.is_file(), "{} missing (set PEERSCOPE_SHARED)", path.display());
        let frames = tshark(&path, &["-T", "fields", "-e", "frame.number"]).lines().count();
        assert!(frames > 0, "{name}: no frames read");
        let claimed = tshark(&path, &["-Y", "pplive || pptv"]);
        assert_eq!(claimed, "", "{name}: frames claimed as PPLive/PPTV");
        checked += 1;
    }
    assert_eq!(checked, 2);
}
