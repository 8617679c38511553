//! The Okta Management API client.
//!
//! One `send` loop does everything cross-cutting: credentials (SSWS, or OAuth 2.0
//! bearer/DPoP tokens fetched with a `private_key_jwt` assertion), the
//! `X-Rate-Limit-*` bookkeeping, the bounded wait on 429, backoff on 5xx and lost
//! connections, and the nonce dance of DPoP. The typed methods above it only
//! build URLs and decode bodies. Every wait goes through the injected
//! [`Sleeper`] and every "now" through the injected [`Clock`], so tests wait
//! without sleeping.
//!
//! A call sent again after an attempt Okta may have applied (a 5xx, a
//! connection lost with the request out) can be refused because the first one
//! took effect; the calls where that happens (lifecycle transitions, deleting a
//! hook) confirm what Okta holds before reporting a failure.
//!
//! This module must not compare before writing (that is the capability's job) and
//! must not follow a `Link` to another origin (the token would go with it).

use bytes::Bytes;
use chrono::{DateTime, Duration as ChronoDuration, SecondsFormat, Utc};
use http::{HeaderMap, Method, StatusCode};
use lanyard_core::okta::{AppLink, Factor, Group, LifecycleOp, LogQuery, User, UserQuery};
use lanyard_core::{Clock, LogEvent, SystemClock};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

use crate::auth::{self, ClientKey, DpopKey, TokenError, TokenResponse};
use crate::config::{Auth, OktaConfig, PrivateKeyJwt};
use crate::error::{OktaError, OktaErrorBody, auth_param};
use crate::link;
use lanyard_core::sleep::{Sleeper, TokioSleeper};

/// The largest response body read; Okta pages are far smaller.
const MAX_BODY: usize = 32 * 1024 * 1024;
/// Refresh OAuth tokens this long before they expire.
const TOKEN_MARGIN_SECS: i64 = 60;

/// A client for one Okta org. Cheap to clone; clones share the token cache and
/// the rate-limit state.
#[derive(Clone)]
pub struct OktaClient {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: OktaConfig,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    oauth: Option<OAuth>,
    buckets: Mutex<HashMap<&'static str, RateLimitStatus>>,
}

struct OAuth {
    cfg: PrivateKeyJwt,
    key: ClientKey,
    dpop: DpopKey,
    use_dpop: AtomicBool,
    token: tokio::sync::Mutex<Option<CachedToken>>,
    as_nonce: Mutex<Option<String>>,
    rs_nonce: Mutex<Option<String>>,
}

#[derive(Clone)]
struct CachedToken {
    access_token: String,
    dpop: bool,
    expires_at: DateTime<Utc>,
}

/// What Okta last said about one endpoint's rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitStatus {
    pub limit: u64,
    pub remaining: u64,
    /// When the window resets (`X-Rate-Limit-Reset`, UTC epoch seconds).
    pub reset: DateTime<Utc>,
}

/// One page of a listing and the `rel="next"` link, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// Where System Log polling resumes. Persist [`LogCursor::to_string`] and read it
/// back with [`LogCursor::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum LogCursor {
    /// Start with events published at or after this instant.
    Since(DateTime<Utc>),
    /// Okta's `rel="next"` link of the last poll: resume exactly after it.
    Next(String),
}

impl std::fmt::Display for LogCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogCursor::Since(t) => write!(
                f,
                "since:{}",
                t.to_rfc3339_opts(SecondsFormat::Millis, true)
            ),
            LogCursor::Next(url) => write!(f, "next:{url}"),
        }
    }
}

impl LogCursor {
    pub fn parse(s: &str) -> Result<Self, OktaError> {
        if let Some(t) = s.strip_prefix("since:") {
            let t = DateTime::parse_from_rfc3339(t)
                .map_err(|e| OktaError::InvalidInput(format!("log cursor `{s}`: {e}")))?;
            return Ok(LogCursor::Since(t.with_timezone(&Utc)));
        }
        if let Some(url) = s.strip_prefix("next:") {
            return Ok(LogCursor::Next(url.to_string()));
        }
        Err(OktaError::InvalidInput(format!(
            "log cursor `{s}` is neither `since:<time>` nor `next:<url>`"
        )))
    }
}

/// The result of one System Log poll.
#[derive(Debug, Clone)]
pub struct LogPoll {
    /// Oldest first, as Okta returns them.
    pub events: Vec<LogEvent>,
    /// Where the next poll resumes; persist it after the events are stored.
    pub next: LogCursor,
}

/// An Event Hook to register (`POST /api/v1/eventHooks`).
#[derive(Debug, Clone, Default)]
pub struct EventHookSpec {
    pub name: String,
    /// Where Okta POSTs deliveries (and sends the verification GET).
    pub uri: String,
    /// The `Authorization` header value Okta sends with each request.
    pub authorization: Option<String>,
    /// Extra headers Okta sends.
    pub headers: Vec<(String, String)>,
    /// System Log event types, each one Okta allows in Event Hooks.
    pub event_types: Vec<String>,
}

/// A registered Event Hook, as Okta describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventHook {
    pub id: String,
    pub name: String,
    pub status: String,
    pub verification_status: String,
    pub uri: String,
    pub event_types: Vec<String>,
}

/// The shape of Okta's group JSON, flattened into [`Group`].
#[derive(Deserialize)]
pub(crate) struct OktaGroup {
    id: String,
    #[serde(rename = "type")]
    group_type: String,
    profile: OktaGroupProfile,
}

#[derive(Deserialize)]
struct OktaGroupProfile {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: Option<String>,
}

impl From<OktaGroup> for Group {
    fn from(g: OktaGroup) -> Self {
        Group {
            id: g.id,
            name: g.profile.name,
            description: g.profile.description,
            group_type: g.group_type,
        }
    }
}

pub(crate) struct Call<'a> {
    /// Okta's operationId: names the rate-limit bucket and the call in errors.
    pub(crate) op: &'static str,
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) body: Option<&'a Value>,
    /// Safe to send again after a 5xx or a lost connection.
    pub(crate) idempotent: bool,
}

impl<'a> Call<'a> {
    /// A call without a body that may be sent again (reads, and writes whose
    /// repetition Okta answers the same way or that confirm what they find).
    pub(crate) fn bodyless(op: &'static str, method: Method, url: Url) -> Call<'a> {
        Call {
            op,
            method,
            url,
            body: None,
            idempotent: true,
        }
    }
}

pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// How a call ended, and whether it was sent again after an attempt whose
/// outcome is unknown (so Okta may have applied the call before this answer).
struct Sent {
    result: Result<Answer, OktaError>,
    resent: bool,
}

impl OktaClient {
    /// A client on the system clock with real waits.
    pub fn new(config: OktaConfig) -> Result<Self, OktaError> {
        Self::with_time(config, Arc::new(SystemClock), Arc::new(TokioSleeper))
    }

    /// A client whose "now" and waits are injected (tests: `ManualClock` +
    /// [`RecordingSleeper::advancing`](lanyard_core::RecordingSleeper::advancing)).
    pub fn with_time(
        config: OktaConfig,
        clock: Arc<dyn Clock>,
        sleeper: Arc<dyn Sleeper>,
    ) -> Result<Self, OktaError> {
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| OktaError::Config(format!("cannot build the http client: {e}")))?;
        let oauth = match &config.auth {
            Auth::Ssws(token) => {
                if token.trim().is_empty() {
                    return Err(OktaError::Config("the SSWS api token is empty".into()));
                }
                None
            }
            Auth::PrivateKeyJwt(p) => {
                if p.client_id.is_empty() {
                    return Err(OktaError::Config("the oauth client id is empty".into()));
                }
                if p.scopes.is_empty() {
                    return Err(OktaError::Config(
                        "the oauth service app asks for no scopes".into(),
                    ));
                }
                Some(OAuth {
                    key: ClientKey::from_pem(&p.private_key_pem, p.key_id.clone())?,
                    cfg: p.clone(),
                    dpop: DpopKey::generate()?,
                    use_dpop: AtomicBool::new(false),
                    token: tokio::sync::Mutex::new(None),
                    as_nonce: Mutex::new(None),
                    rs_nonce: Mutex::new(None),
                })
            }
        };
        Ok(OktaClient {
            inner: Arc::new(Inner {
                cfg: config,
                http,
                clock,
                sleeper,
                oauth,
                buckets: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn base_url(&self) -> &Url {
        &self.inner.cfg.base_url
    }

    pub fn config(&self) -> &OktaConfig {
        &self.inner.cfg
    }

    /// The last rate-limit headers seen for an operation (Okta's operationId).
    pub fn rate_limit(&self, operation: &str) -> Option<RateLimitStatus> {
        self.inner
            .buckets
            .lock()
            .expect("bucket lock")
            .get(operation)
            .copied()
    }

    pub(crate) fn url(&self, path: &str) -> Url {
        let mut u = self.inner.cfg.base_url.clone();
        u.set_path(path);
        u
    }

    // ---------------------------------------------------------------- users

    /// `GET /api/v1/users/{id}`: by id or by login.
    pub async fn get_user(&self, id_or_login: &str) -> Result<User, OktaError> {
        let url = self.url(&format!("/api/v1/users/{}", segment(id_or_login)?));
        self.get_json("getUser", url).await
    }

    /// Every user matching the query, following every `rel="next"` page.
    pub async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, OktaError> {
        let set = [&query.search, &query.filter, &query.q]
            .iter()
            .filter(|v| v.as_ref().is_some_and(|s| !s.is_empty()))
            .count();
        if set > 1 {
            return Err(OktaError::InvalidInput(
                "a user query takes at most one of `search`, `filter` and `q`".into(),
            ));
        }
        let cap = self.cap(query.limit);
        let mut url = self.url("/api/v1/users");
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = query.search.as_deref().filter(|s| !s.is_empty()) {
                q.append_pair("search", s);
            }
            if let Some(s) = query.filter.as_deref().filter(|s| !s.is_empty()) {
                q.append_pair("filter", s);
            }
            if let Some(s) = query.q.as_deref().filter(|s| !s.is_empty()) {
                q.append_pair("q", s);
            }
            q.append_pair("limit", &cap.min(self.page_size()).to_string());
        }
        self.list_all("listUsers", url, cap).await
    }

    /// `POST /api/v1/users?activate=..`: a user with this profile, in these groups.
    pub async fn create_user(
        &self,
        profile: &Map<String, Value>,
        activate: bool,
        group_ids: &[String],
    ) -> Result<User, OktaError> {
        let mut url = self.url("/api/v1/users");
        url.query_pairs_mut()
            .append_pair("activate", if activate { "true" } else { "false" });
        let mut body = json!({ "profile": profile });
        if !group_ids.is_empty() {
            body["groupIds"] = json!(group_ids);
        }
        // Not idempotent: a create retried after a lost answer could make two users.
        let answer = self
            .send(Call {
                op: "createUser",
                method: Method::POST,
                url,
                body: Some(&body),
                idempotent: false,
            })
            .await?;
        decode("createUser", "/api/v1/users", &answer.body)
    }

    /// `POST /api/v1/users/{id}`: partial update; only these attributes change.
    pub async fn update_profile(
        &self,
        user_id: &str,
        changes: &Map<String, Value>,
    ) -> Result<User, OktaError> {
        let url = self.url(&format!("/api/v1/users/{}", segment(user_id)?));
        let body = json!({ "profile": changes });
        let path = url.path().to_string();
        let answer = self
            .send(Call {
                op: "updateUser",
                method: Method::POST,
                url,
                body: Some(&body),
                idempotent: true,
            })
            .await?;
        decode("updateUser", &path, &answer.body)
    }

    /// `POST /api/v1/users/{id}/lifecycle/{op}`. When the call had to be sent
    /// again after an attempt whose answer was lost and Okta refuses the
    /// resend, the user is read: already where `op` leads, the first attempt
    /// was applied and the call succeeds.
    pub async fn lifecycle(&self, user_id: &str, op: LifecycleOp) -> Result<(), OktaError> {
        let url = self.url(&format!(
            "/api/v1/users/{}/lifecycle/{}",
            segment(user_id)?,
            op.as_str()
        ));
        let op_id = match op {
            LifecycleOp::Activate => "activateUser",
            LifecycleOp::Reactivate => "reactivateUser",
            LifecycleOp::Deactivate => "deactivateUser",
            LifecycleOp::Suspend => "suspendUser",
            LifecycleOp::Unsuspend => "unsuspendUser",
            LifecycleOp::Unlock => "unlockUser",
        };
        // Sent again after a lost answer, a transition Okta applied the first
        // time is refused the second (E0000038, E0000016, E0000032...): the
        // user's status says whether it happened.
        let sent = self
            .send_tracked(Call::bodyless(op_id, Method::POST, url))
            .await;
        match sent.result {
            Ok(_) => Ok(()),
            Err(e) if sent.resent && matches!(e.status(), Some(400 | 403 | 409)) => {
                let user = self.get_user(user_id).await?;
                if !lifecycle_reached(&user.status, op) {
                    return Err(e);
                }
                tracing::info!(
                    op = op_id,
                    user = %user.id,
                    status = %user.status,
                    "okta refused a resent lifecycle call and the user is where it leads: the first attempt was applied"
                );
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// `DELETE /api/v1/users/{userId}/sessions?oauthTokens=..`.
    pub async fn clear_sessions(&self, user_id: &str, oauth_tokens: bool) -> Result<(), OktaError> {
        let mut url = self.url(&format!("/api/v1/users/{}/sessions", segment(user_id)?));
        url.query_pairs_mut()
            .append_pair("oauthTokens", if oauth_tokens { "true" } else { "false" });
        self.send(Call::bodyless("revokeUserSessions", Method::DELETE, url))
            .await?;
        Ok(())
    }

    /// `GET /api/v1/users/{userId}/factors`.
    pub async fn list_factors(&self, user_id: &str) -> Result<Vec<Factor>, OktaError> {
        let url = self.url(&format!("/api/v1/users/{}/factors", segment(user_id)?));
        self.get_json("listFactors", url).await
    }

    /// `GET /api/v1/users/{id}/appLinks`.
    pub async fn list_app_links(&self, user_id: &str) -> Result<Vec<AppLink>, OktaError> {
        let url = self.url(&format!("/api/v1/users/{}/appLinks", segment(user_id)?));
        self.get_json("listAppLinks", url).await
    }

    // --------------------------------------------------------------- groups

    /// `GET /api/v1/users/{id}/groups`, every page.
    pub async fn list_user_groups(&self, user_id: &str) -> Result<Vec<Group>, OktaError> {
        let url = self.url(&format!("/api/v1/users/{}/groups", segment(user_id)?));
        let groups: Vec<OktaGroup> = self.list_all("listUserGroups", url, self.cap(None)).await?;
        Ok(groups.into_iter().map(Group::from).collect())
    }

    /// `GET /api/v1/groups?search=..`, every page.
    pub async fn search_groups(&self, search: &str) -> Result<Vec<Group>, OktaError> {
        let mut url = self.url("/api/v1/groups");
        url.query_pairs_mut()
            .append_pair("search", search)
            .append_pair("limit", &self.page_size().to_string());
        let groups: Vec<OktaGroup> = self.list_all("listGroups", url, self.cap(None)).await?;
        Ok(groups.into_iter().map(Group::from).collect())
    }

    /// The group whose name is exactly `name` (Okta's search matches names
    /// case-insensitively; the exact one wins, else a single case-insensitive one).
    pub async fn find_group(&self, name: &str) -> Result<Option<Group>, OktaError> {
        let search = format!("profile.name eq \"{}\"", escape_filter_value(name));
        let found = self.search_groups(&search).await?;
        if let Some(exact) = found.iter().find(|g| g.name == name) {
            return Ok(Some(exact.clone()));
        }
        let mut loose = found
            .into_iter()
            .filter(|g| g.name.eq_ignore_ascii_case(name));
        match (loose.next(), loose.next()) {
            (Some(g), None) => Ok(Some(g)),
            _ => Ok(None),
        }
    }

    /// `GET /api/v1/groups/{groupId}`.
    pub async fn get_group(&self, group_id: &str) -> Result<Group, OktaError> {
        let url = self.url(&format!("/api/v1/groups/{}", segment(group_id)?));
        let g: OktaGroup = self.get_json("getGroup", url).await?;
        Ok(g.into())
    }

    /// `GET /api/v1/groups/{groupId}/users`, every page.
    pub async fn list_group_members(&self, group_id: &str) -> Result<Vec<User>, OktaError> {
        let mut url = self.url(&format!("/api/v1/groups/{}/users", segment(group_id)?));
        url.query_pairs_mut()
            .append_pair("limit", &self.page_size().to_string());
        self.list_all("listGroupUsers", url, self.cap(None)).await
    }

    /// `PUT /api/v1/groups/{groupId}/users/{userId}`.
    pub async fn add_user_to_group(&self, group_id: &str, user_id: &str) -> Result<(), OktaError> {
        let url = self.url(&format!(
            "/api/v1/groups/{}/users/{}",
            segment(group_id)?,
            segment(user_id)?
        ));
        self.send(Call::bodyless("assignUserToGroup", Method::PUT, url))
            .await?;
        Ok(())
    }

    /// `DELETE /api/v1/groups/{groupId}/users/{userId}`.
    pub async fn remove_user_from_group(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<(), OktaError> {
        let url = self.url(&format!(
            "/api/v1/groups/{}/users/{}",
            segment(group_id)?,
            segment(user_id)?
        ));
        self.send(Call::bodyless("unassignUserFromGroup", Method::DELETE, url))
            .await?;
        Ok(())
    }

    // ----------------------------------------------------------- system log

    /// A System Log query, oldest first, every page up to the limit (default
    /// 1000, at most 10 000).
    pub async fn query_logs(&self, query: &LogQuery) -> Result<Vec<Value>, OktaError> {
        let cap = query.limit.map_or(1000, |l| l as usize).clamp(1, 10_000);
        let mut url = self.url("/api/v1/logs");
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = &query.since {
                q.append_pair("since", s);
            }
            // Without `until` Okta answers in polling mode: pages until an
            // empty one, which is where listing stops.
            if let Some(u) = &query.until {
                q.append_pair("until", u);
            }
            if let Some(f) = &query.filter {
                q.append_pair("filter", f);
            }
            if let Some(s) = &query.q {
                q.append_pair("q", s);
            }
            q.append_pair(
                "limit",
                &cap.min(self.inner.cfg.log_page_size.clamp(1, 1000))
                    .to_string(),
            );
            q.append_pair("sortOrder", "ASCENDING");
        }
        self.list_all("listLogEvents", url, cap).await
    }

    /// One System Log poll: from `cursor`, follow `rel="next"` while pages have
    /// events, up to `max_events`. The returned cursor is Okta's next link of the
    /// last page read, so nothing is skipped or read twice (persist it only after
    /// the events are stored; replays are deduplicated by `uuid` anyway).
    pub async fn poll_logs(
        &self,
        cursor: &LogCursor,
        max_events: usize,
    ) -> Result<LogPoll, OktaError> {
        let max_events = max_events.max(1);
        let mut url = match cursor {
            LogCursor::Since(t) => {
                let mut url = self.url("/api/v1/logs");
                url.query_pairs_mut()
                    .append_pair("since", &rfc3339(*t))
                    .append_pair(
                        "limit",
                        &max_events
                            .min(self.inner.cfg.log_page_size.clamp(1, 1000))
                            .to_string(),
                    )
                    .append_pair("sortOrder", "ASCENDING");
                url
            }
            LogCursor::Next(next) => self.same_origin(next)?,
        };
        let mut events: Vec<LogEvent> = Vec::new();
        loop {
            let page: Page<LogEvent> = self.get_page("listLogEvents", url.clone()).await?;
            let got = page.items.len();
            events.extend(page.items);
            let next = match page.next {
                Some(n) => n,
                None => {
                    // A poll (no `until`) always has a next link; without one,
                    // resume after the newest event seen (or where we were).
                    let next = events
                        .last()
                        .map(|e| LogCursor::Since(e.published + ChronoDuration::milliseconds(1)))
                        .unwrap_or_else(|| cursor.clone());
                    return Ok(LogPoll { events, next });
                }
            };
            if got == 0 || events.len() >= max_events {
                return Ok(LogPoll {
                    events,
                    next: LogCursor::Next(next),
                });
            }
            url = self.same_origin(&next)?;
        }
    }

    // ---------------------------------------------------------- event hooks

    /// `POST /api/v1/eventHooks`: register a hook (Okta then needs it verified).
    pub async fn create_event_hook(&self, spec: &EventHookSpec) -> Result<EventHook, OktaError> {
        let mut config = json!({
            "uri": spec.uri,
            "headers": spec.headers.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
        });
        if let Some(auth) = &spec.authorization {
            config["authScheme"] = json!({"type": "HEADER", "key": "Authorization", "value": auth});
        }
        let body = json!({
            "name": spec.name,
            "events": {"type": "EVENT_TYPE", "items": spec.event_types},
            "channel": {"type": "HTTP", "version": "1.0.0", "config": config},
        });
        let url = self.url("/api/v1/eventHooks");
        let answer = self
            .send(Call {
                op: "createEventHook",
                method: Method::POST,
                url,
                body: Some(&body),
                idempotent: false,
            })
            .await?;
        event_hook_from(&decode::<Value>(
            "createEventHook",
            "/api/v1/eventHooks",
            &answer.body,
        )?)
    }

    /// `GET /api/v1/eventHooks`.
    pub async fn list_event_hooks(&self) -> Result<Vec<EventHook>, OktaError> {
        let hooks: Vec<Value> = self
            .get_json("listEventHooks", self.url("/api/v1/eventHooks"))
            .await?;
        hooks.iter().map(event_hook_from).collect()
    }

    /// `POST /api/v1/eventHooks/{id}/lifecycle/verify`: Okta sends the one-time
    /// verification GET to the hook's URI now.
    pub async fn verify_event_hook(&self, id: &str) -> Result<EventHook, OktaError> {
        self.event_hook_post(
            "verifyEventHook",
            &format!("/api/v1/eventHooks/{}/lifecycle/verify", segment(id)?),
        )
        .await
    }

    /// `POST /api/v1/eventHooks/{id}/lifecycle/deactivate`.
    pub async fn deactivate_event_hook(&self, id: &str) -> Result<EventHook, OktaError> {
        self.event_hook_post(
            "deactivateEventHook",
            &format!("/api/v1/eventHooks/{}/lifecycle/deactivate", segment(id)?),
        )
        .await
    }

    /// `DELETE /api/v1/eventHooks/{id}` (Okta deletes only deactivated hooks).
    pub async fn delete_event_hook(&self, id: &str) -> Result<(), OktaError> {
        let url = self.url(&format!("/api/v1/eventHooks/{}", segment(id)?));
        let sent = self
            .send_tracked(Call::bodyless("deleteEventHook", Method::DELETE, url))
            .await;
        match sent.result {
            Ok(_) => Ok(()),
            // Sent again after a lost answer: the first attempt deleted it.
            Err(e) if sent.resent && e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn event_hook_post(&self, op: &'static str, path: &str) -> Result<EventHook, OktaError> {
        let url = self.url(path);
        let answer = self.send(Call::bodyless(op, Method::POST, url)).await?;
        event_hook_from(&decode::<Value>(op, path, &answer.body)?)
    }

    // ------------------------------------------------------------- plumbing

    pub(crate) fn page_size(&self) -> usize {
        self.inner.cfg.page_size.clamp(1, 1000)
    }

    pub(crate) fn cap(&self, limit: Option<u32>) -> usize {
        match limit {
            Some(l) => (l as usize).clamp(1, self.inner.cfg.max_list_items),
            None => self.inner.cfg.max_list_items,
        }
    }

    /// A `Link` target, refused unless it points at the configured org.
    fn same_origin(&self, link: &str) -> Result<Url, OktaError> {
        let base = &self.inner.cfg.base_url;
        let url = base.join(link).map_err(|e| {
            OktaError::InvalidInput(format!("okta link `{link}` is not a url: {e}"))
        })?;
        if url.origin() != base.origin() {
            return Err(OktaError::Decode {
                method: "GET".into(),
                path: url.path().to_string(),
                detail: format!(
                    "the next link points at another origin ({}), refusing to send credentials there",
                    url.origin().ascii_serialization()
                ),
            });
        }
        Ok(url)
    }

    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        op: &'static str,
        url: Url,
    ) -> Result<T, OktaError> {
        let path = url.path().to_string();
        let answer = self.send(Call::bodyless(op, Method::GET, url)).await?;
        decode(op, &path, &answer.body)
    }

    pub(crate) async fn get_page<T: DeserializeOwned>(
        &self,
        op: &'static str,
        url: Url,
    ) -> Result<Page<T>, OktaError> {
        let path = url.path().to_string();
        let answer = self.send(Call::bodyless(op, Method::GET, url)).await?;
        let items = decode(op, &path, &answer.body)?;
        Ok(Page {
            items,
            next: link::find_rel(&answer.headers, "next"),
        })
    }

    /// Every page from `url` on, up to `cap` items.
    pub(crate) async fn list_all<T: DeserializeOwned>(
        &self,
        op: &'static str,
        url: Url,
        cap: usize,
    ) -> Result<Vec<T>, OktaError> {
        let mut out: Vec<T> = Vec::new();
        let mut url = url;
        let mut seen = std::collections::HashSet::new();
        loop {
            let page: Page<T> = self.get_page(op, url.clone()).await?;
            let empty = page.items.is_empty();
            out.extend(page.items);
            if out.len() >= cap {
                out.truncate(cap);
                return Ok(out);
            }
            match page.next {
                Some(next) if !empty => {
                    let next = self.same_origin(&next)?;
                    if !seen.insert(next.to_string()) {
                        return Err(OktaError::Decode {
                            method: "GET".into(),
                            path: next.path().to_string(),
                            detail: "the next link repeats an earlier page".into(),
                        });
                    }
                    url = next;
                }
                _ => return Ok(out),
            }
        }
    }

    pub(crate) async fn send(&self, call: Call<'_>) -> Result<Answer, OktaError> {
        self.send_tracked(call).await.result
    }

    /// The one place requests are sent: auth, rate limits, retries.
    async fn send_tracked(&self, call: Call<'_>) -> Sent {
        let mut resent = false;
        let result = self.send_attempts(call, &mut resent).await;
        Sent { result, resent }
    }

    /// `resent` turns true when the call is sent again after an attempt Okta
    /// may have applied: a 5xx, or a connection lost once the request was out.
    async fn send_attempts(&self, call: Call<'_>, resent: &mut bool) -> Result<Answer, OktaError> {
        let inner = &self.inner;
        let policy = &inner.cfg.retry;
        let method_s = call.method.as_str().to_string();
        let path = call.url.path().to_string();
        let mut attempt: u32 = 0;
        let mut auth_retries = 0;
        // Whether the attempt before this one may have been applied.
        let mut unknown_outcome = false;
        loop {
            *resent |= unknown_outcome;
            unknown_outcome = false;
            attempt += 1;
            if let Some(wait) = self.known_wait(call.op) {
                if wait > policy.max_rate_limit_wait {
                    return Err(OktaError::RateLimited {
                        method: method_s,
                        path,
                        retry_after_ms: millis(wait),
                        body: None,
                    });
                }
                tracing::debug!(
                    op = call.op,
                    wait_ms = millis(wait),
                    "okta rate limit exhausted, waiting for the reset"
                );
                inner.sleeper.sleep(wait).await;
            }
            let mut req = inner
                .http
                .request(call.method.clone(), call.url.clone())
                .header(http::header::ACCEPT, "application/json");
            if let Some(body) = call.body {
                req = req.json(body);
            }
            req = match self.authorize(req, &call.method, &call.url).await {
                Ok(r) => r,
                Err(OktaError::Transport {
                    timeout, message, ..
                }) if attempt < policy.max_attempts => {
                    tracing::warn!(op = call.op, timeout, %message, "okta token endpoint unreachable, retrying");
                    inner.sleeper.sleep(policy.backoff(attempt)).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    let retry = call.idempotent || e.is_connect();
                    if retry && attempt < policy.max_attempts {
                        tracing::warn!(op = call.op, attempt, error = %e, "okta request failed, retrying");
                        // A connection never made carried nothing.
                        unknown_outcome = !e.is_connect();
                        inner.sleeper.sleep(policy.backoff(attempt)).await;
                        continue;
                    }
                    return Err(OktaError::Transport {
                        method: method_s,
                        path,
                        timeout: e.is_timeout(),
                        message: error_chain(&e),
                    });
                }
            };
            let status = resp.status();
            let headers = resp.headers().clone();
            self.note_rate_limit(call.op, &headers);
            if let (Some(oauth), Some(n)) = (&inner.oauth, header_str(&headers, "dpop-nonce")) {
                *oauth.rs_nonce.lock().expect("nonce lock") = Some(n.to_string());
            }
            let body = match read_body(resp).await {
                Ok(b) => b,
                Err(e) => {
                    if call.idempotent && attempt < policy.max_attempts {
                        unknown_outcome = true;
                        inner.sleeper.sleep(policy.backoff(attempt)).await;
                        continue;
                    }
                    return Err(OktaError::Transport {
                        method: method_s,
                        path,
                        timeout: e.is_timeout(),
                        message: error_chain(&e),
                    });
                }
            };
            if status.is_success() {
                return Ok(Answer { status, headers, body });
            }
            let error_body: Option<Box<OktaErrorBody>> = serde_json::from_slice(&body)
                .ok()
                .filter(|b: &OktaErrorBody| !b.error_code.is_empty())
                .map(Box::new);
            match status {
                StatusCode::TOO_MANY_REQUESTS => {
                    let wait = self
                        .reset_wait(&headers)
                        .unwrap_or_else(|| policy.backoff(attempt));
                    if attempt >= policy.max_attempts || wait > policy.max_rate_limit_wait {
                        return Err(OktaError::RateLimited {
                            method: method_s,
                            path,
                            retry_after_ms: millis(wait),
                            body: error_body,
                        });
                    }
                    tracing::info!(
                        op = call.op,
                        attempt,
                        wait_ms = millis(wait),
                        "okta answered 429, waiting for the rate limit reset"
                    );
                    inner.sleeper.sleep(wait).await;
                    continue;
                }
                StatusCode::UNAUTHORIZED if inner.oauth.is_some() && auth_retries < 2 => {
                    let challenge = header_str(&headers, "www-authenticate").unwrap_or("");
                    let error = auth_param(challenge, "error").unwrap_or("");
                    let oauth = inner.oauth.as_ref().expect("oauth");
                    if error == "use_dpop_nonce" {
                        // The nonce was stored above; send again with it.
                        auth_retries += 1;
                        attempt -= 1;
                        continue;
                    }
                    if error == "invalid_token" || error.is_empty() {
                        // Revoked or expired early: fetch a fresh token once.
                        *oauth.token.lock().await = None;
                        auth_retries += 1;
                        attempt -= 1;
                        continue;
                    }
                }
                s if s.is_server_error() && call.idempotent && attempt < policy.max_attempts => {
                    let wait = policy.backoff(attempt);
                    tracing::warn!(
                        op = call.op,
                        attempt,
                        status = s.as_u16(),
                        wait_ms = millis(wait),
                        "okta answered 5xx, retrying"
                    );
                    unknown_outcome = true;
                    inner.sleeper.sleep(wait).await;
                    continue;
                }
                _ => {}
            }
            let raw = if error_body.is_some() {
                String::new()
            } else {
                String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned()
            };
            return Err(OktaError::Api {
                method: method_s,
                path,
                status: status.as_u16(),
                body: error_body,
                raw,
                www_authenticate: header_str(&headers, "www-authenticate").map(str::to_string),
            });
        }
    }

    fn note_rate_limit(&self, op: &'static str, headers: &HeaderMap) {
        let num = |name: &str| header_str(headers, name).and_then(|v| v.trim().parse::<u64>().ok());
        if let (Some(limit), Some(remaining), Some(reset)) = (
            num("x-rate-limit-limit"),
            num("x-rate-limit-remaining"),
            num("x-rate-limit-reset"),
        ) {
            let reset = DateTime::from_timestamp(reset as i64, 0).unwrap_or_default();
            if remaining * 10 < limit {
                tracing::debug!(op, limit, remaining, "okta rate limit nearly used up");
            }
            self.inner.buckets.lock().expect("bucket lock").insert(
                op,
                RateLimitStatus {
                    limit,
                    remaining,
                    reset,
                },
            );
        }
    }

    /// How long until the bucket of `op` resets, if Okta said it is empty.
    fn known_wait(&self, op: &str) -> Option<Duration> {
        let status = self.rate_limit(op)?;
        if status.remaining > 0 {
            return None;
        }
        let wait = status.reset - self.inner.clock.now();
        let wait = wait.to_std().ok().filter(|w| !w.is_zero())?;
        // Forget it: the next answer brings fresh numbers.
        self.inner.buckets.lock().expect("bucket lock").remove(op);
        Some(wait)
    }

    fn reset_wait(&self, headers: &HeaderMap) -> Option<Duration> {
        let reset = header_str(headers, "x-rate-limit-reset")?
            .trim()
            .parse::<i64>()
            .ok()?;
        let reset = DateTime::from_timestamp(reset, 0)?;
        Some(
            (reset - self.inner.clock.now())
                .to_std()
                .unwrap_or(Duration::ZERO),
        )
    }

    async fn authorize(
        &self,
        req: reqwest::RequestBuilder,
        method: &Method,
        url: &Url,
    ) -> Result<reqwest::RequestBuilder, OktaError> {
        match &self.inner.cfg.auth {
            Auth::Ssws(token) => {
                Ok(req.header(http::header::AUTHORIZATION, format!("SSWS {token}")))
            }
            Auth::PrivateKeyJwt(_) => {
                let oauth = self
                    .inner
                    .oauth
                    .as_ref()
                    .expect("oauth state for oauth auth");
                let token = self.access_token(oauth).await?;
                if token.dpop {
                    let nonce = oauth.rs_nonce.lock().expect("nonce lock").clone();
                    let proof = oauth.dpop.proof(
                        method.as_str(),
                        &auth::htu(url),
                        self.inner.clock.now(),
                        nonce.as_deref(),
                        Some(&token.access_token),
                    )?;
                    Ok(req
                        .header(
                            http::header::AUTHORIZATION,
                            format!("DPoP {}", token.access_token),
                        )
                        .header("DPoP", proof))
                } else {
                    Ok(req.header(
                        http::header::AUTHORIZATION,
                        format!("Bearer {}", token.access_token),
                    ))
                }
            }
        }
    }

    async fn access_token(&self, oauth: &OAuth) -> Result<CachedToken, OktaError> {
        let mut cached = oauth.token.lock().await;
        let now = self.inner.clock.now();
        if let Some(t) = cached
            .as_ref()
            .filter(|t| t.expires_at - ChronoDuration::seconds(TOKEN_MARGIN_SECS) > now)
        {
            return Ok(t.clone());
        }
        let token = self.fetch_token(oauth).await?;
        *cached = Some(token.clone());
        Ok(token)
    }

    /// Client credentials with a `private_key_jwt` assertion; switches to DPoP
    /// when the org asks for it and retries with the nonce it hands out.
    async fn fetch_token(&self, oauth: &OAuth) -> Result<CachedToken, OktaError> {
        let token_url = self.url("/oauth2/v1/token");
        let mut last_error = None;
        for _ in 0..4 {
            let now = self.inner.clock.now();
            let assertion =
                auth::client_assertion(&oauth.key, &oauth.cfg.client_id, token_url.as_str(), now)?;
            let scope = oauth.cfg.scopes.join(" ");
            let form: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "client_credentials")
                .append_pair("scope", &scope)
                .append_pair("client_assertion_type", auth::CLIENT_ASSERTION_TYPE)
                .append_pair("client_assertion", &assertion)
                .finish();
            let mut req = self
                .inner
                .http
                .post(token_url.clone())
                .header(http::header::ACCEPT, "application/json")
                .header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(form);
            let use_dpop = oauth.use_dpop.load(Ordering::Relaxed);
            if use_dpop {
                let nonce = oauth.as_nonce.lock().expect("nonce lock").clone();
                let proof = oauth.dpop.proof(
                    "POST",
                    &auth::htu(&token_url),
                    now,
                    nonce.as_deref(),
                    None,
                )?;
                req = req.header("DPoP", proof);
            }
            let resp = req.send().await.map_err(|e| OktaError::Transport {
                method: "POST".into(),
                path: "/oauth2/v1/token".into(),
                timeout: e.is_timeout(),
                message: error_chain(&e),
            })?;
            let status = resp.status();
            if let Some(n) = header_str(resp.headers(), "dpop-nonce") {
                *oauth.as_nonce.lock().expect("nonce lock") = Some(n.to_string());
            }
            let body = read_body(resp).await.map_err(|e| OktaError::Transport {
                method: "POST".into(),
                path: "/oauth2/v1/token".into(),
                timeout: e.is_timeout(),
                message: error_chain(&e),
            })?;
            if status.is_success() {
                let t: TokenResponse = decode("token", "/oauth2/v1/token", &body)?;
                let dpop = t.token_type.eq_ignore_ascii_case("DPoP");
                if dpop {
                    oauth.use_dpop.store(true, Ordering::Relaxed);
                }
                return Ok(CachedToken {
                    access_token: t.access_token,
                    dpop,
                    expires_at: self.inner.clock.now()
                        + ChronoDuration::seconds(t.expires_in.max(0)),
                });
            }
            let err: TokenError = serde_json::from_slice(&body).unwrap_or_else(|_| TokenError {
                error: format!("http_{}", status.as_u16()),
                error_description: String::from_utf8_lossy(&body[..body.len().min(256)])
                    .into_owned(),
            });
            match err.error.as_str() {
                "invalid_dpop_proof" if !use_dpop => {
                    tracing::debug!("okta requires dpop for this service app");
                    oauth.use_dpop.store(true, Ordering::Relaxed);
                }
                "use_dpop_nonce" => {
                    oauth.use_dpop.store(true, Ordering::Relaxed);
                }
                _ => {
                    return Err(OktaError::Token {
                        status: status.as_u16(),
                        error: err.error,
                        description: err.error_description,
                    });
                }
            }
            last_error = Some(err);
        }
        let err = last_error.unwrap_or_default();
        Err(OktaError::Token {
            status: 400,
            error: err.error,
            description: err.error_description,
        })
    }
}

fn event_hook_from(v: &Value) -> Result<EventHook, OktaError> {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let id = s("/id");
    if id.is_empty() {
        return Err(OktaError::Decode {
            method: "GET".into(),
            path: "/api/v1/eventHooks".into(),
            detail: "an event hook without an id".into(),
        });
    }
    Ok(EventHook {
        id,
        name: s("/name"),
        status: s("/status"),
        verification_status: s("/verificationStatus"),
        uri: s("/channel/config/uri"),
        event_types: v
            .pointer("/events/items")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

pub(crate) fn decode<T: DeserializeOwned>(op: &str, path: &str, body: &[u8]) -> Result<T, OktaError> {
    serde_json::from_slice(body).map_err(|e| OktaError::Decode {
        method: op.to_string(),
        path: path.to_string(),
        detail: e.to_string(),
    })
}

async fn read_body(mut resp: reqwest::Response) -> Result<Bytes, reqwest::Error> {
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = resp.chunk().await? {
        if buf.len() + chunk.len() > MAX_BODY {
            // Keep what fits: the caller fails decoding with a clear error.
            break;
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// One path segment: ids and logins are percent-encoded, and empty or dot
/// segments are refused so no input can walk to another endpoint.
pub(crate) fn segment(s: &str) -> Result<String, OktaError> {
    if s.is_empty() || s == "." || s == ".." || s.len() > 512 {
        return Err(OktaError::InvalidInput(format!(
            "`{s}` is not a valid okta id or login"
        )));
    }
    Ok(url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20"))
}

/// Whether a user in `status` is where `op` takes a user.
pub fn lifecycle_reached(status: &str, op: LifecycleOp) -> bool {
    match op {
        // PROVISIONED: activated, waiting for the user to set a password.
        LifecycleOp::Activate => matches!(status, "ACTIVE" | "PROVISIONED"),
        LifecycleOp::Reactivate => status == "ACTIVE",
        LifecycleOp::Deactivate => status == "DEPROVISIONED",
        LifecycleOp::Suspend => status == "SUSPENDED",
        LifecycleOp::Unsuspend => status == "ACTIVE",
        LifecycleOp::Unlock => status == "ACTIVE",
    }
}

/// A value inside a double-quoted Okta filter string.
pub fn escape_filter_value(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cannot_escape_their_path() {
        assert_eq!(segment("jo@acme.example").unwrap(), "jo%40acme.example");
        assert_eq!(segment("a/b").unwrap(), "a%2Fb");
        assert_eq!(segment("a b").unwrap(), "a%20b");
        assert!(segment("..").is_err());
        assert!(segment("").is_err());
    }

    #[test]
    fn transitions_to_the_current_state_are_reached() {
        assert!(lifecycle_reached("DEPROVISIONED", LifecycleOp::Deactivate));
        assert!(!lifecycle_reached("ACTIVE", LifecycleOp::Deactivate));
        assert!(lifecycle_reached("ACTIVE", LifecycleOp::Unlock));
        assert!(!lifecycle_reached("LOCKED_OUT", LifecycleOp::Unlock));
        assert!(lifecycle_reached("SUSPENDED", LifecycleOp::Suspend));
        assert!(lifecycle_reached("PROVISIONED", LifecycleOp::Activate));
        assert!(!lifecycle_reached("STAGED", LifecycleOp::Activate));
    }

    #[test]
    fn log_cursors_round_trip_as_text() {
        let c = LogCursor::Next("http://127.0.0.1:1/api/v1/logs?after=5&since=x".into());
        assert_eq!(LogCursor::parse(&c.to_string()).unwrap(), c);
        let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678Z")
            .unwrap()
            .with_timezone(&Utc);
        let s = LogCursor::Since(t);
        assert_eq!(s.to_string(), "since:2026-01-02T03:04:05.678Z");
        assert_eq!(LogCursor::parse(&s.to_string()).unwrap(), s);
        assert!(LogCursor::parse("bogus").is_err());
    }
}
