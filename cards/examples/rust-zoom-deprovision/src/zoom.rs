//! The card's logic: find a leaver's Zoom user by email, then deactivate it
//! (or delete it), through the Zoom connection the flow names.
//!
//! This is `cards/examples/js-zoom/zoom.js` in Rust, and must stay its twin in
//! everything a flow can see: the input it accepts and the messages it refuses
//! with, the requests it sends, the error kinds it maps Zoom's answers to, its
//! log lines and its output. That is why the input is read from JSON by hand
//! (with the JavaScript card's checks and messages) and the schemas are written
//! out as the JavaScript card publishes them rather than derived from types.
//!
//! It talks to the world only through [`Io`] (the host's `http` and `log`
//! imports), so its tests run natively with a fake Zoom. It must not read
//! files, the environment or the clock, and holds no credential: the host
//! injects the connection's OAuth token.

use std::borrow::Cow;

use lanyard_sdk::http::{Method, Request, Response};
use lanyard_sdk::log::Level;
use lanyard_sdk::{CardError, ErrorKind};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub const NAME: &str = "acme.zoom-deprovision";
pub const DESCRIPTION: &str = "Deactivate (default) or delete a leaver's Zoom user, found by email, through the Zoom connection the flow names. Running it again on a user already done changes nothing.";

const MAX_EMAIL: usize = 320;
const HTTP_TIMEOUT_MS: u32 = 15_000;
const MODES: [&str; 2] = ["deactivate", "delete"];
const INPUT_FIELDS: [&str; 4] = ["user", "connection", "mode", "transfer_to"];

/// What the card needs from the world.
pub trait Io {
    fn send(&mut self, request: &Request) -> Result<Response, CardError>;
    fn log(&mut self, level: Level, message: &str, fields: Value);
}

/// The input schema, as `zoom.js` publishes it.
pub fn input_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "zoom-deprovision input",
        "type": "object",
        "required": ["user", "connection"],
        "properties": {
            "user": {
                "description": "The leaver: an Okta user, or just its id and email.",
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": { "type": "string", "minLength": 1 },
                    "email": { "type": "string", "format": "email", "maxLength": MAX_EMAIL },
                    "profile": { "type": "object", "properties": { "email": { "type": "string", "format": "email" } } },
                },
            },
            "connection": {
                "description": "The Zoom connection ops configured, for example `zoom`.",
                "type": "string",
                "minLength": 1,
                "maxLength": 64,
            },
            "mode": {
                "description": "Deactivate the user (keeps their data; default) or delete it.",
                "enum": MODES,
                "default": "deactivate",
            },
            "transfer_to": {
                "description": "With `delete`: the Zoom user who receives the leaver's meetings, webinars and recordings.",
                "type": "string",
                "format": "email",
            },
        },
        "additionalProperties": false,
    })
}

/// The output schema, as `zoom.js` publishes it.
pub fn output_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "zoom-deprovision output",
        "type": "object",
        "required": ["email", "outcome", "status"],
        "properties": {
            "email": { "type": "string" },
            "zoom_user_id": { "type": ["string", "null"] },
            "outcome": { "enum": ["changed", "unchanged"], "description": "`unchanged` when there was nothing to do." },
            "status": { "enum": ["inactive", "deleted", "absent"], "description": "The Zoom user's state afterwards." },
            "previous_status": { "type": ["string", "null"] },
            "planned": { "type": "boolean", "description": "True in a dry run: the write was not sent." },
        },
    })
}

fn schema(value: Value) -> Schema {
    Schema::try_from(value).expect("a schema written as a JSON object")
}

/// The input as the flow sent it, any JSON: [`parse_input`] checks it, with
/// the JavaScript card's messages. `describe` publishes [`input_schema`].
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct RawInput(pub Value);

impl JsonSchema for RawInput {
    fn schema_name() -> Cow<'static, str> {
        "zoom-deprovision input".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schema(input_schema())
    }
}

/// Keep the user and their data (default), or delete them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Deactivate,
    Delete,
}

/// The checked input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct In {
    pub user_id: String,
    pub email: String,
    pub connection: String,
    pub mode: Mode,
    pub transfer_to: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Changed,
    Unchanged,
}

/// The Zoom user's state afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Inactive,
    Deleted,
    Absent,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Inactive => "inactive",
            Status::Deleted => "deleted",
            Status::Absent => "absent",
        }
    }
}

/// The card's output; `describe` publishes [`output_schema`].
#[derive(Debug, Clone, PartialEq)]
pub struct Out {
    pub email: String,
    pub zoom_user_id: Option<String>,
    /// Zoom's `status` of the user before, as Zoom sent it (`null` when absent).
    pub previous_status: Value,
    pub outcome: Outcome,
    pub status: Status,
    /// Only in a dry run that would have written.
    pub planned: bool,
}

/// The fields in the order `zoom.js` writes them, which is not the same for
/// a user it found and one it did not (the host keeps the order, and shows it).
impl Serialize for Out {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let absent = self.status == Status::Absent;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("email", &self.email)?;
        map.serialize_entry("zoom_user_id", &self.zoom_user_id)?;
        if !absent {
            map.serialize_entry("previous_status", &self.previous_status)?;
        }
        map.serialize_entry("outcome", &self.outcome)?;
        map.serialize_entry("status", &self.status)?;
        if absent {
            map.serialize_entry("previous_status", &self.previous_status)?;
        }
        if self.planned {
            map.serialize_entry("planned", &true)?;
        }
        map.end()
    }
}

impl JsonSchema for Out {
    fn schema_name() -> Cow<'static, str> {
        "zoom-deprovision output".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schema(output_schema())
    }
}

fn invalid(message: impl Into<String>) -> CardError {
    CardError::invalid_input(message)
}

/// A string's `length` in JavaScript: UTF-16 code units.
fn js_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// JavaScript's `\s` (WhiteSpace and LineTerminator), which is also what
/// `String.prototype.trim` strips.
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}'
            | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}' | '\u{feff}'
    )
}

/// `zoom.js`'s `isEmail`: a string of at most 320 UTF-16 units matching
/// `^[^@\s"\\/?#%]+@[^@\s"\\/?#%]+$`.
fn as_email(v: Option<&Value>) -> Option<&str> {
    let s = v?.as_str()?;
    let part = |p: &str| !p.is_empty() && !p.chars().any(|c| is_js_space(c) || matches!(c, '@' | '"' | '\\' | '/' | '?' | '#' | '%'));
    let (local, domain) = s.split_once('@')?;
    (js_len(s) <= MAX_EMAIL && part(local) && part(domain)).then_some(s)
}

/// `JSON.stringify(v ?? null)`.
fn shown(v: Option<&Value>) -> String {
    v.map_or_else(|| "null".into(), Value::to_string)
}

/// The validated input, or `invalid-input` naming the field (`parseInput`).
pub fn parse_input(data: &Value) -> Result<In, CardError> {
    let Value::Object(data) = data else {
        return Err(invalid("input must be a JSON object"));
    };
    let mut unknown: Vec<&str> = data.keys().map(String::as_str).filter(|k| !INPUT_FIELDS.contains(k)).collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        return Err(invalid(format!("unknown input field(s): {}", unknown.join(", "))));
    }
    // An array passes JavaScript's `typeof user === 'object'`; it then has no `id`.
    let user = data.get("user").filter(|u| u.is_object() || u.is_array());
    let Some(user) = user else {
        return Err(invalid("`user` must be an object with `id` and `email`"));
    };
    let user_id = match user.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => return Err(invalid("`user.id` must be a non-empty string")),
    };
    // `user.email ?? user.profile?.email`
    let email = user.get("email").filter(|e| !e.is_null()).or_else(|| user.get("profile").and_then(|p| p.get("email")));
    let Some(email) = as_email(email).map(str::to_string) else {
        return Err(invalid(format!(
            "`user.email` (or `user.profile.email`) must be an email address, got {}",
            shown(email)
        )));
    };
    let connection = match data.get("connection").and_then(Value::as_str) {
        Some(c) if (1..=64).contains(&js_len(c)) => c.to_string(),
        _ => return Err(invalid("`connection` must name a connection (1 to 64 characters)")),
    };
    let mode = match data.get("mode").filter(|m| !m.is_null()) {
        None => Mode::Deactivate,
        Some(Value::String(m)) if m == "deactivate" => Mode::Deactivate,
        Some(Value::String(m)) if m == "delete" => Mode::Delete,
        Some(other) => {
            return Err(invalid(format!("`mode` must be one of {}, got {other}", MODES.join(", "))));
        }
    };
    // Present, even as `null`, counts: only absence means "no transfer".
    let transfer_to = match data.get("transfer_to") {
        None => None,
        Some(_) if mode != Mode::Delete => {
            return Err(invalid("`transfer_to` only applies with `mode: delete`"));
        }
        Some(t) => match as_email(Some(t)) {
            Some(t) => Some(t.to_string()),
            None => return Err(invalid("`transfer_to` must be an email address")),
        },
    };
    Ok(In { user_id, email, connection, mode, transfer_to })
}

/// `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )`
/// percent-encoded as UTF-8.
fn encode_uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `URLSearchParams`' serialization (application/x-www-form-urlencoded):
/// `A-Z a-z 0-9 * - . _` as they are, space as `+`, the rest percent-encoded.
fn form_encode(pairs: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            match b {
                b' ' => out.push('+'),
                b if b.is_ascii_alphanumeric() || b"*-._".contains(&b) => out.push(b as char),
                b => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// The body as `new TextDecoder().decode(body)` reads it (a leading BOM dropped).
fn body_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.strip_prefix('\u{feff}').unwrap_or(&text).to_string()
}

/// The first `n` UTF-16 units of `s` (`s.slice(0, n)`), never splitting a character.
fn js_slice(s: &str, n: usize) -> &str {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        units += c.len_utf16();
        if units > n {
            return &s[..i];
        }
    }
    s
}

/// `String(v)` in JavaScript, for what a remote puts in `message` or `error`.
fn js_string(v: &Value) -> String {
    match v {
        Value::Null => String::new(), // only reached inside an array: `String([null])` is ""
        Value::String(s) => s.clone(),
        Value::Object(_) => "[object Object]".into(),
        Value::Array(items) => items.iter().map(js_string).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// `remoteDetail`: a short reason from a Zoom error body, for the flow author.
fn remote_detail(body: &[u8]) -> String {
    let text = body_text(body);
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(doc)) => {
            let field = |k: &str| doc.get(k).filter(|v| !v.is_null());
            let detail = field("message").or_else(|| field("error")).map(js_string).unwrap_or_default();
            js_slice(&detail, 200).to_string()
        }
        // `null.message` throws in JavaScript, which lands in the text branch.
        Ok(Value::Null) | Err(_) => js_slice(&text, 200).trim_matches(is_js_space).to_string(),
        Ok(_) => String::new(),
    }
}

/// `Number(retry-after)` seconds in milliseconds, if it is a finite number ≥ 0.
fn retry_after_ms(response: &Response) -> Option<u64> {
    let text = response.header("retry-after")?.trim_matches(is_js_space);
    let secs: f64 = if text.is_empty() { 0.0 } else { text.parse().ok()? };
    (secs.is_finite() && secs >= 0.0).then(|| (secs * 1000.0).round() as u64)
}

/// `checkStatus`: map a non-2xx Zoom answer to the card-error kind a flow can act on.
pub fn check_status(what: &str, response: &Response) -> Result<(), CardError> {
    let status = response.status;
    if (200..300).contains(&status) {
        return Ok(());
    }
    let detail = remote_detail(&response.body);
    let mut message = format!("{what}: zoom answered {status}");
    if !detail.is_empty() {
        message.push_str(&format!(" ({detail})"));
    }
    let (kind, retryable) = match status {
        404 => (ErrorKind::NotFound, false),
        401 | 403 => {
            message.push_str("; check the connection's scopes (user:write:admin)");
            (ErrorKind::Denied, false)
        }
        409 => (ErrorKind::Conflict, false),
        429 => (ErrorKind::RateLimited, true),
        408 | 504 => (ErrorKind::Timeout, true),
        500.. => (ErrorKind::Unavailable, true),
        400 | 422 => (ErrorKind::InvalidInput, false),
        _ => (ErrorKind::Internal, false),
    };
    let mut e = CardError::new(kind, message).retryable(retryable);
    if kind == ErrorKind::RateLimited {
        e.retry_after_ms = retry_after_ms(response);
    }
    Err(e)
}

/// One request to Zoom: `accept` always, `content-type` with a body, the
/// step's idempotency key on everything but GET.
fn request(inp: &In, idempotency_key: &str, method: Method, url: String, body: Option<Value>) -> Request {
    let mut request = Request::new(method, url).header("accept", "application/json");
    if let Some(body) = body {
        request.body = Some(body.to_string().into_bytes());
        request = request.header("content-type", "application/json");
    }
    if method != Method::Get {
        request = request.header("idempotency-key", idempotency_key);
    }
    request.connection(&inp.connection).timeout_ms(HTTP_TIMEOUT_MS)
}

/// The card's `run`.
pub fn run(io: &mut dyn Io, idempotency_key: &str, dry_run: bool, input: &Value) -> Result<Out, CardError> {
    let inp = parse_input(input)?;
    let email = inp.email.clone();
    let url = format!("/v2/users/{}", encode_uri_component(&email));
    let found = io.send(&request(&inp, idempotency_key, Method::Get, url, None))?;
    if found.status == 404 {
        io.log(Level::Info, &format!("no zoom user for {email}; nothing to do"), json!({ "user": inp.user_id }));
        return Ok(Out {
            email,
            zoom_user_id: None,
            outcome: Outcome::Unchanged,
            status: Status::Absent,
            previous_status: Value::Null,
            planned: false,
        });
    }
    let what = format!("looking up {email}");
    check_status(&what, &found)?;
    let zoom_user: Map<String, Value> = match serde_json::from_str::<Value>(&body_text(&found.body)) {
        Ok(Value::Object(user)) => user,
        Ok(_) => Map::new(),
        Err(_) => return Err(CardError::internal(format!("{what}: zoom answered with something that is not JSON"))),
    };
    let zoom_id = match zoom_user.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => return Err(CardError::internal(format!("{what}: zoom's answer has no user id"))),
    };
    let previous_status = zoom_user.get("status").cloned().unwrap_or(Value::Null);
    let mut out = Out {
        email,
        zoom_user_id: Some(zoom_id.clone()),
        outcome: Outcome::Changed,
        status: Status::Inactive,
        previous_status,
        planned: false,
    };
    let id = encode_uri_component(&zoom_id);

    if inp.mode == Mode::Deactivate && out.previous_status == "inactive" {
        io.log(Level::Info, &format!("zoom user {zoom_id} is already inactive"), json!({ "user": inp.user_id }));
        out.outcome = Outcome::Unchanged;
        return Ok(out);
    }
    out.status = match inp.mode {
        Mode::Deactivate => Status::Inactive,
        Mode::Delete => Status::Deleted,
    };
    if dry_run {
        out.planned = true;
        return Ok(out);
    }

    match inp.mode {
        Mode::Deactivate => {
            let body = json!({ "action": "deactivate" });
            let response = io.send(&request(&inp, idempotency_key, Method::Put, format!("/v2/users/{id}/status"), Some(body)))?;
            check_status(&format!("deactivating {zoom_id}"), &response)?;
        }
        Mode::Delete => {
            let mut query = vec![("action", "delete")];
            if let Some(to) = &inp.transfer_to {
                query.extend([
                    ("transfer_email", to.as_str()),
                    ("transfer_meeting", "true"),
                    ("transfer_webinar", "true"),
                    ("transfer_recording", "true"),
                    ("transfer_whiteboard", "true"),
                ]);
            }
            let url = format!("/v2/users/{id}?{}", form_encode(&query));
            let deleted = io.send(&request(&inp, idempotency_key, Method::Delete, url, None))?;
            // Gone between our lookup and the delete (another run did it): the goal is met.
            if deleted.status != 404 {
                check_status(&format!("deleting {zoom_id}"), &deleted)?;
            }
        }
    }
    io.log(
        Level::Info,
        &format!("zoom user {zoom_id} {}", out.status.as_str()),
        json!({ "user": inp.user_id, "zoom_user": zoom_id }),
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    //! `cards/examples/js-zoom/zoom.test.js`, case for case, against a fake
    //! Zoom API, and a few cases of what the twins must agree on besides.

    use super::*;
    use std::collections::BTreeMap;

    #[derive(Default)]
    struct FakeZoom {
        /// email -> Zoom user
        users: BTreeMap<String, Value>,
        /// The query each deleted user was deleted with, by user id.
        deleted_with: BTreeMap<String, String>,
        fail_with: Option<u16>,
        requests: Vec<Request>,
        logs: Vec<(Level, String, Value)>,
    }

    fn method(m: Method) -> &'static str {
        match m {
            Method::Get => "get",
            Method::Put => "put",
            Method::Delete => "delete",
            _ => "other",
        }
    }

    fn reply(status: u16, body: Option<Value>, headers: &[(&str, &str)]) -> Response {
        let mut all = vec![("content-type".to_string(), "application/json".to_string())];
        all.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Response { status, headers: all, body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default() }
    }

    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    impl FakeZoom {
        fn with(users: &[(&str, &str, &str)]) -> Self {
            let users = users
                .iter()
                .map(|(id, email, status)| (email.to_string(), json!({ "id": id, "email": email, "status": status })))
                .collect();
            FakeZoom { users, ..Default::default() }
        }

        fn status_of(&self, email: &str) -> Option<&str> {
            self.users.get(email).and_then(|u| u["status"].as_str())
        }

        fn run(&mut self, dry_run: bool, input: Value) -> Result<Value, CardError> {
            run(self, "run1/zoom/1", dry_run, &input).map(|out| serde_json::to_value(out).unwrap())
        }
    }

    impl Io for FakeZoom {
        fn send(&mut self, r: &Request) -> Result<Response, CardError> {
            self.requests.push(r.clone());
            if let Some(status) = self.fail_with {
                return Ok(reply(status, Some(json!({"code": 0, "message": "injected"})), &[("Retry-After", "3")]));
            }
            let (path, query) = r.url.split_once('?').unwrap_or((&r.url, ""));
            let Some(rest) = path.strip_prefix("/v2/users/") else {
                return Ok(reply(404, Some(json!({"message": format!("no route {path}")})), &[]));
            };
            let (key, status_route) = match rest.split_once('/') {
                None => (rest, false),
                Some((key, "status")) => (key, true),
                Some(_) => return Ok(reply(404, Some(json!({"message": format!("no route {path}")})), &[])),
            };
            let key = decode(key);
            let Some(email) = self.users.iter().find(|(e, u)| u["id"] == key.as_str() || **e == key).map(|(e, _)| e.clone()) else {
                return Ok(reply(404, Some(json!({"code": 1001, "message": "User does not exist"})), &[]));
            };
            match (method(r.method), status_route) {
                ("get", false) => Ok(reply(200, Some(self.users[&email].clone()), &[])),
                ("put", true) => {
                    let body: Value = serde_json::from_slice(r.body.as_ref().unwrap()).unwrap();
                    let status = if body["action"] == "deactivate" { "inactive" } else { "active" };
                    self.users.get_mut(&email).unwrap()["status"] = json!(status);
                    Ok(reply(204, None, &[]))
                }
                ("delete", false) => {
                    let user = self.users.remove(&email).unwrap();
                    self.deleted_with.insert(user["id"].as_str().unwrap().to_string(), query.to_string());
                    Ok(reply(204, None, &[]))
                }
                _ => Ok(reply(405, Some(json!({"message": "method not allowed"})), &[])),
            }
        }

        fn log(&mut self, level: Level, message: &str, fields: Value) {
            self.logs.push((level, message.to_string(), fields));
        }
    }

    fn input(extra: Value) -> Value {
        let mut v = json!({"user": {"id": "00u1", "email": "ada@example.com"}, "connection": "zoom"});
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    }

    fn ada(status: &str) -> FakeZoom {
        FakeZoom::with(&[("z1", "ada@example.com", status)])
    }

    fn header<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
        r.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn deactivates_an_active_user_through_the_named_connection() {
        let mut zoom = ada("active");
        let out = zoom.run(false, input(json!({}))).unwrap();
        assert_eq!(
            out,
            json!({"email": "ada@example.com", "zoom_user_id": "z1", "previous_status": "active", "outcome": "changed", "status": "inactive"})
        );
        assert_eq!(zoom.status_of("ada@example.com"), Some("inactive"));
        let sent: Vec<String> = zoom
            .requests
            .iter()
            .map(|r| format!("{} {} {}", method(r.method), r.url, r.connection.as_deref().unwrap_or("-")))
            .collect();
        assert_eq!(sent, ["get /v2/users/ada%40example.com zoom", "put /v2/users/z1/status zoom"]);
        assert_eq!(header(&zoom.requests[1], "idempotency-key"), Some("run1/zoom/1"));
        assert_eq!(zoom.requests[1].body.as_deref(), Some(&br#"{"action":"deactivate"}"#[..]));
        assert_eq!(header(&zoom.requests[1], "content-type"), Some("application/json"));
        // The lookup is a GET: no idempotency key, no content-type; every request accepts JSON.
        assert_eq!(zoom.requests[0].headers, [("accept".to_string(), "application/json".to_string())]);
        assert!(zoom.requests.iter().all(|r| r.timeout_ms == Some(HTTP_TIMEOUT_MS)));
        assert!(!zoom.requests.iter().any(|r| r.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("authorization"))));
        let (level, message, fields) = zoom.logs.last().unwrap();
        assert_eq!((*level, message.as_str()), (Level::Info, "zoom user z1 inactive"));
        assert_eq!(fields, &json!({"user": "00u1", "zoom_user": "z1"}));
    }

    #[test]
    fn running_it_again_changes_nothing() {
        let mut zoom = ada("inactive");
        let out = zoom.run(false, input(json!({}))).unwrap();
        assert_eq!(out["outcome"], "unchanged");
        assert_eq!(zoom.requests.len(), 1);
        assert_eq!(zoom.logs.last().unwrap().1, "zoom user z1 is already inactive");
    }

    #[test]
    fn a_leaver_with_no_zoom_user_is_not_an_error() {
        let mut zoom = FakeZoom::default();
        assert_eq!(
            zoom.run(false, input(json!({}))).unwrap(),
            json!({"email": "ada@example.com", "zoom_user_id": null, "outcome": "unchanged", "status": "absent", "previous_status": null})
        );
        assert_eq!(zoom.logs[0].1, "no zoom user for ada@example.com; nothing to do");
    }

    #[test]
    fn delete_transfers_meetings_and_recordings_when_asked() {
        let mut zoom = ada("active");
        let out = zoom.run(false, input(json!({"mode": "delete", "transfer_to": "it@example.com"}))).unwrap();
        assert_eq!(out["status"], "deleted");
        assert!(zoom.users.is_empty());
        // What `URLSearchParams` makes of the same parameters, to the byte.
        assert_eq!(
            zoom.deleted_with["z1"],
            "action=delete&transfer_email=it%40example.com&transfer_meeting=true&transfer_webinar=true&transfer_recording=true&transfer_whiteboard=true"
        );
        assert_eq!(header(&zoom.requests[1], "idempotency-key"), Some("run1/zoom/1"));
        assert_eq!(header(&zoom.requests[1], "content-type"), None);
    }

    #[test]
    fn delete_without_transfer_only_deletes() {
        let mut zoom = ada("inactive");
        let out = zoom.run(false, input(json!({"mode": "delete"}))).unwrap();
        assert_eq!((out["outcome"].as_str(), out["previous_status"].as_str()), (Some("changed"), Some("inactive")));
        assert_eq!(zoom.deleted_with["z1"], "action=delete");
    }

    #[test]
    fn a_user_deleted_meanwhile_is_deleted() {
        // Another run deleted the user between our lookup and our delete.
        struct Gone(FakeZoom);
        impl Io for Gone {
            fn send(&mut self, r: &Request) -> Result<Response, CardError> {
                if r.method == Method::Delete {
                    return Ok(reply(404, Some(json!({"code": 1001, "message": "User does not exist"})), &[]));
                }
                self.0.send(r)
            }
            fn log(&mut self, level: Level, message: &str, fields: Value) {
                self.0.log(level, message, fields);
            }
        }
        let mut zoom = Gone(ada("active"));
        let out = run(&mut zoom, "k", false, &input(json!({"mode": "delete"}))).unwrap();
        assert_eq!((out.outcome, out.status), (Outcome::Changed, Status::Deleted));
    }

    #[test]
    fn a_dry_run_looks_but_does_not_write() {
        let mut zoom = ada("active");
        let out = zoom.run(true, input(json!({}))).unwrap();
        assert_eq!(out["planned"], true);
        assert_eq!(zoom.requests.iter().map(|r| method(r.method)).collect::<Vec<_>>(), ["get"]);
        assert_eq!(zoom.status_of("ada@example.com"), Some("active"));
        let out = ada("active").run(true, input(json!({"mode": "delete"}))).unwrap();
        assert_eq!((out["status"].as_str(), out["planned"].as_bool()), (Some("deleted"), Some(true)));
    }

    #[test]
    fn remote_failures_map_to_card_error_kinds() {
        for (status, kind, retryable, after) in [
            (429, ErrorKind::RateLimited, true, Some(3000)),
            (503, ErrorKind::Unavailable, true, None),
            (500, ErrorKind::Unavailable, true, None),
            (504, ErrorKind::Timeout, true, None),
            (408, ErrorKind::Timeout, true, None),
            (401, ErrorKind::Denied, false, None),
            (403, ErrorKind::Denied, false, None),
            (409, ErrorKind::Conflict, false, None),
            (400, ErrorKind::InvalidInput, false, None),
            (422, ErrorKind::InvalidInput, false, None),
            (418, ErrorKind::Internal, false, None),
        ] {
            let mut zoom = FakeZoom { fail_with: Some(status), ..Default::default() };
            let e = zoom.run(false, input(json!({}))).unwrap_err();
            assert_eq!((e.kind, e.retryable, e.retry_after_ms), (kind, retryable, after), "status {status}");
            assert!(e.message.starts_with(&format!("looking up ada@example.com: zoom answered {status} (injected)")), "{}", e.message);
        }
        let e = FakeZoom { fail_with: Some(401), ..Default::default() }.run(false, input(json!({}))).unwrap_err();
        assert!(e.message.ends_with("; check the connection's scopes (user:write:admin)"), "{}", e.message);
    }

    #[test]
    fn a_missing_user_on_a_write_is_not_found() {
        // The lookup's 404 means "absent"; a 404 on the deactivation is an error.
        let mut zoom = ada("active");
        let e = check_status("deactivating z1", &reply(404, Some(json!({"code": 1001, "message": "User does not exist"})), &[])).unwrap_err();
        assert_eq!((e.kind, e.message.as_str()), (ErrorKind::NotFound, "deactivating z1: zoom answered 404 (User does not exist)"));
        zoom.users.clear();
        assert_eq!(zoom.run(false, input(json!({}))).unwrap()["status"], "absent");
    }

    #[test]
    fn error_details_read_as_zoom_js_reads_them() {
        let detail = |body: &[u8]| remote_detail(body);
        assert_eq!(detail(br#"{"code":300,"message":"Invalid"}"#), "Invalid");
        assert_eq!(detail(br#"{"error":"invalid_token"}"#), "invalid_token");
        assert_eq!(detail(br#"{"message":null,"error":"e"}"#), "e");
        assert_eq!(detail(br#"{"message":{"a":1}}"#), "[object Object]");
        assert_eq!(detail(br#"{"message":[1,"b",null]}"#), "1,b,");
        assert_eq!(detail(b"  <html>bad gateway</html>\n"), "<html>bad gateway</html>");
        assert_eq!(detail(b"null"), "null");
        assert_eq!(detail(b"[1]"), "");
        assert_eq!(detail(b""), "");
        assert_eq!(detail(format!("\u{feff}{}", json!({"message": "x".repeat(300)})).as_bytes()), "x".repeat(200));
        let with_after = |v: &str| reply(429, None, &[("retry-after", v)]);
        assert_eq!(retry_after_ms(&with_after(" 1.5 ")), Some(1500));
        assert_eq!(retry_after_ms(&with_after("")), Some(0));
        assert_eq!(retry_after_ms(&with_after("Wed, 21 Oct 2026 07:28:00 GMT")), None);
        assert_eq!(retry_after_ms(&with_after("-1")), None);
        assert_eq!(retry_after_ms(&reply(429, None, &[])), None);
    }

    #[test]
    fn a_lookup_that_is_not_a_user_is_internal() {
        for (body, needle) in [(&b"<html>"[..], "not JSON"), (&b"{}"[..], "no user id"), (&br#"{"id":""}"#[..], "no user id")] {
            struct Odd(&'static [u8]);
            impl Io for Odd {
                fn send(&mut self, _: &Request) -> Result<Response, CardError> {
                    Ok(Response { status: 200, headers: vec![], body: self.0.to_vec() })
                }
                fn log(&mut self, _: Level, _: &str, _: Value) {}
            }
            let e = run(&mut Odd(body), "k", false, &input(json!({}))).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Internal);
            assert!(e.message.starts_with("looking up ada@example.com: zoom") && e.message.contains(needle), "{}", e.message);
        }
    }

    #[test]
    fn host_errors_pass_through_unchanged() {
        struct Down;
        impl Io for Down {
            fn send(&mut self, _: &Request) -> Result<Response, CardError> {
                Err(CardError::unavailable("connection zoom: no such connection"))
            }
            fn log(&mut self, _: Level, _: &str, _: Value) {}
        }
        let e = run(&mut Down, "k", false, &input(json!({}))).unwrap_err();
        assert_eq!(
            (e.kind, e.message.as_str(), e.retryable, e.retry_after_ms),
            (ErrorKind::Unavailable, "connection zoom: no such connection", true, None)
        );
    }

    #[test]
    fn percent_encodes_the_email_as_encode_uri_component_does() {
        let mut zoom = FakeZoom::with(&[("z 2/x", "ada+zoom@example.com", "active")]);
        let out = zoom.run(false, input(json!({"user": {"id": "00u1", "email": "ada+zoom@example.com"}}))).unwrap();
        assert_eq!(out["outcome"], "changed");
        assert_eq!(zoom.requests[0].url, "/v2/users/ada%2Bzoom%40example.com");
        assert_eq!(zoom.requests[1].url, "/v2/users/z%202%2Fx/status");
        assert_eq!(encode_uri_component("a!*'()~-_.é"), "a!*'()~-_.%C3%A9");
    }

    #[test]
    fn bad_input_names_the_field() {
        for (text, needle) in [
            ("[]", "JSON object"),
            (r#"{"user":{"id":"x","email":"nope"},"connection":"zoom"}"#, "user.email"),
            (r#"{"user":{"email":"a@b.c"},"connection":"zoom"}"#, "user.id"),
            (r#"{"user":{"id":"x","email":"a@b.c"}}"#, "connection"),
            (r#"{"user":{"id":"x","email":"a@b.c"},"connection":"zoom","mode":"nuke"}"#, "mode"),
            (r#"{"user":{"id":"x","email":"a@b.c"},"connection":"zoom","transfer_to":"it@b.c"}"#, "transfer_to"),
            (r#"{"user":{"id":"x","email":"a@b.c"},"connection":"zoom","extra":1}"#, "unknown input field"),
        ] {
            let input: Value = serde_json::from_str(text).unwrap();
            let e = FakeZoom::default().run(false, input).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput, "{text}");
            assert!(e.message.contains(needle), "{text}: {}", e.message);
        }
        // Text that is not JSON never reaches `run`: the SDK refuses it as invalid-input.
        assert!(serde_json::from_str::<RawInput>("not json").is_err());
    }

    #[test]
    fn bad_input_messages_are_zoom_js_messages() {
        let message = |input: Value| parse_input(&input).unwrap_err().message;
        assert_eq!(message(json!({"b": 1, "a": 2, "user": {}})), "unknown input field(s): a, b");
        assert_eq!(message(json!({"user": "ada"})), "`user` must be an object with `id` and `email`");
        assert_eq!(message(json!({"user": []})), "`user.id` must be a non-empty string");
        assert_eq!(
            message(json!({"user": {"id": "1", "email": null, "profile": {"email": "a b@c.d"}}})),
            r#"`user.email` (or `user.profile.email`) must be an email address, got "a b@c.d""#
        );
        assert_eq!(message(json!({"user": {"id": "1", "email": ""}})), r#"`user.email` (or `user.profile.email`) must be an email address, got """#);
        assert_eq!(message(json!({"user": {"id": "1"}})), "`user.email` (or `user.profile.email`) must be an email address, got null");
        let ok = |extra: Value| input(extra);
        assert_eq!(message(ok(json!({"connection": "c".repeat(65)}))), "`connection` must name a connection (1 to 64 characters)");
        assert_eq!(message(ok(json!({"mode": 3}))), "`mode` must be one of deactivate, delete, got 3");
        assert_eq!(message(ok(json!({"mode": "delete", "transfer_to": null}))), "`transfer_to` must be an email address");
        assert_eq!(message(ok(json!({"mode": "delete", "transfer_to": "it@x/y"}))), "`transfer_to` must be an email address");
        let long = format!("{}@example.com", "a".repeat(MAX_EMAIL));
        assert!(message(ok(json!({"user": {"id": "1", "email": long}}))).starts_with("`user.email`"));
        // `mode: null` is the default, as `??` reads it.
        assert_eq!(parse_input(&ok(json!({"mode": null}))).unwrap().mode, Mode::Deactivate);
    }

    #[test]
    fn takes_the_email_from_an_okta_user_profile() {
        let mut zoom = ada("active");
        let out = zoom.run(false, json!({"user": {"id": "00u1", "profile": {"email": "ada@example.com"}}, "connection": "zoom"})).unwrap();
        assert_eq!(out["outcome"], "changed");
    }

    #[test]
    fn schemas_are_objects_that_name_every_input_field() {
        let generated = |s: Schema| serde_json::to_value(s).unwrap();
        let input = generated(schemars::SchemaGenerator::default().into_root_schema_for::<RawInput>());
        let output = generated(schemars::SchemaGenerator::default().into_root_schema_for::<Out>());
        // What `describe` publishes is the schema as written, untouched by schemars.
        assert_eq!((&input, &output), (&input_schema(), &output_schema()));
        assert_eq!(input["type"], "object");
        assert_eq!(output["type"], "object");
        let keys = |v: &Value| {
            let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        assert_eq!(keys(&input["properties"]), ["connection", "mode", "transfer_to", "user"]);
        // Every field the card can answer with is in the output schema.
        let out = ada("active").run(true, self::input(json!({}))).unwrap();
        assert_eq!(keys(&out), keys(&output["properties"]));
    }
}
