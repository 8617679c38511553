//! `acme.zoom-deprovision`: the offboarding step for a leaver's Zoom account.
//! Finds their Zoom user by email and deactivates it (keeping their data) or
//! deletes it, optionally handing their meetings, webinars and recordings to
//! someone else, all through the Zoom connection the flow names.
//!
//! This is the Rust twin of `cards/examples/js-zoom`: same name, version,
//! input, output, grants and requests, so a flow works with either. It is a
//! custom card, the kind a platform team builds on its own and publishes into
//! the registry:
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2
//! lanyard card publish target/wasm32-wasip2/release/acme_zoom_deprovision.wasm
//! ```
//!
//! The logic is in [`zoom`], which talks to the world through the
//! [`zoom::Io`] trait so that its tests run natively (`cargo test`); this file
//! binds it to the card contract.

pub mod zoom;

use lanyard_sdk::http::{Request, Response};
use lanyard_sdk::log::Level;
use lanyard_sdk::prelude::*;
use serde_json::Value;
use zoom::{Io, Out, RawInput};

/// The real world: the host's `http` and `log` imports.
struct Host;

impl Io for Host {
    fn send(&mut self, request: &Request) -> Result<Response, CardError> {
        request.send()
    }

    fn log(&mut self, level: Level, message: &str, fields: Value) {
        lanyard_sdk::log::write(level, message, Some(&fields));
    }
}

struct ZoomDeprovision;

impl Card for ZoomDeprovision {
    const NAME: &'static str = zoom::NAME;
    const DESCRIPTION: &'static str = zoom::DESCRIPTION;
    type Input = RawInput;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        // `*`: whichever connection the flow names; ops still list which ones.
        vec![Grant::connection("*")]
    }

    fn run(ctx: &Context, input: RawInput) -> Result<Out, CardError> {
        zoom::run(&mut Host, &ctx.idempotency_key, ctx.dry_run, &input.0)
    }
}

lanyard_sdk::export_card!(ZoomDeprovision);
