//! The `log` capability: the card's own log lines, kept in the call's record
//! (counted at the size the card sent, within the record's cap). Needs no
//! grant and is never denied, not even in `describe()`; it writes nothing to
//! the host's log itself.

use crate::bindings::lanyard::card::log;
use crate::record::{LogText, Record};
use crate::state::HostState;
use tracing::instrument;
use wasmtime::component::{HasData, Linker};

/// The capability's view of one call: the record and whose it is, nothing else.
pub(crate) struct LogView<'a> {
    card: &'a str,
    record: &'a Record,
}

struct Log;

impl HasData for Log {
    type Data<'a> = LogView<'a>;
}

pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    log::add_to_linker::<HostState, Log>(linker, |s| LogView { card: &s.cx.card, record: &s.cx.record })
}

impl log::Host for LogView<'_> {
    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(self.card), capability = "log", operation = "write"))]
    async fn write(&mut self, level: log::Level, message: String, fields: Option<String>) -> wasmtime::Result<()> {
        let level = match level {
            log::Level::Trace => "trace",
            log::Level::Debug => "debug",
            log::Level::Info => "info",
            log::Level::Warn => "warn",
            log::Level::Error => "error",
        };
        // Counted at the size the card sent, and parsed only if it fits.
        self.record.log(level, message, fields);
        Ok(())
    }
}
