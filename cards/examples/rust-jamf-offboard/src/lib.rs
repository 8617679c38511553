//! `acme.jamf-offboard`: the offboarding step for the Macs a leaver had. Finds
//! them in JAMF Pro by the leaver's email, then locks (or erases) each through
//! JAMF's MDM command API, all through the JAMF connection the flow names.
//!
//! This is the Rust twin of `cards/examples/python-jamf`: same name, version,
//! input, output and grants, so a flow works with either. It is a custom card,
//! the kind a platform team builds on its own and publishes into the registry:
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2
//! lanyard card publish target/wasm32-wasip2/release/acme_jamf_offboard.wasm
//! ```
//!
//! The logic is in [`offboard`], which talks to the world through the
//! [`offboard::Io`] trait so that its tests run natively (`cargo test`); this
//! file binds it to the card contract.

pub mod offboard;

use lanyard_sdk::http::{Request, Response};
use lanyard_sdk::log::Level;
use lanyard_sdk::prelude::*;
use offboard::{In, Io, Out};
use serde_json::Value;

/// The real world: the host's `http` and `log` imports and its random source.
struct Host;

impl Io for Host {
    fn send(&mut self, request: &Request) -> Result<Response, CardError> {
        request.send()
    }

    fn log(&mut self, level: Level, message: &str, fields: Value) {
        lanyard_sdk::log::write(level, message, Some(&fields));
    }

    fn random_u32(&mut self) -> Result<u32, CardError> {
        getrandom::u32().map_err(|e| CardError::internal(format!("no random numbers from the host: {e}")))
    }
}

struct JamfOffboard;

impl Card for JamfOffboard {
    const NAME: &'static str = offboard::NAME;
    const DESCRIPTION: &'static str = offboard::DESCRIPTION;
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        // `*`: whichever connection the flow names; ops still list which ones.
        vec![Grant::connection("*")]
    }

    fn run(ctx: &Context, input: In) -> Result<Out, CardError> {
        offboard::run(&mut Host, &ctx.idempotency_key, ctx.dry_run, input)
    }
}

lanyard_sdk::export_card!(JamfOffboard);
