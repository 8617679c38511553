//! A card whose `describe()` returns metadata that passes the runtime's shape
//! checks but cannot be right: a name flows cannot reference, a version that is
//! not semver, schemas that are not JSON Schemas, an empty connection grant.
//! The registry refuses it and names every one of these.

use lanyard_sdk::bindings::lanyard::card::types::{CallContext, CardError, CardInfo, Grant};

struct DescribeLies;

impl lanyard_sdk::bindings::Guest for DescribeLies {
    fn describe() -> CardInfo {
        CardInfo {
            name: "Acme..Offboard".to_string(),
            version: "latest".to_string(),
            description: "Claims things that cannot be true.".to_string(),
            input_schema: r#"{"type": "banana"}"#.to_string(),
            output_schema: r#"{"properties": 5}"#.to_string(),
            grants: vec![Grant::Connection(String::new())],
        }
    }

    fn run(_ctx: CallContext, input: String) -> Result<String, CardError> {
        Ok(input)
    }
}

lanyard_sdk::bindings::__export_card_world!(DescribeLies with_types_in lanyard_sdk::bindings);
