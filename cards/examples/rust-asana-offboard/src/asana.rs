//! The card's logic: hand a leaver's open Asana tasks to someone (usually
//! their manager), then remove them from their workspaces, all through the
//! Asana connection the flow names.
//!
//! It has a twin, `cards/examples/python-asana/asana.py`: both are the card
//! `acme.asana-offboard` 1.0.0 and must agree in everything a flow can see
//! (the input they accept and the messages they refuse it with, the requests,
//! the error kinds and messages, the log lines and the output), so a change
//! here is a change there, tests included. That is why the input is read from
//! JSON by hand, with the Python card's checks and messages, and the schemas
//! are written out as the Python card publishes them rather than derived; and
//! why whitespace is Python's (`str.isspace()`, see [`is_py_space`]).
//!
//! It talks to the world only through [`Io`] (the host's `http` and `log`
//! imports), so its tests run natively with a fake Asana. It must not read
//! files, the environment or the clock, and holds no credential: the host
//! injects the Asana token of the named connection.

use std::borrow::Cow;

use lanyard_sdk::http::{Method, Request, Response};
use lanyard_sdk::log::Level;
use lanyard_sdk::{CardError, ErrorKind};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const NAME: &str = "acme.asana-offboard";
pub const DESCRIPTION: &str = "Take a leaver out of Asana: hand their open tasks to someone (usually their manager) and remove them from their workspaces, through the Asana connection the flow names. Running it again changes nothing.";

/// A leaver with more open tasks than this in one workspace is a data problem
/// worth a look, not something to move one request at a time.
pub const PAGE_SIZE: usize = 100;
pub const MAX_PAGES: usize = 20;
const MAX_EMAIL: usize = 320;
const HTTP_TIMEOUT_MS: u32 = 15_000;
const INPUT_FIELDS: [&str; 4] = ["user", "connection", "workspace", "transfer_to"];
pub const DENIED_HINT: &str =
    "; check the connection's token (a workspace admin's personal access token or service account)";

/// What the card needs from the world.
pub trait Io {
    fn send(&mut self, request: &Request) -> Result<Response, CardError>;
    fn log(&mut self, level: Level, message: &str, fields: Value);
}

/// The input schema, as `asana.py` publishes it.
pub fn input_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "asana-offboard input",
        "type": "object",
        "required": ["user", "connection"],
        "properties": {
            "user": {
                "description": "The leaver: an Okta user (as okta.get-user outputs it), or just its id and email.",
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": { "type": "string", "minLength": 1 },
                    "login": { "type": "string" },
                    "email": { "type": "string", "format": "email", "maxLength": MAX_EMAIL },
                    "profile": { "type": "object", "properties": { "email": { "type": "string", "format": "email" } } },
                },
            },
            "connection": {
                "description": "The Asana connection ops configured (base URL `https://app.asana.com/api/1.0`), for example `asana`.",
                "type": "string",
                "minLength": 1,
                "maxLength": 64,
            },
            "workspace": {
                "description": "Only this Asana workspace, by gid; absent: every workspace of the leaver's that the connection sees.",
                "type": "string",
                "pattern": "^[0-9]{1,32}$",
            },
            "transfer_to": {
                "description": "The email of who receives the leaver's open tasks (usually their manager); absent or null: the tasks are counted, not moved.",
                "type": ["string", "null"],
                "format": "email",
                "maxLength": MAX_EMAIL,
            },
        },
        "additionalProperties": false,
    })
}

/// The output schema, as `asana.py` publishes it.
pub fn output_schema() -> Value {
    let count = |description: Option<&str>| {
        let mut count = json!({ "type": "integer", "minimum": 0 });
        if let Some(d) = description {
            count["description"] = json!(d);
        }
        count
    };
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "asana-offboard output",
        "type": "object",
        "required": ["email", "asana_user_id", "outcome", "status", "transfer_to", "tasks_reassigned", "tasks_left", "workspaces"],
        "properties": {
            "email": { "type": "string" },
            "asana_user_id": { "type": ["string", "null"], "description": "The leaver's Asana user gid; null when Asana has no such user." },
            "outcome": { "enum": ["changed", "unchanged"], "description": "`changed` when a task was moved or a membership removed (in a dry run: would be)." },
            "status": {
                "enum": ["removed", "absent"],
                "description": "`removed`: the leaver is in none of the targeted workspaces any more; `absent`: Asana has no such user.",
            },
            "transfer_to": { "type": ["string", "null"], "description": "Who receives the open tasks, as the input said; null: they were not moved." },
            "tasks_reassigned": count(Some("Open tasks moved to `transfer_to`, in every targeted workspace.")),
            "tasks_left": count(Some("Open tasks left assigned to the leaver in the targeted workspaces.")),
            "workspaces": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["gid", "name", "open_tasks", "reassigned", "removed", "was_member"],
                    "properties": {
                        "gid": { "type": "string" },
                        "name": { "type": "string" },
                        "open_tasks": count(Some("Open tasks assigned to the leaver there before this run.")),
                        "reassigned": count(None),
                        "removed": { "type": "boolean", "description": "This run removed the leaver from the workspace." },
                        "was_member": { "type": "boolean", "description": "The leaver was a member when the run began." },
                    },
                },
            },
            "planned": { "type": "boolean", "description": "True in a dry run: nothing was written; the rest says what would have been." },
        },
    })
}

fn schema(value: Value) -> Schema {
    Schema::try_from(value).expect("a schema written as a JSON object")
}

/// The input as the flow sent it, any JSON: [`check_input`] checks it, with
/// the Python card's messages. `describe` publishes [`input_schema`].
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct RawInput(pub Value);

impl JsonSchema for RawInput {
    fn schema_name() -> Cow<'static, str> {
        "asana-offboard input".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schema(input_schema())
    }
}

/// The checked input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct In {
    pub user_id: String,
    pub email: String,
    pub connection: String,
    /// Only this workspace; none: every one the leaver is in.
    pub workspace: Option<String>,
    /// Who receives the open tasks; none: they are counted, not moved.
    pub transfer_to: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Changed,
    Unchanged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// In none of the targeted workspaces any more.
    Removed,
    /// Asana has no such user.
    Absent,
}

/// What happened in one targeted workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workspace {
    pub gid: String,
    pub name: String,
    pub open_tasks: usize,
    pub reassigned: usize,
    /// This run removed the leaver (in a dry run: would).
    pub removed: bool,
    pub was_member: bool,
}

/// The card's output, its fields in the order `asana.py` writes them;
/// `describe` publishes [`output_schema`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Out {
    pub email: String,
    pub asana_user_id: Option<String>,
    pub outcome: Outcome,
    pub status: Status,
    pub transfer_to: Option<String>,
    pub tasks_reassigned: usize,
    pub tasks_left: usize,
    pub workspaces: Vec<Workspace>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub planned: bool,
}

impl Out {
    fn new(inp: &In, asana_user_id: Option<String>, workspaces: Vec<Workspace>, dry_run: bool) -> Out {
        let reassigned = workspaces.iter().map(|w| w.reassigned).sum();
        let changed = reassigned > 0 || workspaces.iter().any(|w| w.removed);
        Out {
            email: inp.email.clone(),
            status: if asana_user_id.is_some() { Status::Removed } else { Status::Absent },
            asana_user_id,
            outcome: if changed { Outcome::Changed } else { Outcome::Unchanged },
            transfer_to: inp.transfer_to.clone(),
            tasks_reassigned: reassigned,
            tasks_left: workspaces.iter().map(|w| w.open_tasks - w.reassigned).sum(),
            workspaces,
            planned: dry_run,
        }
    }
}

impl JsonSchema for Out {
    fn schema_name() -> Cow<'static, str> {
        "asana-offboard output".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schema(output_schema())
    }
}

fn invalid(message: impl Into<String>) -> CardError {
    CardError::invalid_input(message)
}

/// Python's `str.isspace()`, which is also its regular expressions' `\s` and
/// what `str.strip()` strips: Unicode's White_Space and the four separators
/// U+001C to U+001F.
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// At most 320 characters matching `[^@\s"\\/?#%]+@[^@\s"\\/?#%]+`.
fn as_email(v: Option<&Value>) -> Option<&str> {
    let s = v?.as_str()?;
    let part = |p: &str| !p.is_empty() && !p.chars().any(|c| is_py_space(c) || matches!(c, '@' | '"' | '\\' | '/' | '?' | '#' | '%'));
    let (local, domain) = s.split_once('@')?;
    (s.chars().count() <= MAX_EMAIL && part(local) && part(domain)).then_some(s)
}

/// A value as a message shows it: compact JSON, `null` when absent.
fn shown(v: Option<&Value>) -> String {
    v.map_or_else(|| "null".into(), Value::to_string)
}

/// RFC 3986 percent-encoding of everything but the unreserved characters
/// (Python's `quote(s, safe='')`).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The checks the schema states, with messages that name the field.
pub fn check_input(data: &Value) -> Result<In, CardError> {
    let Value::Object(data) = data else {
        return Err(invalid("input must be a JSON object"));
    };
    let mut unknown: Vec<&str> = data.keys().map(String::as_str).filter(|k| !INPUT_FIELDS.contains(k)).collect();
    if !unknown.is_empty() {
        unknown.sort_unstable();
        return Err(invalid(format!("unknown input field(s): {}", unknown.join(", "))));
    }
    let Some(user) = data.get("user").and_then(Value::as_object) else {
        return Err(invalid("`user` must be an object with `id` and `email`"));
    };
    let user_id = match user.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => return Err(invalid("`user.id` must be a non-empty string")),
    };
    let mut email = user.get("email");
    if email.is_none_or(|e| e.is_null() || e == "") {
        email = user.get("profile").and_then(Value::as_object).and_then(|p| p.get("email"));
    }
    let Some(email) = as_email(email).map(str::to_string) else {
        return Err(invalid(format!(
            "`user.email` (or `user.profile.email`) must be an email address, got {}",
            shown(email)
        )));
    };
    let connection = match data.get("connection").and_then(Value::as_str) {
        Some(c) if (1..=64).contains(&c.chars().count()) => c.to_string(),
        _ => return Err(invalid("`connection` must name a connection (1 to 64 characters)")),
    };
    let workspace = match data.get("workspace") {
        None => None,
        Some(Value::String(w)) if (1..=32).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_digit()) => Some(w.clone()),
        Some(other) => {
            return Err(invalid(format!(
                "`workspace` must be an Asana workspace gid (1 to 32 digits), got {other}"
            )));
        }
    };
    let transfer_to = match data.get("transfer_to").filter(|t| !t.is_null()) {
        None => None,
        Some(t) => match as_email(Some(t)) {
            // ASCII case-insensitive, as Asana matches addresses.
            Some(to) if to.eq_ignore_ascii_case(&email) => {
                return Err(invalid(format!(
                    "`transfer_to` is the leaver's own email ({email}); name someone else, usually their manager"
                )));
            }
            Some(to) => Some(to.to_string()),
            None => return Err(invalid(format!("`transfer_to` must be an email address, got {t}"))),
        },
    };
    Ok(In { user_id, email, connection, workspace, transfer_to })
}

/// Retry-After in delay-seconds (RFC 9110), as milliseconds; none for an HTTP date.
fn retry_after_ms(response: &Response) -> Option<u64> {
    let value = response.header("retry-after")?.trim_matches([' ', '\t']);
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None; // an HTTP date: let the engine's backoff decide
    }
    Some(value.parse::<u64>().map_or(u64::MAX, |secs| secs.saturating_mul(1000)))
}

/// Asana's `errors[0].message`, or the start of a body that is not JSON.
fn remote_detail(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(doc) => doc
            .get("errors")
            .and_then(|e| e.get(0))
            .and_then(|first| first.get("message"))
            .and_then(Value::as_str)
            .map(|m| m.chars().take(200).collect())
            .unwrap_or_default(),
        Err(_) => {
            let start: String = String::from_utf8_lossy(body).chars().take(200).collect();
            start.trim_matches(is_py_space).to_string()
        }
    }
}

/// Map a non-2xx Asana answer to the card-error kind a flow can act on.
pub fn check_status(what: &str, response: &Response) -> Result<(), CardError> {
    let status = response.status;
    if (200..300).contains(&status) {
        return Ok(());
    }
    let detail = remote_detail(&response.body);
    let mut message = format!("{what}: asana answered {status}");
    if !detail.is_empty() {
        message.push_str(&format!(" ({detail})"));
    }
    let (kind, retryable) = match status {
        404 => (ErrorKind::NotFound, false),
        401 | 403 => {
            message.push_str(DENIED_HINT);
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

/// One request through the connection: `accept` always, `content-type` with a body.
fn request(inp: &In, method: Method, url: String, body: Option<Value>) -> Request {
    let mut request = Request::new(method, url).header("accept", "application/json");
    if let Some(body) = body {
        request.body = Some(body.to_string().into_bytes());
        request = request.header("content-type", "application/json");
    }
    request.connection(&inp.connection).timeout_ms(HTTP_TIMEOUT_MS)
}

/// Send one request; the body of a 2xx answer, else the mapped error.
fn call(io: &mut dyn Io, inp: &In, what: &str, method: Method, url: String, body: Option<Value>) -> Result<Vec<u8>, CardError> {
    let response = io.send(&request(inp, method, url, body))?;
    check_status(what, &response)?;
    Ok(response.body)
}

fn not_json(what: &str) -> CardError {
    CardError::internal(format!("{what}: asana answered with something that is not JSON"))
}

/// A non-empty string `gid` of an object.
fn gid_of(v: &Value) -> Option<&str> {
    v.get("gid")?.as_str().filter(|g| !g.is_empty())
}

/// The user's gid and workspaces (gid, name), in Asana's order, from `GET /users/{email}`.
fn asana_user(what: &str, body: &[u8]) -> Result<(String, Vec<(String, String)>), CardError> {
    let doc: Value = serde_json::from_slice(body).map_err(|_| not_json(what))?;
    let user = || -> Option<(String, Vec<(String, String)>)> {
        let user = doc.get("data")?;
        let mut workspaces: Vec<(String, String)> = Vec::new();
        for item in user.get("workspaces")?.as_array()? {
            let name = match item.get("name") {
                None | Some(Value::Null) => "",
                Some(name) => name.as_str()?,
            };
            let gid = gid_of(item)?;
            if !workspaces.iter().any(|(g, _)| g == gid) {
                workspaces.push((gid.to_string(), name.to_string()));
            }
        }
        Some((gid_of(user)?.to_string(), workspaces))
    };
    user().ok_or_else(|| CardError::internal(format!("{what}: asana's answer is not a user with `gid` and `workspaces`")))
}

/// The gids of the leaver's open tasks in one workspace, every page.
fn open_tasks(io: &mut dyn Io, inp: &In, user_gid: &str, workspace: &str) -> Result<Vec<String>, CardError> {
    let what = format!("listing the open tasks of {} in workspace {workspace}", inp.email);
    let first = format!(
        "/tasks?assignee={}&workspace={}&completed_since=now&limit={PAGE_SIZE}&opt_fields=name",
        quote(user_gid),
        quote(workspace)
    );
    let mut url = first.clone();
    let mut tasks = Vec::new();
    for _ in 0..MAX_PAGES {
        let body = call(io, inp, &what, Method::Get, url, None)?;
        let doc: Value = serde_json::from_slice(&body).map_err(|_| not_json(&what))?;
        let page = || -> Option<(Vec<String>, Option<String>)> {
            let gids = doc.get("data")?.as_array()?.iter().map(|t| gid_of(t).map(str::to_string)).collect::<Option<_>>()?;
            let next = match doc.get("next_page") {
                None | Some(Value::Null) => None,
                Some(next) => Some(next.get("offset")?.as_str().filter(|o| !o.is_empty())?.to_string()),
            };
            Some((gids, next))
        };
        let Some((gids, next)) = page() else {
            return Err(CardError::internal(format!(
                "{what}: asana's answer is not a page of tasks (`data`, `next_page`)"
            )));
        };
        tasks.extend::<Vec<String>>(gids);
        match next {
            None => return Ok(tasks),
            Some(offset) => url = format!("{first}&offset={}", quote(&offset)),
        }
    }
    Err(CardError::internal(format!(
        "more than {} open tasks are assigned to {} in workspace {workspace}; refusing to go through them all",
        MAX_PAGES * PAGE_SIZE,
        inp.email
    )))
}

fn label(ws: &Workspace) -> String {
    if ws.name.is_empty() { format!("workspace {}", ws.gid) } else { format!("{} ({})", ws.name, ws.gid) }
}

/// Move the open tasks out of one workspace, then the leaver; fills in `ws`.
fn offboard(io: &mut dyn Io, inp: &In, dry_run: bool, user_gid: &str, ws: &mut Workspace) -> Result<(), CardError> {
    let tasks = open_tasks(io, inp, user_gid, &ws.gid)?;
    ws.open_tasks = tasks.len();
    if let Some(to) = &inp.transfer_to {
        for task in &tasks {
            if !dry_run {
                let body = json!({ "data": { "assignee": to } });
                call(io, inp, &format!("moving task {task} to {to}"), Method::Put, format!("/tasks/{}", quote(task)), Some(body))?;
            }
            ws.reassigned += 1;
        }
    }
    if !dry_run {
        let what = format!("removing {} from workspace {}", inp.email, ws.gid);
        let body = json!({ "data": { "user": user_gid } });
        call(io, inp, &what, Method::Post, format!("/workspaces/{}/removeUser", quote(&ws.gid)), Some(body))?;
    }
    ws.removed = true;

    let left = ws.open_tasks - ws.reassigned;
    let (removed, moved) = if dry_run { ("would remove", "would move") } else { ("removed", "moved") };
    let tasks_said = match &inp.transfer_to {
        None => format!("{left} open task(s) left assigned to them"),
        Some(to) => format!("{moved} {} open task(s) to {to}", ws.reassigned),
    };
    io.log(
        Level::Info,
        &format!("{removed} {} from asana {}; {tasks_said}", inp.email, label(ws)),
        json!({ "user": inp.user_id, "workspace": ws.gid, "reassigned": ws.reassigned, "left": left }),
    );
    Ok(())
}

/// The card's `run`.
pub fn run(io: &mut dyn Io, dry_run: bool, input: &Value) -> Result<Out, CardError> {
    let inp = check_input(input)?;
    let email = &inp.email;
    let what = format!("looking up {email}");
    let url = format!("/users/{}?opt_fields=email,name,workspaces.name", quote(email));
    let found = io.send(&request(&inp, Method::Get, url, None))?;
    if found.status == 404 {
        io.log(Level::Info, &format!("no asana user for {email}; nothing to do"), json!({ "user": inp.user_id }));
        return Ok(Out::new(&inp, None, Vec::new(), dry_run));
    }
    check_status(&what, &found)?;
    let (user_gid, member_of) = asana_user(&what, &found.body)?;

    let targets: Vec<String> = match &inp.workspace {
        Some(only) => vec![only.clone()],
        None => {
            // Numeric order for gids (all digits in Asana), whatever order Asana lists them in.
            let mut all: Vec<String> = member_of.iter().map(|(gid, _)| gid.clone()).collect();
            all.sort_by_cached_key(|gid| (gid.chars().count(), gid.clone()));
            if all.is_empty() {
                io.log(
                    Level::Info,
                    &format!("{email} is in no asana workspace the connection sees; nothing to do"),
                    json!({ "user": inp.user_id }),
                );
            }
            all
        }
    };

    let mut workspaces = Vec::with_capacity(targets.len());
    for gid in targets {
        let listed = member_of.iter().find(|(g, _)| *g == gid);
        let mut ws = Workspace {
            name: listed.map(|(_, name)| name.clone()).unwrap_or_default(),
            open_tasks: 0,
            reassigned: 0,
            removed: false,
            was_member: listed.is_some(),
            gid,
        };
        if ws.was_member {
            offboard(io, &inp, dry_run, &user_gid, &mut ws)?;
        } else {
            io.log(
                Level::Info,
                &format!("{email} is not a member of asana workspace {}; nothing to do", ws.gid),
                json!({ "user": inp.user_id, "workspace": ws.gid }),
            );
        }
        workspaces.push(ws);
    }
    Ok(Out::new(&inp, Some(user_gid), workspaces, dry_run))
}

#[cfg(test)]
mod tests;
