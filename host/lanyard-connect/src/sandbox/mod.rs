//! Stand-ins for the outside world, speaking the real protocols on real sockets:
//! an SMTP server ([`SmtpSink`]), Slack's Web API and incoming webhooks
//! ([`SlackStandIn`]), and the parts of Zoom's ([`ZoomStandIn`]) and Asana's
//! ([`AsanaStandIn`]) APIs that the `acme.zoom-deprovision` and
//! `acme.asana-offboard` cards use. The demo points lanyard's mail relay and
//! connections at them; the tests assert on what they received
//! ([`StandInRequest`] for Zoom and Asana) and make them fail on purpose
//! (`fail_next`).
//!
//! They are strict on purpose (a command out of order, bad credentials, a wrong
//! content type are refused as the real service would), so a broken client
//! fails here rather than in production. They must never be wired in by
//! default: the daemon enables them only for `lanyard demo` and the sandbox.

mod asana;
mod record;
mod slack;
mod smtp;
mod zoom;

pub use asana::{
    AsanaConfig, AsanaStandIn, AsanaStandInHandle, AsanaTask, AsanaUser, AsanaWorkspace,
};
pub use record::StandInRequest;
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
