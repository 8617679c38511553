//! What a card says about itself: [`CardInfo`], the answer of its `describe()`
//! plus what the runtime found in the component (its `lanyard:card` version
//! and its imports).
//!
//! The type lives here so the store can keep it and the daemon and the CLI can
//! read it typed, none of them depending on the runtime. Parsing and
//! validating it from a component is the runtime's job (`lanyard_runtime`),
//! and nothing here checks a value: a `CardInfo` read back from the store is
//! what the runtime validated when the card was published.
//!
//! The serialized form is what the registry has always stored: snake_case
//! keys, `world` and `imports` beside `describe()`'s fields. Reading also
//! takes `inputSchema`/`outputSchema`, which older readers accepted, and fills
//! what a record lacks with its default (an empty text, the schema `true`).

use crate::grants::{Grant, Grants};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a card says about itself in `describe()`, validated by the runtime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredCardInfo")]
pub struct CardInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub input_schema: Value,
    pub output_schema: Value,
    /// The grants the card asks for.
    pub grants: Vec<Grant>,
    /// The `lanyard:card` version it was built against (`0.1.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub world: Option<String>,
    /// The component's imports (`lanyard:card/okta@0.1.0`, `wasi:cli/stdout@0.2.x`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imports: Option<Vec<String>>,
}

impl CardInfo {
    /// The grants the card asks for, as a set (operators can only narrow it,
    /// with [`Grants::intersect`]).
    ///
    /// Panics on a grant [`Grants::from_list`] refuses, which a card the
    /// runtime loaded never has (it refuses such a card at load).
    pub fn requested_grants(&self) -> Grants {
        Grants::from_list(&self.grants).expect("validated at load")
    }
}

/// A stored record as it may be: every field optional, both spellings of the
/// schemas.
#[derive(Deserialize)]
struct StoredCardInfo {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    input_schema: Option<Value>,
    #[serde(default, rename = "inputSchema")]
    input_schema_camel: Option<Value>,
    #[serde(default)]
    output_schema: Option<Value>,
    #[serde(default, rename = "outputSchema")]
    output_schema_camel: Option<Value>,
    #[serde(default)]
    grants: Vec<Grant>,
    #[serde(default)]
    world: Option<String>,
    #[serde(default)]
    imports: Option<Vec<String>>,
}

impl From<StoredCardInfo> for CardInfo {
    fn from(s: StoredCardInfo) -> Self {
        CardInfo {
            name: s.name,
            version: s.version,
            description: s.description,
            input_schema: s.input_schema.or(s.input_schema_camel).unwrap_or(Value::Bool(true)),
            output_schema: s.output_schema.or(s.output_schema_camel).unwrap_or(Value::Bool(true)),
            grants: s.grants,
            world: s.world,
            imports: s.imports,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A record as the registry wrote it reads, and writes back byte for byte.
    #[test]
    fn a_stored_record_round_trips() {
        let text = r#"{"name":"acme.wipe","version":"1.0.0","description":"wipes a device","input_schema":{"type":"object"},"output_schema":true,"grants":[{"kind":"connection","value":"jamf"}],"world":"0.1.0","imports":["lanyard:card/http@0.1.0"]}"#;
        let info: CardInfo = serde_json::from_str(text).unwrap();
        assert_eq!(info.input_schema, json!({ "type": "object" }));
        assert_eq!(info.grants, vec![Grant::Connection("jamf".into())]);
        assert_eq!(info.world.as_deref(), Some("0.1.0"));
        assert_eq!(serde_json::to_string(&info).unwrap(), text);
    }

    #[test]
    fn old_spellings_and_missing_fields_read() {
        let info: CardInfo = serde_json::from_value(json!({
            "name": "acme.wipe",
            "inputSchema": { "type": "object" },
            "outputSchema": false,
        }))
        .unwrap();
        assert_eq!(info.input_schema, json!({ "type": "object" }));
        assert_eq!(info.output_schema, json!(false));
        assert_eq!((info.description.as_str(), info.world, info.imports), ("", None, None));
        let bare: CardInfo = serde_json::from_value(json!({})).unwrap();
        assert_eq!((bare.input_schema, bare.output_schema), (json!(true), json!(true)));
        // Both spellings: the snake_case one, as the daemon always preferred.
        let both: CardInfo = serde_json::from_value(json!({ "input_schema": 1, "inputSchema": 2 })).unwrap();
        assert_eq!(both.input_schema, json!(1));
    }
}
