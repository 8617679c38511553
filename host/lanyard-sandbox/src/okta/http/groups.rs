//! `/api/v1/groups`: creating, replacing and deleting groups, their members,
//! and group rules, in Okta's shapes.

use serde_json::Value;

use super::{Out, Req, by_id_after, page, parse_limit};
use crate::okta::SandboxOrg;
use crate::okta::state::{ApiError, Ctx};

pub(super) fn create(org: &SandboxOrg, r: &Req, ctx: &Ctx) -> Result<Out, ApiError> {
    let body = r.json()?;
    let id = org.mutate(|s, now| s.create_group(now, ctx, &body), &r.base)?;
    Ok(Out::json(200, org.lock().groups[&id].to_json(&r.base)))
}

pub(super) fn replace(org: &SandboxOrg, r: &Req, ctx: &Ctx, id: &str) -> Result<Out, ApiError> {
    let body = r.json()?;
    org.mutate(|s, now| s.replace_group(now, ctx, id, &body), &r.base)?;
    Ok(Out::json(200, org.lock().group(id)?.to_json(&r.base)))
}

pub(super) fn delete(org: &SandboxOrg, r: &Req, ctx: &Ctx, id: &str) -> Result<Out, ApiError> {
    org.mutate(|s, now| s.delete_group(now, ctx, id), &r.base)?;
    Ok(Out::empty(204))
}

/// `GET /api/v1/groups/{groupId}/users`: the members by id, paged from the
/// `after` cursor (a user id) without a scan before it.
/// Okta's spec gives `limit` a default of 1000 and no maximum; the sandbox
/// takes at most 10,000 a page (as listGroups' documented maximum).
pub(super) fn members(org: &SandboxOrg, r: &Req, id: &str) -> Result<Out, ApiError> {
    let base = r.base.as_str();
    let limit = parse_limit(r, 1000, 1, 10_000)?;
    let s = org.lock();
    s.group(id)?;
    let members = s.members.get(id);
    let users = s
        .users_after(r.q("after"))
        .filter(|u| members.is_some_and(|m| m.contains(&u.id)));
    Ok(page(r, limit, users, |u| u.id.clone(), |u| u.to_json(base)))
}

// ------------------------------------------------------------ group rules

fn rule_out(org: &SandboxOrg, r: &Req, id: &str) -> Result<Out, ApiError> {
    let s = org.lock();
    let expand = r.q("expand") == Some("groupIdToGroupNameMap");
    Ok(Out::json(200, s.rule(id)?.to_json(expand.then_some(&*s))))
}

/// `GET /api/v1/groups/rules`: `search` is a keyword of the rule's name;
/// `limit` 1 to 200 (default 50), `after` a rule id.
pub(super) fn list_rules(org: &SandboxOrg, r: &Req) -> Result<Out, ApiError> {
    let limit = parse_limit(r, 50, 1, 200)?;
    let search = r.q("search").map(str::to_lowercase);
    let expand = r.q("expand") == Some("groupIdToGroupNameMap");
    let s = org.lock();
    let rules = by_id_after(s.rules.iter(), r.q("after"))
        .into_iter()
        .filter(|(_, rule)| {
            search
                .as_ref()
                .is_none_or(|k| rule.name.to_lowercase().contains(k))
        });
    Ok(page(
        r,
        limit,
        rules,
        |(id, _)| id.to_string(),
        |(_, rule)| rule.to_json(expand.then_some(&*s)),
    ))
}

pub(super) fn create_rule(org: &SandboxOrg, r: &Req) -> Result<Out, ApiError> {
    let body = r.json()?;
    let id = org.mutate(|s, now| s.create_rule(now, &body), &r.base)?;
    rule_out(org, r, &id)
}

pub(super) fn get_rule(org: &SandboxOrg, r: &Req, id: &str) -> Result<Out, ApiError> {
    rule_out(org, r, id)
}

pub(super) fn replace_rule(org: &SandboxOrg, r: &Req, id: &str) -> Result<Out, ApiError> {
    let body: Value = r.json()?;
    org.mutate(|s, now| s.replace_rule(now, id, &body), &r.base)?;
    rule_out(org, r, id)
}

/// `DELETE /api/v1/groups/rules/{groupRuleId}` answers 202, as Okta's spec.
pub(super) fn delete_rule(org: &SandboxOrg, r: &Req, ctx: &Ctx, id: &str) -> Result<Out, ApiError> {
    let remove_users = r.q("removeUsers") == Some("true");
    org.mutate(|s, now| s.delete_rule(now, ctx, id, remove_users), &r.base)?;
    Ok(Out::empty(202))
}

pub(super) fn rule_lifecycle(
    org: &SandboxOrg,
    r: &Req,
    ctx: &Ctx,
    id: &str,
    op: &str,
) -> Result<Out, ApiError> {
    match op {
        "activate" => org.mutate(|s, now| s.activate_rule(now, ctx, id), &r.base)?,
        "deactivate" => org.mutate(|s, now| s.deactivate_rule(now, id), &r.base)?,
        _ => return Err(super::path_not_found()),
    }
    Ok(Out::empty(204))
}
