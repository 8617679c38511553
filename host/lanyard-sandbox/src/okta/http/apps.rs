//! `/api/v1/apps`: apps, their users and their groups, in Okta's shapes.

use serde_json::{Map, Value, json};

use super::{Out, Req, by_id_after, page, parse_expr_with, parse_limit};
use crate::okta::SandboxOrg;
use crate::okta::filter::{Expr, Op};
use crate::okta::state::{ApiError, Ctx, OrgState};

/// The properties `GET /api/v1/apps?filter=` takes, with `eq`: Okta's spec
/// names `id`, `status`, `name` (and two this sandbox has no value for,
/// `credentials.signing.kid`, `settings.slo.enabled`); the `expand` parameter's
/// description adds `user.id`, and Okta's apps reference `group.id`.
const APP_FILTER: &[&str] = &[
    "id",
    "status",
    "name",
    "user.id",
    "group.id",
    "credentials.signing.kid",
    "settings.slo.enabled",
];

fn check_app_filter(e: &Expr) -> Result<(), String> {
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => {
            check_app_filter(a)?;
            check_app_filter(b)
        }
        Expr::Cmp {
            attr, op: Op::Eq, ..
        } if APP_FILTER.contains(&attr.as_str()) => Ok(()),
        Expr::Cmp {
            attr, op: Op::Eq, ..
        } => Err(format!(
            "`{attr}` cannot be filtered on: an app filter supports only {}",
            APP_FILTER.join(", ")
        )),
        Expr::Cmp { attr, .. } | Expr::Present(attr) => {
            Err(format!("`{attr}`: an app filter supports only `eq`"))
        }
        Expr::Not(_) => Err("the `not` operator is not supported in a filter".into()),
    }
}

fn app_matches(s: &OrgState, app: &crate::okta::apps::AppRec, e: &Expr) -> bool {
    match e {
        Expr::And(a, b) => app_matches(s, app, a) && app_matches(s, app, b),
        Expr::Or(a, b) => app_matches(s, app, a) || app_matches(s, app, b),
        Expr::Cmp { attr, value, .. } => {
            let want = value.as_str().unwrap_or_default();
            match attr.as_str() {
                "id" => app.id == want,
                "status" => app.status == want,
                "name" => app.name == want,
                "user.id" => s
                    .user_id(want)
                    .is_ok_and(|u| s.app_scope(app, &u).is_some()),
                "group.id" => app.groups.contains_key(want),
                _ => false,
            }
        }
        Expr::Present(_) | Expr::Not(_) => false,
    }
}

/// `GET /api/v1/apps`: `q` (a prefix of name or label), `filter`, paged by
/// `limit` (at most 200) and the `after` cursor (an app id).
pub(super) fn list(org: &SandboxOrg, r: &Req) -> Result<Out, ApiError> {
    let base = r.base.as_str();
    let limit = parse_limit(r, 200, 1, 200)?;
    let filter = r
        .q("filter")
        .map(|f| parse_expr_with("filter", f, check_app_filter))
        .transpose()?;
    let q = r.q("q").map(str::to_lowercase);
    let s = org.lock();
    let include_inactive = r.q("includeNonDeleted") == Some("true") || filter.is_some();
    let apps = by_id_after(s.apps.iter(), r.q("after"))
        .into_iter()
        .map(|(_, a)| a)
        .filter(|a| include_inactive || a.status == "ACTIVE")
        .filter(|a| {
            q.as_ref().is_none_or(|q| {
                a.name.to_lowercase().starts_with(q) || a.label.to_lowercase().starts_with(q)
            })
        })
        .filter(|a| filter.as_ref().is_none_or(|f| app_matches(&s, a, f)));
    let expand_user = r.q("expand").and_then(|e| e.strip_prefix("user/"));
    Ok(page(
        r,
        limit,
        apps,
        |a| a.id.clone(),
        |a| {
            let mut v = a.to_json(base);
            if let Some(u) = expand_user
                && let Some(au) = s.app_user_json(a, u, base)
            {
                v["_embedded"] = json!({"user": au});
            }
            v
        },
    ))
}

pub(super) fn get(org: &SandboxOrg, r: &Req, app_id: &str) -> Result<Out, ApiError> {
    let s = org.lock();
    let app = s.app(app_id)?;
    let mut v = app.to_json(&r.base);
    if let Some(u) = r.q("expand").and_then(|e| e.strip_prefix("user/"))
        && let Some(au) = s.app_user_json(app, u, &r.base)
    {
        v["_embedded"] = json!({"user": au});
    }
    Ok(Out::json(200, v))
}

fn app_user_out(org: &SandboxOrg, r: &Req, app_id: &str, user_id: &str) -> Result<Out, ApiError> {
    let s = org.lock();
    let app = s.app(app_id)?;
    let mut v = s
        .app_user_json(app, user_id, &r.base)
        .ok_or_else(|| ApiError::not_found(user_id, "AppUser"))?;
    if r.q("expand") == Some("user") {
        v["_embedded"] = json!({"user": s.users[user_id].to_json(&r.base)});
    }
    Ok(Out::json(200, v))
}

/// `GET /api/v1/apps/{appId}/users`: the users who have the app, directly or
/// through a group, by id; `q` is a prefix of the app user name,
/// first name, last name or email.
pub(super) fn list_users(org: &SandboxOrg, r: &Req, app_id: &str) -> Result<Out, ApiError> {
    let base = r.base.as_str();
    let limit = parse_limit(r, 50, 1, 500)?;
    let q = r.q("q").map(str::to_lowercase);
    let s = org.lock();
    let app = s.app(app_id)?;
    let expand = r.q("expand") == Some("user");
    let users = s.app_users_after(app, r.q("after")).filter(|u| {
        q.as_ref().is_none_or(|q| {
            let user = &s.users[*u];
            let user_name = app
                .users
                .get(*u)
                .and_then(|r| r.user_name.as_deref())
                .unwrap_or(user.login());
            std::iter::once(user_name)
                .chain(
                    ["firstName", "lastName", "email"]
                        .iter()
                        .filter_map(|k| user.profile.get(*k).and_then(Value::as_str)),
                )
                .any(|v| v.to_lowercase().starts_with(q))
        })
    });
    Ok(page(
        r,
        limit,
        users,
        |u| u.to_string(),
        |u| {
            let mut v = s.app_user_json(app, u, base).unwrap_or(Value::Null);
            if expand {
                v["_embedded"] = json!({"user": s.users[u].to_json(base)});
            }
            v
        },
    ))
}

/// What an app user body may change: its user name and its profile.
type AppUserChange = (Option<String>, Option<Map<String, Value>>);

/// The `credentials.userName` and `profile` of an app user body.
fn app_user_body(body: &Value) -> Result<AppUserChange, ApiError> {
    let user_name = match body.pointer("/credentials/userName") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) if !n.trim().is_empty() && n.chars().count() <= 100 => {
            Some(n.clone())
        }
        Some(_) => {
            return Err(ApiError::validation(
                "appUser",
                "credentials.userName: must be a user name of 1 to 100 characters",
            ));
        }
    };
    let profile = match body.get("profile") {
        None | Some(Value::Null) => None,
        Some(Value::Object(p)) => Some(p.clone()),
        Some(_) => {
            return Err(ApiError::validation(
                "appUser",
                "profile: must be an object",
            ));
        }
    };
    Ok((user_name, profile))
}

/// `POST /api/v1/apps/{appId}/users`: assign a user (`id`, optional `scope`
/// `USER`, `credentials.userName`, `profile`).
pub(super) fn assign_user(
    org: &SandboxOrg,
    r: &Req,
    ctx: &Ctx,
    app_id: &str,
) -> Result<Out, ApiError> {
    let body = r.json()?;
    org.lock().app(app_id)?;
    let Some(user_id) = body
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return Err(ApiError::validation(
            "appUser",
            "id: The field cannot be left blank",
        ));
    };
    match body.get("scope") {
        None | Some(Value::Null) => {}
        Some(s) if s == "USER" || s == "GROUP" => {}
        Some(_) => {
            return Err(ApiError::validation(
                "appUser",
                "scope: must be USER or GROUP",
            ));
        }
    }
    let (user_name, profile) = app_user_body(&body)?;
    let user_id = user_id.to_string();
    let uid = org.mutate(
        |s, now| s.assign_app_user(now, ctx, app_id, &user_id, user_name, profile),
        &r.base,
    )?;
    app_user_out(org, r, app_id, &uid)
}

pub(super) fn get_user(
    org: &SandboxOrg,
    r: &Req,
    app_id: &str,
    user_id: &str,
) -> Result<Out, ApiError> {
    let uid = {
        let s = org.lock();
        s.app(app_id)?;
        s.user_id(user_id)?
    };
    app_user_out(org, r, app_id, &uid)
}

/// `POST /api/v1/apps/{appId}/users/{userId}`: the body is either
/// `{credentials}` or `{profile}` (Okta's `AppUserUpdateRequest`).
pub(super) fn update_user(
    org: &SandboxOrg,
    r: &Req,
    ctx: &Ctx,
    app_id: &str,
    user_id: &str,
) -> Result<Out, ApiError> {
    let body = r.json()?;
    if !body.is_object() {
        return Err(ApiError::validation(
            "appUser",
            "the body must be {\"credentials\": ...} or {\"profile\": ...}",
        ));
    }
    let (user_name, profile) = app_user_body(&body)?;
    let uid = org.mutate(
        |s, now| s.update_app_user(now, ctx, app_id, user_id, user_name, profile),
        &r.base,
    )?;
    app_user_out(org, r, app_id, &uid)
}

pub(super) fn unassign_user(
    org: &SandboxOrg,
    r: &Req,
    ctx: &Ctx,
    app_id: &str,
    user_id: &str,
) -> Result<Out, ApiError> {
    org.mutate(
        |s, now| s.unassign_app_user(now, ctx, app_id, user_id),
        &r.base,
    )?;
    Ok(Out::empty(204))
}

/// `GET /api/v1/apps/{appId}/groups`: assignments by group id; `q` is a
/// prefix of the group name; `limit` from 20 to 200.
pub(super) fn list_groups(org: &SandboxOrg, r: &Req, app_id: &str) -> Result<Out, ApiError> {
    let base = r.base.as_str();
    let limit = parse_limit(r, 20, 20, 200)?;
    let q = r.q("q").map(str::to_lowercase);
    let s = org.lock();
    let app = s.app(app_id)?;
    let expand_group = r.q("expand") == Some("group");
    let groups = by_id_after(app.groups.iter(), r.q("after"))
        .into_iter()
        .filter(|(g, _)| {
            q.as_ref().is_none_or(|q| {
                s.groups
                    .get(*g)
                    .is_some_and(|g| g.name.to_lowercase().starts_with(q))
            })
        });
    Ok(page(
        r,
        limit,
        groups,
        |(g, _)| (*g).clone(),
        |(g, rec)| {
            let mut v = app.group_json(g, rec, base);
            if expand_group && let Some(group) = s.groups.get(g) {
                v["_embedded"] = json!({"group": group.to_json(base)});
            }
            v
        },
    ))
}

pub(super) fn get_group(
    org: &SandboxOrg,
    r: &Req,
    app_id: &str,
    group_id: &str,
) -> Result<Out, ApiError> {
    let s = org.lock();
    let app = s.app(app_id)?;
    let rec = app
        .groups
        .get(group_id)
        .ok_or_else(|| ApiError::not_found(group_id, "GroupAppAssignment"))?;
    let mut v = app.group_json(group_id, rec, &r.base);
    if r.q("expand") == Some("group")
        && let Some(group) = s.groups.get(group_id)
    {
        v["_embedded"] = json!({"group": group.to_json(&r.base)});
    }
    Ok(Out::json(200, v))
}

/// `PUT /api/v1/apps/{appId}/groups/{groupId}` with an optional body
/// `{priority, profile}`.
pub(super) fn assign_group(
    org: &SandboxOrg,
    r: &Req,
    ctx: &Ctx,
    app_id: &str,
    group_id: &str,
) -> Result<Out, ApiError> {
    let body = r.json()?;
    let priority = match body.get("priority") {
        None | Some(Value::Null) => None,
        Some(p) => Some(
            p.as_i64()
                .filter(|p| (0..=100_000).contains(p))
                .ok_or_else(|| {
                    ApiError::validation(
                        "applicationGroupAssignment",
                        "priority: must be an integer from 0",
                    )
                })?,
        ),
    };
    let profile = match body.get("profile") {
        None | Some(Value::Null) => None,
        Some(Value::Object(p)) => Some(p.clone()),
        Some(_) => {
            return Err(ApiError::validation(
                "applicationGroupAssignment",
                "profile: must be an object",
            ));
        }
    };
    if !(body.is_null() || body.is_object()) {
        return Err(ApiError::validation(
            "applicationGroupAssignment",
            "the body must be an object",
        ));
    }
    org.mutate(
        |s, now| s.assign_app_group(now, ctx, app_id, group_id, priority, profile),
        &r.base,
    )?;
    get_group(org, r, app_id, group_id)
}

pub(super) fn unassign_group(
    org: &SandboxOrg,
    r: &Req,
    ctx: &Ctx,
    app_id: &str,
    group_id: &str,
) -> Result<Out, ApiError> {
    org.mutate(
        |s, now| s.unassign_app_group(now, ctx, app_id, group_id),
        &r.base,
    )?;
    Ok(Out::empty(204))
}
