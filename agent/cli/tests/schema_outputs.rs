//! `peerscope schema` and the documents of the offline commands: the schema is a
//! valid draft 2020-12 schema naming every document, and what `analyze --json`
//! writes (synthetic, real, damaged captures; with and without the optional
//! figures) fits it strictly (no property it does not describe) and reads back
//! through the library's types.

#[path = "../../tests/common/mod.rs"]
mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

use peerscope::offline::synth::{tcp, Link, SynthPcap};
use peerscope::schema::{check, ReportDocument, DOCUMENTS};
use serde_json::Value;

fn peerscope(args: &[&str]) -> (Option<i32>, Vec<u8>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_peerscope")).args(args).output().unwrap();
    (out.status.code(), out.stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

/// `peerscope schema --document NAME`, checked to be a valid schema.
fn document_schema(name: &str) -> Value {
    let (code, out, err) = peerscope(&["schema", "--document", name]);
    assert_eq!(code, Some(0), "{err}");
    let s = json(&out);
    check::meta_validate(&s).unwrap_or_else(|e| panic!("schema of {name} is not a valid JSON Schema: {e}"));
    s
}

#[test]
fn test_schema_is_valid_2020_12_and_names_every_document() {
    let (code, out, err) = peerscope(&["schema"]);
    assert_eq!(code, Some(0), "{err}");
    let full = json(&out);
    assert_eq!(full["$schema"], "https://json-schema.org/draft/2020-12/schema");
    check::meta_validate(&full).unwrap();
    let listed = full["oneOf"].as_array().unwrap();
    assert_eq!(listed.len(), DOCUMENTS.len());
    for d in DOCUMENTS {
        let s = document_schema(d.name);
        assert_eq!(s, check::document(d.name), "the CLI prints the library's schema of {}", d.name);
        assert_eq!(s["properties"]["document"]["const"], d.name, "{}", d.name);
        assert!(s["required"].as_array().unwrap().iter().any(|r| r == "schema_version"), "{}", d.name);
        assert!(listed.iter().any(|r| r["description"].as_str().unwrap().starts_with(&format!("`{}`", d.name))));
    }
    let (_, list, _) = peerscope(&["schema", "--list"]);
    let list = String::from_utf8(list).unwrap();
    assert!(list.contains("report") && list.contains("analyze --json") && list.contains("control_message"), "{list}");
    let (code, _, err) = peerscope(&["schema", "--document", "nonesuch"]);
    assert_eq!(code, Some(2), "an unknown document is a usage error");
    assert!(err.contains("report") && err.contains("status"), "the error lists the documents: {err}");
}

/// The copy in the repository, for readers without a build, is what the command prints.
#[test]
fn test_the_published_schema_file_is_current() {
    let (_, out, _) = peerscope(&["schema"]);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist/peerscope.schema.json");
    let file = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        json(&file) == json(&out),
        "{} is stale: regenerate it with `peerscope schema > agent/dist/peerscope.schema.json`",
        path.display()
    );
}

#[test]
fn test_the_strict_check_rejects_what_the_schema_does_not_describe() {
    let schema = document_schema("report");
    let path = temp_path("one.pcap");
    synthetic().write_file(&path).unwrap();
    let mut doc = analyze_json(&path, &["--host", X]);
    check::assert_valid(&schema, &doc, "analyze --json");
    doc["report"]["windows"][0]["surprise_bytes"] = 1.into();
    assert!(check::validate(&schema, &doc).is_err(), "an undescribed field is caught");
    doc["report"]["windows"][0].as_object_mut().unwrap().remove("surprise_bytes");
    doc["report"]["flows"][0]["total"]["packets"] = (-1).into();
    assert!(check::validate(&schema, &doc).is_err(), "a wrong type is caught");
    doc["report"]["flows"][0]["total"]["packets"] = 1.into();
    doc["schema_version"] = 1.into();
    assert!(check::validate(&schema, &doc).is_err(), "another version is caught");
}

/// X fetches a channel list over TCP port 80, pulls video over TCP and gossips over
/// UDP with peers on three continents.
fn synthetic() -> SynthPcap {
    let peers = ["203.0.113.7", "192.0.2.99", "198.51.100.30"];
    let mut p = SynthPcap::new(Link::Ethernet);
    p.tcp(T0, sa(X, 5000), sa("198.51.100.2", 80), tcp::SYN, 40)
        .tcp(T0 + S / 10, sa("198.51.100.2", 80), sa(X, 5000), tcp::ACK | tcp::PSH, 600)
        .udp(T0 + S / 2, sa("2001:db8::1", 53), sa("2001:db8::2", 5353), 120);
    for (i, peer) in peers.iter().enumerate() {
        p.tcp(T0 + S + i as u64, sa(X, 40000 + i as u16), sa(peer, 8008), tcp::SYN, 60);
    }
    // 30 s at 7 kB/s down and 6.5 kB/s up with each peer: parents and children.
    for t in 0..150 {
        let at = T0 + 4 * S + t * S / 5;
        for (i, peer) in peers.iter().enumerate() {
            p.udp(at + i as u64, sa(peer, 8008), sa(X, 4004), 1400).udp(
                at + 10 + i as u64,
                sa(X, 4004),
                sa(peer, 8008),
                1300,
            );
        }
    }
    p.tcp(T0 + 50 * S, sa(X, 5000), sa("198.51.100.2", 80), tcp::FIN | tcp::ACK, 40);
    p
}

fn analyze_json(file: &Path, extra: &[&str]) -> Value {
    let out = temp_path("analysis.json");
    let mut args = vec!["analyze", file.to_str().unwrap(), "--no-progress", "--json", out.to_str().unwrap()];
    args.extend(extra);
    let (code, _, err) = peerscope(&args);
    assert!(matches!(code, Some(0) | Some(2)), "analyze {}: {err}", file.display());
    json(&std::fs::read(&out).unwrap())
}

/// Validates, then reads the document back through the library's type and writes it
/// again: the same JSON.
fn assert_report(schema: &Value, doc: &Value, what: &str) {
    check::assert_valid(schema, doc, what);
    let typed: ReportDocument = serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(&serde_json::to_value(&typed).unwrap(), doc, "{what}: the types read what was written");
}

fn shared(dir: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(dir).join(name)
}

/// The real captures, or `None` (loudly; a failure under CI) when they are missing.
fn real_captures() -> Option<Vec<PathBuf>> {
    let files = [
        shared("ndpi-pps", "pps_reduced_2024.pcap"),
        shared("ndpi-corpus/pcap", "4in6tunnel.pcap"),
        shared("ndpi-corpus/pcap", "WebattackRCE.pcap"),
        shared("ndpi-corpus/pcap", "ah.pcapng"),
    ];
    if let Some(missing) = files.iter().find(|f| !f.is_file()) {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "real capture missing: {}", missing.display());
        eprintln!("\n*** SKIPPED the real captures: {} not found ***\n", missing.display());
        return None;
    }
    Some(files.to_vec())
}

#[test]
fn test_analyze_json_of_every_kind_of_capture_fits_the_schema() {
    let schema = document_schema("report");
    let geo = temp_path("geo.csv");
    std::fs::write(&geo, "prefix,latitude,longitude,label\n0.0.0.0/0,40.4,-80.0,Pittsburgh\n::/0,48.9,2.4,Paris\n")
        .unwrap();
    let geo = geo.to_str().unwrap().to_string();
    let all_figures = ["--geo", &geo, "--playback-rate", "400", "--window", "5", "--udp-sessions"];

    let synth = temp_path("synth.pcap");
    synthetic().write_file(&synth).unwrap();
    let bare = analyze_json(&synth, &["--host", X]);
    assert_report(&schema, &bare, "synthetic capture");
    assert!(bare["report"]["redundancy"].is_null() && bare["source"]["damage"].is_null(), "the null branches");
    let full = analyze_json(&synth, &[&["--host", X], &all_figures[..]].concat());
    assert_report(&schema, &full, "synthetic capture, every figure");
    let r = &full["report"];
    for (what, v) in [
        ("redundancy", &r["redundancy"]),
        ("startup", &r["startup"]),
        ("a window's cost", &r["windows"][2]["cost"]["download_miles_per_byte"]),
        ("the host's location", &r["cost"]["host_location"]),
        ("a sample", &r["samples"][0]),
        ("a parent", &r["windows"][2]["parents"][0]),
        ("a child", &r["windows"][2]["children"][0]),
        ("a top share", &r["peers"]["top_video_download"]),
        ("a video session CCDF point", &r["sessions"]["video_duration_ccdf"][0]),
    ] {
        assert!(!v.is_null(), "{what} is computed, so its schema branch is checked: {r}");
    }

    // Cut inside a record: the analysis up to the damage, and where it stopped.
    let bytes = synthetic().to_bytes();
    let cut = temp_path("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let damaged = analyze_json(&cut, &[]);
    assert_report(&schema, &damaged, "damaged capture");
    assert!(damaged["source"]["damage"]["byte_offset"].as_u64().is_some(), "{}", damaged["source"]);
    assert!(damaged["source"]["host_guess"]["ip"].is_string(), "{}", damaged["source"]);

    let Some(real) = real_captures() else { return };
    for f in real {
        let doc = analyze_json(&f, &all_figures);
        assert_report(&schema, &doc, &f.display().to_string());
        assert_eq!(doc["source"]["kind"], "capture");
    }
}

#[test]
fn test_analyze_json_to_stdout_is_the_same_document() {
    let synth = temp_path("stdout.pcap");
    synthetic().write_file(&synth).unwrap();
    let (code, out, err) = peerscope(&["analyze", synth.to_str().unwrap(), "--host", X, "--json", "-"]);
    assert_eq!(code, Some(0), "{err}");
    let doc = json(&out);
    check::assert_valid(&document_schema("report"), &doc, "analyze --json -");
    let mut file = analyze_json(&synth, &["--host", X]);
    file["source"]["file"] = doc["source"]["file"].clone();
    assert_eq!(doc, file);
}

#[test]
fn test_dissect_json_of_real_captures_fits_the_schema() {
    let Some(real) = real_captures() else { return };
    let schema = document_schema("control_message");
    let mut checked = 0;
    for f in real {
        let (code, out, err) = peerscope(&["dissect", f.to_str().unwrap(), "--json"]);
        assert!(matches!(code, Some(0) | Some(2)), "dissect {}: {err}", f.display());
        for line in String::from_utf8(out).unwrap().lines() {
            let doc: Value = serde_json::from_str(line).unwrap();
            check::assert_valid(&schema, &doc, &format!("dissect --json {}", f.display()));
            let typed: peerscope::schema::ControlMessageDocument = serde_json::from_value(doc.clone()).unwrap();
            assert_eq!(serde_json::to_value(&typed).unwrap(), doc, "the types read what was written");
            checked += 1;
        }
    }
    // Whatever the real captures hold today, the synthetic one of dissect_cli.rs
    // always has messages; here the count only shows what was checked.
    eprintln!("{checked} messages of real captures checked");
}
