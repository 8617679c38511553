//! The mail capability: a card's message, sent through the SMTP relay ops
//! configured, with lettre.
//!
//! The sender is always the relay's configured address; a card picks recipients,
//! subject, text, an optional HTML alternative, cc and reply-to. This module
//! validates all of them, caps their number and size, and maps SMTP replies to
//! card errors. It must not: let a card choose the envelope sender, relay in the
//! clear to a remote host unless ops said so, or log the relay password.

use crate::config::{ConfigError, MailConfig, MailFrom, MailTls, Problems};
use crate::secret::{Env, ProcessEnv};
use async_trait::async_trait;
use lanyard_core::caps::{MailApi, MailMessage};
use lanyard_core::{CardError, ErrorKind, SecretSet};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::net::IpAddr;
use std::time::Duration;

/// Longest subject, in bytes (RFC 5322's line limit).
const MAX_SUBJECT: usize = 998;

/// The mail capability the card runtime links.
#[derive(Clone)]
pub struct MailCapability {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The domain of Message-IDs lanyard makes up.
    id_domain: String,
    max_recipients: usize,
    max_message_bytes: usize,
    relay: String,
    /// Upper bound of one send, connect to QUIT.
    timeout: Duration,
    secrets: SecretSet,
}

impl std::fmt::Debug for MailCapability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailCapability")
            .field("relay", &self.relay)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl MailCapability {
    /// Validate `[mail]`, read the password and the root certificate. Reports
    /// every problem at once.
    pub fn from_config(config: &MailConfig) -> Result<Self, ConfigError> {
        Self::from_config_with_env(config, &ProcessEnv)
    }

    /// [`MailCapability::from_config`] with another environment (tests).
    pub fn from_config_with_env(config: &MailConfig, env: &dyn Env) -> Result<Self, ConfigError> {
        const PLACE: &str = "mail";
        let mut problems = Problems::default();
        if config.host.trim().is_empty() {
            problems.push(PLACE, "host is empty");
        }
        let loopback = is_loopback_host(&config.host);
        if config.tls == MailTls::None && !loopback && !config.allow_insecure {
            problems.push(
                PLACE,
                format!(
                    "tls = \"none\" sends mail and password in the clear to {}; allowed only for a loopback relay unless allow_insecure = true",
                    config.host
                ),
            );
        }
        let from = match &config.from {
            MailFrom::Address(text) => text
                .parse::<Mailbox>()
                .map_err(|e| format!("from `{text}` is not a valid address: {e}")),
            MailFrom::Mailbox { address, name } => address
                .parse::<Address>()
                .map(|a| Mailbox::new(name.clone(), a))
                .map_err(|e| format!("from address `{address}` is not valid: {e}")),
        };
        let from = match from {
            Ok(f) => Some(f),
            Err(message) => {
                problems.push(PLACE, message);
                None
            }
        };
        let mut secrets = SecretSet::new();
        let credentials = match (&config.username, &config.password) {
            (Some(user), Some(password)) => match password.resolve(PLACE, env) {
                Ok(secret) => {
                    // As AUTH PLAIN and AUTH LOGIN put it on the wire, too.
                    secrets
                        .add(secret.expose())
                        .add_base64_of(format!("\0{user}\0{}", secret.expose()).as_bytes())
                        .add_base64_of(secret.expose().as_bytes());
                    Some(Credentials::new(user.clone(), secret.expose().to_owned()))
                }
                Err(e) => {
                    problems.secret(PLACE, e);
                    None
                }
            },
            (None, None) => None,
            _ => {
                problems.push(
                    PLACE,
                    "username and password go together: set both or neither",
                );
                None
            }
        };
        let mut roots = Vec::new();
        if let Some(path) = &config.root_certificate {
            match std::fs::read(path) {
                Ok(pem) => match Certificate::from_pem(&pem) {
                    Ok(cert) => roots.push(cert),
                    Err(e) => problems.push(
                        PLACE,
                        format!(
                            "root_certificate {} is not a PEM certificate: {e}",
                            path.display()
                        ),
                    ),
                },
                Err(e) => problems.push(
                    PLACE,
                    format!("cannot read root_certificate {}: {e}", path.display()),
                ),
            }
        }
        if let Some(pem) = &config.root_certificate_pem {
            match Certificate::from_pem(pem.as_bytes()) {
                Ok(cert) => roots.push(cert),
                Err(e) => problems.push(
                    PLACE,
                    format!("root_certificate_pem is not a PEM certificate: {e}"),
                ),
            }
        }
        let tls = match config.tls {
            MailTls::None => Some(Tls::None),
            MailTls::Starttls | MailTls::Tls => {
                let mut params = TlsParameters::builder(config.host.clone());
                for cert in roots {
                    params = params.add_root_certificate(cert);
                }
                match params.build_rustls() {
                    Ok(p) if config.tls == MailTls::Starttls => Some(Tls::Required(p)),
                    Ok(p) => Some(Tls::Wrapper(p)),
                    Err(e) => {
                        problems.push(PLACE, format!("cannot set up TLS for {}: {e}", config.host));
                        None
                    }
                }
            }
        };
        if config.timeout.is_some_and(|t| t.is_zero()) {
            problems.push(PLACE, "timeout must be more than 0");
        }
        if config.max_recipients == Some(0) || config.max_message_bytes == Some(0) {
            problems.push(
                PLACE,
                "max_recipients and max_message_bytes must be more than 0",
            );
        }
        problems.finish()?;
        let (from, tls) = (from.expect("checked"), tls.expect("checked"));

        let port = config.port.unwrap_or(match config.tls {
            MailTls::Starttls => 587,
            MailTls::Tls => 465,
            MailTls::None => 25,
        });
        let timeout = config.timeout.unwrap_or(Duration::from_secs(30));
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
                .port(port)
                .tls(tls)
                .timeout(Some(timeout))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        if let Some(credentials) = credentials {
            builder = builder.credentials(credentials);
        }
        if let Some(name) = &config.hello_name {
            builder = builder.hello_name(ClientId::Domain(name.clone()));
        }
        let id_domain = from.email.domain().to_owned();
        Ok(MailCapability {
            transport: builder.build(),
            from,
            id_domain,
            max_recipients: config.max_recipients.unwrap_or(50),
            max_message_bytes: config.max_message_bytes.unwrap_or(1024 * 1024),
            relay: format!("{}:{port}", config.host),
            timeout,
            secrets,
        })
    }

    /// The relay password, in the forms it may be echoed in (for a [`Redactor`]).
    ///
    /// [`Redactor`]: lanyard_core::Redactor
    pub fn secrets(&self) -> &SecretSet {
        &self.secrets
    }

    /// The sender of every message.
    pub fn from_mailbox(&self) -> &Mailbox {
        &self.from
    }

    fn build(&self, msg: &MailMessage) -> Result<(Message, String), CardError> {
        if msg.to.is_empty() {
            return Err(CardError::invalid_input(
                "mail needs at least one `to` address",
            ));
        }
        let recipients = msg.to.len() + msg.cc.len();
        if recipients > self.max_recipients {
            return Err(CardError::invalid_input(format!(
                "mail has {recipients} recipients; the relay allows at most {}",
                self.max_recipients
            )));
        }
        if msg.subject.len() > MAX_SUBJECT {
            return Err(CardError::invalid_input(format!(
                "subject is longer than {MAX_SUBJECT} bytes"
            )));
        }
        if msg.subject.chars().any(char::is_control) {
            return Err(CardError::invalid_input(
                "subject has control characters (line breaks are not allowed)",
            ));
        }
        let size = msg.subject.len() + msg.text.len() + msg.html.as_ref().map_or(0, String::len);
        if size > self.max_message_bytes {
            return Err(CardError::new(
                ErrorKind::TooLarge,
                format!(
                    "mail is {size} bytes; the cap is {} bytes",
                    self.max_message_bytes
                ),
            ));
        }
        let parse = |field: &str, text: &str| -> Result<Mailbox, CardError> {
            text.trim().parse::<Mailbox>().map_err(|e| {
                CardError::invalid_input(format!("{field} address `{text}` is not valid: {e}"))
            })
        };
        let id = format!(
            "<{}@{}>",
            ulid::Ulid::new().to_string().to_ascii_lowercase(),
            self.id_domain
        );
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(msg.subject.clone())
            .message_id(Some(id.clone()))
            .date_now();
        for to in &msg.to {
            builder = builder.to(parse("to", to)?);
        }
        for cc in &msg.cc {
            builder = builder.cc(parse("cc", cc)?);
        }
        if let Some(reply_to) = &msg.reply_to {
            builder = builder.reply_to(parse("reply-to", reply_to)?);
        }
        let message = match &msg.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                msg.text.clone(),
                html.clone(),
            )),
            None => builder.singlepart(SinglePart::plain(msg.text.clone())),
        }
        .map_err(|e| CardError::invalid_input(format!("cannot build the message: {e}")))?;
        Ok((message, id))
    }
}

fn map_smtp_error(relay: &str, error: lettre::transport::smtp::Error) -> CardError {
    let text = error.to_string();
    if error.is_timeout() {
        return CardError::new(ErrorKind::Timeout, format!("mail relay {relay} timed out"));
    }
    if let Some(code) = error.status() {
        let code = code.to_string();
        if error.is_transient() {
            // 421, 450, 451, 452: the relay asks to come back later.
            return CardError::unavailable(format!(
                "mail relay {relay} deferred the message: {text}"
            ));
        }
        return match code.as_str() {
            "530" | "534" | "535" | "538" => CardError::denied(format!(
                "mail relay {relay} refused lanyard's credentials (check [mail] username and password): {text}"
            )),
            "550" | "551" | "553" | "501" | "555" => CardError::invalid_input(format!(
                "mail relay {relay} refused a recipient or address: {text}"
            )),
            "552" | "523" => CardError::new(
                ErrorKind::TooLarge,
                format!("mail relay {relay} refused the message size: {text}"),
            ),
            "554" => CardError::denied(format!("mail relay {relay} refused the message: {text}")),
            _ => CardError::denied(format!("mail relay {relay} refused the message: {text}")),
        };
    }
    // lettre reports a failed handshake as a connection error; a certificate
    // problem will not heal by retrying.
    let lower = text.to_ascii_lowercase();
    if error.is_tls() || lower.contains("certificate") || lower.contains("handshake") {
        return CardError::unavailable(format!("mail relay {relay}: tls failed: {text}"))
            .with_retryable(false);
    }
    if error.is_client() {
        // lettre's own checks, for example no common AUTH mechanism.
        return CardError::denied(format!("mail relay {relay}: {text}"));
    }
    CardError::unavailable(format!("mail relay {relay} could not be reached: {text}"))
}

#[async_trait]
impl MailApi for MailCapability {
    async fn send(&self, msg: MailMessage) -> Result<String, CardError> {
        let (message, id) = self.build(&msg)?;
        let recipients = msg.to.len() + msg.cc.len();
        // lettre's own timeout only bounds the TCP connect: a relay that
        // accepts and then says nothing would hold the card call forever.
        let sent = match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(sent) => sent,
            Err(_) => {
                return Err(CardError::new(
                    ErrorKind::Timeout,
                    format!(
                        "mail relay {} did not finish within {} ms",
                        self.relay,
                        self.timeout.as_millis()
                    ),
                ));
            }
        };
        match sent {
            Ok(_) => {
                tracing::debug!(relay = %self.relay, message_id = %id, recipients, "mail sent");
                Ok(id)
            }
            Err(e) => {
                let error = map_smtp_error(&self.relay, e);
                tracing::debug!(relay = %self.relay, error = %error, "mail failed");
                Err(error)
            }
        }
    }
}
