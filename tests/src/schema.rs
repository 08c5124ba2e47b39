//! Real outputs against the schema `peerscope schema` prints, strictly (a property
//! the schema does not describe is an error).

use std::{collections::HashMap, path::Path, process::Command, sync::Mutex};

use serde_json::Value;

use crate::bin_path::peerscope;

/// `peerscope schema --document NAME`, asked once per document.
pub fn document_schema(name: &str) -> Value {
    static CACHE: Mutex<Option<HashMap<String, Value>>> = Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let cache = cache.get_or_insert_with(HashMap::new);
    if let Some(s) = cache.get(name) {
        return s.clone();
    }
    let out = Command::new(peerscope()).args(["schema", "--document", name]).output().expect("peerscope schema");
    assert!(out.status.success(), "peerscope schema --document {name}: {}", String::from_utf8_lossy(&out.stderr));
    let s: Value = serde_json::from_slice(&out.stdout).expect("the schema is JSON");
    cache.insert(name.to_string(), s.clone());
    s
}

/// Panics unless `doc` is a `name` document that fits its schema.
pub fn assert_document(name: &str, doc: &Value, what: &str) {
    assert_eq!(doc["document"], name, "{what}: not a {name} document: {doc}");
    peerscope::schema::check::assert_valid(&document_schema(name), doc, what);
}

/// Every line of JSON-lines text, each checked against the document it names
/// (one of `allowed`); returns the lines.
pub fn assert_lines(text: &str, allowed: &[&str], what: &str) -> Vec<Value> {
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{what}: a line is not JSON ({e}): {l}")))
        .collect();
    for v in &lines {
        let name = v["document"].as_str().unwrap_or_else(|| panic!("{what}: a line names no document: {v}"));
        assert!(allowed.contains(&name), "{what}: unexpected document {name}");
        assert_document(name, v, what);
    }
    lines
}

/// A JSON file, checked against `name`.
pub fn assert_file(name: &str, path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let v: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    assert_document(name, &v, &path.display().to_string());
    v
}
