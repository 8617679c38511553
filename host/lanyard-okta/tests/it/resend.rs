//! Lifecycle calls whose answer is lost: the client sends them again, and
//! Okta refuses a transition it already applied. A proxy on a real socket lets
//! the sandbox apply the first request and drops its answer.

use crate::support::{Env, LossyProxy};
use lanyard_core::okta::{LifecycleOp, OktaApi};
use lanyard_core::{ErrorKind, WriteOutcome};
use lanyard_sandbox::okta::FaultRule;
use lanyard_okta::{Auth, OktaCapability, OktaClient, OktaConfig};
use std::sync::atomic::Ordering;
use std::time::Duration;

fn client_via(env: &Env, url: &str) -> OktaClient {
    let mut cfg = OktaConfig::new(url, Auth::Ssws(env.org().service_token().into())).unwrap();
    cfg.request_timeout = Duration::from_secs(10);
    env.client_with(cfg)
}

#[tokio::test]
async fn a_transition_applied_with_its_answer_lost_is_changed_not_a_conflict() {
    let env = Env::new().await;
    let org = env.org().clone();
    let admin = env.admin();
    let active: Vec<String> = org
        .users()
        .into_iter()
        .filter(|u| u.status == "ACTIVE")
        .map(|u| u.id)
        .take(4)
        .collect();
    // One user per transition, in the state it starts from.
    admin
        .lifecycle(&active[2], LifecycleOp::Suspend)
        .await
        .unwrap();
    org.lock_user(&active[3]).unwrap();
    let staged = admin
        .create_user(
            &lanyard_sandbox::okta::new_user_profile("Lou", "Stage", "acme.example", &[]),
            false,
            &[],
        )
        .await
        .unwrap();
    let cases = [
        (
            active[0].clone(),
            LifecycleOp::Deactivate,
            "DEPROVISIONED",
            "user.lifecycle.deactivate",
        ),
        (
            active[1].clone(),
            LifecycleOp::Suspend,
            "SUSPENDED",
            "user.lifecycle.suspend",
        ),
        (
            active[2].clone(),
            LifecycleOp::Unsuspend,
            "ACTIVE",
            "user.lifecycle.unsuspend",
        ),
        (
            active[3].clone(),
            LifecycleOp::Unlock,
            "ACTIVE",
            "user.account.unlock_by_admin",
        ),
        (
            staged.id.clone(),
            LifecycleOp::Activate,
            "PROVISIONED",
            "user.lifecycle.activate",
        ),
    ];
    for (user, op, status, event) in cases {
        let suffix = format!("/lifecycle/{}", op.as_str());
        let proxy = LossyProxy::start(&env.sandbox.base_url, "POST", &suffix, 1).await;
        let okta = OktaCapability::new(client_via(&env, &proxy.url));
        let before = org
            .events_of_type(event)
            .iter()
            .filter(|e| e.target.iter().any(|t| t.id == user))
            .count();

        let outcome = okta.lifecycle(&user, op).await;

        assert_eq!(outcome.unwrap(), WriteOutcome::Changed, "{op:?}");
        assert_eq!(
            proxy.matched.load(Ordering::SeqCst),
            2,
            "{op:?}: sent, lost, sent again"
        );
        assert_eq!(org.user(&user).unwrap().status, status, "{op:?}");
        let after = org
            .events_of_type(event)
            .iter()
            .filter(|e| e.target.iter().any(|t| t.id == user))
            .count();
        assert_eq!(
            after,
            before + 1,
            "{op:?}: applied once, the resend refused"
        );
        // Where it already is, nothing is sent at all; except an unlock of an
        // ACTIVE user, which Okta is asked (it may be blocked from unknown
        // devices) and whose refusal is read as unchanged.
        let again = okta.lifecycle(&user, op).await.unwrap();
        assert_eq!(again, WriteOutcome::Unchanged, "{op:?}");
        let sent = if op == LifecycleOp::Unlock { 3 } else { 2 };
        assert_eq!(proxy.matched.load(Ordering::SeqCst), sent, "{op:?}");
    }
}

#[tokio::test]
async fn a_refused_resend_is_still_a_conflict_when_the_user_is_elsewhere() {
    let env = Env::new().await;
    let org = env.org().clone();
    let user = org
        .users()
        .into_iter()
        .find(|u| u.status == "ACTIVE")
        .unwrap()
        .id;
    org.lock_user(&user).unwrap();
    // The first attempt fails with a 5xx (not applied, but the client cannot
    // know); the resend is refused because a locked-out user cannot be
    // suspended, and the user is not suspended: a conflict, as before.
    org.inject(FaultRule {
        status: 500,
        count: 1,
        path_prefix: Some(format!("/api/v1/users/{user}/lifecycle/suspend")),
        method: None,
        reset_after_seconds: 0,
    });
    let client = env.service();
    let err = client
        .lifecycle(&user, LifecycleOp::Suspend)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert_eq!(err.to_card_error().kind, ErrorKind::Conflict, "{err}");
    assert_eq!(org.user(&user).unwrap().status, "LOCKED_OUT");
    assert_eq!(org.faults_remaining(), 0);

    // Without a resend, a refusal is never reinterpreted.
    let err = client
        .lifecycle(&user, LifecycleOp::Suspend)
        .await
        .unwrap_err();
    assert_eq!(err.to_card_error().kind, ErrorKind::Conflict, "{err}");
}

#[tokio::test]
async fn a_hook_deleted_with_its_answer_lost_is_deleted() {
    let env = Env::new().await;
    let admin = env.admin();
    let hook = admin
        .create_event_hook(&lanyard_okta::EventHookSpec {
            name: "lost".into(),
            uri: "http://127.0.0.1:1/hook".into(),
            event_types: vec!["user.lifecycle.suspend".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    admin.deactivate_event_hook(&hook.id).await.unwrap();
    let proxy = LossyProxy::start(&env.sandbox.base_url, "DELETE", &hook.id, 1).await;

    client_via(&env, &proxy.url)
        .delete_event_hook(&hook.id)
        .await
        .unwrap();

    assert_eq!(proxy.matched.load(Ordering::SeqCst), 2);
    assert_eq!(env.org().counts().event_hooks, 0);
    // Without a resend, a 404 stays one.
    let err = admin.delete_event_hook(&hook.id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}
