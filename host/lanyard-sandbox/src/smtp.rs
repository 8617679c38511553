//! A small, strict ESMTP server that keeps what it receives.
//!
//! Speaks enough of RFC 5321 for a real client (lettre): EHLO with capabilities,
//! STARTTLS (RFC 3207) with a certificate made at start, AUTH PLAIN and LOGIN
//! (RFC 4954), MAIL/RCPT/DATA with dot-unstuffing, RSET, NOOP, VRFY, QUIT. It
//! enforces command order, line endings, sizes and credentials, and can be told
//! to refuse chosen recipients with a chosen reply, so clients' error handling
//! can be tested. It delivers nothing anywhere.

use crate::{StartError, WaitTimeout};
use lanyard_connect::config::{MailConfig, MailFrom, MailTls};
use lanyard_connect::secret::SecretSource;
use base64::Engine as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Longest command line, CRLF included (RFC 5321 says 512; leave room for
/// long AUTH PLAIN responses).
const MAX_LINE: usize = 2048;
/// Longest line of message content, CRLF included (RFC 5321 §4.5.3.1.6).
const MAX_TEXT_LINE: usize = 1000;
/// Bad commands before the server hangs up.
const MAX_ERRORS: usize = 20;
/// How long the server waits for the client's next line.
const IDLE: Duration = Duration::from_secs(60);

/// Whether the sink offers TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP only.
    None,
    /// Offer STARTTLS.
    Starttls,
    /// Offer STARTTLS and refuse AUTH and MAIL until it was used.
    StarttlsRequired,
    /// TLS from the first byte ("SMTPS", port 465).
    Implicit,
}

/// Refuse `RCPT TO:<address>` with this reply (`550` + message, `451` + ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientRule {
    pub address: String,
    pub code: u16,
    pub message: String,
}

/// How the sink behaves.
#[derive(Debug, Clone)]
pub struct SmtpSinkConfig {
    /// The name in the greeting and EHLO reply.
    pub hostname: String,
    pub tls: SmtpTls,
    /// If set, AUTH with exactly these is required before MAIL.
    pub credentials: Option<(String, String)>,
    pub recipient_rules: Vec<RecipientRule>,
    /// Advertised in EHLO as SIZE and enforced.
    pub max_message_bytes: usize,
    pub max_recipients: usize,
}

impl Default for SmtpSinkConfig {
    fn default() -> Self {
        SmtpSinkConfig {
            hostname: "smtp.sandbox.lanyard.test".to_owned(),
            tls: SmtpTls::None,
            credentials: None,
            recipient_rules: Vec::new(),
            max_message_bytes: 10 * 1024 * 1024,
            max_recipients: 100,
        }
    }
}

/// An address from a header: `name <address>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAddress {
    pub name: Option<String>,
    pub address: String,
}

/// One message the sink accepted, with its envelope.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// `MAIL FROM` address.
    pub envelope_from: String,
    /// `RCPT TO` addresses, in order.
    pub envelope_to: Vec<String>,
    /// The user name the client authenticated as.
    pub authenticated_as: Option<String>,
    /// Whether the session was under TLS when DATA was sent.
    pub tls: bool,
    /// The name the client gave in EHLO/HELO.
    pub helo: String,
    /// The message exactly as received, dot-unstuffed.
    pub raw: Vec<u8>,
    /// Unfolded header fields in order, values as written (encoded words kept).
    pub headers: Vec<(String, String)>,
    pub subject: Option<String>,
    pub from: Vec<MailAddress>,
    pub to: Vec<MailAddress>,
    pub cc: Vec<MailAddress>,
    pub reply_to: Vec<MailAddress>,
    /// Without angle brackets, as the parser gives it.
    pub message_id: Option<String>,
    /// The first text/plain part, decoded.
    pub text: Option<String>,
    /// The first text/html part, decoded.
    pub html: Option<String>,
}

impl ReceivedMail {
    /// The first header field with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The SMTP sink. See [`SmtpSink::start`].
pub struct SmtpSink;

struct Shared {
    config: SmtpSinkConfig,
    tls: Option<tokio_rustls::TlsAcceptor>,
    messages: watch::Sender<Vec<ReceivedMail>>,
    /// Replies other than 2xx/3xx the sink gave, for tests that check a client
    /// was refused for the right reason.
    refusals: std::sync::Mutex<Vec<String>>,
}

/// A running sink. Dropping it stops the server.
pub struct SmtpSinkHandle {
    addr: SocketAddr,
    ca_pem: Option<String>,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for SmtpSinkHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    /// Serve on `listener` until the handle is dropped. With TLS, a CA and a
    /// server certificate for `localhost`, `127.0.0.1` and `::1` are made now;
    /// [`SmtpSinkHandle::ca_pem`] is what a client must trust.
    pub fn start(
        listener: TcpListener,
        config: SmtpSinkConfig,
    ) -> Result<SmtpSinkHandle, StartError> {
        let addr = listener.local_addr().map_err(StartError::Addr)?;
        let (tls, ca_pem) = match config.tls {
            SmtpTls::None => (None, None),
            SmtpTls::Starttls | SmtpTls::StarttlsRequired | SmtpTls::Implicit => {
                let (acceptor, ca_pem) = make_tls().map_err(StartError::Cert)?;
                (Some(acceptor), Some(ca_pem))
            }
        };
        let shared = Arc::new(Shared {
            config,
            tls,
            messages: watch::channel(Vec::new()).0,
            refusals: std::sync::Mutex::new(Vec::new()),
        });
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(SmtpSinkHandle {
            addr,
            ca_pem,
            shared,
            task,
        })
    }
}

impl SmtpSinkHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The PEM of the CA that signed the sink's certificate (with TLS).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// A `[mail]` config that sends through this sink as `from`: STARTTLS
    /// trusting the sink's CA when it offers TLS, its credentials when it wants
    /// them (inline, so they are logged as a development-only secret).
    pub fn mail_config(&self, from: &str) -> MailConfig {
        let config = &self.shared.config;
        MailConfig {
            host: self.addr.ip().to_string(),
            port: Some(self.addr.port()),
            tls: match config.tls {
                SmtpTls::None => MailTls::None,
                SmtpTls::Starttls | SmtpTls::StarttlsRequired => MailTls::Starttls,
                SmtpTls::Implicit => MailTls::Tls,
            },
            username: config.credentials.as_ref().map(|(user, _)| user.clone()),
            password: config
                .credentials
                .as_ref()
                .map(|(_, pw)| SecretSource::Value(pw.clone())),
            from: MailFrom::Address(from.to_owned()),
            timeout: Some(Duration::from_secs(10)),
            root_certificate: None,
            root_certificate_pem: self.ca_pem.clone(),
            allow_insecure: false,
            max_recipients: None,
            max_message_bytes: None,
            hello_name: None,
        }
    }

    /// Every message accepted so far.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared.messages.borrow().clone()
    }

    /// Every refusing reply sent so far (`550 5.1.1 ...`), oldest first.
    pub fn refusals(&self) -> Vec<String> {
        self.shared.refusals.lock().expect("refusals lock").clone()
    }

    /// Wait until at least `n` messages were accepted; returns them all.
    pub async fn wait_for(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<ReceivedMail>, WaitTimeout> {
        let started = Instant::now();
        let mut rx = self.shared.messages.subscribe();
        let waited = tokio::time::timeout(timeout, rx.wait_for(|m| m.len() >= n)).await;
        match waited {
            Ok(Ok(messages)) => Ok(messages.clone()),
            _ => Err(WaitTimeout {
                what: "mail messages",
                wanted: n,
                got: self.shared.messages.borrow().len(),
                waited_ms: started.elapsed().as_millis() as u64,
            }),
        }
    }
}

fn make_tls() -> Result<(tokio_rustls::TlsAcceptor, String), String> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let err = |e: rcgen::Error| e.to_string();
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "lanyard sandbox CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().map_err(err)?;
    let mut leaf_params = CertificateParams::new(vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ])
    .map_err(err)?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf_params.use_authority_key_identifier_extension = true;
    leaf_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).map_err(err)?;

    use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer, pki_types::PrivatePkcs8KeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf_cert.der().clone(), ca_cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .map_err(|e| e.to_string())?;
    Ok((
        tokio_rustls::TlsAcceptor::from(Arc::new(server)),
        ca_cert.pem(),
    ))
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(error) => {
                tracing::warn!(%error, "smtp sink: accept failed");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let implicit = shared.config.tls == SmtpTls::Implicit;
            let io: Box<dyn Io> = match (&shared.tls, implicit) {
                (Some(acceptor), true) => {
                    match tokio::time::timeout(IDLE, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => Box::new(tls),
                        Ok(Err(error)) => {
                            tracing::debug!(%peer, %error, "smtp sink: tls handshake failed");
                            return;
                        }
                        Err(_) => {
                            let error = "client sent no TLS handshake";
                            tracing::debug!(%peer, %error, "smtp sink: tls handshake failed");
                            return;
                        }
                    }
                }
                _ => Box::new(stream),
            };
            let mut session = Session::new(shared, io);
            session.tls = implicit;
            if let Err(error) = session.run().await {
                tracing::debug!(%peer, %error, "smtp sink: session ended");
            }
        });
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

#[derive(Default)]
struct Transaction {
    from: Option<String>,
    to: Vec<String>,
}

struct Session {
    shared: Arc<Shared>,
    io: Option<BufReader<Box<dyn Io>>>,
    helo: Option<String>,
    tls: bool,
    authenticated: Option<String>,
    tx: Transaction,
    errors: usize,
}

enum Flow {
    Continue,
    Quit,
}

type SessionResult<T> = Result<T, String>;

impl Session {
    fn new(shared: Arc<Shared>, io: Box<dyn Io>) -> Self {
        Session {
            shared,
            io: Some(BufReader::new(io)),
            helo: None,
            tls: false,
            authenticated: None,
            tx: Transaction::default(),
            errors: 0,
        }
    }

    fn io(&mut self) -> &mut BufReader<Box<dyn Io>> {
        self.io.as_mut().expect("session io")
    }

    async fn reply(&mut self, text: &str) -> SessionResult<()> {
        if !(text.starts_with('2') || text.starts_with('3')) {
            self.shared
                .refusals
                .lock()
                .expect("refusals lock")
                .push(text.to_owned());
        }
        // One write per reply: a reply split over two writes waits on Nagle
        // and the client's delayed ACK (40 ms a command).
        let mut wire = Vec::with_capacity(text.len() + 2);
        wire.extend_from_slice(text.as_bytes());
        wire.extend_from_slice(b"\r\n");
        let io = self.io().get_mut();
        io.write_all(&wire).await.map_err(|e| e.to_string())?;
        io.flush().await.map_err(|e| e.to_string())
    }

    /// A refusal for a client mistake; too many and the session ends.
    async fn bad(&mut self, text: &str) -> SessionResult<Flow> {
        self.errors += 1;
        if self.errors >= MAX_ERRORS {
            self.reply("421 4.7.0 too many errors, closing").await?;
            return Ok(Flow::Quit);
        }
        self.reply(text).await?;
        Ok(Flow::Continue)
    }

    /// One CRLF-terminated line, without the CRLF. `None` at end of stream.
    async fn line(&mut self, max: usize) -> SessionResult<Option<Result<Vec<u8>, &'static str>>> {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(
            IDLE,
            (&mut *self.io())
                .take(max as u64 + 1)
                .read_until(b'\n', &mut buf),
        )
        .await
        .map_err(|_| "client idle too long".to_owned())?
        .map_err(|e| e.to_string())?;
        if read == 0 {
            return Ok(None);
        }
        if !buf.ends_with(b"\n") {
            if buf.len() > max {
                // Drain the rest of the long line so the session can go on.
                loop {
                    let mut rest = Vec::new();
                    let n = (&mut *self.io())
                        .take(4096)
                        .read_until(b'\n', &mut rest)
                        .await
                        .map_err(|e| e.to_string())?;
                    if n == 0 || rest.ends_with(b"\n") {
                        break;
                    }
                }
                return Ok(Some(Err("line too long")));
            }
            return Ok(None);
        }
        if !buf.ends_with(b"\r\n") {
            return Ok(Some(Err("bare LF; lines end with CRLF")));
        }
        buf.truncate(buf.len() - 2);
        if buf.contains(&b'\r') {
            return Ok(Some(Err("bare CR in line")));
        }
        Ok(Some(Ok(buf)))
    }

    async fn run(mut self) -> SessionResult<()> {
        let greeting = format!(
            "220 {} ESMTP lanyard sandbox sink",
            self.shared.config.hostname
        );
        self.reply(&greeting).await?;
        loop {
            let line = match self.line(MAX_LINE).await? {
                None => return Ok(()),
                Some(Err(why)) => {
                    if let Flow::Quit = self.bad(&format!("500 5.5.2 {why}")).await? {
                        return Ok(());
                    }
                    continue;
                }
                Some(Ok(line)) => line,
            };
            let Ok(line) = String::from_utf8(line) else {
                if let Flow::Quit = self.bad("500 5.5.2 command is not utf-8").await? {
                    return Ok(());
                }
                continue;
            };
            if let Flow::Quit = self.command(&line).await? {
                return Ok(());
            }
        }
    }

    fn auth_offered(&self) -> bool {
        self.shared.config.credentials.is_some()
            && (self.tls || self.shared.config.tls != SmtpTls::StarttlsRequired)
    }

    async fn command(&mut self, line: &str) -> SessionResult<Flow> {
        let (verb, arg) = match line.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim()),
            None => (line.to_ascii_uppercase(), ""),
        };
        match verb.as_str() {
            "EHLO" | "HELO" => {
                if arg.is_empty() || arg.contains(' ') {
                    return self.bad(&format!("501 5.5.4 syntax: {verb} domain")).await;
                }
                self.helo = Some(arg.to_owned());
                self.tx = Transaction::default();
                let host = self.shared.config.hostname.clone();
                if verb == "HELO" {
                    self.reply(&format!("250 {host}")).await?;
                    return Ok(Flow::Continue);
                }
                let mut lines = vec![
                    format!("{host} greets {arg}"),
                    format!("SIZE {}", self.shared.config.max_message_bytes),
                    "8BITMIME".to_owned(),
                    "SMTPUTF8".to_owned(),
                    "ENHANCEDSTATUSCODES".to_owned(),
                ];
                if self.shared.tls.is_some() && !self.tls {
                    lines.push("STARTTLS".to_owned());
                }
                if self.auth_offered() {
                    lines.push("AUTH PLAIN LOGIN".to_owned());
                }
                let last = lines.len() - 1;
                let text: Vec<String> = lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| format!("250{}{l}", if i == last { ' ' } else { '-' }))
                    .collect();
                self.reply(&text.join("\r\n")).await?;
                Ok(Flow::Continue)
            }
            "STARTTLS" => {
                if !arg.is_empty() {
                    return self.bad("501 5.5.4 STARTTLS takes no argument").await;
                }
                let Some(acceptor) = self.shared.tls.clone().filter(|_| !self.tls) else {
                    return self.bad("502 5.5.1 STARTTLS not offered").await;
                };
                if self.helo.is_none() {
                    return self.bad("503 5.5.1 EHLO first").await;
                }
                // Anything the client sent after STARTTLS before the handshake
                // would be injected into the TLS session (CVE-2011-0411): refuse.
                if !self.io().buffer().is_empty() {
                    self.reply("554 5.5.1 data after STARTTLS, closing").await?;
                    return Ok(Flow::Quit);
                }
                self.reply("220 2.0.0 ready to start TLS").await?;
                let plain = self.io.take().expect("session io").into_inner();
                let stream = tokio::time::timeout(IDLE, acceptor.accept(plain))
                    .await
                    .map_err(|_| "client sent no TLS handshake".to_owned())?
                    .map_err(|e| format!("tls handshake: {e}"))?;
                self.io = Some(BufReader::new(Box::new(stream)));
                self.tls = true;
                // RFC 3207 §4.2: forget everything learnt before TLS.
                self.helo = None;
                self.authenticated = None;
                self.tx = Transaction::default();
                Ok(Flow::Continue)
            }
            "AUTH" => self.auth(arg).await,
            "MAIL" => {
                if self.helo.is_none() {
                    return self.bad("503 5.5.1 EHLO first").await;
                }
                if self.shared.config.tls == SmtpTls::StarttlsRequired && !self.tls {
                    return self
                        .bad("530 5.7.0 must issue a STARTTLS command first")
                        .await;
                }
                if self.shared.config.credentials.is_some() && self.authenticated.is_none() {
                    return self.bad("530 5.7.0 authentication required").await;
                }
                if self.tx.from.is_some() {
                    return self.bad("503 5.5.1 nested MAIL command").await;
                }
                let Some(rest) = strip_prefix_ci(arg, "FROM:") else {
                    return self.bad("501 5.5.4 syntax: MAIL FROM:<address>").await;
                };
                let Some((address, params)) = path_and_params(rest) else {
                    return self.bad("501 5.1.7 bad sender address syntax").await;
                };
                for param in params.split_whitespace() {
                    let (key, value) = param.split_once('=').unwrap_or((param, ""));
                    match key.to_ascii_uppercase().as_str() {
                        "SIZE" => match value.parse::<usize>() {
                            Ok(n) if n > self.shared.config.max_message_bytes => {
                                return self
                                    .bad("552 5.3.4 message size exceeds fixed limit")
                                    .await;
                            }
                            Ok(_) => {}
                            Err(_) => return self.bad("501 5.5.4 bad SIZE value").await,
                        },
                        "BODY"
                            if ["7BIT", "8BITMIME"]
                                .contains(&value.to_ascii_uppercase().as_str()) => {}
                        "SMTPUTF8" if value.is_empty() => {}
                        _ => {
                            return self
                                .bad(&format!("555 5.5.4 unsupported parameter {param}"))
                                .await;
                        }
                    }
                }
                if !address.is_empty() && !valid_address(&address) {
                    return self.bad("553 5.1.7 bad sender address").await;
                }
                self.tx.from = Some(address);
                self.reply("250 2.1.0 Ok").await?;
                Ok(Flow::Continue)
            }
            "RCPT" => {
                if self.tx.from.is_none() {
                    return self.bad("503 5.5.1 need MAIL command").await;
                }
                let Some(rest) = strip_prefix_ci(arg, "TO:") else {
                    return self.bad("501 5.5.4 syntax: RCPT TO:<address>").await;
                };
                let Some((address, params)) = path_and_params(rest) else {
                    return self.bad("501 5.1.3 bad recipient address syntax").await;
                };
                if !params.trim().is_empty() {
                    return self.bad("555 5.5.4 RCPT parameters not supported").await;
                }
                if !valid_address(&address) {
                    return self.bad("553 5.1.3 bad recipient address").await;
                }
                if self.tx.to.len() >= self.shared.config.max_recipients {
                    self.reply("452 4.5.3 too many recipients").await?;
                    return Ok(Flow::Continue);
                }
                let rule = self
                    .shared
                    .config
                    .recipient_rules
                    .iter()
                    .find(|r| r.address.eq_ignore_ascii_case(&address))
                    .cloned();
                if let Some(rule) = rule {
                    self.reply(&format!("{} {}", rule.code, rule.message))
                        .await?;
                    return Ok(Flow::Continue);
                }
                self.tx.to.push(address);
                self.reply("250 2.1.5 Ok").await?;
                Ok(Flow::Continue)
            }
            "DATA" => {
                if !arg.is_empty() {
                    return self.bad("501 5.5.4 DATA takes no argument").await;
                }
                if self.tx.from.is_none() {
                    return self.bad("503 5.5.1 need MAIL command").await;
                }
                if self.tx.to.is_empty() {
                    return self.bad("503 5.5.1 need RCPT command").await;
                }
                self.reply("354 End data with <CR><LF>.<CR><LF>").await?;
                self.data().await
            }
            "RSET" => {
                self.tx = Transaction::default();
                self.reply("250 2.0.0 Ok").await?;
                Ok(Flow::Continue)
            }
            "NOOP" => {
                self.reply("250 2.0.0 Ok").await?;
                Ok(Flow::Continue)
            }
            "VRFY" => {
                self.reply("252 2.5.2 cannot VRFY user").await?;
                Ok(Flow::Continue)
            }
            "QUIT" => {
                self.reply("221 2.0.0 Bye").await?;
                Ok(Flow::Quit)
            }
            _ => self.bad("500 5.5.2 command unrecognized").await,
        }
    }

    async fn auth(&mut self, arg: &str) -> SessionResult<Flow> {
        if !self.auth_offered() {
            return self.bad("503 5.5.1 AUTH not offered").await;
        }
        if self.helo.is_none() {
            return self.bad("503 5.5.1 EHLO first").await;
        }
        if self.authenticated.is_some() {
            return self.bad("503 5.5.1 already authenticated").await;
        }
        if self.tx.from.is_some() {
            return self
                .bad("503 5.5.1 AUTH not allowed during a mail transaction")
                .await;
        }
        let (mechanism, initial) = match arg.split_once(' ') {
            Some((m, i)) => (m.to_ascii_uppercase(), Some(i.trim().to_owned())),
            None => (arg.to_ascii_uppercase(), None),
        };
        let (user, password) = match mechanism.as_str() {
            "PLAIN" => {
                let response = match initial {
                    Some(i) => i,
                    None => match self.challenge("").await? {
                        Some(r) => r,
                        None => return self.bad("501 5.7.0 authentication cancelled").await,
                    },
                };
                let Some(decoded) = b64(&response) else {
                    return self
                        .bad("501 5.5.2 cannot decode AUTH PLAIN response")
                        .await;
                };
                let parts: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
                if parts.len() != 3 {
                    return self.bad("501 5.5.2 malformed AUTH PLAIN response").await;
                }
                (
                    String::from_utf8_lossy(parts[1]).into_owned(),
                    String::from_utf8_lossy(parts[2]).into_owned(),
                )
            }
            "LOGIN" => {
                let user = match initial {
                    Some(i) => Some(i),
                    None => self.challenge("VXNlcm5hbWU6").await?,
                };
                let Some(user) = user else {
                    return self.bad("501 5.7.0 authentication cancelled").await;
                };
                let Some(password) = self.challenge("UGFzc3dvcmQ6").await? else {
                    return self.bad("501 5.7.0 authentication cancelled").await;
                };
                let (Some(user), Some(password)) = (b64(&user), b64(&password)) else {
                    return self
                        .bad("501 5.5.2 cannot decode AUTH LOGIN response")
                        .await;
                };
                (
                    String::from_utf8_lossy(&user).into_owned(),
                    String::from_utf8_lossy(&password).into_owned(),
                )
            }
            _ => return self.bad("504 5.5.4 unrecognized authentication type").await,
        };
        let expected = self
            .shared
            .config
            .credentials
            .clone()
            .expect("auth offered");
        if user == expected.0 && password == expected.1 {
            self.authenticated = Some(user);
            self.reply("235 2.7.0 Authentication successful").await?;
            Ok(Flow::Continue)
        } else {
            self.bad("535 5.7.8 authentication credentials invalid")
                .await
        }
    }

    /// `334 <challenge>`, then the client's line; `None` if it cancelled (`*`).
    async fn challenge(&mut self, challenge: &str) -> SessionResult<Option<String>> {
        self.reply(&format!("334 {challenge}")).await?;
        match self.line(MAX_LINE).await? {
            None => Err("connection closed during AUTH".to_owned()),
            Some(Err(why)) => Err(why.to_owned()),
            Some(Ok(line)) => {
                let line = String::from_utf8_lossy(&line).into_owned();
                Ok((line != "*").then_some(line))
            }
        }
    }

    async fn data(&mut self) -> SessionResult<Flow> {
        let max = self.shared.config.max_message_bytes;
        let mut raw = Vec::new();
        let mut problem: Option<&'static str> = None;
        loop {
            let line = match self.line(MAX_TEXT_LINE).await? {
                None => return Err("connection closed during DATA".to_owned()),
                Some(Err(why)) => {
                    problem.get_or_insert(why);
                    continue;
                }
                Some(Ok(line)) => line,
            };
            if line == b"." {
                break;
            }
            let line = line.strip_prefix(b".").unwrap_or(&line);
            if raw.len() + line.len() + 2 > max {
                problem.get_or_insert("too large");
                continue;
            }
            raw.extend_from_slice(line);
            raw.extend_from_slice(b"\r\n");
        }
        let tx = std::mem::take(&mut self.tx);
        match problem {
            Some("too large") => {
                return self.bad("552 5.3.4 message size exceeds fixed limit").await;
            }
            Some(why) => return self.bad(&format!("550 5.6.0 message refused: {why}")).await,
            None => {}
        }
        let Some(mail) = parse(raw, tx, self) else {
            return self
                .bad("550 5.6.0 message refused: cannot parse its header")
                .await;
        };
        let id = ulid::Ulid::new();
        self.shared.messages.send_modify(|m| m.push(mail));
        self.reply(&format!("250 2.0.0 Ok: queued as {id}")).await?;
        Ok(Flow::Continue)
    }
}

fn b64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// `<address> params` → (address, params). The angle brackets are required.
fn path_and_params(text: &str) -> Option<(String, &str)> {
    let text = text.trim_start();
    let rest = text.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some((rest[..end].to_owned(), &rest[end + 1..]))
}

fn valid_address(address: &str) -> bool {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !address
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        }
        None => false,
    }
}

fn header_fields(raw: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    fields
}

fn parse(raw: Vec<u8>, tx: Transaction, session: &Session) -> Option<ReceivedMail> {
    use mail_parser::{MessageParser, PartType};
    let message = MessageParser::default().parse(&raw)?;
    let addresses = |a: Option<&mail_parser::Address<'_>>| -> Vec<MailAddress> {
        let Some(a) = a else { return Vec::new() };
        let mut out = Vec::new();
        if let Some(list) = a.as_list() {
            for addr in list {
                if let Some(address) = addr.address() {
                    out.push(MailAddress {
                        name: addr.name().map(str::to_owned),
                        address: address.to_owned(),
                    });
                }
            }
        }
        if let Some(groups) = a.as_group() {
            for group in groups {
                for addr in &group.addresses {
                    if let Some(address) = addr.address() {
                        out.push(MailAddress {
                            name: addr.name().map(str::to_owned),
                            address: address.to_owned(),
                        });
                    }
                }
            }
        }
        out
    };
    let text = message.parts.iter().find_map(|p| match &p.body {
        PartType::Text(t) => Some(t.to_string()),
        _ => None,
    });
    let html = message.parts.iter().find_map(|p| match &p.body {
        PartType::Html(t) => Some(t.to_string()),
        _ => None,
    });
    let headers = header_fields(&raw);
    Some(ReceivedMail {
        envelope_from: tx.from.unwrap_or_default(),
        envelope_to: tx.to,
        authenticated_as: session.authenticated.clone(),
        tls: session.tls,
        helo: session.helo.clone().unwrap_or_default(),
        subject: message.subject().map(str::to_owned),
        from: addresses(message.from()),
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        reply_to: addresses(message.reply_to()),
        message_id: message.message_id().map(str::to_owned),
        text,
        html,
        headers,
        raw,
    })
}
