//! lanyard's shared vocabulary.
//!
//! The types every part of lanyard speaks: the failure a card call reports
//! ([`CardError`]), the capability traits the card runtime calls ([`okta::OktaApi`],
//! [`caps::HttpApi`], [`caps::TablesApi`], [`caps::MailApi`]), the grants that gate them,
//! the System Log event that triggers flows, the run history records,
//! the [`Redactor`] that keeps configured secret values out of what cards
//! and the history see, and the small words everyone shares: durations and
//! sizes ([`units`]), waiting ([`Sleeper`]) and a call's limit overrides; and
//! the admin API's wire types ([`admin_api`]), which the daemon and the CLI share.
//! Behind the feature `testing`, in-memory capabilities for tests.
//!
//! This crate must stay light: no wasmtime, no sled, no HTTP stack. It is what lets
//! the flow interpreter, the card runtime, the Okta client and the store be built
//! and tested apart from each other.

pub mod admin_api;
pub mod caps;
pub mod card_info;
pub mod clock;
pub mod context;
pub mod error;
pub mod event;
pub mod event_catalog;
pub mod grants;
pub mod history;
pub mod limits;
pub mod okta;
pub mod okta_api;
pub mod okta_ops;
pub mod redact;
pub mod sleep;
#[cfg(feature = "testing")]
pub mod testing;
pub mod units;

pub use caps::WriteOutcome;
pub use card_info::CardInfo;
pub use clock::{Clock, ManualClock, SystemClock};
pub use context::CallContext;
pub use error::{CardError, ErrorKind};
pub use event::LogEvent;
pub use grants::{Grant, Grants};
pub use limits::LimitOverrides;
pub use redact::{Redactor, ScrubbedOkta, SecretSet};
pub use sleep::{RecordingSleeper, Sleeper};
#[cfg(feature = "tokio")]
pub use sleep::TokioSleeper;
