//! A card whose `describe()` panics. Loading it fails with the panic message
//! and its source location; the registry refuses to publish it.

use lanyard_sdk::bindings::lanyard::card::types::{CallContext, CardError, CardInfo};

struct DescribeTraps;

impl lanyard_sdk::bindings::Guest for DescribeTraps {
    fn describe() -> CardInfo {
        panic!("describe() is broken on purpose");
    }

    fn run(_ctx: CallContext, input: String) -> Result<String, CardError> {
        Ok(input)
    }
}

lanyard_sdk::bindings::__export_card_world!(DescribeTraps with_types_in lanyard_sdk::bindings);
