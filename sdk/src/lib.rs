//! Write lanyard action cards in Rust.
//!
//! A card is one WebAssembly component implementing the `lanyard:card` world
//! (`wit/card.wit`). This crate generates the guest bindings from that WIT (no
//! hand-copied bindings) and wraps them so a card is a few lines: typed input and
//! output with serde, JSON Schemas for `describe` derived from the same types with
//! schemars, and typed wrappers over every capability the host offers.
//!
//! ```no_run
//! use lanyard_sdk::prelude::*;
//! use schemars::JsonSchema;
//! use serde::{Deserialize, Serialize};
//!
//! /// Input: whom to greet.
//! #[derive(Deserialize, JsonSchema)]
//! struct In {
//!     /// The Okta user id or login.
//!     user: String,
//! }
//!
//! /// Output: the greeting.
//! #[derive(Serialize, JsonSchema)]
//! struct Out {
//!     greeting: String,
//! }
//!
//! struct Greet;
//!
//! impl Card for Greet {
//!     const NAME: &'static str = "acme.greet";
//!     const DESCRIPTION: &'static str = "Greets a user by first name.";
//!     type Input = In;
//!     type Output = Out;
//!
//!     fn grants() -> Vec<Grant> {
//!         vec![Grant::okta("okta.users.read")]
//!     }
//!
//!     fn run(ctx: &Context, input: In) -> Result<Out, CardError> {
//!         let user = okta::get_user(&input.user)?;
//!         let name = user.profile_str("firstName").unwrap_or(user.login());
//!         lanyard_sdk::info!("greeting {name} in run {}", ctx.run_id);
//!         Ok(Out { greeting: format!("Hello, {name}!") })
//!     }
//! }
//!
//! lanyard_sdk::export_card!(Greet);
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2`; the `.wasm` under
//! `target/wasm32-wasip2/release/` is the card. Try it with
//! `lanyard card run target/wasm32-wasip2/release/greet.wasm --input '{"user":"ada"}'`.
//!
//! What a card cannot do: it has no files, no environment variables, no arguments
//! and no sockets. Everything it does to the world goes through [`okta`], [`http`],
//! [`tables`] and [`mail`], each checked by the host against the grants an operator
//! gave the card; a call outside them returns a [`CardError`] of kind
//! [`ErrorKind::Denied`]. What it prints to stdout/stderr, and what it logs with
//! [`info!`] and friends, lands in the run's history (up to the host's cap). A
//! panic traps the call; its message and location reach the flow author as the
//! error's detail.

#![warn(missing_docs)]

extern crate self as lanyard_sdk;

pub mod http;
pub mod log;
pub mod mail;
pub mod okta;
pub mod tables;

#[doc(hidden)]
pub use schemars as __schemars;
#[doc(hidden)]
pub use serde_json as __serde_json;
#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

/// The raw bindings generated from `wit/card.wit`. Prefer the typed wrappers in
/// the modules of this crate; these are here for what they do not cover.
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "card",
        path: "../wit",
        pub_export_macro: true,
        export_macro_name: "__export_card_world",
        default_bindings_module: "::lanyard_sdk::bindings",
        runtime_path: "::lanyard_sdk::__wit_bindgen::rt",
        generate_all,
    });
}

use bindings::lanyard::card::types as wit;
pub use wit::{ErrorKind, WriteOutcome};

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Everything a card usually needs, in one `use`.
pub mod prelude {
    pub use crate::{
        Card, CardError, Context, ErrorKind, Grant, WriteOutcome, http, mail, okta, tables,
    };
}

/// A failure the card reports; the flow sees it as `error` (`error.kind`,
/// `error.message`). Capabilities return the same type, so `?` passes their
/// failures on unchanged.
pub type CardError = wit::CardError;

impl CardError {
    /// An error of `kind`; `retryable` defaults to true for `rate-limited`,
    /// `unavailable` and `timeout`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let retryable = matches!(
            kind,
            ErrorKind::RateLimited | ErrorKind::Unavailable | ErrorKind::Timeout
        );
        CardError {
            kind,
            message: message.into(),
            retryable,
            retry_after_ms: None,
        }
    }

    /// The input did not match what the card expects.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// The thing asked for does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// The card is not allowed to do this, or the remote refused it.
    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Denied, message)
    }

    /// The operation conflicts with the current state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    /// A remote service could not be reached.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }

    /// Anything else.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// Override whether the engine may retry the call.
    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }
}

impl From<serde_json::Error> for CardError {
    fn from(e: serde_json::Error) -> Self {
        CardError::internal(format!("json: {e}"))
    }
}

/// A capability the card asks for in `describe`. The operator decides what it
/// actually gets.
pub type Grant = wit::Grant;

impl Grant {
    /// An Okta scope, for example `okta.users.read`, `okta.groups.manage`.
    pub fn okta(scope: &str) -> Self {
        Grant::Okta(scope.to_string())
    }

    /// Direct HTTPS to this host (`api.example.com` or `*.example.com`).
    pub fn http_host(host: &str) -> Self {
        Grant::HttpHost(host.to_string())
    }

    /// Requests through a named connection (`*`: the one the flow names).
    pub fn connection(name: &str) -> Self {
        Grant::Connection(name.to_string())
    }

    /// Rows of a named table (`*`: the one the flow names).
    pub fn table(name: &str) -> Self {
        Grant::Table(name.to_string())
    }
}

/// Who is calling and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The run this call belongs to.
    pub run_id: String,
    /// The flow's name.
    pub flow: String,
    /// The step's path in the flow, for example `groups/remove[3]`.
    pub step: String,
    /// 1 for the first try, 2 for the first retry, and so on.
    pub attempt: u32,
    /// `run/step/attempt`, stable across a crash and resume of the same attempt:
    /// pass it to external APIs that accept an idempotency key.
    pub idempotency_key: String,
    /// A Test Flow dry run: the host records writes instead of doing them.
    pub dry_run: bool,
}

impl From<wit::CallContext> for Context {
    fn from(c: wit::CallContext) -> Self {
        Context {
            run_id: c.run_id,
            flow: c.flow,
            step: c.step,
            attempt: c.attempt,
            idempotency_key: c.idempotency_key,
            dry_run: c.dry_run,
        }
    }
}

/// An action card. Implement it on a unit struct and export it with
/// [`export_card!`]. The card's version is its crate's version.
pub trait Card {
    /// Dotted name, for example `okta.clear-sessions` or `acme.jamf-wipe`.
    const NAME: &'static str;
    /// One or two sentences for the flow author.
    const DESCRIPTION: &'static str;
    /// What `run` takes; its JSON Schema becomes the card's input schema.
    type Input: DeserializeOwned + JsonSchema;
    /// What `run` returns; its JSON Schema becomes the card's output schema.
    type Output: Serialize + JsonSchema;

    /// The capabilities `run` needs. None by default.
    fn grants() -> Vec<Grant> {
        Vec::new()
    }

    /// Do the work.
    fn run(ctx: &Context, input: Self::Input) -> Result<Self::Output, CardError>;
}

fn schema_of<T: JsonSchema>() -> String {
    let schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>();
    serde_json::to_string(&schema).expect("a JSON Schema serializes")
}

#[doc(hidden)]
pub fn __describe<C: Card>(version: &str) -> wit::CardInfo {
    wit::CardInfo {
        name: C::NAME.to_string(),
        version: version.to_string(),
        description: C::DESCRIPTION.to_string(),
        input_schema: schema_of::<C::Input>(),
        output_schema: schema_of::<C::Output>(),
        grants: C::grants(),
    }
}

#[doc(hidden)]
pub fn __run<C: Card>(ctx: wit::CallContext, input: String) -> Result<String, CardError> {
    install_panic_hook();
    let input: C::Input = serde_json::from_str(&input)
        .map_err(|e| CardError::invalid_input(format!("input does not match the card's schema: {e}")))?;
    let output = C::run(&ctx.into(), input)?;
    serde_json::to_string(&output)
        .map_err(|e| CardError::internal(format!("cannot serialize the card's output: {e}")))
}

/// Panics abort the call (a trap); the host attaches what the card wrote to
/// stderr to the error, so write the message and location there, on one line.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = if let Some(s) = info.payload().downcast_ref::<&str>() {
                *s
            } else if let Some(s) = info.payload().downcast_ref::<String>() {
                s.as_str()
            } else {
                "(no message)"
            };
            match info.location() {
                Some(l) => eprintln!(
                    "card panicked at {}:{}:{}: {message}",
                    l.file(),
                    l.line(),
                    l.column()
                ),
                None => eprintln!("card panicked: {message}"),
            }
        }));
    });
}

/// Export a [`Card`] implementation as the component's `describe` and `run`.
///
/// ```ignore
/// lanyard_sdk::export_card!(MyCard);
/// ```
#[macro_export]
macro_rules! export_card {
    ($card:ty) => {
        #[doc(hidden)]
        struct __LanyardCardExport;

        impl $crate::bindings::Guest for __LanyardCardExport {
            fn describe() -> $crate::bindings::lanyard::card::types::CardInfo {
                $crate::__describe::<$card>(env!("CARGO_PKG_VERSION"))
            }

            fn run(
                ctx: $crate::bindings::lanyard::card::types::CallContext,
                input: ::std::string::String,
            ) -> ::std::result::Result<::std::string::String, $crate::CardError> {
                $crate::__run::<$card>(ctx, input)
            }
        }

        $crate::bindings::__export_card_world!(__LanyardCardExport with_types_in $crate::bindings);
    };
}
