//! [`FakeOkta`]: a small Okta org with the capability's semantics, and the
//! builders of what a test puts in it.

use crate::{CardError, ErrorKind, WriteOutcome};
use crate::okta::{
    ApiRequest, ApiResponse, App, AppGroup, AppLink, AppUser, Assignee, Factor, Group, GroupCreated, GroupRule, LifecycleOp, LogQuery, OktaApi,
    OktaWrite, ProfileUpdate, RuleCreated, User, UserPage, UserQuery,
};
use async_trait::async_trait;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

/// A user of a fake org: `login` is also the email, the first name is the
/// login's first dot-separated part; `extra` (an object) adds to or replaces
/// profile attributes.
pub fn user(id: &str, login: &str, status: &str, extra: Value) -> User {
    let mut profile = Map::new();
    profile.insert("login".into(), json!(login));
    profile.insert("email".into(), json!(login));
    profile.insert("firstName".into(), json!(login.split('.').next().unwrap()));
    profile.insert("lastName".into(), json!("Tester"));
    if let Value::Object(extra) = extra {
        profile.extend(extra);
    }
    User {
        id: id.into(),
        status: status.into(),
        created: "2024-01-02T03:04:05.000Z".into(),
        activated: Some("2024-01-02T03:04:05.000Z".into()),
        status_changed: None,
        last_login: None,
        last_updated: "2024-01-02T03:04:05.000Z".into(),
        password_changed: None,
        profile,
    }
}

/// A group without a description; `group_type` as Okta spells it (`OKTA_GROUP`, `BUILT_IN`, `APP_GROUP`).
pub fn group(id: &str, name: &str, group_type: &str) -> Group {
    Group {
        id: id.into(),
        name: name.into(),
        description: None,
        group_type: group_type.into(),
    }
}

/// What a [`FakeOkta`] holds; a test fills it through [`FakeOkta::org`].
#[derive(Default)]
pub struct FakeOrg {
    pub users: BTreeMap<String, User>,
    pub groups: BTreeMap<String, Group>,
    /// (group id, user id)
    pub members: BTreeSet<(String, String)>,
    pub factors: BTreeMap<String, Vec<Factor>>,
    pub app_links: BTreeMap<String, Vec<AppLink>>,
    pub apps: BTreeMap<String, App>,
    /// Direct assignments: (app id, user id).
    pub app_users: BTreeMap<(String, String), AppUser>,
    /// (app id, group id)
    pub app_groups: BTreeMap<(String, String), AppGroup>,
    pub rules: BTreeMap<String, GroupRule>,
}

/// A small Okta org with the capability's semantics: lookups by id or login,
/// compare-before-write, `not-found` for unknown ids. Records every call
/// ([`FakeOkta::calls`], [`FakeOkta::writes`]), fails the calls named with
/// [`FakeOkta::fail`] (`"remove-from-group 00gsales"`), and, made
/// [`FakeOkta::hanging`], never answers at all.
#[derive(Default)]
pub struct FakeOkta {
    pub org: Mutex<FakeOrg>,
    calls: Mutex<Vec<String>>,
    fail: Mutex<HashMap<String, CardError>>,
    hang: bool,
}

const WRITES: &[&str] = &[
    "create-user",
    "update-profile",
    "lifecycle",
    "add-to-group",
    "remove-from-group",
    "clear-sessions",
    "delete-user",
    "expire-password",
    "reset-password",
    "reset-factors",
    "reset-factor",
    "assign-app",
    "unassign-app",
    "create-group",
    "update-group",
    "delete-group",
    "create-group-rule",
    "set-group-rule-active",
    "api-call",
];

/// An active SAML app.
pub fn app(id: &str, label: &str, name: &str) -> App {
    App {
        id: id.into(),
        name: name.into(),
        label: label.into(),
        status: "ACTIVE".into(),
        sign_on_mode: "SAML_2_0".into(),
    }
}

/// A group rule assigning `group_ids` to the users `expression` matches.
pub fn rule(id: &str, name: &str, status: &str, expression: &str, group_ids: &[&str]) -> GroupRule {
    GroupRule {
        id: id.into(),
        name: name.into(),
        status: status.into(),
        expression: expression.into(),
        group_ids: group_ids.iter().map(|g| g.to_string()).collect(),
    }
}

/// Whether setting `wanted` on `current` would change an attribute.
fn differs(current: &Map<String, Value>, wanted: &Map<String, Value>) -> bool {
    wanted.iter().any(|(k, v)| current.get(k).unwrap_or(&Value::Null) != v)
}

/// `who` as the fake's call records name it: `user:00uada`, `group:00geng`.
fn who(a: &Assignee) -> String {
    match a {
        Assignee::User(id) => format!("user:{id}"),
        Assignee::Group(id) => format!("group:{id}"),
    }
}

impl FakeOkta {
    /// An org that never answers: every call waits forever (a remote that
    /// does not respond).
    pub fn hanging() -> Self {
        FakeOkta { hang: true, ..FakeOkta::default() }
    }

    /// Record the call, then fail it if a test said so.
    async fn record(&self, op: &str, args: &str) -> Result<(), CardError> {
        if self.hang {
            std::future::pending::<()>().await;
        }
        let line = format!("{op} {args}");
        self.calls.lock().unwrap().push(line.clone());
        let fail = self.fail.lock().unwrap();
        match fail.get(&line).or_else(|| fail.get(op)) {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Fail with `e` every call whose record is `call`, or whose operation is.
    pub fn fail(&self, call: &str, e: CardError) {
        self.fail.lock().unwrap().insert(call.to_string(), e);
    }

    /// Calls succeed again.
    pub fn fail_nothing(&self) {
        self.fail.lock().unwrap().clear();
    }

    /// Every call so far, in order: `operation arguments`.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    /// The calls that write (every `api-call` among them).
    pub fn writes(&self) -> Vec<String> {
        self.calls().into_iter().filter(|c| WRITES.iter().any(|w| c.starts_with(&format!("{w} ")))).collect()
    }

    /// The user with this id or login, without recording a call.
    pub fn find_user(&self, id_or_login: &str) -> Result<User, CardError> {
        let org = self.org.lock().unwrap();
        org.users
            .get(id_or_login)
            .or_else(|| org.users.values().find(|u| u.login() == id_or_login))
            .cloned()
            .ok_or_else(|| CardError::not_found(format!("okta user `{id_or_login}` not found")))
    }

    fn user_groups(&self, user_id: &str) -> Result<Vec<Group>, CardError> {
        self.find_user(user_id)?;
        let org = self.org.lock().unwrap();
        Ok(org
            .members
            .iter()
            .filter(|(_, u)| u == user_id)
            .filter_map(|(g, _)| org.groups.get(g).cloned())
            .collect())
    }

    fn has_member(&self, group_id: &str, user_id: &str) -> Result<bool, CardError> {
        self.find_user(user_id)?;
        let org = self.org.lock().unwrap();
        if !org.groups.contains_key(group_id) {
            return Err(CardError::not_found(format!("okta group `{group_id}` not found")));
        }
        Ok(org.members.contains(&(group_id.to_string(), user_id.to_string())))
    }
}

/// The fake org's side of the writes whose result is a `WriteOutcome`: what
/// each compares (`changes`, which is also `plan`) and what it does.
impl FakeOkta {
    fn app_of(&self, app_id: &str) -> Result<App, CardError> {
        self.org.lock().unwrap().apps.get(app_id).cloned().ok_or_else(|| CardError::not_found(format!("okta app `{app_id}` not found")))
    }

    fn group_of(&self, group_id: &str) -> Result<Group, CardError> {
        self.org.lock().unwrap().groups.get(group_id).cloned().ok_or_else(|| CardError::not_found(format!("okta group `{group_id}` not found")))
    }

    fn rule_of(&self, rule_id: &str) -> Result<GroupRule, CardError> {
        self.org.lock().unwrap().rules.get(rule_id).cloned().ok_or_else(|| CardError::not_found(format!("okta group rule `{rule_id}` not found")))
    }

    /// How the call records show a write's arguments.
    fn args_of(write: &OktaWrite) -> String {
        match write {
            OktaWrite::Lifecycle { user_id, op } => format!("{user_id} {}", op.as_str()),
            OktaWrite::AddToGroup { group_id, user_id } | OktaWrite::RemoveFromGroup { group_id, user_id } => format!("{group_id} {user_id}"),
            OktaWrite::DeleteUser { user_id, send_email } => format!("{user_id} send_email={send_email}"),
            OktaWrite::ExpirePassword { user_id } | OktaWrite::ResetFactors { user_id } => user_id.clone(),
            OktaWrite::ResetFactor { user_id, factor_id } => format!("{user_id} {factor_id}"),
            OktaWrite::AssignApp { app_id, to, profile } => match profile {
                Some(p) => format!("{app_id} {} profile={}", who(to), Value::Object(p.clone())),
                None => format!("{app_id} {}", who(to)),
            },
            OktaWrite::UnassignApp { app_id, from } => format!("{app_id} {}", who(from)),
            OktaWrite::UpdateGroup { group_id, name, description } => format!("{group_id} name={name:?} description={description:?}"),
            OktaWrite::DeleteGroup { group_id } => group_id.clone(),
            OktaWrite::SetGroupRuleActive { rule_id, active } => format!("{rule_id} active={active}"),
        }
    }

    /// Whether the write would change the org: the comparison the real
    /// capability makes before writing, and its `not-found`s.
    fn changes(&self, write: &OktaWrite) -> Result<bool, CardError> {
        Ok(match write {
            OktaWrite::Lifecycle { user_id, op } => {
                let status = self.find_user(user_id)?.status;
                let noop_when = match op {
                    LifecycleOp::Deactivate => "DEPROVISIONED",
                    LifecycleOp::Suspend => "SUSPENDED",
                    _ => "ACTIVE",
                };
                status != noop_when
            }
            OktaWrite::AddToGroup { group_id, user_id } => !self.has_member(group_id, user_id)?,
            OktaWrite::RemoveFromGroup { group_id, user_id } => self.has_member(group_id, user_id)?,
            OktaWrite::DeleteUser { user_id, .. } => self.org.lock().unwrap().users.contains_key(user_id),
            OktaWrite::ExpirePassword { user_id } => self.find_user(user_id)?.status != "PASSWORD_EXPIRED",
            OktaWrite::ResetFactors { user_id } => {
                self.find_user(user_id)?;
                self.org.lock().unwrap().factors.get(user_id).is_some_and(|f| !f.is_empty())
            }
            OktaWrite::ResetFactor { user_id, factor_id } => {
                self.find_user(user_id)?;
                self.org.lock().unwrap().factors.get(user_id).is_some_and(|f| f.iter().any(|f| f.id == *factor_id))
            }
            OktaWrite::AssignApp { app_id, to, profile } => {
                self.app_of(app_id)?;
                match to {
                    Assignee::User(id) => {
                        self.find_user(id)?;
                    }
                    Assignee::Group(id) => {
                        self.group_of(id)?;
                    }
                }
                let org = self.org.lock().unwrap();
                let key = (app_id.clone(), to.id().to_string());
                let current = match to {
                    Assignee::User(_) => org.app_users.get(&key).map(|a| &a.profile),
                    Assignee::Group(_) => org.app_groups.get(&key).map(|a| &a.profile),
                };
                match (current, profile) {
                    (None, _) => true,
                    (Some(current), Some(wanted)) => differs(current, wanted),
                    (Some(_), None) => false,
                }
            }
            OktaWrite::UnassignApp { app_id, from } => {
                self.app_of(app_id)?;
                let org = self.org.lock().unwrap();
                let key = (app_id.clone(), from.id().to_string());
                match from {
                    Assignee::User(_) => org.app_users.contains_key(&key),
                    Assignee::Group(_) => org.app_groups.contains_key(&key),
                }
            }
            OktaWrite::UpdateGroup { group_id, name, description } => {
                let g = self.group_of(group_id)?;
                g.name != *name || g.description != *description
            }
            OktaWrite::DeleteGroup { group_id } => match self.org.lock().unwrap().groups.get(group_id) {
                // As the sandbox org (and Okta) answer.
                Some(g) if g.group_type == "BUILT_IN" => {
                    return Err(CardError::denied(format!("okta: E0000006: {} is a BUILT_IN group, which cannot be deleted", g.name)));
                }
                Some(_) => true,
                None => false,
            },
            OktaWrite::SetGroupRuleActive { rule_id, active } => (self.rule_of(rule_id)?.status == "ACTIVE") != *active,
        })
    }

    /// Do a write `changes` said would change something.
    fn apply(&self, write: &OktaWrite) {
        let mut org = self.org.lock().unwrap();
        match write {
            OktaWrite::Lifecycle { .. } | OktaWrite::AddToGroup { .. } | OktaWrite::RemoveFromGroup { .. } => {
                unreachable!("done by the trait's own methods")
            }
            OktaWrite::DeleteUser { user_id, .. } => {
                org.users.remove(user_id);
                org.members.retain(|(_, u)| u != user_id);
                org.app_users.retain(|(_, u), _| u != user_id);
                org.factors.remove(user_id);
            }
            OktaWrite::ExpirePassword { user_id } => org.users.get_mut(user_id).unwrap().status = "PASSWORD_EXPIRED".into(),
            OktaWrite::ResetFactors { user_id } => {
                org.factors.remove(user_id);
            }
            OktaWrite::ResetFactor { user_id, factor_id } => org.factors.get_mut(user_id).unwrap().retain(|f| f.id != *factor_id),
            OktaWrite::AssignApp { app_id, to, profile } => {
                let key = (app_id.clone(), to.id().to_string());
                let profile = profile.clone().unwrap_or_default();
                match to {
                    Assignee::User(id) => {
                        let entry = org.app_users.entry(key).or_insert_with(|| AppUser {
                            id: id.clone(),
                            scope: "USER".into(),
                            status: "PROVISIONED".into(),
                            user_name: None,
                            profile: Map::new(),
                        });
                        entry.profile.extend(profile);
                    }
                    Assignee::Group(id) => {
                        let entry = org.app_groups.entry(key).or_insert_with(|| AppGroup { id: id.clone(), priority: None, profile: Map::new() });
                        entry.profile.extend(profile);
                    }
                }
            }
            OktaWrite::UnassignApp { app_id, from } => {
                let key = (app_id.clone(), from.id().to_string());
                match from {
                    Assignee::User(_) => org.app_users.remove(&key).map(|_| ()),
                    Assignee::Group(_) => org.app_groups.remove(&key).map(|_| ()),
                };
            }
            OktaWrite::UpdateGroup { group_id, name, description } => {
                let g = org.groups.get_mut(group_id).unwrap();
                g.name = name.clone();
                g.description = description.clone();
            }
            OktaWrite::DeleteGroup { group_id } => {
                org.groups.remove(group_id);
                org.members.retain(|(g, _)| g != group_id);
                org.app_groups.retain(|(_, g), _| g != group_id);
            }
            OktaWrite::SetGroupRuleActive { rule_id, active } => {
                org.rules.get_mut(rule_id).unwrap().status = if *active { "ACTIVE" } else { "INACTIVE" }.into();
            }
        }
    }

    /// A lifecycle operation, compared first: `Unchanged` when the user is
    /// in the state it leads to already.
    fn transition(&self, user_id: &str, op: LifecycleOp) -> Result<WriteOutcome, CardError> {
        let mut u = self.find_user(user_id)?;
        let (noop_when, to) = match op {
            LifecycleOp::Activate => ("ACTIVE", "ACTIVE"),
            LifecycleOp::Reactivate => ("ACTIVE", "PROVISIONED"),
            LifecycleOp::Deactivate => ("DEPROVISIONED", "DEPROVISIONED"),
            LifecycleOp::Suspend => ("SUSPENDED", "SUSPENDED"),
            LifecycleOp::Unsuspend => ("ACTIVE", "ACTIVE"),
            LifecycleOp::Unlock => ("ACTIVE", "ACTIVE"),
        };
        if u.status == noop_when {
            return Ok(WriteOutcome::Unchanged);
        }
        u.status = to.into();
        self.org.lock().unwrap().users.insert(u.id.clone(), u);
        Ok(WriteOutcome::Changed)
    }

    /// Users in id order from just after the cursor `after` (the last id of
    /// the page before), `limit` of them, and the next cursor.
    fn page(users: Vec<User>, after: Option<&str>, limit: usize) -> UserPage {
        let start = after.map_or(0, |a| users.iter().position(|u| u.id == a).map_or(users.len(), |i| i + 1));
        let rest = &users[start..];
        let page: Vec<User> = rest.iter().take(limit).cloned().collect();
        let next = (rest.len() > limit).then(|| page.last().unwrap().id.clone());
        UserPage { users: page, next }
    }

    fn matching(&self, query: &UserQuery) -> Vec<User> {
        // Of Okta's search language, only `status eq "..."` and `created lt
        // "<RFC 3339>"` are understood here.
        let expr = query.search.as_deref().or(query.filter.as_deref()).unwrap_or("");
        let quoted = |after: &str| expr.split(after).nth(1).and_then(|rest| rest.split('"').next()).map(str::to_string);
        let status = quoted("status eq \"");
        let before = quoted("created lt \"").map(|t| chrono::DateTime::parse_from_rfc3339(&t).expect("an RFC 3339 time in the search"));
        self.org
            .lock()
            .unwrap()
            .users
            .values()
            .filter(|u| status.as_deref().is_none_or(|s| u.status == s))
            .filter(|u| before.is_none_or(|b| chrono::DateTime::parse_from_rfc3339(&u.created).is_ok_and(|c| c < b)))
            .cloned()
            .collect()
    }
}

#[async_trait]
impl OktaApi for FakeOkta {
    async fn get_user(&self, id_or_login: &str) -> Result<User, CardError> {
        self.record("get-user", id_or_login).await?;
        self.find_user(id_or_login)
    }

    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, CardError> {
        self.record("list-users", &serde_json::to_string(query).unwrap()).await?;
        Ok(self.matching(query).into_iter().take(query.limit.map_or(usize::MAX, |l| l as usize)).collect())
    }

    async fn create_user(&self, profile: &Map<String, Value>, activate: bool, group_ids: &[String]) -> Result<User, CardError> {
        self.record("create-user", &format!("{} activate={activate} groups={}", profile["login"], group_ids.join(","))).await?;
        let login = profile["login"].as_str().unwrap().to_string();
        if self.find_user(&login).is_ok() {
            return Err(CardError::new(ErrorKind::Conflict, format!("okta: E0000001: login: An object with this field already exists: {login}")));
        }
        let mut org = self.org.lock().unwrap();
        let id = format!("00unew{}", org.users.len());
        let mut u = user(&id, &login, if activate { "ACTIVE" } else { "STAGED" }, json!({}));
        u.profile = profile.clone();
        org.users.insert(id.clone(), u.clone());
        for g in group_ids {
            org.members.insert((g.clone(), id.clone()));
        }
        Ok(u)
    }

    async fn update_profile(&self, user_id: &str, changes: &Map<String, Value>) -> Result<ProfileUpdate, CardError> {
        self.record("update-profile", &format!("{user_id} {}", Value::Object(changes.clone()))).await?;
        let mut u = self.find_user(user_id)?;
        let differs = changes.iter().any(|(k, v)| u.profile.get(k).unwrap_or(&Value::Null) != v);
        if !differs {
            return Ok(ProfileUpdate { outcome: WriteOutcome::Unchanged, user: u });
        }
        u.profile.extend(changes.clone());
        self.org.lock().unwrap().users.insert(u.id.clone(), u.clone());
        Ok(ProfileUpdate { outcome: WriteOutcome::Changed, user: u })
    }

    async fn get_manager(&self, user_id: &str) -> Result<Option<User>, CardError> {
        self.record("get-manager", user_id).await?;
        let u = self.find_user(user_id)?;
        Ok(u.profile.get("managerId").and_then(Value::as_str).and_then(|m| self.find_user(m).ok()))
    }

    async fn lifecycle(&self, user_id: &str, op: LifecycleOp) -> Result<WriteOutcome, CardError> {
        self.record("lifecycle", &format!("{user_id} {}", op.as_str())).await?;
        self.transition(user_id, op)
    }

    async fn list_user_groups(&self, user_id: &str) -> Result<Vec<Group>, CardError> {
        self.record("list-user-groups", user_id).await?;
        self.user_groups(user_id)
    }

    async fn find_group(&self, name: &str) -> Result<Option<Group>, CardError> {
        self.record("find-group", name).await?;
        Ok(self.org.lock().unwrap().groups.values().find(|g| g.name == name).cloned())
    }

    async fn add_to_group(&self, group_id: &str, user_id: &str) -> Result<WriteOutcome, CardError> {
        self.record("add-to-group", &format!("{group_id} {user_id}")).await?;
        if self.has_member(group_id, user_id)? {
            return Ok(WriteOutcome::Unchanged);
        }
        self.org.lock().unwrap().members.insert((group_id.into(), user_id.into()));
        Ok(WriteOutcome::Changed)
    }

    async fn remove_from_group(&self, group_id: &str, user_id: &str) -> Result<WriteOutcome, CardError> {
        self.record("remove-from-group", &format!("{group_id} {user_id}")).await?;
        if !self.has_member(group_id, user_id)? {
            return Ok(WriteOutcome::Unchanged);
        }
        self.org.lock().unwrap().members.remove(&(group_id.to_string(), user_id.to_string()));
        Ok(WriteOutcome::Changed)
    }

    async fn clear_sessions(&self, user_id: &str, oauth_tokens: bool) -> Result<(), CardError> {
        self.record("clear-sessions", &format!("{user_id} oauth_tokens={oauth_tokens}")).await?;
        self.find_user(user_id).map(|_| ())
    }

    async fn list_factors(&self, user_id: &str) -> Result<Vec<Factor>, CardError> {
        self.record("list-factors", user_id).await?;
        self.find_user(user_id)?;
        Ok(self.org.lock().unwrap().factors.get(user_id).cloned().unwrap_or_default())
    }

    async fn list_app_links(&self, user_id: &str) -> Result<Vec<AppLink>, CardError> {
        self.record("list-app-links", user_id).await?;
        self.find_user(user_id)?;
        Ok(self.org.lock().unwrap().app_links.get(user_id).cloned().unwrap_or_default())
    }

    async fn query_logs(&self, query: &LogQuery) -> Result<Vec<Value>, CardError> {
        self.record("query-logs", &serde_json::to_string(query).unwrap()).await?;
        Ok(vec![
            json!({"uuid": "e1", "published": "2024-05-01T10:00:00.000Z", "eventType": "user.account.lock", "target": [{"id": "00ulin", "type": "User"}]}),
            json!({"uuid": "e2", "published": "2024-05-01T11:00:00.000Z", "eventType": "user.session.start", "target": []}),
        ])
    }

    async fn list_users_page(&self, query: &UserQuery, after: Option<&str>) -> Result<UserPage, CardError> {
        self.record("list-users-page", &format!("{} after={after:?}", serde_json::to_string(query).unwrap())).await?;
        Ok(Self::page(self.matching(query), after, query.limit.unwrap_or(200) as usize))
    }

    async fn reset_password(&self, user_id: &str, send_email: bool) -> Result<Option<String>, CardError> {
        self.record("reset-password", &format!("{user_id} send_email={send_email}")).await?;
        let u = self.find_user(user_id)?;
        Ok((!send_email).then(|| format!("https://example.okta.com/reset_password/tok-{}", u.id)))
    }

    async fn find_app(&self, label: &str) -> Result<Option<App>, CardError> {
        self.record("find-app", label).await?;
        let org = self.org.lock().unwrap();
        Ok(org.apps.values().find(|a| a.label == label).or_else(|| org.apps.values().find(|a| a.name == label)).cloned())
    }

    async fn list_app_users(&self, app_id: &str) -> Result<Vec<AppUser>, CardError> {
        self.record("list-app-users", app_id).await?;
        self.app_of(app_id)?;
        let org = self.org.lock().unwrap();
        let mut users: BTreeMap<String, AppUser> =
            org.app_users.iter().filter(|((a, _), _)| a == app_id).map(|((_, u), au)| (u.clone(), au.clone())).collect();
        for (_, group_id) in org.app_groups.keys().filter(|(a, _)| a == app_id) {
            for (_, user_id) in org.members.iter().filter(|(g, _)| g == group_id) {
                users.entry(user_id.clone()).or_insert_with(|| AppUser {
                    id: user_id.clone(),
                    scope: "GROUP".into(),
                    status: "PROVISIONED".into(),
                    user_name: None,
                    profile: Map::new(),
                });
            }
        }
        Ok(users.into_values().collect())
    }

    async fn list_app_groups(&self, app_id: &str) -> Result<Vec<AppGroup>, CardError> {
        self.record("list-app-groups", app_id).await?;
        self.app_of(app_id)?;
        Ok(self.org.lock().unwrap().app_groups.iter().filter(|((a, _), _)| a == app_id).map(|(_, g)| g.clone()).collect())
    }

    async fn create_group(&self, name: &str, description: Option<&str>) -> Result<GroupCreated, CardError> {
        self.record("create-group", &format!("{name:?} description={description:?}")).await?;
        let mut org = self.org.lock().unwrap();
        if let Some(g) = org.groups.values().find(|g| g.name == name) {
            return Ok(GroupCreated { outcome: WriteOutcome::Unchanged, group: g.clone() });
        }
        let id = format!("00gnew{}", org.groups.len());
        let g = Group { id: id.clone(), name: name.into(), description: description.map(str::to_string), group_type: "OKTA_GROUP".into() };
        org.groups.insert(id, g.clone());
        Ok(GroupCreated { outcome: WriteOutcome::Changed, group: g })
    }

    async fn list_group_members(&self, group_id: &str, after: Option<&str>, limit: Option<u32>) -> Result<UserPage, CardError> {
        self.record("list-group-members", &format!("{group_id} after={after:?} limit={limit:?}")).await?;
        self.group_of(group_id)?;
        let org = self.org.lock().unwrap();
        let members: Vec<User> = org.members.iter().filter(|(g, _)| g == group_id).filter_map(|(_, u)| org.users.get(u).cloned()).collect();
        Ok(Self::page(members, after, limit.unwrap_or(1000) as usize))
    }

    async fn find_group_rule(&self, name: &str) -> Result<Option<GroupRule>, CardError> {
        self.record("find-group-rule", name).await?;
        Ok(self.org.lock().unwrap().rules.values().find(|r| r.name == name).cloned())
    }

    async fn create_group_rule(&self, name: &str, expression: &str, group_ids: &[String]) -> Result<RuleCreated, CardError> {
        self.record("create-group-rule", &format!("{name:?} {expression:?} {}", group_ids.join(","))).await?;
        for g in group_ids {
            self.group_of(g)?;
        }
        let mut org = self.org.lock().unwrap();
        if let Some(r) = org.rules.values().find(|r| r.name == name) {
            if r.expression == expression && r.group_ids == group_ids {
                return Ok(RuleCreated { outcome: WriteOutcome::Unchanged, rule: r.clone() });
            }
            return Err(CardError::new(ErrorKind::Conflict, format!("okta: a group rule named `{name}` exists with another expression or groups ({})", r.id)));
        }
        let id = format!("0prnew{}", org.rules.len());
        let groups: Vec<&str> = group_ids.iter().map(String::as_str).collect();
        let r = rule(&id, name, "INACTIVE", expression, &groups);
        org.rules.insert(id, r.clone());
        Ok(RuleCreated { outcome: WriteOutcome::Changed, rule: r })
    }

    /// Okta's answers to a few operations: a user by id, the first users
    /// with a cursor, a user's lifecycle operation, and Okta's 404 for
    /// anything else. Recorded as `api-call METHOD path[ query][ body]`.
    async fn api_call(&self, request: &ApiRequest) -> Result<ApiResponse, CardError> {
        let mut line = format!("{} {}", request.method, request.path);
        if !request.query.is_empty() {
            let query: Vec<String> = request.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            line = format!("{line} {}", query.join("&"));
        }
        if let Some(body) = &request.body {
            line = format!("{line} {body}");
        }
        self.record("api-call", &line).await?;
        let not_found = || ApiResponse {
            status: 404,
            body: json!({"errorCode": "E0000007", "errorSummary": format!("Not found: Resource not found: {} (User)", request.path), "errorId": "oae1"}),
            next: None,
        };
        let segments: Vec<&str> = request.path.trim_start_matches('/').split('/').collect();
        Ok(match (request.method.as_str(), segments.as_slice()) {
            ("GET", ["api", "v1", "users"]) => {
                let limit = request.query.iter().find(|(k, _)| k == "limit").map_or(200, |(_, v)| v.parse().unwrap());
                let after = request.query.iter().find(|(k, _)| k == "after").map(|(_, v)| v.as_str());
                let users: Vec<User> = self.org.lock().unwrap().users.values().cloned().collect();
                let page = Self::page(users, after, limit);
                ApiResponse { status: 200, body: serde_json::to_value(&page.users).unwrap(), next: page.next }
            }
            ("GET", ["api", "v1", "users", id]) => match self.find_user(id) {
                Ok(u) => ApiResponse { status: 200, body: serde_json::to_value(u).unwrap(), next: None },
                Err(_) => not_found(),
            },
            ("POST", ["api", "v1", "users", id, "lifecycle", op]) => match (lifecycle_op(op), self.find_user(id)) {
                (Some(op), Ok(u)) => {
                    self.transition(&u.id, op)?;
                    ApiResponse { status: 200, body: json!({}), next: None }
                }
                _ => not_found(),
            },
            _ => not_found(),
        })
    }

    async fn write(&self, write: &OktaWrite) -> Result<WriteOutcome, CardError> {
        match write {
            OktaWrite::Lifecycle { user_id, op } => return self.lifecycle(user_id, *op).await,
            OktaWrite::AddToGroup { group_id, user_id } => return self.add_to_group(group_id, user_id).await,
            OktaWrite::RemoveFromGroup { group_id, user_id } => return self.remove_from_group(group_id, user_id).await,
            _ => {}
        }
        self.record(&write.operation(), &Self::args_of(write)).await?;
        if !self.changes(write)? {
            return Ok(WriteOutcome::Unchanged);
        }
        self.apply(write);
        Ok(WriteOutcome::Changed)
    }

    /// The comparisons the real capability makes, on the fake org.
    async fn plan(&self, write: &OktaWrite) -> Result<WriteOutcome, CardError> {
        self.record("plan", &write.operation()).await?;
        Ok(if self.changes(write)? { WriteOutcome::Changed } else { WriteOutcome::Unchanged })
    }
}
/// The lifecycle operation of an Okta path segment (`suspend`).
fn lifecycle_op(segment: &str) -> Option<LifecycleOp> {
    [
        LifecycleOp::Activate,
        LifecycleOp::Reactivate,
        LifecycleOp::Deactivate,
        LifecycleOp::Suspend,
        LifecycleOp::Unsuspend,
        LifecycleOp::Unlock,
    ]
    .into_iter()
    .find(|op| op.as_str() == segment)
}
