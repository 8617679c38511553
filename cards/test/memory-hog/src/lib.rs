//! Allocates one MiB after another and touches each, forever. Ends in
//! `memory-limit`.

use lanyard_sdk::prelude::*;
use serde_json::Value;

struct Hog;

impl Card for Hog {
    const NAME: &'static str = "test.memory-hog";
    const DESCRIPTION: &'static str = "Allocates memory without bound.";
    type Input = Value;
    type Output = Value;

    fn run(_ctx: &Context, _input: Value) -> Result<Value, CardError> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![0xA5; 1 << 20]);
            std::hint::black_box(&hoard);
        }
    }
}

lanyard_sdk::export_card!(Hog);
