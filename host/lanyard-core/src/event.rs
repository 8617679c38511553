//! The Okta System Log event: what Event Hooks deliver and `/api/v1/logs`
//! serves, and what flows see as `event`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An actor or target of a System Log event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntity {
    pub id: String,
    #[serde(rename = "type")]
    pub entity_type: String,
    #[serde(default)]
    pub alternate_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub detail_entry: Option<Value>,
}

/// One System Log event (Okta's `LogEvent`). The fields lanyard reads are typed;
/// everything else (`client`, `outcome`, `transaction`, `debugContext`, ...) is
/// kept as it came, so an event round-trips unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEvent {
    pub uuid: String,
    pub published: DateTime<Utc>,
    pub event_type: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub display_message: Option<String>,
    pub actor: LogEntity,
    #[serde(default)]
    pub target: Vec<LogEntity>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl LogEvent {
    /// The first target of type `User`: whom a user event is about.
    pub fn target_user(&self) -> Option<&LogEntity> {
        self.target.iter().find(|t| t.entity_type == "User")
    }

    /// The key that orders runs: events about the same user are processed in
    /// `published` order. Falls back to the first target, then the actor.
    pub fn subject_key(&self) -> String {
        self.target_user()
            .or_else(|| self.target.first())
            .map(|t| t.id.clone())
            .unwrap_or_else(|| self.actor.id.clone())
    }

    /// `outcome.result` (SUCCESS, FAILURE, ...).
    pub fn outcome_result(&self) -> Option<&str> {
        self.rest.get("outcome")?.get("result")?.as_str()
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a LogEvent always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_okta_log_event_round_trips() {
        let raw = serde_json::json!({
            "uuid": "8a2a1b3c-0000-11ef-9e0d-8f1b2c3d4e5f",
            "published": "2026-11-28T10:00:00.123Z",
            "eventType": "user.lifecycle.deactivate",
            "version": "0",
            "severity": "INFO",
            "displayMessage": "Deactivate Okta user",
            "actor": {"id": "00uadmin", "type": "User", "alternateId": "admin@acme.com", "displayName": "Admin", "detailEntry": null},
            "client": {"ipAddress": "10.0.0.1"},
            "outcome": {"result": "SUCCESS", "reason": null},
            "target": [{"id": "00u1", "type": "User", "alternateId": "jo@acme.com", "displayName": "Jo", "detailEntry": null}],
            "transaction": {"type": "WEB", "id": "abc", "detail": {}},
            "debugContext": {"debugData": {}}
        });
        let ev: LogEvent = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(ev.subject_key(), "00u1");
        assert_eq!(ev.outcome_result(), Some("SUCCESS"));
        let back = ev.to_value();
        assert_eq!(back["client"], raw["client"]);
        assert_eq!(back["target"][0]["alternateId"], "jo@acme.com");
        assert_eq!(back["published"], "2026-11-28T10:00:00.123Z");
    }
}

/// The System Log event types Okta allows in Event Hooks (Okta release noted in
/// `data/okta-hook-event-types.json`). A hook subscription or a flow trigger for
/// any other type is refused, as Okta refuses it.
pub fn hook_event_types() -> &'static std::collections::BTreeSet<String> {
    static TYPES: std::sync::OnceLock<std::collections::BTreeSet<String>> =
        std::sync::OnceLock::new();
    TYPES.get_or_init(|| {
        #[derive(Deserialize)]
        struct File {
            hook_eligible: Vec<String>,
        }
        let file: File = serde_json::from_str(include_str!("../data/okta-hook-event-types.json"))
            .expect("the embedded event type list is valid JSON");
        file.hook_eligible.into_iter().collect()
    })
}

/// Whether Okta delivers this event type through Event Hooks.
pub fn is_hook_event_type(event_type: &str) -> bool {
    hook_event_types().contains(event_type)
}

#[cfg(test)]
mod hook_type_tests {
    #[test]
    fn the_seed_event_types_are_hook_eligible() {
        for t in [
            "user.lifecycle.create",
            "user.lifecycle.deactivate",
            "user.account.lock",
            "user.account.update_profile",
            "group.user_membership.add",
        ] {
            assert!(super::is_hook_event_type(t), "{t}");
        }
        assert!(!super::is_hook_event_type("user.session.nonsense"));
        assert!(super::hook_event_types().len() > 300);
    }
}
