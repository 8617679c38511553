//! The simulated world lanyard's demo, `lanyard sandbox`, a daemon's
//! `sandbox = true` orgs and the tests run against: everything here speaks the
//! real protocol on a real socket, so the real clients are what talk to it.
//!
//! - [`okta`]: the sandbox org, a simulated Okta org serving Okta's Management
//!   API, OAuth and Event Hooks.
//! - Stand-ins for the services cards reach: an SMTP server ([`SmtpSink`]),
//!   Slack's Web API and incoming webhooks ([`SlackStandIn`]), and the parts of
//!   Zoom's ([`ZoomStandIn`]), Asana's ([`AsanaStandIn`]) and JAMF Pro's
//!   ([`JamfStandIn`]) APIs that the `acme.zoom-deprovision`,
//!   `acme.asana-offboard` and `acme.jamf-offboard` cards use. The demo points
//!   lanyard's mail relay and connections at them; the tests assert on what they
//!   received ([`StandInRequest`] for Zoom, Asana and JAMF) and make them fail
//!   on purpose (`fail_next`). [`ScriptedStandIn`] answers as a test says,
//!   for what the others do not cover. The HTTP stand-ins, Slack's among
//!   them, share one hyper server (`record`); nothing here parses HTTP by
//!   hand.
//!
//! They are strict on purpose (a command out of order, bad credentials, a wrong
//! content type are refused as the real service would), so a broken client
//! fails here rather than in production. This crate uses only the public APIs
//! of `lanyard-okta` and `lanyard-connect`; they know nothing of it, and a
//! production build (`lanyard` without its `sandbox` feature) does not link it.
//! It must never be wired in by default outside the `sandbox` feature.

pub mod daemon_config;
pub mod okta;

mod asana;
mod jamf;
mod record;
mod scripted;
mod slack;
mod smtp;
mod zoom;

pub use asana::{
    AsanaConfig, AsanaStandIn, AsanaStandInHandle, AsanaTask, AsanaUser, AsanaWorkspace,
};
pub use jamf::{JamfConfig, JamfStandIn, JamfStandInHandle};
pub use record::StandInRequest;
pub use scripted::{Script, ScriptedStandIn, ScriptedStandInHandle};
pub use slack::{SlackConfig, SlackRequest, SlackRequestKind, SlackStandIn, SlackStandInHandle};
pub use smtp::{
    MailAddress, ReceivedMail, RecipientRule, SmtpSink, SmtpSinkConfig, SmtpSinkHandle, SmtpTls,
};
pub use zoom::{ZoomConfig, ZoomStandIn, ZoomStandInHandle, ZoomUser};

/// Waiting for N messages or requests took longer than allowed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("waited {waited_ms} ms for {wanted} {what}, got {got}")]
pub struct WaitTimeout {
    pub what: &'static str,
    pub wanted: usize,
    pub got: usize,
    pub waited_ms: u64,
}

/// A stand-in could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot read the listener's address: {0}")]
    Addr(#[source] std::io::Error),
    #[error("cannot make the test certificate: {0}")]
    Cert(String),
}
