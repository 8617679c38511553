//! A stand-in for Slack: the Web API's `chat.postMessage` and an incoming
//! webhook, answering with Slack's own response shapes.
//!
//! Checks what Slack checks (bearer token, content type, JSON body, channel,
//! text or blocks) and records every request so tests and the demo can show
//! what "Slack" received. It posts nothing anywhere. Served by the stand-ins'
//! shared server (`record`), which leaves the credentials to Slack's routes:
//! the webhook takes none, and the Web API answers a bad token in its own
//! `200 {"ok": false}` shape.

use crate::record::{Api, Noted, Reply, Route, Running, StandInRequest, bearer_connection, json_reply, with_note};
use crate::{StartError, WaitTimeout};
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use lanyard_connect::config::{AuthConfig, ConnectionConfig, UrlSource};
use lanyard_connect::secret::SecretSource;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;

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

/// A running stand-in. Dropping it stops the server.
pub struct SlackStandInHandle {
    running: Running<Slack>,
}

impl SlackStandIn {
    /// Serve on `listener` until the handle is dropped.
    pub fn start(
        listener: TcpListener,
        config: SlackConfig,
    ) -> Result<SlackStandInHandle, StartError> {
        let running = Running::start(listener, |_| Slack {
            config,
            ts: AtomicU64::new(1),
        })?;
        Ok(SlackStandInHandle { running })
    }
}

impl SlackStandInHandle {
    pub fn addr(&self) -> SocketAddr {
        self.running.addr()
    }

    /// What a connection's `base_url` is for the Web API: `http://addr/api`.
    pub fn api_base_url(&self) -> String {
        format!("http://{}/api", self.addr())
    }

    /// The incoming webhook's full URL.
    pub fn webhook_url(&self) -> String {
        format!("http://{}{}", self.addr(), self.config().webhook_path)
    }

    /// A connection to the Web API with the bot token (`base_url` is
    /// [`Self::api_base_url`]; the stand-in is on loopback, hence
    /// `allow_private`). The token is inline: a development-only secret.
    pub fn web_api_connection(&self) -> ConnectionConfig {
        bearer_connection(
            self.api_base_url(),
            &self.config().bot_token,
            "Slack Web API (sandbox stand-in)",
        )
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
        &self.running.api().config
    }

    /// Every request so far, accepted or not (the latest 10 000 at most).
    pub fn requests(&self) -> Vec<SlackRequest> {
        self.slack_requests(|_| true)
    }

    /// The messages Slack would have posted.
    pub fn posted(&self) -> Vec<SlackRequest> {
        self.slack_requests(accepted)
    }

    /// Wait until at least `n` messages were posted; returns them.
    pub async fn wait_for(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<SlackRequest>, WaitTimeout> {
        self.running
            .wait_for_noted(n, timeout, "slack messages", accepted)
            .await?;
        Ok(self.posted())
    }

    fn slack_requests(&self, which: impl Fn(&Noted<Outcome>) -> bool) -> Vec<SlackRequest> {
        self.running
            .noted()
            .into_iter()
            .filter(|noted| which(noted))
            .map(|(request, outcome)| self.config().request(request, outcome.unwrap_or_default()))
            .collect()
    }
}

fn accepted((_, outcome): &Noted<Outcome>) -> bool {
    outcome.as_ref().is_some_and(|o| o.accepted)
}

/// What Slack made of a request, noted beside the shared record.
#[derive(Clone, Debug, Default)]
struct Outcome {
    accepted: bool,
    /// `ok`, or Slack's error code.
    code: String,
    channel: Option<String>,
}

impl SlackConfig {
    fn kind(&self, path: &str) -> SlackRequestKind {
        if path == "/api/chat.postMessage" {
            SlackRequestKind::PostMessage
        } else if path == self.webhook_path {
            SlackRequestKind::Webhook
        } else {
            SlackRequestKind::Other
        }
    }

    fn request(&self, request: StandInRequest, outcome: Outcome) -> SlackRequest {
        let path = path(&request).to_owned();
        SlackRequest {
            kind: self.kind(&path),
            method: request.method,
            path,
            headers: request.headers,
            body: request.body,
            json: request.json,
            accepted: outcome.accepted,
            outcome: outcome.code,
            channel: outcome.channel,
        }
    }
}

/// The request's path, without its query.
fn path(request: &StandInRequest) -> &str {
    request
        .target
        .split_once('?')
        .map_or(request.target.as_str(), |(path, _)| path)
}

struct Slack {
    config: SlackConfig,
    ts: AtomicU64,
}

impl Api for Slack {
    const WHAT: &'static str = "slack requests";
    type Note = Outcome;

    fn token(&self) -> Option<&str> {
        None
    }

    /// Not asked for (no [`Api::token`]): the Web API's own refusal is
    /// `not_authed` or `invalid_auth` from [`Slack::post_message`].
    fn unauthorized(&self) -> Reply {
        refused(text_response(StatusCode::UNAUTHORIZED, "not_authed"), "not_authed")
    }

    fn error(&self, status: StatusCode) -> Reply {
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "request_too_large",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::REQUEST_TIMEOUT => "request_timeout",
            _ => "internal_error",
        };
        refused(text_response(status, code), code)
    }

    fn route(&self, route: &Route<'_>) -> Reply {
        let request = route.request;
        let path = path(request);
        match self.config.kind(path) {
            SlackRequestKind::PostMessage => self.post_message(request),
            SlackRequestKind::Webhook => self.webhook(request),
            SlackRequestKind::Other if path.starts_with("/services/") => {
                refused(text_response(StatusCode::NOT_FOUND, "no_service"), "no_service")
            }
            SlackRequestKind::Other if path.starts_with("/api/") => api_error("unknown_method"),
            SlackRequestKind::Other => self.error(StatusCode::NOT_FOUND),
        }
    }
}

fn text_response(status: StatusCode, text: &'static str) -> Reply {
    Response::builder()
        .status(status)
        .header("content-type", "text/html")
        .body(Full::new(Bytes::from_static(text.as_bytes())))
        .expect("static response")
}

/// `reply`, noted as refused with Slack's error `code`.
fn refused(reply: Reply, code: &str) -> Reply {
    with_note(
        reply,
        Outcome {
            accepted: false,
            code: code.to_owned(),
            channel: None,
        },
    )
}

/// The Web API's refusal: `200 {"ok": false, "error": code}`.
fn api_error(code: &str) -> Reply {
    refused(json_reply(StatusCode::OK, &json!({"ok": false, "error": code})), code)
}

/// `reply`, noted as posted to `channel`.
fn posted(reply: Reply, channel: Option<String>) -> Reply {
    with_note(
        reply,
        Outcome {
            accepted: true,
            code: "ok".to_owned(),
            channel,
        },
    )
}

impl Slack {
    fn post_message(&self, request: &StandInRequest) -> Reply {
        if request.method != "POST" {
            return api_error("invalid_request");
        }
        match request
            .header("authorization")
            .and_then(|t| t.strip_prefix("Bearer "))
        {
            None => return api_error("not_authed"),
            Some(t) if t != self.config.bot_token => return api_error("invalid_auth"),
            Some(_) => {}
        }
        let content_type = request
            .header("content-type")
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut media = content_type.split(';').map(str::trim);
        if media.next() != Some("application/json") {
            // The real API takes form posts too; lanyard's cards send JSON, so
            // anything else here is a bug worth seeing.
            return api_error("invalid_form_data");
        }
        let charset = media.any(|p| p.replace(' ', "") == "charset=utf-8");
        let Some(body) = request.json.as_ref() else {
            return api_error("invalid_json");
        };
        let Some(channel) = body.get("channel").and_then(Value::as_str) else {
            return api_error("channel_not_found");
        };
        let wanted = channel.trim_start_matches('#');
        let direct = self.config.members.iter().find(|m| *m == channel).map(|m| format!("D{}", &m[1.min(m.len())..]));
        let Some(channel_id) = direct.or_else(|| {
            self.config
                .channels
                .iter()
                .find(|(name, id)| name == wanted || id == wanted)
                .map(|(_, id)| id.clone())
        }) else {
            return api_error("channel_not_found");
        };
        let text = body.get("text").and_then(Value::as_str);
        let blocks = body.get("blocks");
        if let Some(blocks) = blocks
            && !blocks.as_array().is_some_and(|b| {
                b.iter()
                    .all(|block| block.get("type").is_some_and(Value::is_string))
            })
        {
            return api_error("invalid_blocks");
        }
        if text.is_none_or(str::is_empty) && blocks.is_none() {
            return api_error("no_text");
        }
        if text.is_some_and(|t| t.chars().count() > MAX_TEXT) {
            return api_error("msg_too_long");
        }
        let n = self.ts.fetch_add(1, Ordering::Relaxed);
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
        posted(json_reply(StatusCode::OK, &answer), Some(channel_id))
    }

    fn webhook(&self, request: &StandInRequest) -> Reply {
        let fail = |status: StatusCode, error: &'static str| refused(text_response(status, error), error);
        if request.method != "POST" {
            return fail(StatusCode::METHOD_NOT_ALLOWED, "invalid_request");
        }
        let content_type = request
            .header("content-type")
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.split(';').next().map(str::trim) != Some("application/json") {
            return fail(StatusCode::BAD_REQUEST, "invalid_payload");
        }
        let Some(body) = request.json.as_ref() else {
            return fail(StatusCode::BAD_REQUEST, "invalid_payload");
        };
        let text = body.get("text").and_then(Value::as_str);
        let blocks = body.get("blocks");
        if blocks.is_some_and(|b| !b.is_array()) {
            return fail(StatusCode::BAD_REQUEST, "invalid_blocks");
        }
        if text.is_none_or(str::is_empty) && blocks.is_none() {
            return fail(StatusCode::BAD_REQUEST, "no_text");
        }
        let channel = self
            .config
            .channels
            .iter()
            .find(|(name, _)| *name == self.config.webhook_channel)
            .map(|(_, id)| id.clone());
        posted(text_response(StatusCode::OK, "ok"), channel)
    }
}
