//! The `okta` capability: compare-before-write (no-op writes send nothing and
//! raise no event), the events real writes raise, and who they name as actor.

use crate::support::{Env, writes_sent};
use lanyard_core::WriteOutcome;
use lanyard_core::okta::{LifecycleOp, LogQuery, OktaApi};
use lanyard_okta::OktaCapability;
use serde_json::{Map, Value, json};

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[tokio::test]
async fn no_op_writes_send_nothing_and_raise_no_event() {
    let env = Env::new().await;
    let okta = OktaCapability::new(env.service());
    let user = env
        .org()
        .users()
        .into_iter()
        .find(|u| u.status == "ACTIVE" && u.profile["department"] == "Engineering")
        .unwrap();
    let github = env.org().group_by_name("GitHub").unwrap();
    let sales = env.org().group_by_name("Sales").unwrap();
    assert!(
        env.org()
            .groups_of(&user.id)
            .iter()
            .any(|g| g.id == github.id)
    );
    let events_before = env.org().events().len();
    env.org().start_recording();

    let same = obj(json!({"title": user.profile["title"], "department": "Engineering"}));
    let update = okta.update_profile(&user.id, &same).await.unwrap();
    assert_eq!(update.outcome, WriteOutcome::Unchanged);
    assert_eq!(update.user.profile, user.profile);
    assert_eq!(
        okta.add_to_group(&github.id, &user.id).await.unwrap(),
        WriteOutcome::Unchanged
    );
    assert_eq!(
        okta.remove_from_group(&sales.id, &user.id).await.unwrap(),
        WriteOutcome::Unchanged
    );
    assert_eq!(
        okta.lifecycle(&user.id, LifecycleOp::Activate)
            .await
            .unwrap(),
        WriteOutcome::Unchanged
    );

    assert_eq!(
        env.org().events().len(),
        events_before,
        "no-op writes raise no event"
    );
    let writes = writes_sent(&env);
    assert!(writes.is_empty(), "no write reached okta: {writes:?}");
}

#[tokio::test]
async fn real_writes_raise_okta_events_with_lanyard_as_actor() {
    let env = Env::new().await;
    let okta = OktaCapability::new(env.service());
    let service_id = env.org().service_user_id().to_string();
    let user = env
        .org()
        .users()
        .into_iter()
        .find(|u| u.status == "ACTIVE" && u.profile["department"] == "Engineering")
        .unwrap();
    let sales = env.org().group_by_name("Sales").unwrap();
    let github = env.org().group_by_name("GitHub").unwrap();

    // Only the attribute that differs is sent, and Okta's event names it.
    env.org().start_recording();
    let changes = obj(json!({"title": "Account Executive", "department": "Engineering"}));
    let update = okta.update_profile(&user.id, &changes).await.unwrap();
    assert_eq!(update.outcome, WriteOutcome::Changed);
    assert_eq!(update.user.profile["title"], "Account Executive");
    let post = env
        .org()
        .take_recording()
        .into_iter()
        .find(|e| e.method == "POST")
        .unwrap();
    assert_eq!(
        post.request_body.unwrap(),
        json!({"profile": {"title": "Account Executive"}})
    );

    assert_eq!(
        okta.add_to_group(&sales.id, &user.id).await.unwrap(),
        WriteOutcome::Changed
    );
    assert_eq!(
        okta.remove_from_group(&github.id, &user.id).await.unwrap(),
        WriteOutcome::Changed
    );
    assert_eq!(
        okta.lifecycle(&user.id, LifecycleOp::Suspend)
            .await
            .unwrap(),
        WriteOutcome::Changed
    );
    assert_eq!(
        okta.lifecycle(&user.id, LifecycleOp::Suspend)
            .await
            .unwrap(),
        WriteOutcome::Unchanged
    );
    okta.clear_sessions(&user.id, true).await.unwrap();

    let events = env.org().events();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "user.account.update_profile",
            "group.user_membership.add",
            "group.user_membership.remove",
            // Leaving GitHub's group takes the GitHub app with it.
            "application.user_membership.remove",
            "user.lifecycle.suspend",
            "user.session.clear"
        ]
    );
    for e in &events {
        assert_eq!(
            e.actor.id, service_id,
            "{}: lanyard's own identity is the actor",
            e.event_type
        );
        assert_eq!(e.actor.entity_type, "User");
        assert_eq!(e.target_user().unwrap().id, user.id);
        assert_eq!(e.outcome_result(), Some("SUCCESS"));
    }
    assert_eq!(
        events[0].rest["debugContext"]["debugData"]["changedAttributes"],
        "title"
    );
    let group_target = events[1]
        .target
        .iter()
        .find(|t| t.entity_type == "UserGroup")
        .unwrap();
    assert_eq!(group_target.id, sales.id);
    assert_eq!(env.org().sessions_of(&user.id), 0);
    assert_eq!(env.org().oauth_tokens_of(&user.id), 0);

    // The same writes by the human admin name the admin.
    let admin = OktaCapability::new(env.admin());
    admin
        .lifecycle(&user.id, LifecycleOp::Unsuspend)
        .await
        .unwrap();
    let last = env.org().events().pop().unwrap();
    assert_eq!(last.actor.id, env.org().admin_user_id());
    assert_eq!(
        last.actor.alternate_id.as_deref(),
        env.org()
            .user(env.org().admin_user_id())
            .map(|u| u.login().to_string())
            .as_deref()
    );
}

#[tokio::test]
async fn onboarding_and_offboarding_paths_work_end_to_end() {
    let env = Env::new().await;
    let okta = OktaCapability::new(env.service());
    let jira = env.org().group_by_name("Jira").unwrap();
    let manager = env
        .org()
        .users()
        .into_iter()
        .find(|u| u.profile["title"] == "Engineering Manager")
        .unwrap();
    let profile = obj(json!({
        "firstName": "Nova", "lastName": "Hire", "login": "nova.hire@acme.example", "email": "nova.hire@acme.example",
        "department": "Engineering", "title": "Software Engineer", "managerId": manager.id,
    }));
    let created = okta
        .create_user(&profile, true, std::slice::from_ref(&jira.id))
        .await
        .unwrap();
    assert_eq!(
        created.status, "PROVISIONED",
        "activated without a password: waiting for the user"
    );
    assert_eq!(
        okta.get_user("Nova.Hire@acme.example").await.unwrap().id,
        created.id,
        "login lookups ignore case"
    );
    let types: Vec<String> = env
        .org()
        .events()
        .iter()
        .map(|e| e.event_type.clone())
        .collect();
    assert_eq!(
        types,
        [
            "user.lifecycle.create",
            "group.user_membership.add",
            // Jira's group gives the Jira app.
            "application.user_membership.add",
            "user.lifecycle.activate"
        ]
    );

    // Lookups the use cases make.
    assert_eq!(
        okta.get_manager(&created.id).await.unwrap().unwrap().id,
        manager.id
    );
    let ceo = env
        .org()
        .users()
        .into_iter()
        .find(|u| u.profile["title"] == "Chief Executive Officer")
        .unwrap();
    assert!(okta.get_manager(&ceo.id).await.unwrap().is_none());
    assert_eq!(okta.find_group("Jira").await.unwrap().unwrap().id, jira.id);
    assert_eq!(
        okta.find_group("jira").await.unwrap().unwrap().id,
        jira.id,
        "a single case-insensitive match"
    );
    assert!(okta.find_group("Jir").await.unwrap().is_none());
    let groups = okta.list_user_groups(&created.id).await.unwrap();
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    assert!(
        names.contains(&"Everyone") && names.contains(&"Jira"),
        "{names:?}"
    );
    let links = okta.list_app_links(&created.id).await.unwrap();
    assert!(
        links.iter().any(|l| l.app_name == "jira") && links.iter().any(|l| l.app_name == "slack"),
        "{links:?}"
    );
    assert!(okta.list_factors(&created.id).await.unwrap().is_empty());
    env.org().enroll_factor(&created.id, "push").unwrap();
    let factors = okta.list_factors(&created.id).await.unwrap();
    assert_eq!(factors.len(), 1);
    assert_eq!(factors[0].factor_type, "push");

    // Offboarding: deactivate, sessions, every group.
    env.org().sign_in(&manager.id).unwrap();
    assert!(env.org().sessions_of(&manager.id) >= 1);
    assert_eq!(
        okta.lifecycle(&manager.id, LifecycleOp::Deactivate)
            .await
            .unwrap(),
        WriteOutcome::Changed
    );
    okta.clear_sessions(&manager.id, true).await.unwrap();
    assert_eq!(env.org().sessions_of(&manager.id), 0);
    for g in okta.list_user_groups(&manager.id).await.unwrap() {
        let outcome = okta.remove_from_group(&g.id, &manager.id).await;
        if g.group_type == "BUILT_IN" {
            // Okta forbids changing a BUILT_IN group's members (403).
            assert_eq!(
                outcome.unwrap_err().kind,
                lanyard_core::ErrorKind::Denied,
                "Everyone cannot be left"
            );
        } else {
            assert_eq!(outcome.unwrap(), WriteOutcome::Changed);
        }
    }
    assert_eq!(
        env.org()
            .groups_of(&manager.id)
            .iter()
            .map(|g| g.name.as_str())
            .collect::<Vec<_>>(),
        ["Everyone"]
    );
    assert_eq!(
        okta.lifecycle(&manager.id, LifecycleOp::Deactivate)
            .await
            .unwrap(),
        WriteOutcome::Unchanged
    );

    // The System Log as a card sees it.
    let logs = okta
        .query_logs(&LogQuery {
            filter: Some(r#"eventType eq "user.lifecycle.deactivate""#.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["target"][0]["id"], manager.id.as_str());
}

#[tokio::test]
async fn lockout_reaches_the_manager_lookup() {
    let env = Env::new().await;
    let okta = OktaCapability::new(env.service());
    let user = env
        .org()
        .users()
        .into_iter()
        .find(|u| {
            u.status == "ACTIVE"
                && u.profile.get("managerId").is_some()
                && u.profile["userType"] == "Employee"
        })
        .unwrap();
    env.org().lock_user(&user.id).unwrap();
    let lock = env.org().events_of_type("user.account.lock").pop().unwrap();
    assert_eq!(
        lock.actor.id, user.id,
        "the user's own failed sign-ins lock the account"
    );
    assert_eq!(lock.target_user().unwrap().id, user.id);
    let failures = env.org().events_of_type("user.session.start");
    assert_eq!(failures.len(), env.org().config().lockout_attempts as usize);
    assert!(
        failures
            .iter()
            .all(|e| e.outcome_result() == Some("FAILURE"))
    );
    assert_eq!(okta.get_user(&user.id).await.unwrap().status, "LOCKED_OUT");
    let manager = okta
        .get_manager(&lock.target_user().unwrap().id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        Some(&Value::from(manager.id.clone())),
        user.profile.get("managerId")
    );
    assert_eq!(
        okta.lifecycle(&user.id, LifecycleOp::Unlock).await.unwrap(),
        WriteOutcome::Changed
    );
    assert_eq!(
        env.org().events().pop().unwrap().event_type,
        "user.account.unlock_by_admin"
    );
}
