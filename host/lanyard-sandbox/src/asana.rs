//! A stand-in for Asana's API 1.0, the part an offboarding card uses: look a
//! user up, list the tasks assigned to them in a workspace (paged), reassign a
//! task, remove the user from a workspace.
//!
//! Answers with Asana's status codes, its `data` envelope and its
//! `{"errors": [{"message", "help"}]}` bodies; checks the bearer token; refuses
//! what Asana refuses (unknown objects, a `limit` outside 1..=100, a stale or
//! made-up `offset`, `assignee` without `workspace`, a body that is not JSON in
//! `data`). It only takes JSON bodies, although Asana also takes forms:
//! lanyard's cards send JSON, so a form here is a bug worth seeing. Routes
//! Asana has but the stand-in does not are 404 or 405; it must not invent
//! answers for them.

use crate::StartError;
use crate::record::{
    Api, Reply, Route, Running, StandInRequest, bearer_connection, json_reply, lock, no_content,
    recorded_handle,
    with_header,
};
use lanyard_connect::config::ConnectionConfig;
use base64::Engine as _;
use hyper::StatusCode;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use tokio::net::TcpListener;

/// Where every Asana error body points.
const HELP: &str = "For more information on API status codes and how to handle them, read the docs on errors: https://developers.asana.com/docs/errors";
/// Offsets handed out and still honoured; older ones are expired, as
/// Asana's expire.
const LIVE_OFFSETS: usize = 1024;
/// The user the token belongs to, `me` in a path or a parameter. A member of
/// every workspace.
const ME_GID: &str = "1100000000000001";
const ME_NAME: &str = "Lanyard Automation";
const ME_EMAIL: &str = "lanyard-automation@sandbox.example";

/// The domain the stand-in pretends to be.
#[derive(Debug, Clone)]
pub struct AsanaConfig {
    /// The personal access token it accepts as `Authorization: Bearer …`.
    pub token: String,
}

impl Default for AsanaConfig {
    fn default() -> Self {
        AsanaConfig {
            token: "2/1100000000000001/1100000000000002:sandboxsandboxsandbox0000".to_owned(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AsanaWorkspace {
    pub gid: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AsanaUser {
    pub gid: String,
    pub email: String,
    pub name: String,
    /// The gids of the workspaces the user is a member of.
    pub workspaces: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AsanaTask {
    pub gid: String,
    pub name: String,
    /// The workspace's gid.
    pub workspace: String,
    /// The assignee's gid.
    pub assignee: Option<String>,
    pub completed: bool,
}

/// The Asana stand-in. See [`AsanaStandIn::start`].
pub struct AsanaStandIn;

/// A running stand-in. Dropping it stops the server.
pub struct AsanaStandInHandle {
    running: Running<Asana>,
}

impl AsanaStandIn {
    /// Serve on `listener` until the handle is dropped. The domain starts
    /// empty but for the token's own user (`me`): add workspaces, users and
    /// tasks through the handle.
    pub fn start(
        listener: TcpListener,
        config: AsanaConfig,
    ) -> Result<AsanaStandInHandle, StartError> {
        let running = Running::start(listener, |addr| Asana {
            config,
            base_url: base_url(addr),
            data: Mutex::new(Data::default()),
        })?;
        Ok(AsanaStandInHandle { running })
    }
}

fn base_url(addr: SocketAddr) -> String {
    format!("http://{addr}/api/1.0")
}

impl AsanaStandInHandle {
    /// `http://addr/api/1.0`, as `https://app.asana.com/api/1.0`.
    pub fn base_url(&self) -> String {
        base_url(self.addr())
    }

    /// A connection to the stand-in with its token inline (a development-only
    /// secret) and `allow_private`, since it listens on loopback.
    pub fn connection(&self) -> ConnectionConfig {
        bearer_connection(
            self.base_url(),
            &self.running.api().config.token,
            "Asana API (sandbox stand-in)",
        )
    }

    /// Add a workspace, or replace the one with the same gid.
    pub fn add_workspace(&self, workspace: AsanaWorkspace) {
        upsert(&mut self.data().workspaces, workspace, |w| &w.gid);
    }

    /// Add a user, or replace the one with the same gid.
    pub fn add_user(&self, user: AsanaUser) {
        upsert(&mut self.data().users, user, |u| &u.gid);
    }

    /// Add a task, or replace the one with the same gid.
    pub fn add_task(&self, task: AsanaTask) {
        upsert(&mut self.data().tasks, task, |t| &t.gid);
    }

    /// The user with this email (in any case).
    pub fn user(&self, email: &str) -> Option<AsanaUser> {
        self.data()
            .users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
            .cloned()
    }

    /// Every task, by gid.
    pub fn tasks(&self) -> Vec<AsanaTask> {
        let mut tasks = self.data().tasks.clone();
        tasks.sort_by(|a, b| gid_order(&a.gid, &b.gid));
        tasks
    }

    fn data(&self) -> std::sync::MutexGuard<'_, Data> {
        lock(&self.running.api().data)
    }
}

recorded_handle!(
    AsanaStandInHandle,
    fail_next: " with Asana's error body (429 adds `Retry-After: 1`)"
);

fn upsert<T>(items: &mut Vec<T>, item: T, key: impl Fn(&T) -> &String) {
    match items.iter_mut().find(|old| key(old) == key(&item)) {
        Some(old) => *old = item,
        None => items.push(item),
    }
}

/// Gids are decimal numbers: order them as numbers.
fn gid_order(a: &str, b: &str) -> std::cmp::Ordering {
    (a.len(), a).cmp(&(b.len(), b))
}

struct Asana {
    config: AsanaConfig,
    base_url: String,
    data: Mutex<Data>,
}

#[derive(Default)]
struct Data {
    workspaces: Vec<AsanaWorkspace>,
    users: Vec<AsanaUser>,
    tasks: Vec<AsanaTask>,
    /// Live offsets by number: what they continue.
    offsets: BTreeMap<u64, Page>,
    next_offset: u64,
}

/// Where a page ends, for the query it belongs to.
struct Page {
    query: TaskQuery,
    after: String,
}

#[derive(Clone, PartialEq)]
struct TaskQuery {
    assignee: String,
    workspace: String,
    incomplete_only: bool,
}

/// Asana's error body.
fn asana_error(status: StatusCode, message: &str) -> Reply {
    json_reply(
        status,
        &json!({"errors": [{"message": message, "help": HELP}]}),
    )
}

fn bad_request(message: &str) -> Reply {
    asana_error(StatusCode::BAD_REQUEST, message)
}

fn unknown(kind: &str, what: &str) -> Reply {
    asana_error(
        StatusCode::NOT_FOUND,
        &format!("{kind}: Unknown object: {what}"),
    )
}

/// `value` in Asana's `data` envelope.
fn wrapped(value: Value) -> Reply {
    json_reply(StatusCode::OK, &json!({ "data": value }))
}

impl Api for Asana {
    const WHAT: &'static str = "asana requests";
    type Note = ();

    fn token(&self) -> Option<&str> {
        Some(&self.config.token)
    }

    fn unauthorized(&self) -> Reply {
        asana_error(StatusCode::UNAUTHORIZED, "Not Authorized")
    }

    fn error(&self, status: StatusCode) -> Reply {
        match status {
            // Asana's server errors carry a phrase support can look up.
            StatusCode::INTERNAL_SERVER_ERROR => json_reply(
                status,
                &json!({"errors": [{
                    "message": "Server Error",
                    "phrase": "6 sad squid snuggle softly",
                    "help": HELP,
                }]}),
            ),
            StatusCode::TOO_MANY_REQUESTS => asana_error(
                status,
                "You've made too many requests and hit a rate limit. Please retry after the given amount of time.",
            ),
            StatusCode::NOT_FOUND => asana_error(status, "No matching route for request"),
            other => asana_error(status, other.canonical_reason().unwrap_or("Error")),
        }
    }

    fn route(&self, route: &Route<'_>) -> Reply {
        let not_allowed =
            |allow| with_header(self.error(StatusCode::METHOD_NOT_ALLOWED), "allow", allow);
        let method = route.method();
        match route.segments().as_slice() {
            ["api", "1.0", "users", user] => match method {
                "GET" => self.get_user(user),
                _ => not_allowed("GET"),
            },
            ["api", "1.0", "tasks"] => match method {
                "GET" => self.get_tasks(route),
                _ => not_allowed("GET"),
            },
            ["api", "1.0", "tasks", task] => match method {
                "PUT" => self.update_task(task, route.request),
                _ => not_allowed("PUT"),
            },
            ["api", "1.0", "workspaces", workspace, "removeUser"] => match method {
                "POST" => self.remove_user(workspace, route.request),
                _ => not_allowed("POST"),
            },
            _ => self.error(StatusCode::NOT_FOUND),
        }
    }
}

impl Data {
    /// The user a gid, an email (in any case) or `me` names.
    fn user(&self, who: &str) -> Option<AsanaUser> {
        if who == "me" || who == ME_GID || who.eq_ignore_ascii_case(ME_EMAIL) {
            return Some(AsanaUser {
                gid: ME_GID.to_owned(),
                email: ME_EMAIL.to_owned(),
                name: ME_NAME.to_owned(),
                workspaces: self.workspaces.iter().map(|w| w.gid.clone()).collect(),
            });
        }
        self.users
            .iter()
            .find(|u| u.gid == who || u.email.eq_ignore_ascii_case(who))
            .cloned()
    }

    fn workspace(&self, gid: &str) -> Option<&AsanaWorkspace> {
        self.workspaces.iter().find(|w| w.gid == gid)
    }

    fn compact_user(&self, gid: &str) -> Value {
        let name = self.user(gid).map(|u| u.name).unwrap_or_default();
        json!({"gid": gid, "resource_type": "user", "name": name})
    }

    fn full_task(&self, task: &AsanaTask) -> Value {
        let workspace = self.workspace(&task.workspace).map(|w| w.name.as_str());
        json!({
            "gid": task.gid,
            "resource_type": "task",
            "resource_subtype": "default_task",
            "name": task.name,
            "completed": task.completed,
            "assignee": task.assignee.as_deref().map(|a| self.compact_user(a)),
            "workspace": {
                "gid": task.workspace,
                "resource_type": "workspace",
                "name": workspace.unwrap_or_default(),
            },
        })
    }

    /// Remember where a page ended; the token that continues from there.
    fn issue_offset(&mut self, query: TaskQuery, after: String) -> String {
        let n = self.next_offset;
        self.next_offset += 1;
        self.offsets.insert(n, Page { query, after });
        while self.offsets.len() > LIVE_OFFSETS {
            self.offsets.pop_first();
        }
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("sandbox-offset:{n}"))
    }

    fn offset(&self, token: &str) -> Option<&Page> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .ok()?;
        let n = std::str::from_utf8(&raw)
            .ok()?
            .strip_prefix("sandbox-offset:")?
            .parse()
            .ok()?;
        self.offsets.get(&n)
    }
}

impl Asana {
    fn get_user(&self, who: &str) -> Reply {
        let data = lock(&self.data);
        let Some(user) = data.user(who) else {
            return unknown("user", who);
        };
        let workspaces: Vec<Value> = user
            .workspaces
            .iter()
            .filter_map(|gid| data.workspace(gid))
            .map(|w| json!({"gid": w.gid, "name": w.name, "resource_type": "workspace"}))
            .collect();
        wrapped(json!({
            "gid": user.gid,
            "resource_type": "user",
            "name": user.name,
            "email": user.email,
            "photo": null,
            "workspaces": workspaces,
        }))
    }

    fn get_tasks(&self, route: &Route<'_>) -> Reply {
        let (assignee, workspace) = (route.param("assignee"), route.param("workspace"));
        let container = ["project", "tag", "section", "user_task_list"]
            .into_iter()
            .find_map(|p| route.param(p).map(|v| (p, v)));
        let (assignee, workspace) = match (assignee, workspace, container) {
            (Some(a), Some(w), None) => (a, w),
            // The stand-in has no projects, tags, sections or task lists.
            (None, None, Some((kind, gid))) => return unknown(kind, gid),
            _ => {
                return bad_request(
                    "Must specify exactly one of project, tag, section, user task list, or assignee + workspace",
                );
            }
        };
        let limit = match route.param("limit") {
            None => None,
            Some(text) => match text.parse::<usize>() {
                Ok(n @ 1..=100) => Some(n),
                _ => return bad_request("limit: Must be between 1 and 100, inclusive"),
            },
        };
        let mut data = lock(&self.data);
        let Some(assignee) = data.user(assignee).map(|u| u.gid) else {
            return bad_request(&format!("assignee: Not a recognized ID: {assignee}"));
        };
        if data.workspace(workspace).is_none() {
            return unknown("workspace", workspace);
        }
        let query = TaskQuery {
            assignee,
            workspace: workspace.to_owned(),
            // Other dates keep completed tasks: the stand-in does not know
            // when they were completed, so they count as recent.
            incomplete_only: route.param("completed_since") == Some("now"),
        };
        let after = match route.param("offset") {
            None => None,
            Some(token) => match data.offset(token) {
                Some(page) if page.query == query => Some(page.after.clone()),
                _ => return bad_request("offset: Your pagination token is invalid or has expired"),
            },
        };
        let mut tasks: Vec<&AsanaTask> = data
            .tasks
            .iter()
            .filter(|t| t.assignee.as_deref() == Some(query.assignee.as_str()))
            .filter(|t| t.workspace == query.workspace)
            .filter(|t| !(query.incomplete_only && t.completed))
            .filter(|t| {
                after
                    .as_deref()
                    .is_none_or(|a| gid_order(&t.gid, a).is_gt())
            })
            .collect();
        tasks.sort_by(|a, b| gid_order(&a.gid, &b.gid));
        let more = limit.is_some_and(|n| tasks.len() > n);
        tasks.truncate(limit.unwrap_or(usize::MAX));
        let fields = requested_fields(route.param("opt_fields"));
        let page: Vec<Value> = tasks
            .iter()
            .map(|t| compact_task(&data.full_task(t), &fields))
            .collect();
        let mut answer = json!({ "data": page });
        if limit.is_some() {
            // Present only on paginated requests, as in Asana.
            answer["next_page"] = match tasks.last().filter(|_| more) {
                None => Value::Null,
                Some(last) => {
                    let after = last.gid.clone();
                    let token = data.issue_offset(query, after);
                    let path = next_path(&route.query, &token);
                    json!({"offset": token, "uri": format!("{}{path}", self.base_url), "path": path})
                }
            };
        }
        json_reply(StatusCode::OK, &answer)
    }

    fn update_task(&self, gid: &str, request: &StandInRequest) -> Reply {
        let body = match body_data(request) {
            Ok(body) => body,
            Err(refusal) => return bad_request(refusal),
        };
        let mut data = lock(&self.data);
        let Some(i) = data.tasks.iter().position(|t| t.gid == gid) else {
            return unknown("task", gid);
        };
        let mut task = data.tasks[i].clone();
        for (field, value) in &body {
            match (field.as_str(), value) {
                ("assignee", Value::Null) => task.assignee = None,
                ("assignee", Value::String(who)) => match data.user(who) {
                    Some(user) => task.assignee = Some(user.gid),
                    None => return bad_request(&format!("assignee: Not a recognized ID: {who}")),
                },
                ("completed", Value::Bool(done)) => task.completed = *done,
                ("name", Value::String(name)) => task.name = name.clone(),
                ("assignee" | "completed" | "name", other) => {
                    return bad_request(&format!("{field}: Not a valid value: {other}"));
                }
                // The stand-in knows no other field; writing one would
                // silently do nothing here while Asana changes the task.
                _ => return bad_request(&format!("{field}: Unknown property")),
            }
        }
        data.tasks[i] = task;
        let answer = data.full_task(&data.tasks[i]);
        wrapped(answer)
    }

    fn remove_user(&self, workspace: &str, request: &StandInRequest) -> Reply {
        let body = match body_data(request) {
            Ok(body) => body,
            Err(refusal) => return bad_request(refusal),
        };
        let Some(who) = body.get("user") else {
            return bad_request("user: Missing input");
        };
        let Some(who) = who.as_str() else {
            return bad_request(&format!("user: Not a recognized ID: {who}"));
        };
        let mut data = lock(&self.data);
        if data.workspace(workspace).is_none() {
            return unknown("workspace", workspace);
        }
        let Some(gid) = data.user(who).map(|u| u.gid) else {
            return unknown("user", who);
        };
        // The token's own user stays: it is what runs the removal.
        if let Some(user) = data.users.iter_mut().find(|u| u.gid == gid) {
            // Removing someone already gone changes nothing and is no error.
            user.workspaces.retain(|w| w != workspace);
        }
        no_content()
    }
}

/// The object in a write's `data`, or why Asana refuses the body (a 400).
fn body_data(request: &StandInRequest) -> Result<Map<String, Value>, &'static str> {
    let refusal = if !request.is_json() {
        "Content-Type must be application/json for this stand-in"
    } else {
        match request.json.as_ref().map(|json| json.get("data")) {
            None => "Could not parse request data, invalid JSON",
            Some(Some(Value::Object(data))) => return Ok(data.clone()),
            Some(Some(_)) => "data: Value is not an object",
            Some(None) => "data: Missing input",
        }
    };
    Err(refusal)
}

/// The `opt_fields` a task answer can honour.
fn requested_fields(opt_fields: Option<&str>) -> Vec<&str> {
    opt_fields
        .map(|f| f.split(',').map(str::trim).collect())
        .unwrap_or_default()
}

/// A task as a list shows it: compact (`gid`, `name`, `resource_type`), plus
/// any field of the full task that `opt_fields` asks for.
fn compact_task(full: &Value, fields: &[&str]) -> Value {
    let mut out = Map::new();
    for field in ["gid", "name", "resource_type"].iter().chain(fields) {
        if let Some(value) = full.get(*field) {
            out.insert((*field).to_owned(), value.clone());
        }
    }
    Value::Object(out)
}

/// The query again with `offset` set, relative to the API's base URL.
fn next_path(query: &[(String, String)], offset: &str) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in query.iter().filter(|(name, _)| name != "offset") {
        serializer.append_pair(name, value);
    }
    serializer.append_pair("offset", offset);
    format!("/tasks?{}", serializer.finish())
}
