//! `slack.post`: post a message to Slack through a connection, either with the
//! Web API (`chat.postMessage`, a bot token held by the connection) or to an
//! incoming webhook (the connection's base URL is the webhook URL).
//!
//! Which one: `mode` if the flow gives it, else `web-api` when there is a
//! `channel` and `webhook` when there is not (an incoming webhook posts to the
//! one channel it was made for). The card never sees the token or the webhook
//! URL; it names the connection and the host injects them.

use builtin_kit::remote::{self, quote};
use builtin_kit::check_text;
use lanyard_sdk::http::{Method, Request, Response};
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Slack cuts messages longer than this.
const MAX_TEXT: usize = 40_000;
/// Slack's limit on blocks in one message.
const MAX_BLOCKS: usize = 50;
const MAX_CHANNEL: usize = 200;
const TIMEOUT_MS: u32 = 15_000;

/// How to reach Slack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum Mode {
    /// `POST chat.postMessage` under the connection's base URL
    /// (`https://slack.com/api`), with the connection's bot token.
    WebApi,
    /// `POST` to the connection's base URL, an incoming-webhook URL.
    Webhook,
}

/// The message, and where it goes.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The Slack connection ops configured, for example `it-slack`.
    connection: String,
    /// Channel id (`C0123456789`) or name (`#it-ops`) for the Web API. Leave it
    /// out for an incoming webhook, which posts to its own channel.
    #[serde(default)]
    channel: Option<String>,
    /// The message text (Slack mrkdwn), also the notification text when
    /// `blocks` are given.
    text: String,
    /// Block Kit blocks, for a richer layout.
    #[serde(default)]
    blocks: Option<Vec<Map<String, Value>>>,
    /// Reply in the thread of this message (`ts` of an earlier post; Web API only).
    #[serde(default)]
    thread_ts: Option<String>,
    /// `web-api` or `webhook`; default: `web-api` with a `channel`, else `webhook`.
    #[serde(default)]
    mode: Option<Mode>,
}

/// Where the message went.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// How it was posted.
    mode: Mode,
    /// The channel id Slack posted to (Web API only).
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<String>,
    /// The message's timestamp, its id in Slack: pass it as `thread_ts` to
    /// reply in its thread (Web API only).
    #[serde(skip_serializing_if = "Option::is_none")]
    ts: Option<String>,
}

/// The card-error kind for one of Slack's error codes (`{"ok": false,
/// "error": code}` from the Web API, or the body of a webhook's refusal).
fn slack_kind(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "invalid_auth" | "not_authed" | "account_inactive" | "token_revoked" | "token_expired"
        | "no_permission" | "missing_scope" | "not_allowed_token_type" | "ekm_access_denied"
        | "access_denied" | "not_in_channel" | "restricted_action" | "restricted_action_read_only_channel"
        | "restricted_action_thread_only_channel" | "restricted_action_non_threadable_channel"
        | "action_prohibited" | "posting_to_general_channel_denied" | "invalid_token" | "team_disabled"
        | "team_access_not_granted" => ErrorKind::Denied,
        "channel_not_found" | "user_not_found" | "no_service" | "no_service_id" | "no_team"
        | "thread_not_found" => ErrorKind::NotFound,
        "is_archived" | "channel_is_archived" => ErrorKind::Conflict,
        "msg_too_long" | "no_text" | "invalid_blocks" | "invalid_blocks_format" | "too_many_attachments"
        | "invalid_arguments" | "invalid_arg_name" | "invalid_array_arg" | "invalid_charset"
        | "invalid_form_data" | "invalid_post_type" | "missing_post_type" | "invalid_json"
        | "json_not_object" | "invalid_payload" | "invalid_metadata_format" | "metadata_too_large"
        | "invalid_thread_ts" => ErrorKind::InvalidInput,
        "ratelimited" | "rate_limited" | "message_limit_exceeded" => ErrorKind::RateLimited,
        "request_timeout" => ErrorKind::Timeout,
        "fatal_error" | "internal_error" | "service_unavailable" | "rollup_error" | "team_added_to_org" => {
            ErrorKind::Unavailable
        }
        _ => return None,
    })
}

fn hint(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Denied => "; check the connection's token and the app's scopes, and that the app is in the channel",
        ErrorKind::NotFound => "; check the channel (or the webhook URL of the connection)",
        _ => "",
    }
}

/// A failed post, from Slack's error code if it sent one, else from the status.
fn post_error(connection: &str, response: &Response, code: Option<&str>) -> CardError {
    let what = format!("posting to Slack through `{connection}`");
    if let Some(code) = code {
        if let Some(kind) = slack_kind(code).or_else(|| (!response.is_success()).then(|| remote::status_kind(response.status))) {
            return remote::error(kind, format!("{what}: Slack answered `{code}`{}", hint(kind)), response);
        }
        return CardError::internal(format!("{what}: Slack answered `{code}`"));
    }
    let mut e = remote::status_error(&what, response);
    e.message.push_str(hint(e.kind));
    e
}

fn web_api(input: &In, channel: &str, dry_run: bool) -> Result<Out, CardError> {
    let mut body = Map::new();
    body.insert("channel".into(), json!(channel));
    body.insert("text".into(), json!(input.text));
    if let Some(blocks) = &input.blocks {
        body.insert("blocks".into(), json!(blocks));
    }
    if let Some(ts) = &input.thread_ts {
        body.insert("thread_ts".into(), json!(ts));
    }
    let response = send(input, "chat.postMessage", &Value::Object(body))?;
    // Slack answers 200 with `ok: false` for most errors, but 429 and 5xx
    // come as statuses (with Retry-After on 429).
    if response.status == 429 || response.status >= 500 {
        return Err(post_error(&input.connection, &response, None));
    }
    // A dry run records the post instead of sending it and answers an empty 200.
    if dry_run && response.status == 200 && response.body.is_empty() {
        return Ok(Out {
            mode: Mode::WebApi,
            channel: None,
            ts: None,
        });
    }
    let answer: Value = match serde_json::from_slice(&response.body) {
        Ok(v) => v,
        Err(_) if !response.is_success() => return Err(post_error(&input.connection, &response, None)),
        Err(_) => {
            return Err(CardError::internal(format!(
                "posting to Slack through `{}`: the answer is not JSON (is the connection's base URL https://slack.com/api?): {}",
                input.connection,
                quote(&response.body)
            )));
        }
    };
    if answer.get("ok") != Some(&Value::Bool(true)) {
        let code = answer.get("error").and_then(Value::as_str).unwrap_or("unknown_error");
        return Err(post_error(&input.connection, &response, Some(code)));
    }
    if let Some(warning) = answer.get("warning").and_then(Value::as_str) {
        lanyard_sdk::warn!("Slack warned: {warning}");
    }
    let text = |k: &str| answer.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(Out {
        mode: Mode::WebApi,
        channel: text("channel"),
        ts: text("ts"),
    })
}

fn webhook(input: &In) -> Result<Out, CardError> {
    let mut body = Map::new();
    body.insert("text".into(), json!(input.text));
    if let Some(blocks) = &input.blocks {
        body.insert("blocks".into(), json!(blocks));
    }
    // An empty URL is the connection's base URL itself: the webhook.
    let response = send(input, "", &Value::Object(body))?;
    if response.is_success() {
        return Ok(Out {
            mode: Mode::Webhook,
            channel: None,
            ts: None,
        });
    }
    // A webhook's refusal is its error code as plain text (`channel_not_found`).
    let text = response.text();
    let code = text.trim();
    let is_code = !code.is_empty() && code.len() <= 64 && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    Err(post_error(&input.connection, &response, is_code.then_some(code)))
}

fn send(input: &In, url: &str, body: &Value) -> Result<Response, CardError> {
    let mut request = Request::new(Method::Post, url)
        .connection(&input.connection)
        .header("content-type", "application/json; charset=utf-8")
        .header("accept", "application/json")
        .timeout_ms(TIMEOUT_MS);
    request.body = Some(serde_json::to_vec(body)?);
    request.send()
}

struct Post;

impl Card for Post {
    const NAME: &'static str = "slack.post";
    const DESCRIPTION: &'static str = "Posts a message to Slack through a connection: with the Web API (chat.postMessage) when a `channel` is given, else to the connection's incoming webhook (`mode` overrides). Output: `mode`, and for the Web API `channel` and `ts`.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        vec![Grant::connection("*")]
    }

    fn run(ctx: &Context, input: In) -> Result<Out, CardError> {
        check_text("connection", &input.connection, 64)?;
        check_text("text", &input.text, MAX_TEXT)?;
        if let Some(blocks) = &input.blocks {
            if blocks.len() > MAX_BLOCKS {
                return Err(CardError::invalid_input(format!(
                    "`blocks` has {} blocks, over Slack's limit of {MAX_BLOCKS}",
                    blocks.len()
                )));
            }
        }
        let channel = match &input.channel {
            Some(c) => {
                check_text("channel", c, MAX_CHANNEL)?;
                Some(c.trim())
            }
            None => None,
        };
        let mode = input.mode.unwrap_or(if channel.is_some() { Mode::WebApi } else { Mode::Webhook });
        match (mode, channel) {
            (Mode::WebApi, Some(channel)) => web_api(&input, channel, ctx.dry_run),
            (Mode::WebApi, None) => Err(CardError::invalid_input(
                "the Web API needs a `channel` (an id like C0123456789 or a name like #it-ops)",
            )),
            (Mode::Webhook, Some(_)) => Err(CardError::invalid_input(
                "an incoming webhook posts to the channel it was made for: leave `channel` out, or use mode `web-api`",
            )),
            (Mode::Webhook, None) => {
                if input.thread_ts.is_some() {
                    return Err(CardError::invalid_input("`thread_ts` needs the Web API (mode `web-api` and a `channel`)"));
                }
                webhook(&input)
            }
        }
    }
}

lanyard_sdk::export_card!(Post);
