//! `acme.asana-offboard`: the offboarding step for a leaver's Asana account.
//! Hands their open tasks to someone (usually their manager), then removes
//! them from their workspaces, all through the Asana connection the flow
//! names. Running it again changes nothing.
//!
//! This is the Rust twin of `cards/examples/python-asana`: same name, version,
//! input, output, grants, requests, errors and log lines, so a flow works with
//! either. It is a custom card, the kind a platform team builds on its own and
//! publishes into the registry:
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2
//! lanyard card publish target/wasm32-wasip2/release/acme_asana_offboard.wasm
//! ```
//!
//! The logic is in [`asana`], which talks to the world through the
//! [`asana::Io`] trait so that its tests run natively (`cargo test`); this
//! file binds it to the card contract.

pub mod asana;

use asana::{Io, Out, RawInput};
use lanyard_sdk::http::{Request, Response};
use lanyard_sdk::log::Level;
use lanyard_sdk::prelude::*;
use serde_json::Value;

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

struct AsanaOffboard;

impl Card for AsanaOffboard {
    const NAME: &'static str = asana::NAME;
    const DESCRIPTION: &'static str = asana::DESCRIPTION;
    type Input = RawInput;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        // `*`: whichever connection the flow names; ops still list which ones.
        vec![Grant::connection("*")]
    }

    fn run(ctx: &Context, input: RawInput) -> Result<Out, CardError> {
        asana::run(&mut Host, ctx.dry_run, &input.0)
    }
}

lanyard_sdk::export_card!(AsanaOffboard);
