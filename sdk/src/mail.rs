//! Mail through the relay ops configured; the sender is the relay's address.
//! Grant: `mail`.

use crate::CardError;
use crate::bindings::lanyard::card::mail as wit;

/// One message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// Recipients.
    pub to: Vec<String>,
    /// Copy recipients.
    pub cc: Vec<String>,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// An optional HTML alternative.
    pub html: Option<String>,
    /// An optional Reply-To address.
    pub reply_to: Option<String>,
}

impl Message {
    /// A plain-text message to one recipient.
    pub fn new(to: impl Into<String>, subject: impl Into<String>, text: impl Into<String>) -> Self {
        Message {
            to: vec![to.into()],
            subject: subject.into(),
            text: text.into(),
            ..Default::default()
        }
    }
}

/// Send one message; returns its Message-ID.
pub fn send(message: &Message) -> Result<String, CardError> {
    wit::send(&wit::Message {
        to: message.to.clone(),
        cc: message.cc.clone(),
        subject: message.subject.clone(),
        text: message.text.clone(),
        html: message.html.clone(),
        reply_to: message.reply_to.clone(),
    })
}
