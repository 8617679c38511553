//! Group rules: a condition in the Okta Expression Language ([`expression`],
//! a documented subset) and the groups a matching user is put in.
//!
//! As Okta: a rule is created `INACTIVE`; activating it assigns every
//! matching user; while it is `ACTIVE`, a user who comes to match (created,
//! or a profile change) is assigned, and one who stops matching leaves the
//! groups the rule put them in. An `ACTIVE` rule cannot be replaced, and a
//! rule's actions never can. Deleting a rule leaves its memberships unless
//! `removeUsers` is set. Each membership the rule makes writes
//! `group.user_membership.add` (and `.remove`), with the app events that
//! follow from it. No I/O here.
//!
//! [`expression`]: super::expression

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::expression::{self, Expr};
use super::state::{ApiError, ApiResult, Ctx, OrgState, ts};

pub const EXPRESSION_TYPE: &str = "urn:okta:expression:1.0";
const MAX_NAME: usize = 50;

#[derive(Debug, Clone)]
pub struct RuleRec {
    pub id: String,
    pub name: String,
    /// `ACTIVE`, `INACTIVE`, or `INVALID` (a group it assigned to was deleted).
    pub status: String,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
    pub expression: String,
    pub condition: Expr,
    pub exclude_users: Vec<String>,
    pub group_ids: Vec<String>,
}

impl RuleRec {
    pub fn to_json(&self, group_names: Option<&OrgState>) -> Value {
        let mut v = json!({
            "type": "group_rule",
            "id": self.id,
            "status": self.status,
            "name": self.name,
            "created": ts(self.created),
            "lastUpdated": ts(self.last_updated),
            "conditions": {
                "people": {
                    "users": {"exclude": self.exclude_users},
                    "groups": {"exclude": []},
                },
                "expression": {"value": self.expression, "type": EXPRESSION_TYPE},
            },
            "actions": {"assignUserToGroups": {"groupIds": self.group_ids}},
        });
        if let Some(s) = group_names {
            let names: Map<String, Value> = self
                .group_ids
                .iter()
                .filter_map(|g| s.groups.get(g).map(|r| (g.clone(), json!(r.name))))
                .collect();
            v["_embedded"] = json!({"groupIdToGroupNameMap": names});
        }
        v
    }
}

/// What a create or replace body says.
struct RuleInput {
    name: String,
    expression: String,
    condition: Expr,
    exclude_users: Vec<String>,
    group_ids: Vec<String>,
}

fn strings(v: Option<&Value>, at: &str, causes: &mut Vec<String>) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i.as_str() {
                Some(s) => Some(s.to_string()),
                None => {
                    causes.push(format!("{at}: must be an array of ids"));
                    None
                }
            })
            .collect(),
        Some(_) => {
            causes.push(format!("{at}: must be an array of ids"));
            Vec::new()
        }
    }
}

impl OrgState {
    pub fn rule(&self, id: &str) -> ApiResult<&RuleRec> {
        self.rules
            .get(id)
            .ok_or_else(|| ApiError::not_found(id, "GroupRule"))
    }

    fn rule_input(&self, body: &Value) -> ApiResult<RuleInput> {
        if !body.is_object() {
            return Err(ApiError::validation(
                "groupRule",
                "groupRule: The request body must be a group rule object",
            ));
        }
        let mut causes = Vec::new();
        if let Some(t) = body.get("type")
            && t != "group_rule"
        {
            causes.push("type: must be group_rule".to_string());
        }
        let name = match body.get("name") {
            Some(Value::String(n)) if !n.trim().is_empty() && n.chars().count() <= MAX_NAME => {
                n.clone()
            }
            Some(Value::String(n)) if !n.trim().is_empty() => {
                causes.push(format!(
                    "name: The field is too long (at most {MAX_NAME} characters)"
                ));
                String::new()
            }
            _ => {
                causes.push("name: The field cannot be left blank".to_string());
                String::new()
            }
        };
        let expr = body.pointer("/conditions/expression");
        match expr.and_then(|e| e.get("type")) {
            None | Some(Value::Null) => {}
            Some(t) if t == EXPRESSION_TYPE => {}
            Some(_) => causes.push(format!(
                "conditions.expression.type: must be {EXPRESSION_TYPE}"
            )),
        }
        let expression = expr
            .and_then(|e| e.get("value"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let condition = if expression.trim().is_empty() {
            causes.push("conditions.expression.value: The field cannot be left blank".to_string());
            None
        } else {
            match expression::parse(&expression) {
                Ok(c) => Some(c),
                Err(why) => {
                    causes.push(format!(
                        "conditions.expression.value: Invalid expression: {why}"
                    ));
                    None
                }
            }
        };
        let exclude_users = strings(
            body.pointer("/conditions/people/users/exclude"),
            "conditions.people.users.exclude",
            &mut causes,
        );
        if !strings(
            body.pointer("/conditions/people/groups/exclude"),
            "conditions.people.groups.exclude",
            &mut causes,
        )
        .is_empty()
        {
            causes
                .push("conditions.people.groups.exclude: excluding groups is not supported".into());
        }
        let group_ids = strings(
            body.pointer("/actions/assignUserToGroups/groupIds"),
            "actions.assignUserToGroups.groupIds",
            &mut causes,
        );
        if group_ids.is_empty() {
            causes
                .push("actions.assignUserToGroups.groupIds: at least one group is required".into());
        }
        for g in &group_ids {
            match self.groups.get(g) {
                None => causes.push(format!("actions.assignUserToGroups.groupIds: the group `{g}` does not exist")),
                Some(r) if r.group_type != "OKTA_GROUP" => causes.push(format!(
                    "actions.assignUserToGroups.groupIds: `{g}` is a {} group; rules assign only to OKTA_GROUPs",
                    r.group_type
                )),
                Some(_) => {}
            }
        }
        match (condition, causes.is_empty()) {
            (Some(condition), true) => Ok(RuleInput {
                name,
                expression,
                condition,
                exclude_users,
                group_ids,
            }),
            _ => {
                let mut e = ApiError::new(400, "E0000001", "Api validation failed: groupRule");
                for c in causes {
                    e = e.cause(c);
                }
                Err(e)
            }
        }
    }

    /// `POST /api/v1/groups/rules`: created `INACTIVE`.
    pub fn create_rule(&mut self, now: DateTime<Utc>, body: &Value) -> ApiResult<String> {
        let input = self.rule_input(body)?;
        let id = self.new_id("0pr");
        self.rules.insert(
            id.clone(),
            RuleRec {
                id: id.clone(),
                name: input.name,
                status: "INACTIVE".into(),
                created: now,
                last_updated: now,
                expression: input.expression,
                condition: input.condition,
                exclude_users: input.exclude_users,
                group_ids: input.group_ids,
            },
        );
        Ok(id)
    }

    /// `PUT /api/v1/groups/rules/{groupRuleId}`: only an `INACTIVE` rule, and
    /// not its actions.
    pub fn replace_rule(&mut self, now: DateTime<Utc>, id: &str, body: &Value) -> ApiResult<()> {
        let rule = self.rule(id)?;
        if rule.status == "ACTIVE" {
            return Err(ApiError::validation(
                "groupRule",
                "status: An ACTIVE group rule cannot be updated; deactivate it first",
            ));
        }
        let input = self.rule_input(body)?;
        let rule = &self.rules[id];
        if input.group_ids != rule.group_ids {
            return Err(ApiError::validation(
                "groupRule",
                "actions: The actions of a group rule cannot be updated",
            ));
        }
        let rule = self.rules.get_mut(id).expect("looked up");
        rule.name = input.name;
        rule.expression = input.expression;
        rule.condition = input.condition;
        rule.exclude_users = input.exclude_users;
        rule.last_updated = now;
        Ok(())
    }

    /// `DELETE /api/v1/groups/rules/{groupRuleId}`; with `removeUsers`, the
    /// memberships the rule made go too.
    pub fn delete_rule(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        id: &str,
        remove_users: bool,
    ) -> ApiResult<()> {
        self.rule(id)?;
        let made: Vec<(String, String)> = self
            .rule_memberships
            .iter()
            .filter(|(_, r)| r.as_str() == id)
            .map(|(k, _)| k.clone())
            .collect();
        for (group, user) in made {
            if remove_users {
                self.remove_member(&group, &user, now, ctx);
            } else {
                self.rule_memberships.remove(&(group, user));
            }
        }
        self.rules.shift_remove(id);
        Ok(())
    }

    /// `POST /api/v1/groups/rules/{groupRuleId}/lifecycle/activate`: every
    /// matching user is assigned.
    pub fn activate_rule(&mut self, now: DateTime<Utc>, ctx: &Ctx, id: &str) -> ApiResult<()> {
        let rule = self.rule(id)?;
        if rule.status == "INVALID" {
            return Err(ApiError::forbidden().cause(
                "The group rule is INVALID (a group it assigns to was deleted) and cannot be activated",
            ));
        }
        if rule.status == "ACTIVE" {
            return Ok(());
        }
        let rule = self.rules.get_mut(id).expect("looked up");
        rule.status = "ACTIVE".into();
        rule.last_updated = now;
        let users: Vec<String> = self.users.keys().cloned().collect();
        for user in users {
            self.apply_rule(now, ctx, id, &user);
        }
        Ok(())
    }

    /// `POST /api/v1/groups/rules/{groupRuleId}/lifecycle/deactivate`: the
    /// rule stops; the memberships it made stay.
    pub fn deactivate_rule(&mut self, now: DateTime<Utc>, id: &str) -> ApiResult<()> {
        let rule = self
            .rules
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found(id, "GroupRule"))?;
        if rule.status == "ACTIVE" {
            rule.status = "INACTIVE".into();
            rule.last_updated = now;
        }
        Ok(())
    }

    /// Every active rule, for one user whose profile or status just changed.
    pub fn apply_rules_to_user(&mut self, now: DateTime<Utc>, ctx: &Ctx, user_id: &str) {
        let active: Vec<String> = self
            .rules
            .values()
            .filter(|r| r.status == "ACTIVE")
            .map(|r| r.id.clone())
            .collect();
        for rule in active {
            self.apply_rule(now, ctx, &rule, user_id);
        }
    }

    fn apply_rule(&mut self, now: DateTime<Utc>, ctx: &Ctx, rule_id: &str, user_id: &str) {
        let (Some(rule), Some(user)) = (self.rules.get(rule_id), self.users.get(user_id)) else {
            return;
        };
        let matches = user.status != "DEPROVISIONED"
            && !rule.exclude_users.iter().any(|u| u == user_id)
            && rule.condition.matches(&user.profile);
        let groups = rule.group_ids.clone();
        for group in groups {
            let key = (group.clone(), user_id.to_string());
            if matches {
                if self.add_member(&group, user_id, now, Some(ctx)) {
                    self.rule_memberships.insert(key, rule_id.to_string());
                }
            } else if self
                .rule_memberships
                .get(&key)
                .is_some_and(|r| r == rule_id)
            {
                self.remove_member(&group, user_id, now, ctx);
            }
        }
    }
}
