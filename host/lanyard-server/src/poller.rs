//! System Log polling: the second way Okta events arrive, for orgs that cannot
//! reach the daemon with Event Hooks (or as a safety net beside them).
//!
//! Each poll reads `/api/v1/logs` from the persisted cursor (the first one
//! from `since = now - [poll] lookback`) and follows `rel="next"` until a page
//! comes back empty: Okta's polling mode, where the `next` link of the last
//! page is exactly where the next poll resumes, so nothing is skipped or read
//! twice. Events whose type some loaded flow subscribes to go through
//! [`Intake::accept`]`(events, "poll")`, which stores them durably and drops
//! the ones already received (by Event Hook or an earlier poll: deduplication
//! is by event `uuid`). Only **after** `accept` returns is the cursor moved
//! and synced, so a crash between the two re-reads a page whose events are
//! then recognised as duplicates: no gap, no second run.
//!
//! Events no flow subscribes to are not stored (a real org writes many
//! sign-in events); the cursor still moves past them, as an Event Hook would
//! never have delivered them. A flow added later sees events from then on.
//!
//! Rate limits: the Okta client waits out `429`s and `X-Rate-Limit-*`
//! itself (bounded); when it gives up, the poller waits until the reset it
//! was told, then goes on from the same cursor. Other errors back off
//! exponentially up to [`MAX_BACKOFF`].
//!
//! The cursor is named after the org (`system-log:<org url>`), so pointing
//! the daemon at another org starts that org from `lookback` instead of
//! following a link into the old one.
//!
//! With several Okta orgs there is one poller per org that has an API, each
//! with its own cursor, keeping the event types its org's flows subscribe to
//! and handing its events to intake as that org's (deduplicated per org).
//!
//! This module reads Okta only through [`OktaClient::poll_logs`]; it knows
//! nothing of flows beyond the event types they subscribe to.

use crate::intake::{Intake, IntakeError};
use crate::shutdown::Shutdown;
use chrono::{DateTime, Utc};
use lanyard_core::{Clock, LogEvent};
use lanyard_okta::{LogCursor, OktaClient, OktaError};
use lanyard_store::{SharedStore, StoreError};
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// Source name of polled events in the inbox and the metrics.
pub const SOURCE: &str = "poll";
/// Events read per `poll_logs` call (Okta's page limit is 1000); a poll loops
/// until a call returns fewer.
pub const EVENTS_PER_CALL: usize = 1000;
/// The longest wait after repeated failures.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Polls, by `result`: `ok`, `rate_limited`, `error`.
pub const METRIC_POLLS: &str = "lanyard_poll_requests_total";
/// Events read from the System Log, by `result`: `accepted` (handed to intake),
/// `ignored` (no flow subscribes to the type), `rejected` (broke a limit).
pub const METRIC_POLLED_EVENTS: &str = "lanyard_poll_events_total";
/// `published` of the newest event seen, as Unix seconds (how far behind polling is).
pub const METRIC_POLL_POSITION: &str = "lanyard_poll_position_timestamp_seconds";

/// Which event types to keep.
pub type TypeFilter = Arc<dyn Fn() -> BTreeSet<String> + Send + Sync>;

/// What one [`Poller::poll_once`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PollReport {
    /// Events Okta returned.
    pub fetched: usize,
    /// Of those, events stored for the first time.
    pub new: usize,
    /// Already received (by hook or an earlier poll).
    pub duplicate: usize,
    /// No loaded flow subscribes to their type.
    pub ignored: usize,
    /// Broke an intake limit; logged and skipped.
    pub rejected: usize,
    /// `poll_logs` calls made.
    pub calls: usize,
    /// The cursor persisted at the end.
    pub cursor: String,
    /// `published` of the newest event read.
    pub newest: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("okta system log: {0}")]
    Okta(#[from] OktaError),
    #[error("system log cursor: {0}")]
    Store(#[from] StoreError),
    #[error("system log events: {0}")]
    Intake(#[from] IntakeError),
    #[error("the stored system log cursor `{cursor}` is not valid: {error}")]
    Cursor { cursor: String, error: String },
}

impl PollError {
    /// How long Okta asked us to wait, if this was a rate limit.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            PollError::Okta(OktaError::RateLimited { retry_after_ms, .. }) => Some(Duration::from_millis(*retry_after_ms)),
            _ => None,
        }
    }
}

/// Polls one org's System Log into the intake.
#[derive(Clone)]
pub struct Poller {
    client: OktaClient,
    store: SharedStore,
    intake: Intake,
    clock: Arc<dyn Clock>,
    lookback: Duration,
    types: TypeFilter,
    cursor_name: String,
    /// The org its events are of, as the inbox records it (`None`: the default org).
    org: Option<String>,
}

impl Poller {
    /// The same poller, its events recorded as `org`'s (`None`: the default org).
    pub fn for_org(mut self, org: Option<String>) -> Poller {
        self.org = org;
        self
    }

    pub fn with_parts(
        client: OktaClient,
        store: SharedStore,
        intake: Intake,
        clock: Arc<dyn Clock>,
        lookback: Duration,
        types: TypeFilter,
    ) -> Poller {
        let cursor_name = cursor_name(&client);
        Poller {
            client,
            store,
            intake,
            clock,
            lookback,
            types,
            cursor_name,
            org: None,
        }
    }

    /// The name the cursor is stored under.
    pub fn cursor_name(&self) -> &str {
        &self.cursor_name
    }

    /// Where the next poll starts.
    pub async fn cursor(&self) -> Result<LogCursor, PollError> {
        match self.store.cursor(&self.cursor_name).await? {
            Some(text) => LogCursor::parse(&text).map_err(|e| PollError::Cursor {
                cursor: text,
                error: e.to_string(),
            }),
            None => {
                let lookback = chrono::TimeDelta::from_std(self.lookback).unwrap_or(chrono::TimeDelta::minutes(5));
                Ok(LogCursor::Since(self.clock.now() - lookback))
            }
        }
    }

    /// Read everything new since the cursor, hand it to the intake, and move
    /// the cursor (durably) after each batch is accepted.
    pub async fn poll_once(&self) -> Result<PollReport, PollError> {
        let mut cursor = self.cursor().await?;
        let mut report = PollReport {
            cursor: cursor.to_string(),
            ..PollReport::default()
        };
        loop {
            let poll = self.client.poll_logs(&cursor, EVENTS_PER_CALL).await?;
            report.calls += 1;
            let fetched = poll.events.len();
            report.fetched += fetched;
            if let Some(last) = poll.events.last() {
                report.newest = Some(report.newest.map_or(last.published, |n| n.max(last.published)));
            }
            let wanted = (self.types)();
            let (keep, skip): (Vec<LogEvent>, Vec<LogEvent>) =
                poll.events.into_iter().partition(|e| wanted.contains(&e.event_type));
            report.ignored += skip.len();
            if !keep.is_empty() {
                self.accept(keep, &mut report).await?;
            }
            // Only now: the events this cursor moves past are on disk.
            let next = poll.next.to_string();
            self.store.set_cursor(&self.cursor_name, &next).await?;
            self.store.sync().await?;
            report.cursor = next;
            cursor = poll.next;
            if fetched < EVENTS_PER_CALL {
                break;
            }
        }
        metrics::counter!(METRIC_POLLED_EVENTS, "result" => "accepted").increment((report.new + report.duplicate) as u64);
        metrics::counter!(METRIC_POLLED_EVENTS, "result" => "ignored").increment(report.ignored as u64);
        metrics::counter!(METRIC_POLLED_EVENTS, "result" => "rejected").increment(report.rejected as u64);
        if let Some(t) = report.newest {
            metrics::gauge!(METRIC_POLL_POSITION).set(t.timestamp() as f64);
        }
        Ok(report)
    }

    async fn accept(&self, events: Vec<LogEvent>, report: &mut PollReport) -> Result<(), PollError> {
        match self.intake.accept_from(events.clone(), SOURCE, self.org.as_deref()).await {
            Ok(s) => {
                report.new += s.new;
                report.duplicate += s.duplicate;
                report.rejected += s.rejected;
                Ok(())
            }
            // One bad event must not hold the cursor (and every event after
            // it) forever: find it, log it, keep the rest.
            Err(IntakeError::Invalid(_)) => {
                for ev in events {
                    let uuid = ev.uuid.clone();
                    let event_type = ev.event_type.clone();
                    match self.intake.accept_from(vec![ev], SOURCE, self.org.as_deref()).await {
                        Ok(s) => {
                            report.new += s.new;
                            report.duplicate += s.duplicate;
                            report.rejected += s.rejected;
                        }
                        Err(IntakeError::Invalid(why)) => {
                            tracing::error!(%uuid, %event_type, error = %why, "system log event refused by intake; skipped");
                            report.rejected += 1;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Poll every `interval` until `shutdown`.
    pub async fn run_with(self, interval: Duration, shutdown: Shutdown) {
        let mut failures: u32 = 0;
        loop {
            if shutdown.is_triggered() {
                return;
            }
            let wait = match self.poll_once().await {
                Ok(r) => {
                    failures = 0;
                    metrics::counter!(METRIC_POLLS, "result" => "ok").increment(1);
                    if r.fetched > 0 {
                        tracing::debug!(fetched = r.fetched, new = r.new, duplicate = r.duplicate, ignored = r.ignored, "system log polled");
                    }
                    interval
                }
                Err(PollError::Intake(IntakeError::ShuttingDown)) => return,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    match e.retry_after() {
                        Some(reset) => {
                            metrics::counter!(METRIC_POLLS, "result" => "rate_limited").increment(1);
                            tracing::warn!(wait_ms = reset.as_millis() as u64, "system log polling is rate limited; waiting for the reset");
                            reset.max(interval)
                        }
                        None => {
                            metrics::counter!(METRIC_POLLS, "result" => "error").increment(1);
                            let backoff = backoff(interval, failures);
                            tracing::warn!(error = %e, failures, retry_in_s = backoff.as_secs(), "system log poll failed; the cursor stays where it was");
                            backoff
                        }
                    }
                }
            };
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// The daemon's poller loops (`[poll] enabled`), one per Okta org with an
/// API (the engine builds them); returns at shutdown.
pub async fn run(pollers: Vec<(String, Poller)>, interval: Duration, stop: Shutdown) {
    if pollers.is_empty() {
        tracing::warn!("[poll] enabled but no Okta org with an API is configured; not polling the system log");
        return;
    }
    let loops = pollers.into_iter().map(|(org, poller)| {
        tracing::info!(%org, interval_s = interval.as_secs(), cursor = %poller.cursor_name(), "polling the okta system log");
        poller.run_with(interval, stop.clone())
    });
    futures::future::join_all(loops).await;
}

fn cursor_name(client: &OktaClient) -> String {
    let url = client.base_url().as_str().trim_end_matches('/');
    let mut name = format!("system-log:{url}");
    // The store bounds cursor names; an org URL is far shorter in practice.
    name.truncate(200);
    name
}

fn backoff(interval: Duration, failures: u32) -> Duration {
    let factor = 1u32.checked_shl(failures.min(16)).unwrap_or(u32::MAX);
    interval.saturating_mul(factor).min(MAX_BACKOFF).max(interval)
}

#[cfg(all(test, feature = "sandbox"))]
mod tests {
    //! Against the sandbox org on a real socket, with the real client, store
    //! and intake; "restarts" reopen the store from its directory.

    use super::*;
    use lanyard_store::Store;
    use lanyard_core::SystemClock;
    use lanyard_sandbox::okta::{FaultRule, RunningSandbox, SandboxConfig, SandboxOrg};
    use lanyard_okta::{Auth, OktaConfig};

    const LOCK: &str = "user.account.lock";

    async fn sandbox() -> RunningSandbox {
        let org = SandboxOrg::new(
            SandboxConfig {
                users: 40,
                ..SandboxConfig::default()
            },
            Arc::new(SystemClock),
        );
        RunningSandbox::start(org).await.unwrap()
    }

    /// A client reading two events per page, so every poll follows `rel="next"`.
    fn client(sb: &RunningSandbox) -> OktaClient {
        let mut cfg = OktaConfig::new(&sb.base_url, Auth::Ssws(sb.org.service_token().to_string())).unwrap();
        cfg.log_page_size = 2;
        cfg.retry.max_rate_limit_wait = Duration::from_millis(1);
        OktaClient::new(cfg).unwrap()
    }

    fn poller(sb: &RunningSandbox, store: &SharedStore, types: &[&str]) -> Poller {
        let types: BTreeSet<String> = types.iter().map(|s| s.to_string()).collect();
        Poller::with_parts(
            client(sb),
            store.clone(),
            Intake::new(store.clone(), Default::default()),
            Arc::new(SystemClock),
            Duration::from_secs(300),
            Arc::new(move || types.clone()),
        )
    }

    fn logins(org: &SandboxOrg, n: usize) -> Vec<String> {
        let mut v: Vec<String> = org
            .users()
            .into_iter()
            .filter(|u| u.status == "ACTIVE" && u.profile.get("login").is_some())
            .map(|u| u.profile["login"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v.truncate(n);
        assert_eq!(v.len(), n);
        v
    }

    async fn inbox(store: &SharedStore) -> Vec<lanyard_store::InboxEvent> {
        store.undispatched(None, 10_000).await.unwrap()
    }

    #[tokio::test]
    async fn events_arrive_by_polling_across_pages_filtered_to_subscribed_types() {
        let sb = sandbox().await;
        let store: SharedStore = Arc::new(Store::temporary().unwrap());
        let p = poller(&sb, &store, &[LOCK]);
        let users = logins(&sb.org, 3);
        for u in &users {
            sb.org.lock_user(u).unwrap();
        }
        let r = p.poll_once().await.unwrap();
        assert_eq!(r.new, 3);
        assert_eq!(r.duplicate, 0);
        assert!(r.ignored >= 3, "failed sign-ins before each lock are read and ignored: {r:?}");
        assert!(r.calls >= 1);
        let got = inbox(&store).await;
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|e| e.source == SOURCE && e.event.event_type == LOCK));
        let expected: BTreeSet<String> = sb.org.events_of_type(LOCK).into_iter().map(|e| e.uuid).collect();
        let seen: BTreeSet<String> = got.into_iter().map(|e| e.uuid).collect();
        assert_eq!(seen, expected);
        assert!(r.cursor.starts_with("next:"), "{}", r.cursor);

        // Nothing new: nothing read, the cursor stays.
        let again = p.poll_once().await.unwrap();
        assert_eq!((again.fetched, again.new), (0, 0));
        assert_eq!(again.cursor, r.cursor);
    }

    #[tokio::test]
    async fn a_hook_delivery_and_a_poll_of_the_same_event_store_it_once() {
        let sb = sandbox().await;
        let store: SharedStore = Arc::new(Store::temporary().unwrap());
        let p = poller(&sb, &store, &[LOCK]);
        let users = logins(&sb.org, 2);
        sb.org.lock_user(&users[0]).unwrap();
        // The hook route got the first lock before the poller ran.
        let hooked = sb.org.events_of_type(LOCK);
        assert_eq!(hooked.len(), 1);
        let s = Intake::new(store.clone(), Default::default()).accept(hooked.clone(), "hook").await.unwrap();
        assert_eq!(s.new, 1);
        sb.org.lock_user(&users[1]).unwrap();
        let r = p.poll_once().await.unwrap();
        assert_eq!((r.new, r.duplicate), (1, 1));
        let got = inbox(&store).await;
        assert_eq!(got.len(), 2);
        let by_uuid = |uuid: &str| got.iter().find(|e| e.uuid == uuid).unwrap().source.clone();
        assert_eq!(by_uuid(&hooked[0].uuid), "hook");
    }

    #[tokio::test]
    async fn the_cursor_survives_a_restart_with_no_redelivery_and_no_gap() {
        let sb = sandbox().await;
        let dir = tempfile::tempdir().unwrap();
        let users = logins(&sb.org, 6);
        let first_cursor = {
            let store: SharedStore = Arc::new(Store::open(dir.path()).unwrap());
            let p = poller(&sb, &store, &[LOCK]);
            for u in &users[..3] {
                sb.org.lock_user(u).unwrap();
            }
            let r = p.poll_once().await.unwrap();
            assert_eq!(r.new, 3);
            r.cursor
        };
        // While the daemon is down, more happens.
        for u in &users[3..] {
            sb.org.lock_user(u).unwrap();
        }
        let store: SharedStore = Arc::new(Store::open(dir.path()).unwrap());
        let p = poller(&sb, &store, &[LOCK]);
        assert_eq!(p.cursor().await.unwrap().to_string(), first_cursor);
        let r = p.poll_once().await.unwrap();
        assert_eq!((r.new, r.duplicate), (3, 0), "only what happened since: {r:?}");
        let got = inbox(&store).await;
        let all: BTreeSet<String> = sb.org.events_of_type(LOCK).into_iter().map(|e| e.uuid).collect();
        let seen: BTreeSet<String> = got.iter().map(|e| e.uuid.clone()).collect();
        assert_eq!(seen, all, "no gap");
        assert_eq!(got.len(), 6);
    }

    #[tokio::test]
    async fn a_rate_limited_poll_keeps_its_cursor_and_loses_nothing() {
        let sb = sandbox().await;
        let store: SharedStore = Arc::new(Store::temporary().unwrap());
        let p = poller(&sb, &store, &[LOCK]);
        let users = logins(&sb.org, 2);
        sb.org.lock_user(&users[0]).unwrap();
        p.poll_once().await.unwrap();
        let before = store.cursor(p.cursor_name()).await.unwrap();
        sb.org.lock_user(&users[1]).unwrap();
        sb.org.inject(FaultRule {
            status: 429,
            count: 100,
            path_prefix: Some("/api/v1/logs".into()),
            method: None,
            reset_after_seconds: 30,
        });
        let err = p.poll_once().await.unwrap_err();
        assert!(err.retry_after().is_some(), "{err}");
        assert_eq!(store.cursor(p.cursor_name()).await.unwrap(), before);
        sb.org.clear_faults();
        // This client remembers the 30 s reset and would wait it out; a
        // restarted daemon (a new client, the same store) picks up at once.
        let p = poller(&sb, &store, &[LOCK]);
        let r = p.poll_once().await.unwrap();
        assert_eq!(r.new, 1);
        assert_eq!(inbox(&store).await.len(), 2);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let i = Duration::from_secs(15);
        assert_eq!(backoff(i, 1), Duration::from_secs(30));
        assert_eq!(backoff(i, 3), Duration::from_secs(120));
        assert_eq!(backoff(i, 30), MAX_BACKOFF);
    }
}
