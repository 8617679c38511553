//! The Okta event types in people's words: a display name ("User Deactivated"),
//! a one-line description, a category and the trigger words ("When a user is
//! deactivated in Okta") for every hook-eligible type, and the JSON Schema of
//! the LogEvent a flow sees as `event`.
//!
//! The common identity types are curated in `data/okta-event-catalog.json`
//! (named as Okta's Event Types catalog and the Okta Workflows event cards name
//! them); every other hook-eligible type gets a name generated from its id, so
//! the list is always complete. Built once, on first use. This module only
//! describes event types; which types a hook may carry is [`crate::event`]'s.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// One event type as the builder shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventTypeInfo {
    #[serde(rename = "type")]
    pub event_type: String,
    pub name: String,
    pub description: String,
    pub category: String,
    /// `When a user is deactivated in Okta`.
    pub words: String,
    /// What happened, as a clause (`a user is deactivated`): joined for
    /// triggers with several types.
    #[serde(skip)]
    pub when: String,
    #[serde(skip)]
    curated: bool,
}

#[derive(Deserialize)]
struct Curated {
    name: String,
    description: String,
    when: String,
    #[serde(default)]
    category: Option<String>,
}

#[derive(Deserialize)]
struct File {
    curated: BTreeMap<String, Curated>,
}

struct Catalog {
    list: Vec<EventTypeInfo>,
    by_type: HashMap<String, usize>,
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let file: File = serde_json::from_str(include_str!("../data/okta-event-catalog.json"))
            .expect("the embedded event catalog is valid JSON");
        let mut curated = file.curated;
        let mut list: Vec<EventTypeInfo> = crate::event::hook_event_types()
            .iter()
            .map(|t| match curated.remove(t) {
                Some(c) => EventTypeInfo {
                    event_type: t.clone(),
                    category: c.category.unwrap_or_else(|| category(t).to_string()),
                    words: format!("When {} in Okta", c.when),
                    name: c.name,
                    description: c.description,
                    when: c.when,
                    curated: true,
                },
                None => generated(t),
            })
            .collect();
        // Generated names may meet a curated one or each other; the id tells
        // them apart.
        let mut seen: HashMap<String, usize> = HashMap::new();
        for info in &list {
            *seen.entry(info.name.clone()).or_default() += 1;
        }
        for info in &mut list {
            if seen[&info.name] > 1 && !info.curated {
                info.name = format!("{} ({})", info.name, info.event_type);
            }
        }
        let by_type = list
            .iter()
            .enumerate()
            .map(|(i, e)| (e.event_type.clone(), i))
            .collect();
        Catalog { list, by_type }
    })
}

/// Every hook-eligible event type, sorted by type.
pub fn event_types() -> &'static [EventTypeInfo] {
    &catalog().list
}

/// One event type, if Okta delivers it through Event Hooks.
pub fn event_type(event_type: &str) -> Option<&'static EventTypeInfo> {
    let c = catalog();
    c.by_type.get(event_type).map(|&i| &c.list[i])
}

/// The words of an Okta trigger: `When a user is deactivated in Okta`; several
/// types are joined (`When a user is created or a user is added to a group in
/// Okta`); with a filter, says that only some of those events start the flow.
pub fn trigger_words(event_types: &[String], filtered: bool) -> String {
    let clauses: Vec<String> = event_types
        .iter()
        .map(|t| match event_type(t) {
            Some(e) => e.when.clone(),
            None => format!("`{t}` happens"),
        })
        .collect();
    let joined = match clauses.as_slice() {
        [] => "an Okta event arrives".to_string(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{}, or {last}", rest.join(", ")),
    };
    let joined = if clauses.len() == 2 {
        joined.replacen(", or ", " or ", 1)
    } else {
        joined
    };
    let mut words = format!("When {joined} in Okta");
    if filtered {
        words.push_str(", and the filter holds");
    }
    words
}

/// Where an event type belongs in the trigger list.
fn category(t: &str) -> &'static str {
    const BY_PREFIX: &[(&str, &str)] = &[
        ("user.lifecycle.", "User lifecycle"),
        ("user.account.", "User account"),
        ("user.import.", "User account"),
        ("user.session.", "Sign-in and sessions"),
        ("user.authentication.", "Sign-in and sessions"),
        ("user.mfa.", "MFA and factors"),
        ("user.credential.", "MFA and factors"),
        ("user.", "Users"),
        ("group.user_membership.", "Group membership"),
        ("group.application_assignment.", "App assignment"),
        ("group.", "Groups"),
        ("application.user_membership.", "App assignment"),
        ("application.provision.", "App provisioning"),
        ("application.", "Applications"),
        ("app.", "Applications"),
        ("device.", "Devices"),
        ("security.authenticator.", "MFA and factors"),
        ("security.", "Security"),
        ("policy.", "Policies"),
        ("iam.", "Admin roles"),
        ("system.", "System"),
        ("inline_hook.", "System"),
        ("access.", "Identity governance"),
        ("certification.", "Identity governance"),
        ("governance.", "Identity governance"),
        ("entitlement.", "Identity governance"),
        ("resource.", "Identity governance"),
        ("resource_servers.", "Resource servers"),
        ("workload_principal.", "AI agents and workloads"),
    ];
    BY_PREFIX
        .iter()
        .find(|(p, _)| t.starts_with(p))
        .map(|(_, c)| *c)
        .unwrap_or("Other")
}

/// The past participle of the verbs Okta's ids end in.
fn past(verb: &str) -> Option<&'static str> {
    Some(match verb {
        "activate" => "activated",
        "deactivate" => "deactivated",
        "reactivate" => "reactivated",
        "create" => "created",
        "delete" => "deleted",
        "update" => "updated",
        "add" => "added",
        "remove" => "removed",
        "grant" => "granted",
        "revoke" => "revoked",
        "start" => "started",
        "complete" => "completed",
        "close" => "closed",
        "launch" => "launched",
        "cancel" => "canceled",
        "expire" => "expired",
        "reject" => "rejected",
        "resolve" => "resolved",
        "invalidate" => "invalidated",
        "approve" => "approved",
        "deny" => "denied",
        "request" => "requested",
        "assign" => "assigned",
        "unassign" => "unassigned",
        "enable" => "enabled",
        "disable" => "disabled",
        "register" => "registered",
        "suspend" => "suspended",
        "unsuspend" => "unsuspended",
        "fail" => "failed",
        "detect" => "detected",
        "detected" => "detected",
        "revert" => "reverted",
        "promote" => "promoted",
        "rollback" => "rolled back",
        "stage" => "staged",
        "confirm" => "confirmed",
        "ignore" => "ignored",
        "validate" => "validated",
        "discover" => "discovered",
        "decide" => "decided",
        "remediate" => "remediated",
        "executed" => "executed",
        "push" => "pushed",
        "push_profile" => "profile pushed",
        "sync" => "synced",
        "migrate" => "migrated",
        "upsert_success" => "upserted",
        "read_client_secret" => "client secret read",
        "delete_all" => "all deleted",
        "import_profile" => "profile imported",
        "remove_entitlements" => "entitlements removed",
        "send_phone_verification_message" => "phone verification message sent",
        "send_phone_verification_call" => "phone verification call made",
        "initiate" => "initiated",
        "action" => "acted on",
        _ => return None,
    })
}

/// Words of an id segment, with Okta's abbreviations spelled as Okta does.
fn words_of(segment: &str) -> Vec<String> {
    segment
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| match w {
            "idp" | "IDP" => "Identity Provider".to_string(),
            "api" => "API".into(),
            "oauth2" => "OAuth 2.0".into(),
            "mfa" => "MFA".into(),
            "sms" => "SMS".into(),
            "iam" => "IAM".into(),
            "ai" => "AI".into(),
            "mcp" => "MCP".into(),
            "a2a" => "A2A".into(),
            "as" => "Authorization Server".into(),
            "ad" => "AD".into(),
            "sso" => "SSO".into(),
            "app" => "App".into(),
            "org" => "Org".into(),
            "resourceset" => "Resource Set".into(),
            "interclient" => "Interclient".into(),
            w => {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().chain(c).collect(),
                    None => String::new(),
                }
            }
        })
        .collect()
}

fn title(words: &[String]) -> String {
    words.join(" ")
}

/// Lowercase except abbreviations (`API`, `MFA`).
fn lower(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if w.chars().filter(|c| c.is_uppercase()).count() > 1 {
                w.clone()
            } else {
                w.to_lowercase()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn title_case(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn generated(t: &str) -> EventTypeInfo {
    let segments: Vec<&str> = t.split('.').collect();
    // The verb is the last segment that is one (`access.request.create`), so
    // what follows it qualifies it (`consent.revoke.implicit.user`).
    let verb_at = segments
        .iter()
        .enumerate()
        .skip(1)
        .rev()
        .find(|(_, s)| past(s).is_some())
        .map(|(i, _)| i);
    let category = category(t).to_string();
    let (name, when) = match verb_at {
        Some(i) => {
            let subject: Vec<String> = segments[..i]
                .iter()
                .filter(|s| **s != "lifecycle")
                .flat_map(|s| words_of(s))
                .collect();
            let verb = past(segments[i]).unwrap_or_default();
            let qualifier: Vec<String> =
                segments[i + 1..].iter().flat_map(|s| words_of(s)).collect();
            let mut name = format!("{} {}", title(&subject), title_case(verb));
            // "is client secret read" does not read; quote the name instead.
            let mut when = if verb.contains(' ') {
                format!("“{name}” happens")
            } else {
                format!("{} {} is {verb}", article(&subject), lower(&subject))
            };
            if !qualifier.is_empty() {
                name.push_str(&format!(" ({})", lower(&qualifier)));
                when.push_str(&format!(" ({})", lower(&qualifier)));
            }
            (name, when)
        }
        None => {
            let all: Vec<String> = segments.iter().flat_map(|s| words_of(s)).collect();
            let name = title(&all);
            (name.clone(), format!("“{name}” happens"))
        }
    };
    EventTypeInfo {
        event_type: t.to_string(),
        description: format!("Okta recorded “{name}” ({t})."),
        words: format!("When {when} in Okta"),
        name,
        curated: false,
        category,
        when,
    }
}

fn article(subject: &[String]) -> &'static str {
    let first = subject.first().map(String::as_str).unwrap_or("");
    let starts_vowel = first
        .chars()
        .next()
        .is_some_and(|c| "AEIOUaeiou".contains(c));
    // Spelled-out abbreviations: "an MFA", "an API", "an SMS"...
    let spelled = first.len() > 1
        && first
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if starts_vowel || (spelled && "AEFHILMNORSX".contains(&first[..1])) {
        "an"
    } else {
        "a"
    }
}

/// The JSON Schema of an Okta LogEvent as flows see it as `event` (titles and
/// descriptions for the builder's field picker).
pub fn log_event_schema() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::from_str(include_str!("../data/okta-log-event-schema.json"))
            .expect("the embedded LogEvent schema is valid JSON")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_hook_eligible_type_has_an_entry_and_names_are_unique() {
        let types = crate::event::hook_event_types();
        assert_eq!(event_types().len(), types.len());
        for t in types {
            let e = event_type(t).unwrap_or_else(|| panic!("{t} has no entry"));
            assert!(!e.name.is_empty() && !e.description.is_empty(), "{t}");
            assert!(
                e.words.starts_with("When ") && e.words.ends_with(" in Okta"),
                "{t}: {}",
                e.words
            );
        }
        let mut names = HashSet::new();
        for e in event_types() {
            assert!(
                names.insert(e.name.as_str()),
                "name `{}` used twice",
                e.name
            );
        }
    }

    #[test]
    fn every_curated_entry_is_a_hook_eligible_type() {
        let file: serde_json::Value =
            serde_json::from_str(include_str!("../data/okta-event-catalog.json")).unwrap();
        let curated = file["curated"].as_object().unwrap();
        assert!(curated.len() >= 60);
        for t in curated.keys() {
            assert!(
                crate::event::is_hook_event_type(t),
                "{t} is not hook-eligible"
            );
        }
    }

    #[test]
    fn the_common_types_read_as_okta_names_them() {
        let e = event_type("user.lifecycle.deactivate").unwrap();
        assert_eq!(e.name, "User Deactivated");
        assert_eq!(e.words, "When a user is deactivated in Okta");
        assert_eq!(e.category, "User lifecycle");
        assert_eq!(
            event_type("user.account.lock").unwrap().name,
            "User Account Locked"
        );
        assert_eq!(
            event_type("group.user_membership.add").unwrap().name,
            "User Added to Group"
        );
        assert_eq!(
            event_type("application.user_membership.add")
                .unwrap()
                .category,
            "App assignment"
        );
    }

    #[test]
    fn other_types_get_readable_generated_names() {
        let e = event_type("policy.rule.add").unwrap();
        assert_eq!(e.name, "Policy Rule Added");
        assert_eq!(e.words, "When a policy rule is added in Okta");
        assert_eq!(e.category, "Policies");
        let e = event_type("system.idp.lifecycle.create").unwrap();
        assert_eq!(e.name, "System Identity Provider Created");
        let e = event_type("iam.role.create").unwrap();
        assert_eq!(e.words, "When an IAM role is created in Okta");
        let e = event_type("system.email.delivery").unwrap();
        assert_eq!(e.name, "System Email Delivery");
        assert_eq!(e.words, "When “System Email Delivery” happens in Okta");
    }

    #[test]
    fn trigger_words_join_types_and_mention_a_filter() {
        assert_eq!(
            trigger_words(&["user.lifecycle.deactivate".into()], false),
            "When a user is deactivated in Okta"
        );
        assert_eq!(
            trigger_words(
                &[
                    "user.lifecycle.create".into(),
                    "group.user_membership.add".into()
                ],
                true
            ),
            "When a user is created or a user is added to a group in Okta, and the filter holds"
        );
        assert_eq!(
            trigger_words(
                &[
                    "user.lifecycle.create".into(),
                    "user.lifecycle.activate".into(),
                    "user.account.lock".into()
                ],
                false
            ),
            "When a user is created, a user is activated, or a user's account is locked in Okta"
        );
    }

    #[test]
    fn the_log_event_schema_names_what_flows_read() {
        let s = log_event_schema();
        assert_eq!(s["type"], "object");
        for key in [
            "uuid",
            "published",
            "eventType",
            "displayMessage",
            "actor",
            "target",
            "outcome",
            "client",
            "debugContext",
        ] {
            assert!(
                s["properties"][key]["title"].is_string(),
                "{key} has no title"
            );
        }
        assert_eq!(s["properties"]["target"]["type"], "array");
        assert!(s["properties"]["actor"]["properties"]["alternateId"].is_object());
    }
}
