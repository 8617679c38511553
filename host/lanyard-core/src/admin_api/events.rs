//! Events refused at intake, and the Okta orgs.

use super::*;

// -- events and orgs ---------------------------------------------------------------

/// `GET /api/v1/events/rejected`: the events refused at intake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejections {
    /// Refused since the daemon started.
    pub total: u64,
    /// The newest first.
    pub recent: Vec<RejectedEvent>,
}

/// An event refused at intake; it is not stored and will not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedEvent {
    pub received: DateTime<Utc>,
    /// `hook`, `poll`, ...
    pub source: String,
    /// Its `uuid` and `eventType`, if it has them (cut short).
    pub uuid: Option<String>,
    pub event_type: Option<String>,
    /// Why it was refused (cut short).
    pub reason: String,
}

/// `GET /api/v1/okta/orgs`: the Okta orgs, in name order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgList {
    pub orgs: Vec<Org>,
}

/// One Okta org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    pub name: String,
    /// `org` (a real org), `sandbox` (embedded), `events-only`, `injected`.
    pub kind: String,
    /// Where its API is, when it has one.
    pub url: Option<String>,
    /// The org triggers and steps use when they name none.
    pub default: bool,
    /// The path its Event Hook delivers to, when a hook secret is set.
    pub hook_path: Option<String>,
    pub self_actor_ids: Vec<String>,
}
