//! A card whose `describe()` sleeps forever. The sleep is a wait in the host
//! (`wasi:io/poll` on a monotonic-clock pollable), where no guest code runs,
//! so only a wall-clock deadline over the whole call ends it.

use lanyard_sdk::bindings::lanyard::card::types::{CallContext, CardError, CardInfo};

struct DescribeSleeps;

impl lanyard_sdk::bindings::Guest for DescribeSleeps {
    fn describe() -> CardInfo {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }

    fn run(_ctx: CallContext, input: String) -> Result<String, CardError> {
        Ok(input)
    }
}

lanyard_sdk::bindings::__export_card_world!(DescribeSleeps with_types_in lanyard_sdk::bindings);
