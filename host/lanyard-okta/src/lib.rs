//! Okta: the Management API client, the `okta` capability built on it, and Event
//! Hook payloads.
//!
//! - [`OktaClient`]: typed calls to Okta's Management API (SSWS or OAuth 2.0
//!   `private_key_jwt` with DPoP), every page through `Link: rel="next"`, bounded
//!   waits on `X-Rate-Limit-*` and 429, retries of 5xx with backoff.
//! - [`OktaCapability`]: [`lanyard_core::okta::OktaApi`] on top of the client, with
//!   compare-before-write so no-op writes raise no Okta event.
//! - [`hooks`]: Event Hook deliveries and the verification challenge, for the daemon.
//!
//! This crate knows nothing about cards, flows or the store, nor about the
//! sandbox org (`lanyard-sandbox`), which serves the same API through this
//! crate's public types only.

mod actions;
pub mod auth;
pub mod capability;
pub mod client;
pub mod config;
pub mod error;
pub mod hooks;
mod link;

pub use capability::OktaCapability;
pub use client::{EventHookSpec, LogCursor, LogPoll, OktaClient, Page};
pub use config::{Auth, OktaConfig, OrgUrl, OrgUrlError, PrivateKeyJwt, RetryPolicy};
pub use error::{OktaError, OktaErrorBody};
pub use lanyard_core::sleep::{RecordingSleeper, Sleeper, TokioSleeper};
