//! Okta's Management API spec (`tests/data/management-openapi.yaml`, a copy of
//! Okta's `management-minimal.yaml`), for the test binaries that check the
//! client and the sandbox against it: parsed once, `$ref`s resolved on demand.

use serde_json::Value;
use std::sync::OnceLock;

pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text = include_str!("../data/management-openapi.yaml");
        serde_yaml::from_str(text).expect("Okta's spec parses")
    })
}

/// `v`, or what its (chain of) local `$ref` points at.
pub fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    let mut v = v;
    for _ in 0..16 {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let ptr = r.strip_prefix('#').expect("local $ref");
                v = spec
                    .pointer(ptr)
                    .unwrap_or_else(|| panic!("dangling $ref {r}"));
            }
            None => return v,
        }
    }
    v
}

/// The parameters of an operation: its path item's, then its own, resolved.
pub fn parameters<'a>(spec: &'a Value, item: &'a Value, op: &'a Value) -> Vec<&'a Value> {
    item.get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(
            op.get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        )
        .map(|p| resolve(spec, p))
        .collect()
}

/// The OAuth scopes an operation's `security` names.
pub fn oauth_scopes(op: &Value) -> Vec<&str> {
    op["security"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("oauth2").and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}
