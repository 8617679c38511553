//! A stand-in for Slack: the Web API's `chat.postMessage` and an incoming
//! webhook, answering with Slack's own response shapes.
//!
//! Checks what Slack checks (bearer token, content type, JSON body, channel,
//! text or blocks) and records every request so tests and the demo can show
//! what "Slack" received. It posts nothing anywhere.

use crate::{StartError, WaitTimeout};
use lanyard_connect::config::{AuthConfig, ConnectionConfig, UrlSource};
use lanyard_connect::secret::SecretSource;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Largest request body the stand-in reads (Slack's own limit is lower for text).
const MAX_BODY: usize = 1024 * 1024;
/// Slack truncates past 40 000 characters and refuses far longer messages.
const MAX_TEXT: usize = 40_000;

/// The workspace the stand-in pretends to be.
#[derive(Debug, Clone)]
pub struct SlackConfig {
    /// The bot token `chat.postMessage` accepts (`xoxb-...`).
    pub bot_token: String,
    /// Channels that exist, as (name without `#`, id).
    pub channels: Vec<(String, String)>,
    /// Members of the workspace, by member id (`U…`): a `chat.postMessage`
    /// to one is a direct message from the app (Slack answers with the DM's
    /// `D…` channel id); any other member id is `channel_not_found`, as in
    /// Slack.
    pub members: Vec<String>,
    /// The path of the one incoming webhook, `/services/T…/B…/…`.
    pub webhook_path: String,
    /// The webhook's channel, for the record.
    pub webhook_channel: String,
}

impl Default for SlackConfig {
    fn default() -> Self {
        SlackConfig {
            bot_token: "xoxb-0000000000-0000000000000-sandboxsandboxsandbox".to_owned(),
            channels: vec![
                ("it-ops".to_owned(), "C0ITOPS0001".to_owned()),
                ("security".to_owned(), "C0SECURITY1".to_owned()),
                ("general".to_owned(), "C0GENERAL01".to_owned()),
            ],
            members: Vec::new(),
            webhook_path: "/services/T0SANDBOX/B0WEBHOOK/sandboxwebhooksecret00000".to_owned(),
            webhook_channel: "it-ops".to_owned(),
        }
    }
}

/// Which endpoint a request hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlackRequestKind {
    PostMessage,
    Webhook,
    Other,
}

/// One request the stand-in received, and how it answered.
#[derive(Debug, Clone)]
pub struct SlackRequest {
    pub kind: SlackRequestKind,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body, if it was JSON.
    pub json: Option<Value>,
    /// Whether Slack would have posted the message.
    pub accepted: bool,
    /// `ok`, or Slack's error code (`invalid_auth`, `channel_not_found`, ...).
    pub outcome: String,
    /// For an accepted post: the channel id it went to.
    pub channel: Option<String>,
}

impl SlackRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The message text, if the body had one.
    pub fn text(&self) -> Option<&str> {
        self.json.as_ref()?.get("text")?.as_str()
    }
}

/// The Slack stand-in. See [`SlackStandIn::start`].
pub struct SlackStandIn;

struct State {
    config: SlackConfig,
    requests: watch::Sender<Vec<SlackRequest>>,
    ts: AtomicU64,
}

/// A running stand-in. Dropping it stops the server.
pub struct SlackStandInHandle {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl Drop for SlackStandInHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SlackStandIn {
    /// Serve on `listener` until the handle is dropped.
    pub fn start(
        listener: TcpListener,
        config: SlackConfig,
    ) -> Result<SlackStandInHandle, StartError> {
        let addr = listener.local_addr().map_err(StartError::Addr)?;
        let state = Arc::new(State {
            config,
            requests: watch::channel(Vec::new()).0,
            ts: AtomicU64::new(1),
        });
        let task = tokio::spawn(serve(listener, state.clone()));
        Ok(SlackStandInHandle { addr, state, task })
    }
}

impl SlackStandInHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What a connection's `base_url` is for the Web API: `http://addr/api`.
    pub fn api_base_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// The incoming webhook's full URL.
    pub fn webhook_url(&self) -> String {
        format!("http://{}{}", self.addr, self.state.config.webhook_path)
    }

    /// A connection to the Web API with the bot token (`base_url` is
    /// [`Self::api_base_url`]; the stand-in is on loopback, hence
    /// `allow_private`). The token is inline: a development-only secret.
    pub fn web_api_connection(&self) -> ConnectionConfig {
        ConnectionConfig {
            base_url: UrlSource::Plain(self.api_base_url()),
            auth: AuthConfig::Bearer(SecretSource::Value(self.state.config.bot_token.clone())),
            headers: Default::default(),
            timeout: None,
            allow_private: true,
            max_response_bytes: None,
            description: Some("Slack Web API (sandbox stand-in)".to_owned()),
        }
    }

    /// A connection whose base URL is the incoming webhook, kept secret as a
    /// real webhook URL must be.
    pub fn webhook_connection(&self) -> ConnectionConfig {
        ConnectionConfig {
            base_url: UrlSource::Secret(SecretSource::Value(self.webhook_url())),
            auth: AuthConfig::None,
            headers: Default::default(),
            timeout: None,
            allow_private: true,
            max_response_bytes: None,
            description: Some("Slack incoming webhook (sandbox stand-in)".to_owned()),
        }
    }

    pub fn config(&self) -> &SlackConfig {
        &self.state.config
    }

    /// Every request so far, accepted or not.
    pub fn requests(&self) -> Vec<SlackRequest> {
        self.state.requests.borrow().clone()
    }

    /// The messages Slack would have posted.
    pub fn posted(&self) -> Vec<SlackRequest> {
        self.state
            .requests
            .borrow()
            .iter()
            .filter(|r| r.accepted)
            .cloned()
            .collect()
    }

    /// Wait until at least `n` messages were posted; returns them.
    pub async fn wait_for(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<SlackRequest>, WaitTimeout> {
        let started = Instant::now();
        let mut rx = self.state.requests.subscribe();
        let waited = tokio::time::timeout(
            timeout,
            rx.wait_for(|r| r.iter().filter(|r| r.accepted).count() >= n),
        )
        .await;
        match waited {
            Ok(Ok(_)) => Ok(self.posted()),
            _ => Err(WaitTimeout {
                what: "slack messages",
                wanted: n,
                got: self.posted().len(),
                waited_ms: started.elapsed().as_millis() as u64,
            }),
        }
    }
}

async fn serve(listener: TcpListener, state: Arc<State>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(error) => {
                tracing::warn!(%error, "slack stand-in: accept failed");
                continue;
            }
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(&state, req).await) }
            });
            if let Err(error) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%peer, %error, "slack stand-in: connection ended");
            }
        });
    }
}

fn json_response(body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json; charset=utf-8")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("static response")
}

fn text_response(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/html")
        .body(Full::new(Bytes::from_static(text.as_bytes())))
        .expect("static response")
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => return text_response(StatusCode::PAYLOAD_TOO_LARGE, "request_too_large"),
    };
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    let mut record = SlackRequest {
        kind: SlackRequestKind::Other,
        method: method.clone(),
        path: path.clone(),
        headers,
        body,
        json,
        accepted: false,
        outcome: String::new(),
        channel: None,
    };
    let response = if path == "/api/chat.postMessage" {
        record.kind = SlackRequestKind::PostMessage;
        post_message(state, &method, &mut record)
    } else if path == state.config.webhook_path {
        record.kind = SlackRequestKind::Webhook;
        webhook(state, &method, &mut record)
    } else if path.starts_with("/services/") {
        record.outcome = "no_service".to_owned();
        text_response(StatusCode::NOT_FOUND, "no_service")
    } else if path.starts_with("/api/") {
        record.outcome = "unknown_method".to_owned();
        json_response(json!({"ok": false, "error": "unknown_method"}))
    } else {
        record.outcome = "not_found".to_owned();
        text_response(StatusCode::NOT_FOUND, "not_found")
    };
    tracing::info!(path = %record.path, outcome = %record.outcome, "slack stand-in: request");
    state.requests.send_modify(|r| r.push(record));
    response
}

fn post_message(state: &State, method: &str, record: &mut SlackRequest) -> Response<Full<Bytes>> {
    let fail = |record: &mut SlackRequest, error: &str| {
        record.outcome = error.to_owned();
        json_response(json!({"ok": false, "error": error}))
    };
    if method != "POST" {
        return fail(record, "invalid_request");
    }
    let token = record.header("authorization").map(str::to_owned);
    match token.as_deref().and_then(|t| t.strip_prefix("Bearer ")) {
        None => return fail(record, "not_authed"),
        Some(t) if t != state.config.bot_token => return fail(record, "invalid_auth"),
        Some(_) => {}
    }
    let content_type = record
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut media = content_type.split(';').map(str::trim);
    if media.next() != Some("application/json") {
        // The real API takes form posts too; lanyard's cards send JSON, so
        // anything else here is a bug worth seeing.
        return fail(record, "invalid_form_data");
    }
    let charset = media.any(|p| p.replace(' ', "") == "charset=utf-8");
    let Some(body) = record.json.clone() else {
        return fail(record, "invalid_json");
    };
    let Some(channel) = body.get("channel").and_then(Value::as_str) else {
        return fail(record, "channel_not_found");
    };
    let wanted = channel.trim_start_matches('#');
    let direct = state.config.members.iter().find(|m| *m == channel).map(|m| format!("D{}", &m[1.min(m.len())..]));
    let Some(channel_id) = direct.or_else(|| {
        state
            .config
            .channels
            .iter()
            .find(|(name, id)| name == wanted || id == wanted)
            .map(|(_, id)| id.clone())
    }) else {
        return fail(record, "channel_not_found");
    };
    let text = body.get("text").and_then(Value::as_str);
    let blocks = body.get("blocks");
    if let Some(blocks) = blocks
        && !blocks.as_array().is_some_and(|b| {
            b.iter()
                .all(|block| block.get("type").is_some_and(Value::is_string))
        })
    {
        return fail(record, "invalid_blocks");
    }
    if text.is_none_or(str::is_empty) && blocks.is_none() {
        return fail(record, "no_text");
    }
    if text.is_some_and(|t| t.chars().count() > MAX_TEXT) {
        return fail(record, "msg_too_long");
    }
    let n = state.ts.fetch_add(1, Ordering::Relaxed);
    let ts = format!("1700000000.{n:06}");
    let mut message = json!({
        "type": "message",
        "subtype": "bot_message",
        "text": text.unwrap_or(""),
        "user": "U0LANYARD01",
        "bot_id": "B0LANYARD01",
        "ts": ts,
    });
    if let Some(blocks) = blocks {
        message["blocks"] = blocks.clone();
    }
    let mut answer = json!({"ok": true, "channel": channel_id, "ts": ts, "message": message});
    if !charset {
        answer["warning"] = json!("missing_charset");
        answer["response_metadata"] = json!({"warnings": ["missing_charset"]});
    }
    record.accepted = true;
    record.outcome = "ok".to_owned();
    record.channel = Some(channel_id);
    json_response(answer)
}

fn webhook(state: &State, method: &str, record: &mut SlackRequest) -> Response<Full<Bytes>> {
    let fail = |record: &mut SlackRequest, status: StatusCode, error: &'static str| {
        record.outcome = error.to_owned();
        text_response(status, error)
    };
    if method != "POST" {
        return fail(record, StatusCode::METHOD_NOT_ALLOWED, "invalid_request");
    }
    let content_type = record
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.split(';').next().map(str::trim) != Some("application/json") {
        return fail(record, StatusCode::BAD_REQUEST, "invalid_payload");
    }
    let Some(body) = record.json.clone() else {
        return fail(record, StatusCode::BAD_REQUEST, "invalid_payload");
    };
    let text = body.get("text").and_then(Value::as_str);
    let blocks = body.get("blocks");
    if blocks.is_some_and(|b| !b.is_array()) {
        return fail(record, StatusCode::BAD_REQUEST, "invalid_blocks");
    }
    if text.is_none_or(str::is_empty) && blocks.is_none() {
        return fail(record, StatusCode::BAD_REQUEST, "no_text");
    }
    let channel = state
        .config
        .channels
        .iter()
        .find(|(name, _)| *name == state.config.webhook_channel)
        .map(|(_, id)| id.clone());
    record.accepted = true;
    record.outcome = "ok".to_owned();
    record.channel = channel;
    text_response(StatusCode::OK, "ok")
}
