//! `/api/v1/users`: listing (paged from the cursor, filters and searches as
//! Okta narrows them), deleting, passwords and factors, in Okta's shapes.

use serde_json::{Value, json};

use super::{Out, Req, page, parse_expr_with, parse_limit};
use crate::okta::SandboxOrg;
use crate::okta::filter::{self, Case};
use crate::okta::state::{ApiError, Ctx};

/// `GET /api/v1/users`. Without `search` or `filter`, `DEPROVISIONED` users
/// are left out; `q` is a prefix of first name, last name or email and is not
/// paged (default 10). Users are listed by id; a page resumes after the
/// `after` cursor (the last id of the page before) without a scan, and only
/// the page is rendered: listing 50,000 users 200 at a time reads each once.
pub(super) fn list(org: &SandboxOrg, r: &Req) -> Result<Out, ApiError> {
    let base = r.base.as_str();
    // Okta's spec does not make `search`, `filter` and `q` exclusive (nor
    // documents a 400 for listUsers): given more than one, `search` wins,
    // then `filter`.
    if let (None, None, Some(q)) = (r.q("search"), r.q("filter"), r.q("q")) {
        // No pagination for `q`, as Okta; default 10.
        let limit = parse_limit(r, 10, 1, 200)?;
        let q = q.to_lowercase();
        let s = org.lock();
        let found: Vec<Value> = s
            .users
            .values()
            .filter(|u| u.status != "DEPROVISIONED")
            .filter(|u| {
                ["firstName", "lastName", "email"].iter().any(|k| {
                    u.profile
                        .get(*k)
                        .and_then(Value::as_str)
                        .is_some_and(|v| v.to_lowercase().starts_with(&q))
                })
            })
            .take(limit)
            .map(|u| u.to_json(base))
            .collect();
        return Ok(Out::json(200, Value::Array(found)));
    }
    let limit = parse_limit(r, 200, 1, 200)?;
    let (expr, case) = match (r.q("search"), r.q("filter")) {
        (Some(e), _) => (
            Some(parse_expr_with("search", e, filter::check_user_search)?),
            Case::Insensitive,
        ),
        (_, Some(e)) => (
            Some(parse_expr_with("filter", e, filter::check_user_filter)?),
            Case::Sensitive,
        ),
        _ => (None, Case::Insensitive),
    };
    let s = org.lock();
    let users = s.users_after(r.q("after")).filter(|u| match &expr {
        None => u.status != "DEPROVISIONED",
        Some(e) => e.matches_case(&u.to_json(base), case),
    });
    Ok(page(r, limit, users, |u| u.id.clone(), |u| u.to_json(base)))
}

/// `DELETE /api/v1/users/{id}`: deactivates, then deletes.
pub(super) fn delete(org: &SandboxOrg, r: &Req, ctx: &Ctx, id: &str) -> Result<Out, ApiError> {
    org.mutate(|s, now| s.delete_user(now, ctx, id), &r.base)?;
    Ok(Out::empty(204))
}

/// `POST /api/v1/users/{id}/lifecycle/expire_password` answers the user.
/// `tempPassword=true` is Okta's older form of
/// `expire_password_with_temp_password` and answers as it does.
pub(super) fn expire_password(
    org: &SandboxOrg,
    r: &Req,
    ctx: &Ctx,
    id: &str,
    with_temp: bool,
) -> Result<Out, ApiError> {
    let temp = with_temp || r.q("tempPassword") == Some("true");
    let revoke = r.q("revokeSessions") == Some("true");
    let password = org.mutate(
        |s, now| s.expire_password(now, ctx, id, temp, revoke),
        &r.base,
    )?;
    if let Some(p) = password {
        return Ok(Out::json(200, json!({"tempPassword": p})));
    }
    let s = org.lock();
    Ok(Out::json(200, s.user(id)?.to_json(&r.base)))
}

/// `POST /api/v1/users/{id}/lifecycle/reset_password`: `{"resetPasswordUrl"}`
/// with `sendEmail=false`; `{}` when Okta emails the link (the default).
pub(super) fn reset_password(
    org: &SandboxOrg,
    r: &Req,
    ctx: &Ctx,
    id: &str,
) -> Result<Out, ApiError> {
    let send_email = r.q("sendEmail") != Some("false");
    let revoke = r.q("revokeSessions") == Some("true");
    let token = org.mutate(|s, now| s.reset_password(now, ctx, id, revoke), &r.base)?;
    if send_email {
        return Ok(Out::json(200, json!({})));
    }
    Ok(Out::json(
        200,
        json!({"resetPasswordUrl": format!("{}/signin/reset-password/{token}", r.base)}),
    ))
}

/// `POST /api/v1/users/{id}/lifecycle/reset_factors`: 200 with no body.
pub(super) fn reset_factors(
    org: &SandboxOrg,
    r: &Req,
    ctx: &Ctx,
    id: &str,
) -> Result<Out, ApiError> {
    org.mutate(|s, now| s.reset_factors(now, ctx, id), &r.base)?;
    Ok(Out::empty(200))
}

pub(super) fn unenroll_factor(
    org: &SandboxOrg,
    r: &Req,
    ctx: &Ctx,
    user: &str,
    factor: &str,
) -> Result<Out, ApiError> {
    org.mutate(|s, now| s.unenroll_factor(now, ctx, user, factor), &r.base)?;
    Ok(Out::empty(204))
}
