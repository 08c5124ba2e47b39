//! tshark loads the plugin and knows every field and expert note of the library.

mod common;

use common::{plugin_ready, PLUGIN_FILE};
use peerscope_dissector::{ei, hf};

fn glossary(report: &str) -> String {
    let out = common::tshark_command().args(["-G", report]).output().expect("running tshark");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn test_plugin_listed_with_version() {
    if !plugin_ready("test_plugin_listed_with_version") {
        return;
    }
    let plugins = glossary("plugins");
    let line = plugins.lines().find(|l| l.starts_with(PLUGIN_FILE)).expect("plugin not listed");
    assert!(line.contains(&format!("\t{}\t", env!("CARGO_PKG_VERSION"))), "{line}");
    assert!(line.contains("\tdissector\t"), "{line}");
}

#[test]
fn test_every_field_and_note_registered() {
    if !plugin_ready("test_every_field_and_note_registered") {
        return;
    }
    let fields = glossary("fields");
    let names: std::collections::HashSet<&str> = fields.lines().filter_map(|l| l.split('\t').nth(2)).collect();
    for name in hf::ALL.iter().map(|d| d.name).chain(ei::ALL.iter().map(|d| d.name)) {
        assert!(names.contains(name), "{name} not registered");
    }
    let protocols = glossary("protocols");
    for p in ["pplive", "pptv"] {
        assert!(protocols.lines().any(|l| l.split('\t').nth(2) == Some(p)), "protocol {p} missing");
    }
}
