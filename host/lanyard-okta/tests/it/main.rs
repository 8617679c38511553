//! lanyard-okta's integration tests: the real client against the sandbox org on
//! a loopback socket.

mod capability;
mod client;
mod conformance;
mod hooks;
mod oauth;
mod sandbox;
mod support;
