//! Conversions between the WIT bindings and `lanyard-core` types, in one place.

use crate::bindings::lanyard::card::{http, mail, okta, tables, types};
use lanyard_core::caps::{HttpMethod, HttpRequest, HttpResponse, MailMessage, TableQuery, TableRow};
use lanyard_core::okta::{
    ApiResponse, App, AppGroup, AppLink, AppUser, Assignee, Factor, Group, GroupRule, LifecycleOp, LogQuery, User,
    UserPage, UserQuery,
};
use lanyard_core::{CallContext, CardError, ErrorKind, Grant, WriteOutcome};
use serde_json::{Map, Value};

pub fn error_to_wit(e: CardError) -> types::CardError {
    use types::ErrorKind as W;
    let kind = match e.kind {
        ErrorKind::InvalidInput => W::InvalidInput,
        ErrorKind::NotFound => W::NotFound,
        ErrorKind::Denied => W::Denied,
        ErrorKind::Conflict => W::Conflict,
        ErrorKind::RateLimited => W::RateLimited,
        ErrorKind::Unavailable => W::Unavailable,
        ErrorKind::Timeout | ErrorKind::Deadline => W::Timeout,
        _ => W::Internal,
    };
    types::CardError {
        kind,
        message: e.message,
        retryable: e.retryable,
        retry_after_ms: e.retry_after_ms,
    }
}

pub fn error_from_wit(e: types::CardError) -> CardError {
    use types::ErrorKind as W;
    let kind = match e.kind {
        W::InvalidInput => ErrorKind::InvalidInput,
        W::NotFound => ErrorKind::NotFound,
        W::Denied => ErrorKind::Denied,
        W::Conflict => ErrorKind::Conflict,
        W::RateLimited => ErrorKind::RateLimited,
        W::Unavailable => ErrorKind::Unavailable,
        W::Timeout => ErrorKind::Timeout,
        W::Internal => ErrorKind::Internal,
    };
    CardError {
        kind,
        message: e.message,
        retryable: e.retryable,
        retry_after_ms: e.retry_after_ms,
        detail: None,
    }
}

pub fn outcome_to_wit(o: WriteOutcome) -> types::WriteOutcome {
    match o {
        WriteOutcome::Changed => types::WriteOutcome::Changed,
        WriteOutcome::Unchanged => types::WriteOutcome::Unchanged,
    }
}

pub fn grant_from_wit(g: types::Grant) -> Grant {
    match g {
        types::Grant::Okta(s) => Grant::Okta(s),
        types::Grant::HttpHost(h) => Grant::HttpHost(h),
        types::Grant::Connection(c) => Grant::Connection(c),
        types::Grant::Table(t) => Grant::Table(t),
        types::Grant::Mail => Grant::Mail,
    }
}

pub fn context_to_wit(c: &CallContext) -> types::CallContext {
    types::CallContext {
        run_id: c.run_id.clone(),
        flow: c.flow.clone(),
        step: c.step.clone(),
        attempt: c.attempt,
        idempotency_key: c.idempotency_key.clone(),
        dry_run: c.dry_run,
    }
}

fn json_text(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("JSON values serialize")
}

pub fn user_to_wit(u: User) -> okta::User {
    okta::User {
        profile: json_text(&u.profile),
        id: u.id,
        status: u.status,
        created: u.created,
        activated: u.activated,
        status_changed: u.status_changed,
        last_login: u.last_login,
        last_updated: u.last_updated,
        password_changed: u.password_changed,
    }
}

pub fn group_to_wit(g: Group) -> okta::Group {
    okta::Group {
        id: g.id,
        name: g.name,
        description: g.description,
        group_type: g.group_type,
    }
}

pub fn factor_to_wit(f: Factor) -> okta::Factor {
    okta::Factor {
        id: f.id,
        factor_type: f.factor_type,
        provider: f.provider,
        status: f.status,
        created: f.created,
    }
}

pub fn app_link_to_wit(a: AppLink) -> okta::AppLink {
    okta::AppLink {
        id: a.id,
        label: a.label,
        app_name: a.app_name,
        app_instance_id: a.app_instance_id,
        app_assignment_id: a.app_assignment_id,
        link_url: a.link_url,
    }
}

pub fn app_to_wit(a: App) -> okta::App {
    okta::App {
        id: a.id,
        name: a.name,
        label: a.label,
        status: a.status,
        sign_on_mode: a.sign_on_mode,
    }
}

pub fn app_user_to_wit(a: AppUser) -> okta::AppUser {
    okta::AppUser {
        profile: json_text(&a.profile),
        id: a.id,
        scope: a.scope,
        status: a.status,
        user_name: a.user_name,
    }
}

pub fn app_group_to_wit(a: AppGroup) -> okta::AppGroup {
    okta::AppGroup {
        profile: json_text(&a.profile),
        id: a.id,
        priority: a.priority,
    }
}

pub fn assignee_from_wit(a: okta::Assignee) -> Assignee {
    match a {
        okta::Assignee::User(id) => Assignee::User(id),
        okta::Assignee::Group(id) => Assignee::Group(id),
    }
}

pub fn user_page_to_wit(p: UserPage) -> okta::UserPage {
    okta::UserPage {
        users: p.users.into_iter().map(user_to_wit).collect(),
        next: p.next,
    }
}

pub fn group_rule_to_wit(r: GroupRule) -> okta::GroupRule {
    okta::GroupRule {
        id: r.id,
        name: r.name,
        status: r.status,
        expression: r.expression,
        group_ids: r.group_ids,
    }
}

pub fn api_response_to_wit(r: ApiResponse) -> okta::ApiResponse {
    okta::ApiResponse {
        body: json_text(&r.body),
        status: r.status,
        next: r.next,
    }
}

pub fn user_query_from_wit(q: okta::UserQuery) -> UserQuery {
    UserQuery {
        search: q.search,
        filter: q.filter,
        q: q.q,
        limit: q.limit,
    }
}

pub fn log_query_from_wit(q: okta::LogQuery) -> LogQuery {
    LogQuery {
        since: q.since,
        until: q.until,
        filter: q.filter,
        q: q.q,
        limit: q.limit,
    }
}

pub fn lifecycle_from_wit(op: okta::LifecycleOp) -> LifecycleOp {
    match op {
        okta::LifecycleOp::Activate => LifecycleOp::Activate,
        okta::LifecycleOp::Reactivate => LifecycleOp::Reactivate,
        okta::LifecycleOp::Deactivate => LifecycleOp::Deactivate,
        okta::LifecycleOp::Suspend => LifecycleOp::Suspend,
        okta::LifecycleOp::Unsuspend => LifecycleOp::Unsuspend,
        okta::LifecycleOp::Unlock => LifecycleOp::Unlock,
    }
}

/// A JSON object the card passed as text; anything else is the card's mistake.
pub fn object_from_text(what: &str, text: &str) -> Result<Map<String, Value>, CardError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(CardError::invalid_input(format!("{what} must be a JSON object"))),
        Err(e) => Err(CardError::invalid_input(format!("{what} is not JSON: {e}"))),
    }
}

pub fn value_from_text(what: &str, text: &str) -> Result<Value, CardError> {
    serde_json::from_str(text).map_err(|e| CardError::invalid_input(format!("{what} is not JSON: {e}")))
}

pub fn method_from_wit(m: http::Method) -> HttpMethod {
    match m {
        http::Method::Get => HttpMethod::Get,
        http::Method::Head => HttpMethod::Head,
        http::Method::Post => HttpMethod::Post,
        http::Method::Put => HttpMethod::Put,
        http::Method::Patch => HttpMethod::Patch,
        http::Method::Delete => HttpMethod::Delete,
        http::Method::Options => HttpMethod::Options,
    }
}

pub fn request_from_wit(r: http::Request) -> HttpRequest {
    HttpRequest {
        method: method_from_wit(r.method),
        url: r.url,
        headers: r.headers,
        body: r.body,
        connection: r.connection,
        timeout_ms: r.timeout_ms,
    }
}

pub fn response_to_wit(r: HttpResponse) -> http::Response {
    http::Response {
        status: r.status,
        headers: r.headers,
        body: r.body,
    }
}

pub fn table_query_from_wit(q: tables::Query) -> Result<TableQuery, CardError> {
    let equals = q
        .equals
        .into_iter()
        .map(|(field, text)| Ok((field, value_from_text("a find value", &text)?)))
        .collect::<Result<Vec<_>, CardError>>()?;
    Ok(TableQuery {
        key_prefix: q.key_prefix,
        equals,
        limit: q.limit,
    })
}

pub fn row_to_wit(r: TableRow) -> tables::Row {
    tables::Row {
        key: r.key,
        value: json_text(&r.value),
    }
}

pub fn message_from_wit(m: mail::Message) -> MailMessage {
    MailMessage {
        to: m.to,
        cc: m.cc,
        subject: m.subject,
        text: m.text,
        html: m.html,
        reply_to: m.reply_to,
    }
}
