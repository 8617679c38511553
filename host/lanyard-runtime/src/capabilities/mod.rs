//! The host side of the card's imports, one unit per capability: `okta`,
//! `http`, `tables`, `mail` and `log`, each a module with its state (the
//! `lanyard-core` trait object in [`Capabilities`]), a view it borrows for one
//! call (that state plus the call's [`CallCx`]), its `add_to_linker`, its
//! grant check, and a `card.host` span per host call that names the card,
//! the capability and the operation (never an argument: they may hold secrets).
//!
//! Every capability call is checked against the card's grants, answered
//! `unavailable` when the capability is not configured, and recorded instead
//! of done in a dry run. The outer `wasmtime::Result` of each function is a
//! trap and is never used for anything a card can cause: denials, bad
//! arguments and capability failures are `card-error`s the card sees and can
//! handle. A unit must not reach another unit's state; what they share (the
//! grants, the record, the dry-run write count) is [`CallCx`].

mod http;
mod log;
mod mail;
mod okta;
mod tables;

use crate::bindings::lanyard::card::types;
use crate::convert::error_to_wit;
use crate::record::{LogText, MAX_QUOTED, Record, quote};
use crate::state::HostState;
use lanyard_core::caps::{HttpApi, MailApi, TablesApi};
use lanyard_core::okta::OktaApi;
use lanyard_core::{CardError, Clock, Grants, SystemClock};
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::{HasSelf, Linker};

type HostResult<T> = wasmtime::Result<Result<T, types::CardError>>;

/// The capabilities one call may use. Cheap to clone. A capability left `None`
/// answers `unavailable` (granted or not, a card learns nothing more).
#[derive(Clone)]
pub struct Capabilities {
    pub okta: Option<Arc<dyn OktaApi>>,
    pub http: Option<Arc<dyn HttpApi>>,
    pub tables: Option<Arc<dyn TablesApi>>,
    pub mail: Option<Arc<dyn MailApi>>,
    /// The card's wall clock (and the time stamps of dry-run answers).
    pub clock: Arc<dyn Clock>,
}

impl Capabilities {
    /// No capabilities and the system clock.
    pub fn none() -> Self {
        Capabilities {
            okta: None,
            http: None,
            tables: None,
            mail: None,
            clock: Arc::new(SystemClock),
        }
    }
}

impl Default for Capabilities {
    fn default() -> Self {
        Self::none()
    }
}

impl std::fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capabilities")
            .field("okta", &self.okta.is_some())
            .field("http", &self.http.is_some())
            .field("tables", &self.tables.is_some())
            .field("mail", &self.mail.is_some())
            .finish()
    }
}

/// Link every capability's imports (and the `types` they share) for the
/// store's data, each unit through its own view.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    types::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    okta::add_to_linker(linker)?;
    http::add_to_linker(linker)?;
    tables::add_to_linker(linker)?;
    mail::add_to_linker(linker)?;
    log::add_to_linker(linker)
}

impl types::Host for HostState {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `describe()`: every import is denied.
    Describe,
    Run,
}

/// What every capability of one call shares: who is calling, under which
/// grants, until when, and the record of what the call made the host keep.
pub(crate) struct CallCx {
    pub mode: Mode,
    pub card: Arc<str>,
    pub run_id: String,
    pub grants: Arc<Grants>,
    pub dry_run: bool,
    pub deadline: Instant,
    /// Log lines, denials, effects: everything the card makes the host keep.
    pub record: Arc<Record>,
    /// Dry-run writes so far, kept or not (their plausible ids count them).
    pub writes: usize,
}

fn wit_err<T>(e: CardError) -> HostResult<T> {
    Ok(Err(error_to_wit(e)))
}

/// `?` for capability results inside a host function.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return $crate::capabilities::wit_err(e),
        }
    };
}
use tri;

impl CallCx {
    /// Deny by default: `allowed` is the grant check; `grant` names the grant
    /// that is missing, for the card's error, the log and the outcome. Card
    /// text in either (a table name, a URL) is quoted cut to a few hundred
    /// bytes; the denial is recorded and logged only while the record has room,
    /// and logged escaped. A denial is the card's error, never a trap.
    fn check(&mut self, capability: &str, operation: &str, allowed: bool, grant: impl FnOnce() -> String) -> Result<(), CardError> {
        if self.mode == Mode::Describe {
            return Err(CardError::denied(format!(
                "{capability} {}: every capability is denied while describe() runs",
                quote(operation, MAX_QUOTED)
            )));
        }
        if allowed {
            return Ok(());
        }
        let grant = grant();
        let (operation, grant) = (quote(operation, MAX_QUOTED), quote(&grant, MAX_QUOTED));
        if self.record.deny(format!("{capability} {operation}: missing grant `{grant}`")) {
            tracing::warn!(
                card = %LogText(&self.card),
                run = %LogText(&self.run_id),
                capability,
                operation = %LogText(&operation),
                missing = %LogText(&grant),
                "capability call denied"
            );
        }
        Err(CardError::denied(format!(
            "{capability} {operation} needs the grant `{grant}`, which this card was not given"
        )))
    }

    /// A write a dry run records instead of doing, while the record has room.
    fn effect(&mut self, capability: &str, operation: String, hint: usize, args: impl FnOnce() -> Value) {
        self.writes += 1;
        let shown = quote(&operation, MAX_QUOTED).into_owned();
        if self.record.effect(capability, operation, hint, args) {
            tracing::debug!(card = %LogText(&self.card), run = %LogText(&self.run_id), capability, operation = %LogText(&shown), "dry run: write recorded");
        }
    }

    fn dry_run_id(&self, what: &str) -> String {
        format!("dry-run-{what}-{}", self.writes)
    }
}

/// The bytes of a list of card strings.
fn text_len(list: &[String]) -> usize {
    list.iter().map(String::len).sum()
}
