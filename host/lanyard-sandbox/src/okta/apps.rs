//! The org's apps and who has them.
//!
//! A user has an app directly (an app user of scope `USER`, made by
//! assigning the user) or through a group the app is assigned to (scope
//! `GROUP`, as long as the membership lasts). Access through groups is not
//! stored per user: it is read from the memberships, so a membership change
//! changes access at once and an org of 50,000 people holds no 50,000 app
//! users per group-assigned app. What is stored per user is a direct
//! assignment, or the app profile an admin set for a user who has the app
//! through a group.
//!
//! Events, as Okta writes them: `application.user_membership.add` / `.update`
//! / `.remove` whenever a user gains, changes or loses an app (also through a
//! group membership or a group assignment), and
//! `group.application_assignment.add` / `.update` / `.remove` for the groups.
//! No I/O here: the HTTP layer calls in under the org lock.

use chrono::{DateTime, Utc};
use indexmap::IndexMap;
use lanyard_core::event::LogEntity;
use serde_json::{Map, Value, json};

use super::state::{ApiError, ApiResult, Ctx, OrgState, ts};

#[derive(Debug, Clone)]
pub struct AppRec {
    pub id: String,
    /// Okta's app name (`github`, `salesforce`, ...).
    pub name: String,
    pub label: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
    /// Group assignments, in the order made.
    pub groups: IndexMap<String, AppGroupRec>,
    /// Direct assignments, and the app profiles of users who have the app
    /// through a group (`direct: false`).
    pub users: IndexMap<String, AppUserRec>,
}

#[derive(Debug, Clone)]
pub struct AppGroupRec {
    /// 0 is the highest: its profile wins for a user in several groups.
    pub priority: i64,
    pub profile: Map<String, Value>,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct AppUserRec {
    /// Assigned directly (scope `USER`).
    pub direct: bool,
    pub user_name: Option<String>,
    pub profile: Map<String, Value>,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
}

impl AppUserRec {
    /// A new user name and whole profile, where given; whether either changed.
    fn apply(
        &mut self,
        user_name: Option<String>,
        profile: Option<Map<String, Value>>,
        now: DateTime<Utc>,
    ) -> bool {
        let changed =
            set(&mut self.user_name, user_name.map(Some)) | set(&mut self.profile, profile);
        if changed {
            self.last_updated = now;
        }
        changed
    }
}

/// `new` into `slot`, if given and different; whether it changed.
fn set<T: PartialEq>(slot: &mut T, new: Option<T>) -> bool {
    match new {
        Some(v) if *slot != v => {
            *slot = v;
            true
        }
        _ => false,
    }
}

/// How a user has an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    User,
    /// Through this group (the highest-priority one that grants it).
    Group,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::User => "USER",
            Scope::Group => "GROUP",
        }
    }
}

impl AppRec {
    pub fn new(id: String, name: &str, label: &str, created: DateTime<Utc>) -> AppRec {
        AppRec {
            id,
            name: name.to_string(),
            label: label.to_string(),
            status: "ACTIVE".into(),
            created,
            last_updated: created,
            groups: IndexMap::new(),
            users: IndexMap::new(),
        }
    }

    /// The app as `GET /api/v1/apps/{appId}` answers: a SAML 2.0 app, the
    /// sign-on mode of the catalog apps the sandbox stands in for.
    pub fn to_json(&self, base: &str) -> Value {
        let link_name = format!("{}_link", self.name);
        json!({
            "id": self.id,
            "orn": format!("orn:okta:idp:00o1sandboxorg000000:apps:{}:{}", self.name, self.id),
            "name": self.name,
            "label": self.label,
            "status": self.status,
            "created": ts(self.created),
            "lastUpdated": ts(self.last_updated),
            "accessibility": {"selfService": false},
            "visibility": {
                "autoSubmitToolbar": false,
                "hide": {"iOS": false, "web": false},
                "appLinks": {link_name.clone(): true},
            },
            "features": [],
            "signOnMode": "SAML_2_0",
            "credentials": {
                "userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"},
                "signing": {},
            },
            "_links": {
                "self": {"href": format!("{base}/api/v1/apps/{}", self.id)},
                "users": {"href": format!("{base}/api/v1/apps/{}/users", self.id)},
                "groups": {"href": format!("{base}/api/v1/apps/{}/groups", self.id)},
                "appLinks": [{"name": link_name, "href": format!("{base}/home/{}/{}/aln1sandbox", self.name, self.id), "type": "text/html"}],
                "logo": [{"name": "medium", "href": format!("{base}/assets/img/logos/{}.png", self.name), "type": "image/png"}],
                "deactivate": {"href": format!("{base}/api/v1/apps/{}/lifecycle/deactivate", self.id)},
            },
        })
    }

    pub fn entity(&self) -> LogEntity {
        LogEntity {
            id: self.id.clone(),
            entity_type: "AppInstance".into(),
            alternate_id: Some(self.label.clone()),
            display_name: Some(self.label.clone()),
            detail_entry: Some(json!({"signOnModeType": "SAML_2_0"})),
        }
    }

    pub fn group_json(&self, group_id: &str, g: &AppGroupRec, base: &str) -> Value {
        json!({
            "id": group_id,
            "priority": g.priority,
            "lastUpdated": ts(g.last_updated),
            "profile": g.profile,
            "_links": {
                "app": {"href": format!("{base}/api/v1/apps/{}", self.id)},
                "self": {"href": format!("{base}/api/v1/apps/{}/groups/{group_id}", self.id)},
                "group": {"href": format!("{base}/api/v1/groups/{group_id}")},
            },
        })
    }
}

/// An app user's id in events and app links: stable per (user, app), as
/// Okta's assignment ids are.
pub fn assignment_id(user_id: &str, app_index: usize) -> String {
    let tail: String = user_id.chars().skip(3).take(14).collect();
    format!("0ua{tail}{app_index:03}")
}

impl OrgState {
    pub fn app(&self, id: &str) -> ApiResult<&AppRec> {
        self.apps
            .get(id)
            .ok_or_else(|| ApiError::not_found(id, "AppInstance"))
    }

    /// The group through which `user_id` has `app`: the highest priority one.
    fn granting_group<'a>(
        &self,
        app: &'a AppRec,
        user_id: &str,
    ) -> Option<(&'a String, &'a AppGroupRec)> {
        let groups = self.user_groups.get(user_id)?;
        app.groups
            .iter()
            .filter(|(g, _)| groups.contains(*g))
            .min_by_key(|(_, a)| a.priority)
    }

    /// Whether and how `user_id` has `app`.
    pub fn app_scope(&self, app: &AppRec, user_id: &str) -> Option<Scope> {
        if app.users.get(user_id).is_some_and(|u| u.direct) {
            return Some(Scope::User);
        }
        self.granting_group(app, user_id).map(|_| Scope::Group)
    }

    /// `GET /api/v1/users/{id}/appLinks`: one link per active app the user
    /// has, directly or through a group.
    pub fn app_links(&self, user_id: &str, base: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for (i, app) in self.apps.values().enumerate() {
            if app.status != "ACTIVE" || self.app_scope(app, user_id).is_none() {
                continue;
            }
            let tail: String = user_id.chars().skip(3).take(14).collect();
            out.push(json!({
                "id": format!("00ub{}{:02}", tail, i),
                "label": app.label,
                "linkUrl": format!("{base}/home/{}/{}/{}", app.name, app.id, 2000 + i),
                "logoUrl": format!("{base}/assets/img/logos/{}.png", app.name),
                "appName": app.name,
                "appInstanceId": app.id,
                "appAssignmentId": assignment_id(user_id, i),
                "credentialsSetup": false,
                "hidden": false,
                "sortOrder": i,
            }));
        }
        out
    }

    /// An app user as `GET /api/v1/apps/{appId}/users/{userId}` answers, if
    /// the user has the app.
    pub fn app_user_json(&self, app: &AppRec, user_id: &str, base: &str) -> Option<Value> {
        let scope = self.app_scope(app, user_id)?;
        let user = self.users.get(user_id)?;
        let rec = app.users.get(user_id);
        let granting = self.granting_group(app, user_id);
        let (created, last_updated) = match (rec, granting) {
            (Some(r), _) => (r.created, r.last_updated),
            (None, Some((_, g))) => (g.created, g.last_updated),
            (None, None) => return None,
        };
        let profile = match (rec, granting) {
            (Some(r), _) if !r.profile.is_empty() || r.direct => r.profile.clone(),
            (_, Some((_, g))) => g.profile.clone(),
            _ => Map::new(),
        };
        let user_name = rec
            .and_then(|r| r.user_name.clone())
            .unwrap_or_else(|| user.login().to_string());
        let mut links = json!({
            "app": {"href": format!("{base}/api/v1/apps/{}", app.id)},
            "user": {"href": format!("{base}/api/v1/users/{user_id}")},
        });
        if scope == Scope::Group
            && let Some((gid, _)) = granting
        {
            links["group"] = json!({"href": format!("{base}/api/v1/groups/{gid}"), "name": self.groups.get(gid).map(|g| g.name.as_str()).unwrap_or("")});
        }
        Some(json!({
            "id": user_id,
            "created": ts(created),
            "lastUpdated": ts(last_updated),
            "scope": scope.as_str(),
            "status": "ACTIVE",
            "statusChanged": ts(created),
            "passwordChanged": null,
            "syncState": "DISABLED",
            "credentials": {"userName": user_name},
            "profile": profile,
            "_links": links,
        }))
    }

    fn app_user_targets(&self, app_id: &str, user_id: &str) -> Vec<LogEntity> {
        let index = self.apps.get_index_of(app_id).unwrap_or(0);
        let app = &self.apps[app_id];
        let user = &self.users[user_id];
        let user_name = app
            .users
            .get(user_id)
            .and_then(|r| r.user_name.clone())
            .unwrap_or_else(|| user.login().to_string());
        vec![
            LogEntity {
                id: assignment_id(user_id, index),
                entity_type: "AppUser".into(),
                alternate_id: Some(user_name),
                display_name: Some(user.display_name()),
                detail_entry: Some(json!({})),
            },
            app.entity(),
            user.entity(),
        ]
    }

    fn emit_app_user(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        app_id: &str,
        user_id: &str,
        what: AppUserEvent,
    ) {
        let (event_type, display) = match what {
            AppUserEvent::Add => (
                "application.user_membership.add",
                "Add user to application membership",
            ),
            AppUserEvent::Update => (
                "application.user_membership.update",
                "Update user's application membership",
            ),
            AppUserEvent::Remove => (
                "application.user_membership.remove",
                "Remove user from application membership",
            ),
        };
        let targets = self.app_user_targets(app_id, user_id);
        self.emit_by(now, ctx, event_type, display, targets, Map::new());
    }

    /// For the apps `group_id` is assigned to: whether `user_id` has each now.
    /// Taken before a membership change, for [`OrgState::emit_access_changes`].
    pub fn access_through(&self, group_id: &str, user_id: &str) -> Vec<(String, bool)> {
        self.apps
            .values()
            .filter(|a| a.groups.contains_key(group_id))
            .map(|a| (a.id.clone(), self.app_scope(a, user_id).is_some()))
            .collect()
    }

    /// One event per app `user_id` gained or lost since `before`; an app
    /// profile kept for a user who had the app only through groups goes with
    /// the access.
    pub fn emit_access_changes(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        user_id: &str,
        before: Vec<(String, bool)>,
    ) {
        for (app_id, had) in before {
            let Some(app) = self.apps.get(&app_id) else {
                continue;
            };
            let has = self.app_scope(app, user_id).is_some();
            match (had, has) {
                (false, true) => self.emit_app_user(now, ctx, &app_id, user_id, AppUserEvent::Add),
                (true, false) => {
                    // The event names the app user as it was.
                    self.emit_app_user(now, ctx, &app_id, user_id, AppUserEvent::Remove);
                    if let Some(app) = self.apps.get_mut(&app_id) {
                        app.users.shift_remove(user_id);
                    }
                }
                _ => {}
            }
        }
    }

    /// `POST /api/v1/apps/{appId}/users`: assign a user directly. A user who
    /// has the app already (directly or through a group) is assigned directly
    /// and updated with what was sent, as Okta does; either way the answer is
    /// the app user.
    pub fn assign_app_user(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        app_id: &str,
        user_id: &str,
        user_name: Option<String>,
        profile: Option<Map<String, Value>>,
    ) -> ApiResult<String> {
        self.app(app_id)?;
        let user_id = self.user_id(user_id)?;
        if self.users[&user_id].status == "DEPROVISIONED" {
            return Err(ApiError::validation(
                "appUser",
                "id: a deactivated user cannot be assigned to an app",
            ));
        }
        let before = self.app_scope(&self.apps[app_id], &user_id);
        let app = self.apps.get_mut(app_id).expect("looked up");
        let was_direct = app.users.get(&user_id).is_some_and(|r| r.direct);
        let rec = app
            .users
            .entry(user_id.clone())
            .or_insert_with(|| AppUserRec {
                direct: true,
                user_name: None,
                profile: Map::new(),
                created: now,
                last_updated: now,
            });
        rec.direct = true;
        let changed = rec.apply(user_name, profile, now) || !was_direct;
        match before {
            None => self.emit_app_user(now, ctx, app_id, &user_id, AppUserEvent::Add),
            Some(_) if changed => {
                self.emit_app_user(now, ctx, app_id, &user_id, AppUserEvent::Update)
            }
            Some(_) => {}
        }
        Ok(user_id)
    }

    /// `POST /api/v1/apps/{appId}/users/{userId}`: a new app profile (whole)
    /// or user name for a user who has the app.
    pub fn update_app_user(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        app_id: &str,
        user_id: &str,
        user_name: Option<String>,
        profile: Option<Map<String, Value>>,
    ) -> ApiResult<String> {
        let app = self.app(app_id)?;
        let user_id = self.user_id(user_id)?;
        if self.app_scope(app, &user_id).is_none() {
            return Err(ApiError::not_found(&user_id, "AppUser"));
        }
        let granting = self
            .granting_group(app, &user_id)
            .map(|(_, g)| g.profile.clone());
        let app = self.apps.get_mut(app_id).expect("looked up");
        let rec = app
            .users
            .entry(user_id.clone())
            .or_insert_with(|| AppUserRec {
                direct: false,
                user_name: None,
                profile: granting.unwrap_or_default(),
                created: now,
                last_updated: now,
            });
        if rec.apply(user_name, profile, now) {
            self.emit_app_user(now, ctx, app_id, &user_id, AppUserEvent::Update);
        }
        Ok(user_id)
    }

    /// `DELETE /api/v1/apps/{appId}/users/{userId}`. Okta refuses while a
    /// group membership grants the app (403 `E0000046`); a user without the
    /// app is not found.
    pub fn unassign_app_user(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        app_id: &str,
        user_id: &str,
    ) -> ApiResult<()> {
        let app = self.app(app_id)?;
        let user_id = self.user_id(user_id)?;
        if self.app_scope(app, &user_id).is_none() {
            return Err(ApiError::not_found(&user_id, "AppUser"));
        }
        if self.granting_group(app, &user_id).is_some() {
            return Err(
                ApiError::new(403, "E0000046", "Deactivate application for user forbidden.").cause(
                    "The application cannot be unassigned from the user while their group memberships grant them access",
                ),
            );
        }
        self.emit_app_user(now, ctx, app_id, &user_id, AppUserEvent::Remove);
        self.apps
            .get_mut(app_id)
            .expect("looked up")
            .users
            .shift_remove(&user_id);
        Ok(())
    }

    /// `PUT /api/v1/apps/{appId}/groups/{groupId}`: assign a group (its
    /// members get the app) or change an assignment's priority and profile.
    pub fn assign_app_group(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        app_id: &str,
        group_id: &str,
        priority: Option<i64>,
        profile: Option<Map<String, Value>>,
    ) -> ApiResult<()> {
        let app = self.app(app_id)?;
        let group = self.group(group_id)?;
        let (group_entity, app_entity) = (group.entity(), app.entity());
        let members: Vec<String> = self
            .members
            .get(group_id)
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default();
        let existed = app.groups.contains_key(group_id);
        let before: Vec<bool> = if existed {
            Vec::new()
        } else {
            members
                .iter()
                .map(|u| self.app_scope(app, u).is_some())
                .collect()
        };
        let next_priority = app
            .groups
            .values()
            .map(|g| g.priority + 1)
            .max()
            .unwrap_or(0);
        let app = self.apps.get_mut(app_id).expect("looked up");
        let rec = app
            .groups
            .entry(group_id.to_string())
            .or_insert_with(|| AppGroupRec {
                priority: priority.unwrap_or(next_priority),
                profile: Map::new(),
                created: now,
                last_updated: now,
            });
        let changed = set(&mut rec.priority, priority) | set(&mut rec.profile, profile) || !existed;
        if changed {
            rec.last_updated = now;
        }
        let (event_type, display) = if existed {
            (
                "group.application_assignment.update",
                "Update app assignment of group",
            )
        } else {
            (
                "group.application_assignment.add",
                "Add assigned application to group",
            )
        };
        if changed {
            self.emit_by(
                now,
                ctx,
                event_type,
                display,
                vec![group_entity, app_entity],
                Map::new(),
            );
        }
        if !existed {
            for (user_id, had) in members.iter().zip(before) {
                if !had {
                    self.emit_app_user(now, ctx, app_id, user_id, AppUserEvent::Add);
                }
            }
        }
        Ok(())
    }

    /// `DELETE /api/v1/apps/{appId}/groups/{groupId}`: members who had the
    /// app only through this group lose it.
    pub fn unassign_app_group(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        app_id: &str,
        group_id: &str,
    ) -> ApiResult<()> {
        let app = self.app(app_id)?;
        if !app.groups.contains_key(group_id) {
            return Err(ApiError::not_found(group_id, "GroupAppAssignment"));
        }
        let members: Vec<String> = self
            .members
            .get(group_id)
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default();
        let app_entity = app.entity();
        let group_entity = self.groups.get(group_id).map(|g| g.entity());
        // Removal events name the app user as it was, so they go first.
        let losing: Vec<String> = {
            let mut without = app.clone();
            without.groups.shift_remove(group_id);
            members
                .into_iter()
                .filter(|u| self.app_scope(&without, u).is_none())
                .collect()
        };
        for user_id in &losing {
            self.emit_app_user(now, ctx, app_id, user_id, AppUserEvent::Remove);
        }
        let app = self.apps.get_mut(app_id).expect("looked up");
        app.groups.shift_remove(group_id);
        for user_id in &losing {
            app.users.shift_remove(user_id);
        }
        if let Some(g) = group_entity {
            self.emit_by(
                now,
                ctx,
                "group.application_assignment.remove",
                "Remove assigned application from group",
                vec![g, app_entity],
                Map::new(),
            );
        }
        Ok(())
    }

    /// Users who have `app`, by id, after the `after` cursor.
    pub fn app_users_after<'a>(
        &'a self,
        app: &'a AppRec,
        after: Option<&str>,
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.users_after(after)
            .filter(move |u| self.app_scope(app, &u.id).is_some())
            .map(|u| u.id.as_str())
    }
}

#[derive(Debug, Clone, Copy)]
enum AppUserEvent {
    Add,
    Update,
    Remove,
}
