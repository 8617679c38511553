//! The `mail` capability: one message through the host's mail relay, gated by
//! the `mail` grant. Delivery is the [`MailApi`] implementation's: this unit
//! knows no SMTP.

use super::{CallCx, HostResult, text_len, tri, wit_err};
use crate::bindings::lanyard::card::mail;
use crate::convert::*;
use crate::record::LogText;
use crate::state::HostState;
use lanyard_core::CardError;
use lanyard_core::caps::MailApi;
use serde_json::Value;
use std::sync::Arc;
use tracing::instrument;
use wasmtime::component::{HasData, Linker};

/// The capability's view of one call.
pub(crate) struct MailView<'a> {
    cx: &'a mut CallCx,
    api: Option<&'a Arc<dyn MailApi>>,
}

struct Mail;

impl HasData for Mail {
    type Data<'a> = MailView<'a>;
}

pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    mail::add_to_linker::<HostState, Mail>(linker, |s| MailView { cx: &mut s.cx, api: s.caps.mail.as_ref() })
}

impl mail::Host for MailView<'_> {
    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "mail", operation = "send"))]
    async fn send(&mut self, msg: mail::Message) -> HostResult<String> {
        let allowed = self.cx.grants.mail;
        tri!(self.cx.check("mail", "send", allowed, || "mail".to_string()));
        let msg = message_from_wit(msg);
        if msg.to.is_empty() {
            return wit_err(CardError::invalid_input("a message needs at least one recipient"));
        }
        if self.cx.dry_run {
            let id = format!("<{}@lanyard>", self.cx.dry_run_id("mail"));
            let hint = text_len(&msg.to)
                + text_len(&msg.cc)
                + msg.subject.len()
                + msg.text.len()
                + msg.html.as_ref().map_or(0, String::len)
                + msg.reply_to.as_ref().map_or(0, String::len);
            self.cx.effect("mail", "send".to_string(), hint, || serde_json::to_value(&msg).unwrap_or(Value::Null));
            return Ok(Ok(id));
        }
        let Some(api) = self.api.cloned() else {
            return wit_err(CardError::unavailable("mail is not configured on this host"));
        };
        Ok(api.send(msg).await.map_err(error_to_wit))
    }
}
