//! The client against the sandbox: pagination, rate-limit waits, retries, and
//! how failures reach cards.

use crate::support::Env;
use lanyard_core::ErrorKind;
use lanyard_core::okta::{LifecycleOp, LogQuery, OktaApi, UserQuery};
use lanyard_sandbox::okta::FaultRule;
use lanyard_okta::{Auth, LogCursor, OktaCapability, OktaError};
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;

fn fault(status: u16, count: u32, prefix: &str, reset: u64) -> FaultRule {
    FaultRule {
        status,
        count,
        path_prefix: Some(prefix.to_string()),
        method: None,
        reset_after_seconds: reset,
    }
}

#[tokio::test]
async fn listing_follows_every_page() {
    let env = Env::new().await;
    let mut cfg = env.config(Auth::Ssws(env.org().service_token().into()));
    cfg.page_size = 7;
    let client = env.client_with(cfg);
    env.org().start_recording();
    let users = client.list_users(&UserQuery::default()).await.unwrap();
    let pages = env
        .org()
        .take_recording()
        .into_iter()
        .filter(|e| e.path == "/api/v1/users")
        .count();
    let mut expected: Vec<String> = env
        .org()
        .users()
        .into_iter()
        .filter(|u| u.status != "DEPROVISIONED")
        .map(|u| u.id)
        .collect();
    // Okta lists users by id.
    expected.sort();
    assert_eq!(
        users.iter().map(|u| u.id.clone()).collect::<Vec<_>>(),
        expected,
        "every user once, in order"
    );
    assert!(pages >= 30, "{pages} pages for {} users", users.len());
    assert_eq!(pages, expected.len().div_ceil(7));

    // A search across pages, and a cap.
    let sales = client
        .list_users(&UserQuery {
            search: Some(r#"profile.department eq "Sales""#.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(sales.len() > 14, "{}", sales.len());
    assert!(sales.iter().all(|u| u.profile["department"] == "Sales"));
    let capped = client
        .list_users(&UserQuery {
            limit: Some(10),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(capped.len(), 10);

    // filter and q.
    let locked = client
        .list_users(&UserQuery {
            filter: Some(r#"status eq "LOCKED_OUT""#.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!locked.is_empty() && locked.iter().all(|u| u.status == "LOCKED_OUT"));
    let first = users[5].profile["firstName"].as_str().unwrap().to_string();
    let by_q = client
        .list_users(&UserQuery {
            q: Some(first[..3].to_string()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(by_q.iter().any(|u| u.id == users[5].id));
    let both = client
        .list_users(&UserQuery {
            q: Some("a".into()),
            filter: Some("x".into()),
            ..Default::default()
        })
        .await;
    assert!(matches!(both, Err(OktaError::InvalidInput(_))));
}

#[tokio::test]
async fn system_log_polling_resumes_where_it_stopped() {
    let env = Env::new().await;
    let mut cfg = env.config(Auth::Ssws(env.org().service_token().into()));
    cfg.log_page_size = 4;
    let client = env.client_with(cfg);
    let admin = OktaCapability::new(env.admin());
    let start = env.org().now();

    // Nothing yet: an empty poll still hands back a cursor to resume from.
    let first = client
        .poll_logs(&LogCursor::Since(start), 1000)
        .await
        .unwrap();
    assert!(first.events.is_empty());
    assert!(matches!(first.next, LogCursor::Next(_)));

    let users = env.org().users();
    let targets: Vec<_> = users
        .iter()
        .filter(|u| u.status == "ACTIVE")
        .take(9)
        .collect();
    for u in &targets {
        admin.lifecycle(&u.id, LifecycleOp::Suspend).await.unwrap();
    }
    let cursor = LogCursor::parse(&first.next.to_string()).unwrap();
    env.org().start_recording();
    let poll = client.poll_logs(&cursor, 1000).await.unwrap();
    let requests = env.org().take_recording().len();
    assert_eq!(poll.events.len(), 9);
    assert!(
        requests >= 3,
        "9 events over pages of 4 take 3+ requests, took {requests}"
    );
    assert!(
        poll.events
            .iter()
            .all(|e| e.event_type == "user.lifecycle.suspend")
    );
    assert!(
        poll.events
            .windows(2)
            .all(|w| w[0].published < w[1].published)
    );

    // Resume: nothing new, nothing repeated; then only the new event.
    let again = client.poll_logs(&poll.next, 1000).await.unwrap();
    assert!(again.events.is_empty(), "{:?}", again.events);
    admin
        .lifecycle(&targets[0].id, LifecycleOp::Unsuspend)
        .await
        .unwrap();
    let later = client.poll_logs(&again.next, 1000).await.unwrap();
    assert_eq!(later.events.len(), 1);
    assert_eq!(later.events[0].event_type, "user.lifecycle.unsuspend");

    // max_events stops early and the cursor still resumes exactly.
    let from_start = client.poll_logs(&LogCursor::Since(start), 5).await.unwrap();
    let rest = client.poll_logs(&from_start.next, 1000).await.unwrap();
    let ids: Vec<_> = from_start
        .events
        .iter()
        .chain(rest.events.iter())
        .map(|e| e.uuid.clone())
        .collect();
    assert_eq!(ids.len(), 10);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 10);

    // A bounded query with a filter.
    let only = client
        .query_logs(&LogQuery {
            filter: Some(format!(r#"target.id eq "{}""#, targets[0].id)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(only.len(), 2);
}

#[tokio::test]
async fn rate_limits_wait_until_the_reset_without_sleeping() {
    let env = Env::new().await;
    let client = env.service();
    let uid = env.org().service_user_id().to_string();
    env.org().inject(fault(429, 2, "/api/v1/users", 7));
    let user = client.get_user(&uid).await.unwrap();
    assert_eq!(user.id, uid);
    // Reset is 7 s after each 429; the clock moves by each wait.
    assert_eq!(
        env.sleeper.waits(),
        vec![Duration::from_secs(7), Duration::from_secs(7)]
    );
    assert_eq!(env.org().faults_remaining(), 0);

    // A reset further away than the bound is not waited for.
    env.org().inject(fault(429, 1, "/api/v1/users", 600));
    let err = client.get_user(&uid).await.unwrap_err();
    assert!(
        matches!(
            err,
            OktaError::RateLimited {
                retry_after_ms: 600_000,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(env.sleeper.waits().len(), 2, "no wait past the bound");
    let card = err.to_card_error();
    assert_eq!(card.kind, ErrorKind::RateLimited);
    assert_eq!(card.retry_after_ms, Some(600_000));
    assert!(
        card.message.contains("E0000047")
            || card.detail.as_deref().unwrap_or("").contains("E0000047"),
        "{card:?}"
    );

    // The client remembers the bucket is empty until its reset: the next call
    // fails at once without sending anything.
    env.org().start_recording();
    assert!(matches!(
        client.get_user(&uid).await,
        Err(OktaError::RateLimited { .. })
    ));
    assert!(env.org().take_recording().is_empty());
    env.clock.advance(Duration::from_secs(601));

    // Attempts are bounded too.
    env.org().inject(fault(429, 10, "/api/v1/users", 1));
    let err = client.get_user(&uid).await.unwrap_err();
    assert!(matches!(err, OktaError::RateLimited { .. }), "{err}");
    assert_eq!(env.sleeper.waits().len(), 2 + 3, "4 attempts, 3 waits");
    env.org().clear_faults();

    // X-Rate-Limit-* are read on every answer.
    client.get_user(&uid).await.unwrap();
    let status = client.rate_limit("getUser").unwrap();
    assert_eq!(status.limit, 600);
    assert!(status.remaining < 600);
}

#[tokio::test]
async fn an_exhausted_bucket_is_waited_out_before_sending() {
    let config = lanyard_sandbox::okta::SandboxConfig {
        rate_limit_per_minute: 3,
        enforce_rate_limits: true,
        ..Default::default()
    };
    let env = Env::with_config(config).await;
    let client = env.service();
    let uid = env.org().service_user_id().to_string();
    for _ in 0..5 {
        client.get_user(&uid).await.unwrap();
    }
    // After three calls the bucket said remaining 0: the client waited for the
    // next minute instead of collecting a 429.
    let waits = env.sleeper.waits();
    assert!(
        !waits.is_empty() && waits.iter().all(|w| *w <= Duration::from_secs(60)),
        "{waits:?}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_when_safe() {
    let env = Env::new().await;
    let client = env.service();
    let uid = env.org().service_user_id().to_string();
    env.org().inject(fault(500, 2, "/api/v1/users", 0));
    client.get_user(&uid).await.unwrap();
    assert_eq!(
        env.sleeper.waits(),
        vec![Duration::from_millis(500), Duration::from_millis(1000)]
    );

    env.org().inject(fault(503, 9, "/api/v1/users", 0));
    let err = client.get_user(&uid).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    let card = err.to_card_error();
    assert_eq!(card.kind, ErrorKind::Unavailable);
    assert!(card.retryable);
    assert!(card.message.contains("E0000010"), "{}", card.message);
    env.org().clear_faults();

    // Creating a user is not repeated after a 5xx: it could make two.
    env.org().inject(FaultRule {
        status: 500,
        count: 1,
        path_prefix: Some("/api/v1/users".into()),
        method: Some("POST".into()),
        reset_after_seconds: 0,
    });
    let before = env.sleeper.waits().len();
    let profile = lanyard_sandbox::okta::new_user_profile(
        "Rita",
        "Retry",
        "acme.example",
        &[("department", "Sales")],
    );
    let err = client.create_user(&profile, true, &[]).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(env.sleeper.waits().len(), before);
    assert!(env.org().user_by_login("rita.retry@acme.example").is_none());
}

#[tokio::test]
async fn lost_connections_are_unavailable_and_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let env = Env::new().await;
    let mut cfg =
        lanyard_okta::OktaConfig::new(&format!("http://{addr}"), Auth::Ssws("x".into())).unwrap();
    cfg.request_timeout = Duration::from_secs(2);
    let client = env.client_with(cfg);
    let err = client.get_user("00u1").await.unwrap_err();
    assert!(matches!(err, OktaError::Transport { .. }), "{err}");
    assert_eq!(env.sleeper.waits().len(), 3, "retried with backoff first");
    let card = err.to_card_error();
    assert_eq!(card.kind, ErrorKind::Unavailable);
    assert!(card.retryable);
}

#[tokio::test]
async fn unauthorized_and_forbidden_say_which() {
    let env = Env::new().await;
    let bad = OktaCapability::new(env.client_with(env.config(Auth::Ssws("00notatoken".into()))));
    let err = bad.get_user(env.org().service_user_id()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Denied);
    assert!(
        err.message.contains("401 unauthorized") && err.message.contains("E0000011"),
        "{}",
        err.message
    );
    assert!(!err.retryable);

    let readonly = OktaCapability::new(
        env.client_with(env.config(Auth::Ssws(env.org().readonly_token().into()))),
    );
    let someone = env
        .org()
        .users()
        .into_iter()
        .find(|u| u.status == "ACTIVE")
        .unwrap();
    readonly.get_user(&someone.id).await.unwrap();
    let err = readonly
        .lifecycle(&someone.id, LifecycleOp::Suspend)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Denied);
    assert!(
        err.message.contains("403 forbidden") && err.message.contains("E0000006"),
        "{}",
        err.message
    );
    assert_eq!(env.org().user(&someone.id).unwrap().status, "ACTIVE");
}

#[tokio::test]
async fn okta_errors_map_to_card_error_kinds() {
    let env = Env::new().await;
    let okta = OktaCapability::new(env.service());
    let err = okta.get_user("nobody@acme.example").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(
        err.message.contains("nobody@acme.example"),
        "{}",
        err.message
    );

    let existing = env.org().users()[3].clone();
    let mut profile = existing.profile.clone();
    profile.insert("email".into(), json!("someone.else@acme.example"));
    let err = okta.create_user(&profile, true, &[]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict, "{err:?}");
    assert!(
        err.message.contains("E0000001") && err.message.contains("already exists"),
        "{}",
        err.message
    );

    let deprovisioned = env
        .org()
        .users()
        .into_iter()
        .find(|u| u.status == "DEPROVISIONED")
        .unwrap();
    let err = okta
        .client()
        .lifecycle(&deprovisioned.id, LifecycleOp::Suspend)
        .await
        .unwrap_err();
    let card = err.to_card_error();
    assert_eq!(card.kind, ErrorKind::Conflict, "{card:?}");
    assert!(card.message.contains("E0000038"), "{}", card.message);

    let err = okta
        .list_users(&UserQuery {
            search: Some("profile.department eq".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(err.message.contains("E0000031"), "{}", err.message);

    let err = okta
        .create_user(&serde_json::Map::new(), true, &[])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    let err = okta
        .add_to_group(
            &env.org().group_by_name("Everyone").unwrap().id,
            &existing.id,
        )
        .await;
    assert_eq!(
        err.unwrap(),
        lanyard_core::WriteOutcome::Unchanged,
        "already in Everyone"
    );
}
