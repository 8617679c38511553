//! A `run()` that waits in the host and never comes back on its own: a sleep
//! far longer than any deadline (`{"how": "sleep"}`), or a block on a pollable
//! that never becomes ready (`{"how": "poll"}`, a monotonic-clock pollable for
//! the longest duration WASI can say, passed to `wasi:io/poll.poll`). No guest
//! code runs while it waits, so only a wall-clock deadline that covers host
//! waits can end the call.

use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum How {
    Sleep,
    Poll,
}

#[derive(Deserialize, JsonSchema)]
struct In {
    how: How,
}

struct Blocks;

impl Card for Blocks {
    const NAME: &'static str = "test.blocks";
    const DESCRIPTION: &'static str = "Waits in the host forever.";
    type Input = In;
    type Output = Value;

    fn run(_ctx: &Context, input: In) -> Result<Value, CardError> {
        match input.how {
            How::Sleep => loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            },
            How::Poll => {
                let never = wasip2::clocks::monotonic_clock::subscribe_duration(u64::MAX);
                loop {
                    wasip2::io::poll::poll(&[&never]);
                }
            }
        }
    }
}

lanyard_sdk::export_card!(Blocks);
