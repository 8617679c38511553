//! Calls the capability its input names and returns what it got, passing any
//! capability error on unchanged. The host tests use it for grants (`denied`),
//! unconfigured capabilities (`unavailable`), dry-run effects, a host call that
//! never returns, log and stdout/stderr capture, the wall clock, and a card's
//! own `card-error` passing through.

use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

#[derive(Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "kebab-case")]
enum In {
    GetUser { id: String },
    ListUsers { search: Option<String> },
    CreateUser { profile: Map<String, Value>, activate: bool },
    UpdateProfile { user: String, changes: Map<String, Value> },
    GetManager { user: String },
    Deactivate { user: String },
    ListUserGroups { user: String },
    FindGroup { name: String },
    AddToGroup { group: String, user: String },
    RemoveFromGroup { group: String, user: String },
    ClearSessions { user: String },
    ListFactors { user: String },
    ListAppLinks { user: String },
    QueryLogs { filter: Option<String> },
    DeleteUser { user: String },
    AssignApp { app: String, user: String },
    CreateGroup { name: String },
    ApiCall { method: String, path: String, body: Option<Value> },
    HttpGet { url: String, connection: Option<String> },
    HttpPost { url: String, connection: Option<String>, body: Value },
    TableGet { table: String, key: String },
    TablePut { table: String, key: String, value: Value },
    TableDelete { table: String, key: String },
    TableFind { table: String, prefix: Option<String> },
    Mail { to: String, subject: String },
    /// `lines` log lines through the log import, each `bytes` long, then the
    /// same on stdout and stderr.
    Log { lines: u32, bytes: usize },
    /// The wall clock, in seconds since the epoch.
    Now,
    /// Return this card error.
    Fail { kind: String, message: String, retryable: bool, retry_after_ms: Option<u64> },
    /// Several operations in order; the outputs as a list.
    Seq { ops: Vec<In> },
}

struct Caps;

fn kind(name: &str) -> ErrorKind {
    match name {
        "invalid-input" => ErrorKind::InvalidInput,
        "not-found" => ErrorKind::NotFound,
        "denied" => ErrorKind::Denied,
        "conflict" => ErrorKind::Conflict,
        "rate-limited" => ErrorKind::RateLimited,
        "unavailable" => ErrorKind::Unavailable,
        "timeout" => ErrorKind::Timeout,
        _ => ErrorKind::Internal,
    }
}

fn outcome(o: WriteOutcome) -> Value {
    match o {
        WriteOutcome::Changed => json!("changed"),
        WriteOutcome::Unchanged => json!("unchanged"),
    }
}

fn run_op(op: In) -> Result<Value, CardError> {
    Ok(match op {
        In::GetUser { id } => serde_json::to_value(okta::get_user(&id)?)?,
        In::ListUsers { search } => {
            let query = match search {
                Some(s) => okta::UserQuery::search(s),
                None => okta::UserQuery::default(),
            };
            serde_json::to_value(okta::list_users(&query)?)?
        }
        In::CreateUser { profile, activate } => serde_json::to_value(okta::create_user(&profile, activate, &[])?)?,
        In::UpdateProfile { user, changes } => {
            let update = okta::update_profile(&user, &changes)?;
            json!({ "outcome": outcome(update.outcome), "user": update.user })
        }
        In::GetManager { user } => serde_json::to_value(okta::get_manager(&user)?)?,
        In::Deactivate { user } => outcome(okta::lifecycle(&user, okta::LifecycleOp::Deactivate)?),
        In::ListUserGroups { user } => serde_json::to_value(okta::list_user_groups(&user)?)?,
        In::FindGroup { name } => serde_json::to_value(okta::find_group(&name)?)?,
        In::AddToGroup { group, user } => outcome(okta::add_to_group(&group, &user)?),
        In::RemoveFromGroup { group, user } => outcome(okta::remove_from_group(&group, &user)?),
        In::ClearSessions { user } => {
            okta::clear_sessions(&user, true)?;
            json!("cleared")
        }
        In::ListFactors { user } => serde_json::to_value(okta::list_factors(&user)?)?,
        In::ListAppLinks { user } => serde_json::to_value(okta::list_app_links(&user)?)?,
        In::QueryLogs { filter } => {
            let query = okta::LogQuery { filter, ..Default::default() };
            Value::Array(okta::query_logs(&query)?)
        }
        In::DeleteUser { user } => outcome(okta::delete_user(&user, false)?),
        In::AssignApp { app, user } => outcome(okta::assign_app(&app, &okta::Assignee::User(user), None)?),
        In::CreateGroup { name } => {
            let created = okta::create_group(&name, None)?;
            json!({ "outcome": outcome(created.outcome), "id": created.value.id })
        }
        In::ApiCall { method, path, body } => {
            let body = body.map(|b| b.to_string());
            let resp = okta::api_call(&okta::ApiRequest { method, path, query: vec![], body })?;
            json!({ "status": resp.status, "body": resp.body, "next": resp.next })
        }
        In::HttpGet { url, connection } => {
            let mut req = http::Request::get(url);
            req.connection = connection;
            let resp = req.send()?;
            json!({ "status": resp.status, "body": resp.text() })
        }
        In::HttpPost { url, connection, body } => {
            let mut req = http::Request::post_json(url, &body)?;
            req.connection = connection;
            let resp = req.send()?;
            json!({ "status": resp.status, "body": resp.text() })
        }
        In::TableGet { table, key } => tables::get::<Value>(&table, &key)?.unwrap_or(Value::Null),
        In::TablePut { table, key, value } => outcome(tables::put(&table, &key, &value)?),
        In::TableDelete { table, key } => outcome(tables::delete(&table, &key)?),
        In::TableFind { table, prefix } => {
            let rows = tables::find::<Value>(&table, &tables::Query { key_prefix: prefix, ..Default::default() })?;
            Value::Array(rows.into_iter().map(|r| json!({ "key": r.key, "value": r.value })).collect())
        }
        In::Mail { to, subject } => json!(mail::send(&mail::Message::new(to, subject, "sent by the caps test card"))?),
        In::Log { lines, bytes } => {
            let line = "l".repeat(bytes);
            for i in 0..lines {
                lanyard_sdk::log::write(
                    lanyard_sdk::log::Level::Info,
                    &line,
                    Some(&json!({ "i": i })),
                );
                println!("{line}");
                eprintln!("{line}");
            }
            json!(lines)
        }
        In::Now => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|e| CardError::internal(e.to_string()))?;
            json!(now.as_secs())
        }
        In::Fail { kind: k, message, retryable, retry_after_ms } => {
            let mut e = CardError::new(kind(&k), message).retryable(retryable);
            e.retry_after_ms = retry_after_ms;
            return Err(e);
        }
        In::Seq { ops } => Value::Array(ops.into_iter().map(run_op).collect::<Result<_, _>>()?),
    })
}

impl Card for Caps {
    const NAME: &'static str = "test.caps";
    const DESCRIPTION: &'static str = "Calls the capability its input names.";
    type Input = In;
    type Output = Value;

    fn grants() -> Vec<Grant> {
        vec![Grant::okta("okta.users.read"), Grant::table("*"), Grant::Mail]
    }

    fn run(_ctx: &Context, input: In) -> Result<Value, CardError> {
        run_op(input)
    }
}

lanyard_sdk::export_card!(Caps);
