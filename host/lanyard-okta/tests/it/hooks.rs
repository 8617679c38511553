//! Event Hooks end to end: registration (with Okta's refusal of ineligible
//! types), the verification GET, batched deliveries with the shared secret,
//! one retry on 5xx, none on 4xx, and deliberate duplicates for dedupe tests.

use crate::support::{Env, HookReceiver, header};
use lanyard_core::okta::{LifecycleOp, OktaApi};
use lanyard_okta::hooks::{self, parse_delivery};
use lanyard_sandbox::okta::DeliveryConfig;
use lanyard_okta::{EventHookSpec, OktaCapability, OktaError};
use std::collections::HashSet;

const SECRET: &str = "Bearer hook-secret-4711";

fn spec(url: &str, types: &[&str]) -> EventHookSpec {
    EventHookSpec {
        name: "lanyard".into(),
        uri: url.into(),
        authorization: Some(SECRET.into()),
        headers: vec![("X-Lanyard-Org".into(), "acme".into())],
        event_types: types.iter().map(|s| s.to_string()).collect(),
    }
}

#[tokio::test]
async fn hooks_are_verified_then_receive_batched_deliveries() {
    let env = Env::new().await;
    let receiver = HookReceiver::start().await;
    let client = env.admin();
    let hook = client
        .create_event_hook(&spec(
            &receiver.url,
            &[
                "user.lifecycle.suspend",
                "user.lifecycle.deactivate",
                "group.user_membership.add",
            ],
        ))
        .await
        .unwrap();
    assert_eq!(
        (hook.status.as_str(), hook.verification_status.as_str()),
        ("ACTIVE", "UNVERIFIED")
    );

    // Unverified hooks get nothing.
    let okta = OktaCapability::new(env.service());
    let users: Vec<_> = env
        .org()
        .users()
        .into_iter()
        .filter(|u| u.status == "ACTIVE")
        .take(4)
        .collect();
    okta.lifecycle(&users[0].id, LifecycleOp::Suspend)
        .await
        .unwrap();
    env.org().wait_for_deliveries().await;
    assert!(receiver.posts().is_empty());

    let verified = client.verify_event_hook(&hook.id).await.unwrap();
    assert_eq!(verified.verification_status, "VERIFIED");
    let get = &receiver.gets()[0];
    assert!(header(get, hooks::VERIFICATION_HEADER).is_some_and(|c| !c.is_empty()));
    assert_eq!(header(get, "authorization"), Some(SECRET));

    // Three events close together: one POST; an unsubscribed type is not sent.
    // (Paused so that "close together" does not depend on this machine's speed.)
    env.org().pause_deliveries();
    for u in &users[1..] {
        okta.lifecycle(&u.id, LifecycleOp::Suspend).await.unwrap();
    }
    okta.lifecycle(&users[1].id, LifecycleOp::Unsuspend)
        .await
        .unwrap();
    env.org().resume_deliveries();
    env.org().wait_for_deliveries().await;
    let posts = receiver.posts();
    assert_eq!(
        posts.len(),
        1,
        "events close together travel in one delivery"
    );
    let post = &posts[0];
    assert_eq!(header(post, "authorization"), Some(SECRET));
    assert_eq!(header(post, "x-lanyard-org"), Some("acme"));
    assert_eq!(header(post, "content-type"), Some("application/json"));
    let payload = hooks::parse_payload(&post.body).unwrap();
    assert_eq!(payload.event_type, "com.okta.event_hook");
    assert_eq!(
        payload.source,
        format!("{}/api/v1/eventHooks/{}", env.sandbox.base_url, hook.id)
    );
    let events = payload.data.events;
    assert_eq!(
        events
            .iter()
            .map(|e| e.target_user().unwrap().id.clone())
            .collect::<Vec<_>>(),
        users[1..].iter().map(|u| u.id.clone()).collect::<Vec<_>>()
    );
    assert!(
        events
            .iter()
            .all(|e| e.event_type == "user.lifecycle.suspend")
    );
    assert!(
        events
            .iter()
            .all(|e| e.actor.id == env.org().service_user_id())
    );
    let deliveries = env.org().deliveries();
    assert_eq!(deliveries.len(), 1);
    assert!(deliveries[0].delivered && deliveries[0].attempts == vec![Ok(200)]);

    // Batches are bounded.
    env.org().set_delivery_config(DeliveryConfig {
        max_batch: 2,
        ..DeliveryConfig::default()
    });
    env.org().pause_deliveries();
    for u in &users[1..] {
        okta.lifecycle(&u.id, LifecycleOp::Deactivate)
            .await
            .unwrap();
    }
    env.org().resume_deliveries();
    env.org().wait_for_deliveries().await;
    let sizes: Vec<usize> = receiver.posts()[1..]
        .iter()
        .map(|p| parse_delivery(&p.body).unwrap().len())
        .collect();
    assert_eq!(sizes, [2, 1], "3 events in batches of at most 2");
}

#[tokio::test]
async fn failed_deliveries_are_retried_once_on_5xx_or_timeout_and_never_on_4xx() {
    let env = Env::new().await;
    let receiver = HookReceiver::start().await;
    let client = env.admin();
    let hook = client
        .create_event_hook(&spec(&receiver.url, &["user.lifecycle.suspend"]))
        .await
        .unwrap();
    client.verify_event_hook(&hook.id).await.unwrap();
    let okta = OktaCapability::new(env.service());
    let users: Vec<_> = env
        .org()
        .users()
        .into_iter()
        .filter(|u| u.status == "ACTIVE")
        .take(3)
        .collect();

    receiver.script.lock().unwrap().extend([500, 200]);
    okta.lifecycle(&users[0].id, LifecycleOp::Suspend)
        .await
        .unwrap();
    env.org().wait_for_deliveries().await;
    receiver.script.lock().unwrap().extend([503, 503]);
    okta.lifecycle(&users[1].id, LifecycleOp::Suspend)
        .await
        .unwrap();
    env.org().wait_for_deliveries().await;
    receiver.script.lock().unwrap().extend([401]);
    okta.lifecycle(&users[2].id, LifecycleOp::Suspend)
        .await
        .unwrap();
    env.org().wait_for_deliveries().await;

    // A receiver that does not answer in time gets one more try.
    env.org().set_delivery_config(DeliveryConfig {
        timeout: std::time::Duration::from_millis(300),
        ..DeliveryConfig::default()
    });
    receiver.script.lock().unwrap().extend([0, 200]);
    okta.lifecycle(&users[0].id, LifecycleOp::Unsuspend)
        .await
        .unwrap();
    okta.lifecycle(&users[0].id, LifecycleOp::Suspend)
        .await
        .unwrap();
    env.org().wait_for_deliveries().await;

    let d = env.org().deliveries();
    assert_eq!(d.len(), 4);
    assert_eq!(
        (d[3].attempts.clone(), d[3].delivered),
        (vec![Err("timeout".to_string()), Ok(200)], true),
        "one retry after a timeout"
    );
    assert_eq!(
        (d[0].attempts.clone(), d[0].delivered),
        (vec![Ok(500), Ok(200)], true)
    );
    assert_eq!(
        (d[1].attempts.clone(), d[1].delivered),
        (vec![Ok(503), Ok(503)], false),
        "one retry only"
    );
    assert_eq!(
        (d[2].attempts.clone(), d[2].delivered),
        (vec![Ok(401)], false),
        "no retry on 4xx"
    );
    assert_eq!(receiver.posts().len(), 7);
}

#[tokio::test]
async fn at_least_once_means_duplicates_and_disorder_on_purpose() {
    let env = Env::new().await;
    let receiver = HookReceiver::start().await;
    let client = env.admin();
    let hook = client
        .create_event_hook(&spec(&receiver.url, &["user.lifecycle.suspend"]))
        .await
        .unwrap();
    client.verify_event_hook(&hook.id).await.unwrap();
    env.org().set_delivery_config(DeliveryConfig {
        duplicate: true,
        reverse: true,
        ..DeliveryConfig::default()
    });
    let okta = OktaCapability::new(env.service());
    let users: Vec<_> = env
        .org()
        .users()
        .into_iter()
        .filter(|u| u.status == "ACTIVE")
        .take(3)
        .collect();
    env.org().pause_deliveries();
    for u in &users {
        okta.lifecycle(&u.id, LifecycleOp::Suspend).await.unwrap();
    }
    env.org().resume_deliveries();
    env.org().wait_for_deliveries().await;
    let posts = receiver.posts();
    assert_eq!(posts.len(), 2, "the batch twice");
    let mut all = Vec::new();
    for p in &posts {
        all.extend(parse_delivery(&p.body).unwrap());
    }
    assert_eq!(all.len(), 6);
    let unique: HashSet<_> = all.iter().map(|e| e.uuid.clone()).collect();
    assert_eq!(unique.len(), 3);
    assert!(
        all[0].published > all[1].published,
        "reversed: newest first"
    );
    let mut ordered = all[..3].to_vec();
    ordered.sort_by_key(|e| e.published);
    assert_eq!(
        ordered
            .iter()
            .map(|e| e.target_user().unwrap().id.clone())
            .collect::<Vec<_>>(),
        users.iter().map(|u| u.id.clone()).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn registration_refuses_what_okta_refuses() {
    let env = Env::new().await;
    let receiver = HookReceiver::start().await;
    let client = env.admin();
    let err = client
        .create_event_hook(&spec(
            &receiver.url,
            &["user.lifecycle.create", "user.session.nonsense"],
        ))
        .await
        .unwrap_err();
    let OktaError::Api {
        status: 400,
        body: Some(body),
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(body.error_code, "E0000001");
    assert!(
        body.error_causes
            .iter()
            .any(|c| c.error_summary.contains("user.session.nonsense")),
        "{body:?}"
    );
    assert_eq!(
        err.to_card_error().kind,
        lanyard_core::ErrorKind::InvalidInput
    );

    // A receiver that does not echo the challenge is not verified.
    let hook = client
        .create_event_hook(&spec(
            "http://127.0.0.1:9/nowhere",
            &["user.lifecycle.create"],
        ))
        .await
        .unwrap();
    let err = client.verify_event_hook(&hook.id).await.unwrap_err();
    assert!(err.to_string().contains("Verification"), "{err}");
    let listed = client.list_event_hooks().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].verification_status, "UNVERIFIED");
    assert!(
        client.delete_event_hook(&hook.id).await.is_err(),
        "active hooks are not deleted"
    );
    client.deactivate_event_hook(&hook.id).await.unwrap();
    client.delete_event_hook(&hook.id).await.unwrap();
    assert!(client.list_event_hooks().await.unwrap().is_empty());
}
