//! lanyard-okta's integration tests: the real client against the sandbox org on
//! a loopback socket.

mod actions;
mod capability;
mod client;
mod conformance;
mod hooks;
mod oauth;
#[path = "../common/okta_spec.rs"]
mod okta_spec;
mod resend;
mod sandbox;
mod support;
