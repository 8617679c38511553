//! `okta.sync-groups`: keeps a user's group memberships in line with one of
//! their attributes (a department, a location), as an admin writes it down:
//! which groups each value brings, which groups only their own value may keep,
//! and the value the user had before, when it is known.
//!
//! The user ends up in every group their value brings. They leave an
//! *exclusive* group (a department's own group) that their value does not
//! bring, and, when the previous value is known, the groups it brought that
//! the new one does not (the old department's apps). Any other group is left
//! alone: without the previous value, a membership the card cannot explain
//! may have been given by hand. Writes compare first, so a run that changes
//! nothing raises no Okta event.

use builtin_kit::okta::{check_writable, group, user_id};
use builtin_kit::{GroupRef, Outcome, UserRef};
use lanyard_sdk::prelude::*;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// The most values, and groups per value, one call takes.
const MAX_VALUES: usize = 500;
const MAX_GROUPS: usize = 100;

/// Group names: a list, or one text with the names separated by commas
/// (`GitHub, Jira`), as an admin types them into a form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Names(Vec<String>);

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names: Vec<String> = match Value::deserialize(d)? {
            Value::String(s) => s.split(',').map(str::to_string).collect(),
            Value::Array(items) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    other => Err(D::Error::custom(format!("expected group names, found {other} among them"))),
                })
                .collect::<Result<_, _>>()?,
            Value::Null => Vec::new(),
            other => return Err(D::Error::custom(format!("expected group names (a list, or text separated by commas), not {other}"))),
        };
        let names: Vec<String> = names.into_iter().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect();
        if names.len() > MAX_GROUPS {
            return Err(D::Error::custom(format!("{} groups for one value, over the limit of {MAX_GROUPS}", names.len())));
        }
        Ok(Names(names))
    }
}

impl JsonSchema for Names {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Names".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "string", "description": "Group names separated by commas." },
                { "type": "array", "items": { "type": "string" } }
            ]
        })
    }
}

/// Whom, by which value, and the groups each value brings.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The user: an Okta user id, a login, or a user object.
    user: UserRef,
    /// The user's value now, for example their department (`Sales`).
    value: Option<String>,
    /// The groups each value brings, by exact name: `Sales` → `Sales, Salesforce, Gong`.
    groups: BTreeMap<String, Names>,
    /// Groups only the value that brings them may keep (each department's own
    /// group, one per line): the user leaves those their value does not bring.
    #[serde(default)]
    exclusive: Vec<String>,
    /// The user's value before, when it is known (from a snapshot): the groups
    /// it brought and the new value does not are left too.
    #[serde(default)]
    previous: Option<String>,
}

/// What the sync did.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// `changed` if the user joined or left at least one group.
    outcome: Outcome,
    /// The user's Okta id.
    user_id: String,
    /// The groups the value brings, in the order given.
    wanted: Vec<String>,
    /// The groups the user was added to, in that order.
    added: Vec<String>,
    /// The groups the user was removed from, in Okta's order.
    removed: Vec<String>,
}

struct SyncGroups;

fn too_many(what: &str, n: usize, max: usize) -> Result<(), CardError> {
    if n > max {
        return Err(CardError::invalid_input(format!("`{what}` has {n} entries, over the limit of {max}")));
    }
    Ok(())
}

impl Card for SyncGroups {
    const NAME: &'static str = "okta.sync-groups";
    const DESCRIPTION: &'static str = "Keeps a user's groups in line with one of their attributes (a department, a location): adds the groups their value brings, and removes the exclusive groups it does not bring and, when the previous value is known, the groups that value brought. Output: `outcome`, `added` and `removed` (group names), `wanted`.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        builtin_kit::okta::membership_grants()
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        too_many("groups", input.groups.len(), MAX_VALUES)?;
        too_many("exclusive", input.exclusive.len(), MAX_VALUES)?;
        let brought = |v: &Option<String>| -> Vec<String> {
            v.as_deref()
                .and_then(|v| input.groups.get(v.trim()))
                .map(|n| n.0.clone())
                .unwrap_or_default()
        };
        let mut wanted = brought(&input.value);
        let mut seen = BTreeSet::new();
        wanted.retain(|g| seen.insert(g.clone()));
        let wanted_set: BTreeSet<&str> = wanted.iter().map(String::as_str).collect();
        let mut leaving: BTreeSet<String> = input.exclusive.iter().map(|g| g.trim().to_string()).collect();
        leaving.extend(brought(&input.previous));

        let user_id = user_id(&input.user)?;
        let member = okta::list_user_groups(&user_id)?;
        let member_names: BTreeSet<&str> = member.iter().map(|g| g.name.as_str()).collect();

        let mut removed = Vec::new();
        for g in &member {
            if wanted_set.contains(g.name.as_str()) || !leaving.contains(&g.name) {
                continue;
            }
            if builtin_kit::okta::members_managed_by_okta(&g.group_type) {
                lanyard_sdk::warn!("{} is {}: Okta manages its members; left alone", g.name, g.group_type);
                continue;
            }
            if okta::remove_from_group(&g.id, &user_id)? == WriteOutcome::Changed {
                removed.push(g.name.clone());
            }
        }
        let mut added = Vec::new();
        for name in &wanted {
            if member_names.contains(name.as_str()) {
                continue;
            }
            let target = group(&GroupRef::Name(name.clone()))?;
            check_writable(&target)?;
            if okta::add_to_group(&target.id, &user_id)? == WriteOutcome::Changed {
                added.push(name.clone());
            }
        }
        lanyard_sdk::info!(
            "{user_id}: added to {} group(s), removed from {}",
            added.len(),
            removed.len()
        );
        Ok(Out {
            outcome: if added.is_empty() && removed.is_empty() { Outcome::Unchanged } else { Outcome::Changed },
            user_id,
            wanted,
            added,
            removed,
        })
    }
}

lanyard_sdk::export_card!(SyncGroups);
