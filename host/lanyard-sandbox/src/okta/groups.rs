//! Groups themselves: create, replace the profile, delete (memberships are in
//! `state`). Only `OKTA_GROUP`s are made or changed through the API; Okta
//! manages `BUILT_IN` groups (Everyone) and apps their `APP_GROUP`s. Events:
//! `group.lifecycle.create`, `group.profile.update`, `group.lifecycle.delete`.
//! No I/O here.

use chrono::{DateTime, Utc};
use indexmap::IndexSet;
use serde_json::{Map, Value};

use super::state::{ApiError, ApiResult, Ctx, GroupRec, OrgState};

/// The longest group name Okta takes.
const MAX_NAME: usize = 255;
const MAX_DESCRIPTION: usize = 1024;

impl OrgState {
    /// The `profile` of an addGroup or replaceGroup body, checked against
    /// Okta's group profile (`name`, `description`; no custom attribute is
    /// declared) and the names of the other groups.
    fn group_profile(
        &self,
        body: &Value,
        this: Option<&str>,
    ) -> ApiResult<(String, Option<String>)> {
        let Some(profile) = body.get("profile").and_then(Value::as_object) else {
            return Err(ApiError::validation(
                "profile",
                "profile: The field cannot be left blank",
            ));
        };
        let mut causes = Vec::new();
        let name = match profile.get("name") {
            Some(Value::String(n)) if !n.trim().is_empty() => {
                if n.chars().count() > MAX_NAME {
                    causes.push(format!(
                        "name: The field is too long (at most {MAX_NAME} characters)"
                    ));
                }
                n.clone()
            }
            Some(Value::String(_)) | Some(Value::Null) | None => {
                causes.push("name: The field cannot be left blank".to_string());
                String::new()
            }
            Some(_) => {
                causes.push("name: Does not match required type: expected string".to_string());
                String::new()
            }
        };
        let description = match profile.get("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(d)) => {
                if d.chars().count() > MAX_DESCRIPTION {
                    causes.push(format!(
                        "description: The field is too long (at most {MAX_DESCRIPTION} characters)"
                    ));
                }
                Some(d.clone())
            }
            Some(_) => {
                causes
                    .push("description: Does not match required type: expected string".to_string());
                None
            }
        };
        for key in profile
            .keys()
            .filter(|k| !matches!(k.as_str(), "name" | "description"))
        {
            causes.push(format!(
                "{key}: Property '{key}' is not defined in the group profile schema"
            ));
        }
        if causes.is_empty()
            && self
                .groups
                .values()
                .any(|g| Some(g.id.as_str()) != this && g.name.eq_ignore_ascii_case(&name))
        {
            causes.push(
                "name: An object with this field already exists in the current organization".into(),
            );
        }
        if causes.is_empty() {
            return Ok((name, description));
        }
        let mut e = ApiError::new(400, "E0000001", "Api validation failed: name");
        for c in causes {
            e = e.cause(c);
        }
        Err(e)
    }

    /// `POST /api/v1/groups`: a new `OKTA_GROUP`.
    pub fn create_group(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        body: &Value,
    ) -> ApiResult<String> {
        let (name, description) = self.group_profile(body, None)?;
        let id = self.new_id("00g");
        let group = GroupRec {
            id: id.clone(),
            name,
            description,
            group_type: "OKTA_GROUP".into(),
            created: now,
            last_updated: now,
            last_membership_updated: now,
        };
        let entity = group.entity();
        self.groups.insert(id.clone(), group);
        self.members.insert(id.clone(), IndexSet::new());
        self.emit_by(
            now,
            ctx,
            "group.lifecycle.create",
            "Create okta user group",
            vec![entity],
            Map::new(),
        );
        Ok(id)
    }

    /// `PUT /api/v1/groups/{groupId}`: the whole profile replaced (a missing
    /// description is removed). Only an `OKTA_GROUP`'s profile can change.
    pub fn replace_group(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        id: &str,
        body: &Value,
    ) -> ApiResult<()> {
        let group = self.group(id)?;
        if group.group_type != "OKTA_GROUP" {
            return Err(ApiError::forbidden().cause(format!(
                "Cannot modify the profile of a {} group; only OKTA_GROUP profiles can be changed",
                group.group_type
            )));
        }
        let (name, description) = self.group_profile(body, Some(id))?;
        let group = self.groups.get_mut(id).expect("looked up");
        let changed = group.name != name || group.description != description;
        group.name = name;
        group.description = description;
        group.last_updated = now;
        let entity = group.entity();
        if changed {
            self.emit_by(
                now,
                ctx,
                "group.profile.update",
                "Update group profile",
                vec![entity],
                Map::new(),
            );
        }
        Ok(())
    }

    /// `DELETE /api/v1/groups/{groupId}`: an `OKTA_GROUP` or `APP_GROUP` (as
    /// Okta's spec says), never a `BUILT_IN` one. Its members lose the apps
    /// they had only through it; group rules that assigned to it turn
    /// `INVALID`.
    pub fn delete_group(&mut self, now: DateTime<Utc>, ctx: &Ctx, id: &str) -> ApiResult<()> {
        let group = self.group(id)?;
        if group.group_type == "BUILT_IN" {
            return Err(ApiError::forbidden().cause(format!(
                "{} is a BUILT_IN group, which cannot be deleted",
                group.name
            )));
        }
        let entity = group.entity();
        let assigned: Vec<String> = self
            .apps
            .values()
            .filter(|a| a.groups.contains_key(id))
            .map(|a| a.id.clone())
            .collect();
        for app in assigned {
            self.unassign_app_group(now, ctx, &app, id)?;
        }
        for member in self.members.remove(id).unwrap_or_default() {
            if let Some(gs) = self.user_groups.get_mut(&member) {
                gs.shift_remove(id);
            }
            self.rule_memberships.remove(&(id.to_string(), member));
        }
        for rule in self.rules.values_mut() {
            if rule.group_ids.iter().any(|g| g == id) {
                rule.group_ids.retain(|g| g != id);
                rule.status = "INVALID".into();
                rule.last_updated = now;
            }
        }
        self.groups.shift_remove(id);
        self.emit_by(
            now,
            ctx,
            "group.lifecycle.delete",
            "Delete okta user group",
            vec![entity],
            Map::new(),
        );
        Ok(())
    }
}
