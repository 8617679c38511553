//! `okta.create-group-rule`: creates a group rule (users whose profile
//! matches an expression go in some groups) and, unless told not to,
//! activates it: Okta creates rules inactive. Running it again with the same
//! rule changes nothing.

use builtin_kit::okta::{check_writable, group};
use builtin_kit::{GroupRef, Outcome, check_text};
use lanyard_sdk::okta::GroupRule;
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Okta's limits: a rule's name, its expression, and how many groups it fills.
const MAX_NAME: usize = 50;
const MAX_EXPRESSION: usize = 1_024;
const MAX_GROUPS: usize = 100;

fn yes() -> bool {
    true
}

/// The rule.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The rule's name (at most 50 characters), for example `Engineering department`.
    name: String,
    /// Which users, in Okta Expression Language, for example
    /// `user.department == "Engineering"` or `String.stringContains(user.title, "Manager")`.
    expression: String,
    /// The groups to put them in: Okta group ids, exact names, or group objects.
    groups: Vec<GroupRef>,
    /// Activate the rule once created, so Okta applies it at once (default
    /// true); false leaves it INACTIVE for someone to review.
    #[serde(default = "yes")]
    activate: bool,
}

/// The rule, new or found.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// `unchanged` if the same rule existed, in the state asked for.
    outcome: Outcome,
    /// False when a rule with this name, expression and groups existed.
    created: bool,
    /// The rule: `id`, `name`, `status` (ACTIVE or INACTIVE), `expression`, `groupIds`.
    rule: GroupRule,
}

struct CreateGroupRule;

impl Card for CreateGroupRule {
    const NAME: &'static str = "okta.create-group-rule";
    const DESCRIPTION: &'static str = "Creates an Okta group rule: users whose profile matches an Okta Expression Language `expression` are put in the `groups` (by id or exact name); it is activated unless `activate` is false. A rule with this name and another expression is a `conflict`. Output: `outcome`, `created` and `rule`.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        // groups.read only to look group names up.
        vec![Grant::okta("okta.groups.read"), Grant::okta("okta.groups.admin")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        check_text("name", &input.name, MAX_NAME)?;
        builtin_kit::check_single_line("name", &input.name)?;
        check_text("expression", &input.expression, MAX_EXPRESSION)?;
        if input.groups.is_empty() {
            return Err(CardError::invalid_input("`groups` names no group: a rule puts users in at least one"));
        }
        if input.groups.len() > MAX_GROUPS {
            return Err(CardError::invalid_input(format!(
                "`groups` lists {} groups, over the limit of {MAX_GROUPS}",
                input.groups.len()
            )));
        }
        let mut group_ids = Vec::with_capacity(input.groups.len());
        for g in &input.groups {
            let g = group(g)?;
            check_writable(&g)?;
            if !group_ids.contains(&g.id) {
                group_ids.push(g.id);
            }
        }
        let created = okta::create_group_rule(input.name.trim(), input.expression.trim(), &group_ids)?;
        let mut rule = created.value;
        let mut changed = created.outcome == WriteOutcome::Changed;
        if input.activate && rule.status != "ACTIVE" {
            if okta::set_group_rule_active(&rule.id, true)? == WriteOutcome::Changed {
                changed = true;
            }
            rule.status = "ACTIVE".to_string();
        }
        Ok(Out {
            outcome: if changed { Outcome::Changed } else { Outcome::Unchanged },
            created: created.outcome == WriteOutcome::Changed,
            rule,
        })
    }
}

lanyard_sdk::export_card!(CreateGroupRule);
