//! `mail.send`: one email through the relay ops configured. The sender is the
//! relay's address; the card only says to whom and what.

use builtin_kit::{OneOrMany, check_single_line, check_text};
use lanyard_sdk::mail::Message;
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

const MAX_RECIPIENTS: usize = 50;
const MAX_ADDRESS: usize = 320;
const MAX_SUBJECT: usize = 998;

/// The message.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// One address or a list of them, for example `"{{ mgr.manager.profile.email }}"`.
    to: OneOrMany,
    /// Copy recipients: one address or a list.
    #[serde(default)]
    cc: OneOrMany,
    /// The subject line.
    subject: String,
    /// The plain-text body.
    text: String,
    /// An HTML alternative to the text body.
    #[serde(default)]
    html: Option<String>,
    /// Where replies go, if not to the relay's sender address.
    #[serde(default)]
    reply_to: Option<String>,
}

/// What was sent.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// The Message-ID the relay accepted the message under.
    message_id: String,
    /// The recipients.
    to: Vec<String>,
    /// The copy recipients.
    cc: Vec<String>,
}

/// A bare address (`ada@example.com`): one `@` with text on both sides, no
/// spaces, no line breaks, no display names or angle brackets.
fn check_address(field: &str, address: &str) -> Result<(), CardError> {
    let bad = |why: &str| Err(CardError::invalid_input(format!("`{field}`: `{address}` is not an email address ({why})")));
    if address.len() > MAX_ADDRESS {
        return bad("too long");
    }
    if address.chars().any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c)) {
        return bad("it has a space, a control character or one of < > , ; \"");
    }
    match address.split_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@') => Ok(()),
        _ => bad("expected name@domain"),
    }
}

struct Send;

impl Card for Send {
    const NAME: &'static str = "mail.send";
    const DESCRIPTION: &'static str = "Sends an email through the relay ops configured (the sender is the relay's address): `to` and `cc` take one address or a list, a plain-text body and an optional HTML one. Output: `message_id`, `to`, `cc`.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        vec![Grant::Mail]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        let to: Vec<String> = input.to.0.iter().map(|a| a.trim().to_string()).collect();
        let cc: Vec<String> = input.cc.0.iter().map(|a| a.trim().to_string()).collect();
        if to.is_empty() {
            return Err(CardError::invalid_input("`to` names no recipient"));
        }
        if to.len() + cc.len() > MAX_RECIPIENTS {
            return Err(CardError::invalid_input(format!(
                "{} recipients, over the limit of {MAX_RECIPIENTS}",
                to.len() + cc.len()
            )));
        }
        for a in &to {
            check_address("to", a)?;
        }
        for a in &cc {
            check_address("cc", a)?;
        }
        if let Some(r) = &input.reply_to {
            check_address("reply_to", r.trim())?;
        }
        check_text("subject", &input.subject, MAX_SUBJECT)?;
        check_single_line("subject", &input.subject)?;
        if input.text.trim().is_empty() && input.html.as_deref().is_none_or(|h| h.trim().is_empty()) {
            return Err(CardError::invalid_input("the message has no body: give `text` (and optionally `html`)"));
        }
        let message = Message {
            to: to.clone(),
            cc: cc.clone(),
            subject: input.subject,
            text: input.text,
            html: input.html,
            reply_to: input.reply_to.map(|r| r.trim().to_string()),
        };
        let message_id = mail::send(&message)?;
        Ok(Out { message_id, to, cc })
    }
}

lanyard_sdk::export_card!(Send);
