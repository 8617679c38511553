//! lanyard-okta's integration tests: the real client against the sandbox org on
//! a loopback socket.

mod client;
mod support;
