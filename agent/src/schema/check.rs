//! Validation of real outputs against the published schema, for tests. Stricter
//! than the schema itself: a property the schema does not describe is an error
//! (the published schema lets readers accept fields added later).

use serde_json::Value;

/// `schema` with `unevaluatedProperties: false` on every object schema that lists
/// its properties.
pub fn strict(schema: &Value) -> Value {
    let mut s = schema.clone();
    close(&mut s);
    s
}

fn close(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let open = !m.contains_key("additionalProperties") && !m.contains_key("unevaluatedProperties");
            if m.contains_key("properties") && open {
                m.insert("unevaluatedProperties".into(), Value::Bool(false));
            }
            m.values_mut().for_each(close);
        }
        Value::Array(a) => a.iter_mut().for_each(close),
        _ => {}
    }
}

/// `Ok` when `schema` is a valid JSON Schema (of the draft its `$schema` names).
pub fn meta_validate(schema: &Value) -> Result<(), String> {
    jsonschema::meta::validate(schema).map_err(|e| format!("{e} at {}", e.instance_path()))
}

/// Every way `instance` breaks `schema` (made [`strict`]), one per line; `Ok` when
/// it breaks none.
pub fn validate(schema: &Value, instance: &Value) -> Result<(), String> {
    let v = jsonschema::draft202012::new(&strict(schema)).map_err(|e| format!("the schema is not valid: {e}"))?;
    let errors: Vec<String> = v.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

/// Panics naming `what` and every error when `instance` does not fit `schema`.
pub fn assert_valid(schema: &Value, instance: &Value, what: &str) {
    if let Err(e) = validate(schema, instance) {
        let shown = instance.to_string();
        panic!("{what} does not fit the schema:\n{e}\ninstance: {}", &shown[..shown.len().min(4000)]);
    }
}

/// The schema of `document` (as `peerscope schema --document` prints it).
pub fn document(name: &str) -> Value {
    super::document_schema(name).unwrap_or_else(|| panic!("no document {name:?}"))
}
