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
    // Every field says what it is, with its unit where it has one.
    let blurbs: std::collections::HashMap<&str, &str> =
        fields.lines().filter_map(|l| Some((l.split('\t').nth(2)?, l.split('\t').nth(7).unwrap_or("")))).collect();
    // (A field that is a protocol, `pptv`, is that protocol's item.)
    for d in hf::ALL.iter().filter(|d| !["pplive", "pptv", "sopcast", "ppstream"].contains(&d.name)) {
        assert!(blurbs.get(d.name).is_some_and(|b| !b.is_empty()), "{} has no description", d.name);
    }
    assert!(blurbs["pptv.tracker.keepalive_interval"].contains("econds"), "the keep-alive interval's unit");
    let protocols = glossary("protocols");
    for p in ["pplive", "pptv", "sopcast", "ppstream"] {
        assert!(protocols.lines().any(|l| l.split('\t').nth(2) == Some(p)), "protocol {p} missing");
    }
}
